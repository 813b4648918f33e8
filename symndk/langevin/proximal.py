"""Finite-width ensembles trained by Markov proximal learning (docs/theory.md §D).

Each MPL step samples theta_n from

    p(theta | theta_{n-1}) ~ N(theta; a theta_{n-1}, v I) exp{-beta L(theta)},
    a = lambda / (lambda + kappa),  v = 1 / (beta (lambda + kappa)),  beta = 1 / (2T),  kappa = T / sigma^2,

(the weight decay and the proximal term are the Gaussian factor, sampled exactly) by an inner
Metropolis chain with the preconditioned Crank-Nicolson proposal

    theta' = mu + sqrt(1 - rho^2) (theta - mu) + rho sqrt(v) xi,     mu = a theta_{n-1},

which leaves N(mu, v I) invariant in any dimension, so only the loss factor enters the
acceptance min(1, exp(-beta (L(theta') - L(theta)))). The chain starts from an exact draw of the
Gaussian factor. During the first half of the ``inner`` iterations every network adapts its own
rho towards 40 % acceptance; the second half runs at fixed rho (the state it leaves is then a draw
of a valid Metropolis chain). There is no step-size bias: the only approximation is a finite
number of inner iterations, and :func:`simulate_proximal` reports the sensitivity to it (a second
ensemble with twice the iterations, same seeds).

The inner chain needs a few hundred iterations from its Gaussian start (measured, erf, L = 1,
P = 3, sigma0^2 = 2, T = 0.05, lambda = 1, step 1: 30 / 100 / 300 / 1000 iterations give
0.345 / 0.506 / 0.551 / 0.553 +- 0.011 against the MPL theory 0.560): the default is 400.

Example (erf, L = 1, width 64, 64 networks, two steps):
    >>> import numpy as np
    >>> X = np.eye(3) * np.sqrt(3); y = np.array([1.0, -1.0, 1.0])
    >>> out = simulate_proximal(X, y, None, "erf", 1, 64, 2.0, 1.0, 0.05, 1.0, 2, 64, inner=20, seed=0)
    >>> out["train"].shape, out["train_se"].shape, 0.0 < out["acceptance"] < 1.0
    ((3, 3), (3, 3), True)
"""
from __future__ import annotations

import math

import numpy as np

from symndk.dynamics.proximal import _each, _variances
from symndk.errors import SymndkError
from symndk.runtime import proximal as rt


def _activation(name):
    from symndk.kernels import loader

    mod = loader.load(name, "numpy")
    return mod.phi


class _Nets:
    """B networks as flat parameter rows (B, n_params): hidden weights W_l (N_{l-1}, N_l), the readout
    a (N_L,), then the biases b_l (N_l,) and the output bias (1,) of the groups that have one
    (``biased``, depth + 1 booleans)."""

    def __init__(self, shapes, biased):
        self.shapes = shapes
        self.biased = list(biased)
        depth = len(shapes) - 1
        self.bias_shapes = [(shapes[l][1],) if l < depth else (1,) for l in range(depth + 1) if self.biased[l]]

    @staticmethod
    def sizes(n0, width, depth):
        dims = [n0] + [width] * depth
        return [(dims[i], dims[i + 1]) for i in range(depth)] + [(width,)]

    def group_sizes(self):
        """Parameter counts per group, in the order of the flat rows (weights, then biases present)."""
        return [int(np.prod(s)) for s in self.shapes + self.bias_shapes]

    def forward(self, theta, X, phi):
        B = theta.shape[0]
        depth = len(self.shapes) - 1
        off = sum(int(np.prod(s)) for s in self.shapes)
        b = {}
        for l in range(depth + 1):
            if self.biased[l]:
                size = self.shapes[l][1] if l < depth else 1
                b[l], off = theta[:, off:off + size], off + size
        h, off = np.broadcast_to(X, (B,) + X.shape), 0
        for k, shp in enumerate(self.shapes[:-1]):
            size = shp[0] * shp[1]
            W = theta[:, off:off + size].reshape(B, *shp)
            off += size
            h = np.matmul(h if k == 0 else phi(h), W) / math.sqrt(shp[0])
            if k in b:
                h = h + b[k][:, None, :]
        a = theta[:, off:off + self.shapes[-1][0]]
        out = np.einsum("bnw,bw->bn", phi(h), a) / math.sqrt(a.shape[1])
        return out + b[depth] if depth in b else out


def simulate_proximal(X_train, y_train, X_test, activation, depth, width, sigma0_sq, sigma_sq, T, lam, n_steps,
                      n_networks, inner: int = 400, seed: int = 0, batch: int = 200, accept_target: float = 0.4,
                      sensitivity: bool = False, bias=None):
    """Ensemble mean of the MPL predictor at steps 0..n_steps (see the module docstring).

    Args:
        X_train (P, N0), y_train (P,), X_test (Q, N0) or None.
        activation, depth, width: the network (every hidden layer ``width`` wide).
        sigma0_sq, sigma_sq, T, lam: initial and prior variances, temperature, proximal strength
            (beta = 1/(2T), kappa = T/sigma^2); the variances may be lists of depth + 1 (W_1..W_L, readout).
        bias: None, or (bias_sigma0_sq, bias_sigma_sq) (numbers or lists of depth + 1; 0: no bias in
            that group): h_l = W_l phi(h_{l-1}) / sqrt(N_{l-1}) + b_l, f = a . phi(h_L) / sqrt(N_L) + b_out.
            Every group g has its own a_g, v_g (kappa_g = T / sigma_g^2); the pCN proposal uses the
            per-coordinate sqrt(v_g), so it still leaves the Gaussian factor invariant.
        n_steps, n_networks: MPL steps and ensemble size.
        inner: Metropolis iterations per step (first half adapts rho per network).
        sensitivity: also run ``2 inner`` iterations on the same seeds and report
            ``inner_shift`` = max |difference of the means| / SE.

    Returns:
        dict with ``steps``, ``train`` (n_steps + 1, P), ``test`` (n_steps + 1, Q), ``train_se``,
        ``test_se`` (ensemble means and their standard errors), ``acceptance`` (mean over the fixed-rho half), ``rho`` (mean final step size) and, with
        ``sensitivity``, ``inner_shift``.
    """
    if T <= 0 or lam <= 0 or n_networks < 2 or inner < 2 or width < 1:
        raise SymndkError("simulate_proximal needs T > 0, lam > 0, n_networks >= 2, inner >= 2, width >= 1")
    sigma0_sq, sigma_sq, bias = _variances(depth, sigma0_sq, sigma_sq, bias)   # as predict_proximal: one line each
    X_train = np.asarray(X_train, float)
    y_train = np.asarray(y_train, float)
    X_test = np.zeros((0, X_train.shape[1])) if X_test is None else np.asarray(X_test, float)
    out = _run(X_train, y_train, X_test, activation, depth, width, sigma0_sq, sigma_sq, T, lam, n_steps, n_networks,
               inner, seed, batch, accept_target, bias)
    if sensitivity:
        twice = _run(X_train, y_train, X_test, activation, depth, width, sigma0_sq, sigma_sq, T, lam, n_steps,
                     n_networks, 2 * inner, seed, batch, accept_target, bias)
        se = np.sqrt(out["train_se"] ** 2 + twice["train_se"] ** 2)[1:]
        out["inner_shift"] = float(np.max(np.abs(out["train"] - twice["train"])[1:] / np.maximum(se, 1e-300)))
        out["inner_twice"] = twice
    return out


def _group_vectors(nets, depth, sigma0_sq, sigma_sq, T, lam, bias):
    """Per-parameter (a, sqrt(v), sqrt(sigma0^2)) rows of the flat layout of ``nets``."""
    each = lambda v: _each(v, depth + 1)  # noqa: E731
    groups = list(zip(each(sigma0_sq), each(sigma_sq)))
    if bias is not None:
        groups += [g for g, on in zip(zip(each(bias[0]), each(bias[1])), nets.biased) if on]
    beta = 1.0 / (2.0 * T)
    cols = []
    for s0, s2 in groups:
        a, v, _ = rt.chain(lam, T / s2, beta, math.log1p)
        cols.append((a, math.sqrt(v), math.sqrt(s0)))
    sizes = nets.group_sizes()
    return tuple(np.repeat([c[i] for c in cols], sizes) for i in range(3))


def _run(X_train, y_train, X_test, activation, depth, width, sigma0_sq, sigma_sq, T, lam, n_steps, n_networks,
         inner, seed, batch, accept_target, bias=None):
    phi = _activation(activation)
    beta = 1.0 / (2.0 * T)
    P = X_train.shape[0]
    X_all = np.vstack([X_train, X_test])
    shapes = _Nets.sizes(X_train.shape[1], width, depth)
    biased = [False] * (depth + 1) if bias is None else [x > 0 for x in _each(bias[1], depth + 1)]
    nets = _Nets(shapes, biased)
    a, sv, s0 = _group_vectors(nets, depth, sigma0_sq, sigma_sq, T, lam, bias)
    n_par = a.size
    sums = {k: np.zeros((n_steps + 1, X_all.shape[0])) for k in ("pl", "pl2")}
    acc_sum, acc_n, rho_sum = 0.0, 0, 0.0
    rng_master = np.random.default_rng(seed)
    seeds = rng_master.integers(0, 2 ** 63 - 1, size=(n_networks + batch - 1) // batch)
    done = 0
    for bi, s in enumerate(seeds):
        B = min(batch, n_networks - done)
        done += B
        rng = np.random.default_rng(s)
        theta = s0 * rng.standard_normal((B, n_par))
        rho = np.full(B, 0.3)
        f = nets.forward(theta, X_all, phi)
        sums["pl"][0] += f.sum(0)
        sums["pl2"][0] += (f ** 2).sum(0)
        for n in range(1, n_steps + 1):
            mu = a * theta
            xi = rng.standard_normal((B, n_par))
            cur = mu + sv * xi
            f_cur = nets.forward(cur, X_train, phi)
            L_cur = 0.5 * np.sum((f_cur - y_train) ** 2, axis=1)
            for it in range(inner):
                c = np.sqrt(1.0 - rho ** 2)[:, None]
                prop = mu + c * (cur - mu) + rho[:, None] * sv * rng.standard_normal((B, n_par))
                f_prop = nets.forward(prop, X_train, phi)
                L_prop = 0.5 * np.sum((f_prop - y_train) ** 2, axis=1)
                log_u = np.log(rng.uniform(size=B))
                ok = log_u < -beta * (L_prop - L_cur)
                cur[ok], L_cur[ok] = prop[ok], L_prop[ok]
                if it < inner // 2:                            # burn-in: adapt rho per network
                    rho = np.clip(rho * np.exp(0.5 * (ok - accept_target)), 1e-4, 1.0)
                else:
                    acc_sum += float(ok.sum())
                    acc_n += B
            theta = cur
            rho_sum += float(rho.sum()) if n == n_steps else 0.0
            f = nets.forward(theta, X_all, phi)
            sums["pl"][n] += f.sum(0)
            sums["pl2"][n] += (f ** 2).sum(0)
    N = float(n_networks)
    res = {"steps": np.arange(n_steps + 1)}
    for key, name in (("pl", ""),):
        mean = sums[key] / N
        var = np.maximum(sums[key + "2"] / N - mean ** 2, 0.0) * N / (N - 1)
        se = np.sqrt(var / N)
        res[name + "train"], res[name + "test"] = mean[:, :P], mean[:, P:]
        res[name + "train_se"], res[name + "test_se"] = se[:, :P], se[:, P:]
    res["acceptance"] = acc_sum / max(acc_n, 1)
    res["rho"] = rho_sum / N
    res["inner"] = inner
    return res
