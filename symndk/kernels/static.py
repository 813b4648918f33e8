"""Static NNGP and NTK matrices of an L-layer network (docs/theory.md §3 at t = s).

K_0 = x.x'/N0; for l = 1..L, with C = sigma^2 (weight variance),
K_l = F(C K_{l-1}(x,x), C K_{l-1}(x',x'), C K_{l-1}(x,x')),  Kdot_l = Fdot(same),
Theta_0 = K_0,  Theta_l = K_l + C Kdot_l Theta_{l-1}.

Stability near rho = 1: the Gram determinant D_l = K_l(x,x) K_l(x',x') - K_l(x,x')^2 is carried
through the layers by the generated fused map ``layer`` (cancellation-free for positively
homogeneous activations).  D_0 is exact on the diagonal (0) and recomputed from the
difference x' - x (Lagrange identity) for nearly collinear pairs, so K and Theta keep ~1e-16
relative accuracy where the naive arccos-of-a-ratio form loses half the digits.

Example (ReLU, depth 1, orthonormal inputs scaled to |x|^2 = N0):
    >>> import numpy as np
    >>> X = np.sqrt(2.0) * np.eye(2)
    >>> nngp = nngp_kernel(X, activation="relu", depth=1, sigma_sq=1.0)
    >>> np.round(nngp.train, 6).tolist()
    [[0.5, 0.159155], [0.159155, 0.5]]
    >>> np.round(ntk_kernel(X, activation="relu", depth=1).train, 6).tolist()
    [[1.0, 0.159155], [0.159155, 1.0]]
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from symndk import validation
from symndk.errors import SymndkError, check_finite
from symndk.kernels.loader import load
from symndk.runtime.recursion import Bias, layer_kernels

#: pairs with D_0 < NEAR * q1 q2 (|rho| > ~0.99995) get D_0 from the difference of the inputs
NEAR = 1e-4
WORKERS = os.cpu_count() or 1


class KernelPair(NamedTuple):
    """``train``: (P, P) kernel on X1; ``test``: (Q, P) kernel between X2 and X1 (None without X2)."""

    train: np.ndarray
    test: np.ndarray | None


def _gram0(A, B, qa, qb, k0, diagonal):
    """D_0 = qa qb - k0^2 for rows A and columns B; nearly collinear pairs recomputed from B - A.

    ``diagonal`` is the column offset of the pairs (x, x) in this block (exactly 0), or None.
    """
    prod = qa[:, None] * qb[None, :]
    D = prod - k0 * k0
    prod *= NEAR
    near = D < prod
    if diagonal is not None:
        rows = np.arange(A.shape[0])
        D[rows, rows + diagonal] = 0.0
        near[rows, rows + diagonal] = False
    i, j = np.nonzero(near)
    if i.size:
        n0 = A.shape[1]
        a, d = A[i], B[j] - A[i]
        aa = np.einsum("ij,ij->i", a, a)
        d -= (np.einsum("ij,ij->i", a, d) / aa)[:, None] * a
        D[i, j] = aa * np.einsum("ij,ij->i", d, d) / n0**2
    return D


def _chain(q0, duals, depth, sigma_sq, bias_sq=0.0):
    """Same-input variances K_l(x, x), l = 1..depth, from K_0(x, x) = ``q0``."""
    out = []
    for _ in range(depth):
        q0 = duals.V(sigma_sq * q0 + bias_sq) if bias_sq else duals.V(sigma_sq * q0)
        out.append(q0)
    return out


def _recursion(K0, D0, qa0, qb0, chain_a, chain_b, same, duals, sigma_sq, depth, tangent, bias_sq=0.0):
    """The runtime recursion at t = s (C = sigma^2 everywhere, so C_tt C_ss - C_ts^2 = 0) on one block;
    with ``bias_sq`` the bias terms (C_b = bias_sq, propagators 1) and the NNGP K_L + bias_sq / sigma^2."""
    bias = Bias(bias_sq, bias_sq, bias_sq, 1.0, 1.0) if bias_sq else None
    K, _, _, theta = layer_kernels(qa0[:, None], qb0[None, :], K0, sigma_sq, sigma_sq, sigma_sq, depth, duals,
                                   D_C=0.0, D_0=D0, same=same,
                                   chains=([c[:, None] for c in chain_a], [c[None, :] for c in chain_b]), bias=bias)
    return theta if tangent else (K + bias_sq / sigma_sq if bias_sq else K)


def _block(A, B, duals, depth, sigma_sq, same, tangent, bias_sq=0.0):
    """Kernel between rows of A and rows of B; blocks of rows run in threads (numpy releases
    the GIL), and for A is B only the upper triangle is computed and mirrored."""
    n0 = A.shape[1]
    qa0 = np.einsum("ij,ij->i", A, A) / n0
    qb0 = qa0 if same else np.einsum("ij,ij->i", B, B) / n0
    ca, cb = _chain(qa0, duals, depth, sigma_sq, bias_sq), _chain(qb0, duals, depth, sigma_sq, bias_sq)
    K0 = A @ B.T
    K0 /= n0
    out = np.empty_like(K0)
    # identical inputs (the diagonal, and duplicated rows) get one label: for them K_0 = |x|^2 / N0,
    # D_0 = 0 and K_l = V(q), Kdot_l = Vdot(q) exactly at every layer (the pinned diagonal)
    _, labels = np.unique(A if same else np.vstack([A, B]), axis=0, return_inverse=True)
    labels = labels.ravel()
    la, lb = labels[: A.shape[0]], labels if same else labels[A.shape[0]:]

    def rows(r0, r1):
        c0 = r0 if same else 0
        k0 = K0[r0:r1, c0:]
        D0 = _gram0(A[r0:r1], B[c0:], qa0[r0:r1], qb0[c0:], k0, 0 if same else None)
        twins = la[r0:r1, None] == lb[None, c0:]
        pin = None
        if twins.any():
            k0[twins] = np.broadcast_to(qa0[r0:r1, None], k0.shape)[twins]
            D0[twins] = 0.0
            pin = twins.astype(float)
        res = _recursion(k0, D0, qa0[r0:r1], qb0[c0:], [c[r0:r1] for c in ca], [c[c0:] for c in cb], pin,
                         duals, sigma_sq, depth, tangent, bias_sq)
        res = np.array(np.broadcast_to(res, k0.shape))
        if same:  # exactly symmetric: the square block's lower triangle mirrors its upper one
            square = res[:, : r1 - r0]
            lower = np.tril_indices(r1 - r0, -1)
            square[lower] = square.T[lower]
            out[r1:, r0:r1] = res[:, r1 - r0:].T
        out[r0:r1, c0:] = res

    step = max(8, (1 << 16) // max(B.shape[0], 1))
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda r0: rows(r0, min(r0 + step, A.shape[0])), range(0, A.shape[0], step)))
    return out


def _kernels(X1, X2, activation, depth, sigma_sq, tangent, bias_sq=0.0):
    X1 = validation.inputs("X1", X1)
    X2 = None if X2 is None else validation.inputs("X2", X2, X1.shape[1])
    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= 100:
        raise SymndkError(f"depth must be an integer in 1..100, got {depth}")
    if not (np.isfinite(sigma_sq) and sigma_sq > 0):
        raise SymndkError(f"sigma_sq must be finite and > 0, got {sigma_sq}")
    if not (np.isfinite(bias_sq) and bias_sq >= 0):
        raise SymndkError(f"bias_sq must be finite and >= 0, got {bias_sq}")
    duals = load(activation) if isinstance(activation, str) else activation
    name = "NTK" if tangent else "NNGP kernel"
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, in one line
        train = check_finite(name, _block(X1, X1, duals, int(depth), float(sigma_sq), True, tangent, float(bias_sq)))
        test = None if X2 is None else check_finite(name, _block(X2, X1, duals, int(depth), float(sigma_sq),
                                                                 False, tangent, float(bias_sq)))
    return KernelPair(train, test)


def nngp_kernel(X1, X2=None, activation="relu", depth=2, sigma_sq=1.0, bias_sq=0.0) -> KernelPair:
    """NNGP kernel K_L on X1 (train/train) and between X2 and X1 (test/train).

    Args:
        X1: (P, N0) training inputs.  X2: optional (Q, N0) test inputs.
        activation: registered activation name (or a loaded duals object).
        depth: number of hidden layers L >= 1.  sigma_sq: weight variance sigma^2.
        bias_sq: bias variance sigma_b^2 (0: no biases). With biases (hidden layers and output) the
            result is the output covariance over sigma^2: K_L + sigma_b^2 / sigma^2 (THEORY_NEXT §B),
            so that k^T (K + gamma I)^{-1} Y stays the NNGP predictor.
    """
    return _kernels(X1, X2, activation, depth, sigma_sq, False, bias_sq)


def ntk_kernel(X1, X2=None, activation="relu", depth=2, sigma_sq=1.0, bias_sq=0.0) -> KernelPair:
    """NTK Theta_L = E[grad f(x) . grad f(x')] (all weights of variance sigma^2, biases sigma_b^2 = ``bias_sq``,
    their gradients included); same arguments as :func:`nngp_kernel`."""
    return _kernels(X1, X2, activation, depth, sigma_sq, True, bias_sq)
