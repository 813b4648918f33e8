"""Static NNGP and NTK matrices of an L-layer network (docs/theory.md §3 at t = s).

K_0 = x.x'/N0; for l = 1..L, with C = sigma^2 (weight variance; per layer C_l, docs/theory.md §B),
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

Per-layer variances (lists of depth + 1: W_1, .., W_L, readout): the readout's enters the NTK as
C_{L+1} Kdot_L Theta_{L-1}, not the NNGP K_L:
    >>> np.round(ntk_kernel(X, activation="relu", depth=1, sigma_sq=[1.0, 3.0]).train, 6).tolist()
    [[2.0, 0.159155], [0.159155, 2.0]]
"""
from __future__ import annotations

import ctypes
import functools
import os
from typing import NamedTuple

import numpy as np

from threadpoolctl import ThreadpoolController

from symndk import validation
from symndk.errors import SymndkError, check_finite
from symndk.files import mapped as _result, out_of_core as _out_of_core, unclaimed as _unclaimed
from symndk.backend import threads
from symndk.backend.select import resolve
from symndk.kernels.collinear import NEAR, collinear_det, gram_blocks
from symndk.kernels.loader import load
from symndk.runtime.recursion import Bias, layer_kernels

#: glibc malloc: heap blocks up to MMAP_THRESHOLD bytes and up to TRIM_THRESHOLD bytes of free heap kept
#: (see :func:`reuse_heap`); SYMNDK_MALLOPT=0 leaves the C library's defaults alone
MMAP_THRESHOLD, TRIM_THRESHOLD = 4 << 20, 64 << 20


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded in this process (numpy's, which the Gram products use), found once: a
    fresh ``threadpool_limits`` scans every loaded library (0.7 ms per call at P = 2000, 1% of it)."""
    return ThreadpoolController()


#: bytes of the block :func:`warm_heap` allocates and frees
WARM_BYTES = 4 << 20


def warm_heap() -> None:
    """Raise glibc's adaptive thresholds the way glibc itself does: allocate and free one ``WARM_BYTES``
    block (served by mmap), after which malloc serves blocks up to that size from the heap and keeps up
    to twice that of free heap per arena. Nothing is set process-wide by hand (no ``mallopt``), and the
    adaptation is what the first large free of any program triggers anyway.

    Without it a fresh process page-faults every temporary of a chunk afresh (glibc's initial
    128 KiB mmap and trim thresholds): measured 166-174 ns per element of the layer recursion instead of
    32 (ReLU, depth 2, 64 x 234 chunks). Where the thresholds were fixed by $MALLOC_* variables glibc does
    not adapt (Dask workers: :func:`reuse_heap`)."""
    block = np.empty(WARM_BYTES // 8)
    del block


@functools.cache
def reuse_heap() -> bool:
    """Let glibc reuse freed heap memory for the chunks' temporaries (once per process), by a process-wide
    ``mallopt``: for processes whose thresholds were fixed by $MALLOC_* variables, where glibc does not
    adapt them (the Dask workers of :mod:`symndk.sweep.scheduler`); :func:`static_kernels` itself only
    calls :func:`warm_heap`.

    By default glibc serves blocks >= 128 KiB by mmap and returns free heap above 128 KiB to the
    system, so every temporary of a chunk is page-faulted in afresh: the layer recursion ran 3x
    slower (50 ns per element instead of 17 at P = 2000).  Large blocks (> 4 MiB) still come from
    mmap and each malloc arena (one per thread that allocates) keeps at most 64 MiB of free heap.
    False where there is no glibc ``mallopt``.
    """
    if os.environ.get("SYMNDK_MALLOPT", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-1, TRIM_THRESHOLD) and libc.mallopt(-3, MMAP_THRESHOLD))  # M_TRIM_, M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


class KernelPair(NamedTuple):
    """``train``: (P, P) kernel on X1; ``test``: (Q, P) kernel between X2 and X1 (None without X2)."""

    train: np.ndarray
    test: np.ndarray | None


def _gram0(A, B, qa, qb, k0):
    """D_0 = qa qb - k0^2 for rows A and columns B; nearly collinear pairs recomputed from B - A
    (identical inputs are set to 0 by the caller: see :func:`_block`)."""
    prod = qa[:, None] * qb[None, :]   # one broadcast product (4x a plain one's cost)
    D = k0 * k0
    np.subtract(prod, D, out=D)
    near = D < NEAR * prod
    i, j = np.nonzero(near) if near.any() else ((), ())
    if len(i):
        D[i, j] = collinear_det(A[i], B[j], np)[0]
    return D


def _chain(q0, duals, depth, sigma_sq, bias_sq=0.0):
    """Same-input variances K_l(x, x), l = 1..depth, from K_0(x, x) = ``q0`` (per-layer lists: layer l
    takes entry l - 1)."""
    out = []
    for l in range(depth):
        w, b = (v[l] if isinstance(v, list) else v for v in (sigma_sq, bias_sq))
        q0 = duals.V(w * q0 + b) if b else duals.V(w * q0)
        out.append(q0)
    return out


def _recursion(K0, D0, qa0, qb0, chain_a, chain_b, same, duals, sigma_sq, depth, bias_sq=0.0):
    """The runtime recursion at t = s (C = sigma^2 everywhere, so C_tt C_ss - C_ts^2 = 0) on one block:
    (NNGP, NTK); with ``bias_sq`` the bias terms (C_b = bias_sq, propagators 1) and the NNGP
    K_L + bias_sq / sigma^2.  ``qa0``, ``qb0`` and the chains broadcast against ``K0``.

    Per-layer variances: ``sigma_sq`` and ``bias_sq`` lists of depth + 1 (W_1..W_L, readout), the NNGP
    then normalised by the readout's: K_L + sigma_b,L+1^2 / sigma_L+1^2; a None entry: no bias in that
    group (a 0 entry: a bias of initial variance 0, whose gradient still enters the NTK)."""
    if isinstance(sigma_sq, list):
        bias = [Bias(b, b, b, 1.0, 1.0) if b is not None else Bias(None, None, None, 1.0, None) for b in bias_sq] \
            if any(b is not None for b in bias_sq) else None
        K, _, _, theta = layer_kernels(qa0, qb0, K0, sigma_sq, sigma_sq, sigma_sq, depth, duals,
                                       D_C=0.0, D_0=D0, same=same, chains=(chain_a, chain_b), bias=bias)
        return (K + bias_sq[-1] / sigma_sq[-1] if bias_sq[-1] else K), theta
    bias = Bias(bias_sq, bias_sq, bias_sq, 1.0, 1.0) if bias_sq else None
    K, _, _, theta = layer_kernels(qa0, qb0, K0, sigma_sq, sigma_sq, sigma_sq, depth, duals,
                                   D_C=0.0, D_0=D0, same=same, chains=(chain_a, chain_b), bias=bias)
    return (K + bias_sq / sigma_sq if bias_sq else K), theta


def _labels(A, B, same, qa, qb):
    """Integer labels of the rows of A and B, equal exactly for identical rows. Only rows whose squared
    norm (``qa``, ``qb``) repeats can be identical; those are compared by their bytes."""
    norms = qa if same else np.concatenate([qa, qb])
    labels = np.arange(norms.size)
    _, inverse, counts = np.unique(norms, return_inverse=True, return_counts=True)
    seen: dict[bytes, int] = {}
    P = A.shape[0]
    for k in np.nonzero(counts[inverse.ravel()] > 1)[0]:
        row = A[k] if k < P or same else B[k - P]
        labels[k] = seen.setdefault(np.ascontiguousarray(row).tobytes(), k)
    return (labels, labels) if same else (labels[:P], labels[P:])


def _twins(la, lb, same):
    """Index pairs (i, j) of identical inputs (for A is B: i <= j, the diagonal included)."""
    if same and np.unique(la).size == la.size:
        i = np.arange(la.size)
        return i, i
    order = np.argsort(lb, kind="stable")
    lo = np.searchsorted(lb[order], la, "left")
    counts = np.searchsorted(lb[order], la, "right") - lo
    i = np.repeat(np.arange(la.size), counts)
    j = order[np.repeat(lo, counts) + np.arange(i.size) - np.repeat(np.cumsum(counts) - counts, counts)]
    keep = j >= i if same else slice(None)
    return i[keep], j[keep]


#: entries per elementwise chunk: its temporaries (940 KiB each, ~15 live) are reused from the heap
#: (:func:`warm_heap`; with glibc's initial 128 KiB mmap threshold each was page-faulted in afresh). Measured
#: (NumPy 2.4, fresh processes, P = 1000/2000/4000, depth 2, 2 threads): 6-10% less wall time than 30000
#: entries (which had kept them under NumPy's 256 KiB temporary-elision threshold, once 4-5x slower above it;
#: no longer), best at 90000-131072
CHUNK = 120000
#: columns per Gram product of a task (a whole number of chunks): the working memory of a thread stays
#: ROWS x BAND entries (1 MiB) whatever Q; measured (P = 2000, one thread) 0.072 s vs 0.071 s in one product
BAND = 1024
#: rows per task (one BLAS product of ROWS x N0 by N0 x columns, then chunks of its columns); fewer when
#: that leaves under 4 tasks per thread (the triangle's tasks shrink down the rows: many cores need many tasks).
#: Measured (P = 2000, N0 = 784, one thread): the triangle's products take 0.076 s in 64-row tasks, 0.071 s
#: in 128-row ones (the full syrk 0.065 s)
ROWS = 128


def _block(A, B, duals, depth, sigma_sq, same, bias_sq=0.0, folder=None, names=("nngp", "ntk")):
    """(NNGP, NTK) between the rows of A and the rows of B.

    Tasks of ``ROWS`` rows run in threads (numpy and BLAS release the GIL; BLAS is held at one
    thread inside them, so the pool alone scales with the cores): each takes its Gram block by one
    matrix product and runs the layer recursion over cache-sized column chunks.  For A is B only
    the upper triangle is computed and mirrored.  Identical inputs (the diagonal, duplicated rows)
    are recomputed afterwards on the same-input chain (K_0 = |x|^2 / N0, D_0 = 0, K_l = V(q),
    Kdot_l = Vdot(q) exactly: the pinned diagonal).

    Returns the two (P, Q) arrays and whether every entry is finite (checked chunk by chunk in the
    tasks, while in cache, not by two passes over the results afterwards).
    """
    warm_heap()
    n0 = A.shape[1]
    qa0 = np.einsum("ij,ij->i", A, A) / n0
    qb0 = qa0 if same else np.einsum("ij,ij->i", B, B) / n0
    ca, cb = _chain(qa0, duals, depth, sigma_sq, bias_sq), _chain(qb0, duals, depth, sigma_sq, bias_sq)
    P, Q = A.shape[0], B.shape[0]
    outs = tuple(_result(P, Q, A.dtype, folder, name) for name in names)
    n_threads = threads.workers()
    rows_per_task = max(8, min(ROWS, P // (4 * n_threads)))
    overflow = []
    diagonal = np.arange(rows_per_task)
    lower = np.tri(rows_per_task, k=-1, dtype=bool)

    def task(r0):
        r1 = min(r0 + rows_per_task, P)
        c0 = r0 if same else 0
        width = max(r1 - r0, CHUNK // (r1 - r0))  # >= rows: the first chunk holds the diagonal square
        band = width * max(1, BAND // width)
        rows = slice(r0, r1)
        for j0 in range(0, Q - c0, width):
            j1 = min(j0 + width, Q - c0)
            cols = slice(c0 + j0, c0 + j1)
            if j0 % band == 0:                    # the Gram product of the next band of columns
                K0 = A[rows] @ B[c0 + j0: c0 + min(j0 + band, Q - c0)].T
                K0 /= n0
            k0 = K0[:, j0 % band: j0 % band + j1 - j0]
            if same and j0 == 0:  # the diagonal is pinned afterwards: zeroed here, it takes no near-collinear path
                k0[diagonal[: r1 - r0], diagonal[: r1 - r0]] = 0.0
            D0 = _gram0(A[rows], B[cols], qa0[rows], qb0[cols], k0)
            res = _recursion(k0, D0, qa0[rows, None], qb0[None, cols], [c[rows, None] for c in ca],
                             [c[None, cols] for c in cb], None, duals, sigma_sq, depth, bias_sq)
            for out, r in zip(outs, res):
                r = np.broadcast_to(r, k0.shape)
                if not np.isfinite(np.add.reduce(r, axis=None)):  # one reduction; a sum that overflows is re-checked
                    overflow.append(r0)
                out[rows, cols] = r
                if not same:
                    continue
                if j0 == 0:  # the square on the diagonal (width >= rows): its lower triangle from its upper one
                    sq = out[rows, r0:r1]
                    np.copyto(sq, sq.T, where=lower[: r1 - r0, : r1 - r0])
                    out[r1: c0 + j1, rows] = r[:, r1 - r0:].T
                else:
                    out[cols, rows] = r.T

    err = np.geterr()                    # the caller's floating-point error state, which threads do not inherit

    def in_state(r0):
        with np.errstate(**err):
            task(r0)

    with _blas().limit(limits=1, user_api="blas"):
        if n_threads == 1 or threads.in_pool():
            for r0 in range(0, P, rows_per_task):
                task(r0)
        else:
            list(threads.pool(n_threads).map(in_state, range(0, P, rows_per_task)))
    la, lb = _labels(A, B, same, qa0, qb0)
    i, j = _twins(la, lb, same)
    if not i.size:
        return outs, not overflow
    res = _recursion(qa0[i], np.zeros(i.size, A.dtype), qa0[i], qb0[j], [c[i] for c in ca], [c[j] for c in cb], 1.0,
                     duals, sigma_sq, depth, bias_sq)
    for out, r in zip(outs, res):
        out[i, j] = r
        if same:
            out[j, i] = r
        if not np.isfinite(r).all():
            overflow.append(-1)
    return outs, not overflow


#: entries per row block of the array-API path (a few hundred MB per float64 temporary on a device)
XP_BLOCK = 1 << 25


def _block_xp(A, B, duals, depth, sigma_sq, same, bias_sq, xp):
    """(NNGP, NTK) between the rows of A and B in the array-API namespace ``xp`` (device arrays stay on
    their device), in row blocks of ~``XP_BLOCK`` entries: one matrix product per block, the
    near-collinear D_0 from the difference of the inputs and identical inputs pinned
    (:func:`~symndk.kernels.collinear.gram_blocks`), the runtime recursion on whole blocks with the
    Gram-determinant carry; for A is B the upper triangle is mirrored (exactly symmetric)."""
    n0 = A.shape[1]
    qa = xp.sum(A * A, axis=1) / n0
    qb = qa if same else xp.sum(B * B, axis=1) / n0
    ca, cb = _chain(qa, duals, depth, sigma_sq, bias_sq), _chain(qb, duals, depth, sigma_sq, bias_sq)
    step = max(1, XP_BLOCK // B.shape[0])
    blocks = []
    for r0 in range(0, A.shape[0], step):
        r1 = min(r0 + step, A.shape[0])
        Ar, qr = A[r0:r1, :], qa[r0:r1]
        blocks_r = gram_blocks(Ar, B, xp)                 # near-collinear D_0 by the difference, twins pinned
        K0, D0 = blocks_r.gram, blocks_r.det0
        pin = xp.astype(blocks_r.twin, D0.dtype) if bool(xp.any(blocks_r.twin)) else None
        res = _recursion(K0, D0, qr[:, None], qb[None, :], [c[r0:r1, None] for c in ca], [c[None, :] for c in cb],
                         pin, duals, sigma_sq, depth, bias_sq)
        blocks.append([r + 0 * K0 for r in res])  # broadcast to (rows, columns)
    res = [xp.concat(parts, axis=0) if len(parts) > 1 else parts[0] for parts in zip(*blocks)]
    if same:  # exactly symmetric: the lower triangle mirrors the upper one
        idx = xp.arange(A.shape[0], device=_xp_device(A))
        upper = idx[:, None] <= idx[None, :]
        res = [xp.where(upper, r, xp.matrix_transpose(r)) for r in res]
    return res


def _xp_device(x):
    from array_api_compat import device

    return device(x)


def _static_xp(X1, X2, duals, depth, sigma_sq, bias_sq, xp, dtype="float64"):
    """:func:`static_kernels` in namespace ``xp`` (inputs validated there, results finite-checked there)."""
    from symndk.backend.namespace import namespace_duals

    for name, X in (("X1", X1), ("X2", X2)):
        if X is None:
            continue
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1 or X.dtype not in (xp.float64, xp.float32):
            raise SymndkError(f"{name} must be a non-empty 2-D floating-point array, got shape {tuple(X.shape)} {X.dtype}")
        if not bool(xp.all(xp.isfinite(X))) or bool(xp.any(xp.sum(X * X, axis=1) == 0)):
            raise SymndkError(f"{name} must be finite with no zero rows")
    if X2 is not None and X2.shape[1] != X1.shape[1]:
        raise SymndkError(f"X2 must have {X1.shape[1]} columns like X1, got {X2.shape[1]}")
    duals = namespace_duals(duals, xp)
    X1, X2 = (None if X is None else xp.astype(X, getattr(xp, dtype)) for X in (X1, X2))
    train = _block_xp(X1, X1, duals, depth, sigma_sq, True, bias_sq, xp)
    test = (None, None) if X2 is None else _block_xp(X2, X1, duals, depth, sigma_sq, False, bias_sq, xp)
    for name, arr in zip(("NNGP kernel", "NTK", "NNGP kernel", "NTK"), (*train, *test)):
        if arr is not None and not bool(xp.all(xp.isfinite(arr))):
            raise SymndkError(f"the {name} overflowed (inf/NaN): reduce the variances or the input scale")
    return StaticKernels(*(KernelPair(tr, te) for tr, te in zip(train, test)))


class StaticKernels(NamedTuple):
    """Both static kernels from one pass: ``nngp`` and ``ntk``, each a :class:`KernelPair`."""

    nngp: KernelPair
    ntk: KernelPair


def _bias_groups(biased, bias_sq):
    """Which of the depth + 1 groups carry a bias: ``biased`` None (those with ``bias_sq`` > 0), one bool
    for all, or one per group; a group with ``bias_sq`` > 0 always does."""
    if biased is None or isinstance(biased, (bool, np.bool_)):
        biased = [bool(biased)] * len(bias_sq)
    if np.ndim(biased) != 1 or len(biased) != len(bias_sq) or not all(isinstance(v, (bool, np.bool_)) for v in biased):
        raise SymndkError(f"biased must be True, False or {len(bias_sq)} booleans (one per group), got {biased!r}")
    return [bool(on) or b != 0 for on, b in zip(biased, bias_sq)]


def static_kernels(X1, X2=None, activation="relu", depth=2, sigma_sq=1.0, bias_sq=0.0, backend=None,
                   dtype="float64", *, biased=None, memory=None, folder=None) -> StaticKernels:
    """NNGP K_L and NTK Theta_L together (one Gram product, one layer recursion: the cost of one of them);
    same arguments as :func:`nngp_kernel`.

    Inputs of another array-API namespace (PyTorch, CuPy, array_api_strict) run there, on their device,
    and the kernels come back there; ``backend`` (or $SYMNDK_BACKEND: ``torch``, ``cupy``,
    ``array_api_strict``) moves NumPy inputs to that namespace (:mod:`symndk.backend.select`).

    ``biased`` (True, or depth + 1 booleans): biases in these groups even where ``bias_sq`` is 0 -- a
    bias initialised at 0 and trained (bias_sigma0^2 = 0 < bias_sigma^2): the pre-activations get no
    bias variance but the NTK still gets the bias gradients (d f / d b != 0 at b = 0). Default: biases
    exactly where ``bias_sq`` > 0.

    ``dtype="float32"`` computes in single precision (inputs rounded to float32, BLAS sgemm). Measured
    (``benchmarks/scale.py float32``, P = 2000, N0 = 784, depth 2): error <= 3.4e-7 of the largest entry
    (ReLU elementwise <= 5e-7; erf's near-zero entries are only absolutely accurate), 1.7e-7 relative
    at rho = 1 - 1e-8 (the Gram-determinant carry works in float32 units), 0.6-0.66x the CPU time.

    ``memory`` (bytes; NumPy path): a cap on the results held in RAM. The working memory is bounded
    whatever the size (per thread one ROWS x BAND Gram band and the chunks' temporaries, about 15 MiB);
    the results are 2 (P^2 + Q P) entries, and when they exceed ``memory`` they are written block by
    block to memory-mapped files (out of core: the page cache holds what fits) and come back as
    ``numpy.memmap``, with the same values as in memory. In ``folder`` they are kept as
    ``nngp_train.npy``, ``ntk_train.npy``, ``nngp_test.npy``, ``ntk_test.npy`` (refused in one line, before
    anything is written, where one of them exists: symndk does not overwrite a file it did not write; read back by
    ``numpy.load(..., mmap_mode="r")``); without ``folder`` they live in a private temporary folder,
    unlinked at once, and their disk space is freed with the arrays.

    Example:
        >>> import numpy as np
        >>> X = np.sqrt(2.0) * np.eye(2)
        >>> both = static_kernels(X, activation="relu", depth=1)
        >>> mapped = static_kernels(X, activation="relu", depth=1, memory=0)
        >>> type(mapped.ntk.train).__name__, np.array_equal(mapped.ntk.train, both.ntk.train)
        ('memmap', True)
        >>> np.array_equal(both.ntk.train, ntk_kernel(X, activation="relu", depth=1).train)
        True
    """
    if dtype not in ("float64", "float32"):
        raise SymndkError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    xp, (X1, X2) = resolve([X1, X2], backend)
    if xp is np:
        X1 = validation.inputs("X1", X1).astype(dtype, copy=False)
        X2 = None if X2 is None else validation.inputs("X2", X2, X1.shape[1]).astype(dtype, copy=False)
    if isinstance(depth, bool) or int(depth) != depth or not 1 <= depth <= 100:
        raise SymndkError(f"depth must be an integer in 1..100, got {depth}")
    sigma_sq = validation.layer_variances("sigma_sq", sigma_sq, int(depth))
    bias_sq = validation.layer_variances("bias_sq", bias_sq, int(depth), zero_ok=True)
    if isinstance(sigma_sq, tuple) or isinstance(bias_sq, tuple) or biased is not None:  # lists of depth + 1
        sigma_sq, bias_sq = ([*v] if isinstance(v, tuple) else [v] * (int(depth) + 1) for v in (sigma_sq, bias_sq))
        groups = _bias_groups(biased, bias_sq)
        bias_sq = [b if on else None for b, on in zip(bias_sq, groups)]
    duals = load(activation) if isinstance(activation, str) else activation
    if xp is not np:
        return _static_xp(X1, X2, duals, int(depth), sigma_sq, bias_sq, xp, dtype)
    args = duals, int(depth), sigma_sq
    where = _out_of_core(memory, folder, 2 * (X1.shape[0] + (0 if X2 is None else X2.shape[0])) * X1.nbytes
                         // max(X1.shape[1], 1))
    names = ("nngp_train", "ntk_train") + (() if X2 is None else ("nngp_test", "ntk_test"))
    if where is not None and where[1]:
        _unclaimed(where[0], names)                     # before any file is written
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, in one line
        train, finite = _block(X1, X1, *args, True, bias_sq, where, ("nngp_train", "ntk_train"))
        test, finite_test = ((None, None), True) if X2 is None else \
            _block(X2, X1, *args, False, bias_sq, where, ("nngp_test", "ntk_test"))
    if where is not None and not where[1]:
        os.rmdir(where[0])  # its files are unlinked already (the arrays keep their pages)
    check = lambda name, v: v if v is None or (finite and finite_test) else check_finite(name, v)  # noqa: E731
    return StaticKernels(*(KernelPair(check(name, tr), check(name, te))
                           for name, tr, te in zip(("NNGP kernel", "NTK"), train, test)))


def nngp_kernel(X1, X2=None, activation="relu", depth=2, sigma_sq=1.0, bias_sq=0.0, backend=None) -> KernelPair:
    """NNGP kernel K_L on X1 (train/train) and between X2 and X1 (test/train).

    Args:
        X1: (P, N0) training inputs.  X2: optional (Q, N0) test inputs.
        activation: registered activation name (or a loaded duals object).
        depth: number of hidden layers L >= 1.  sigma_sq: weight variance sigma^2, or a list of
            depth + 1 per-layer variances (W_1, .., W_L, readout; docs/theory.md §B).
        bias_sq: bias variance sigma_b^2 (0: no biases), or a list of depth + 1 (b_1, .., b_L, output;
            0 entries: no bias there). With biases (hidden layers and output) the result is the
            output covariance over the readout's sigma^2: K_L + sigma_b^2 / sigma^2 (THEORY_NEXT §B),
            so that k^T (K + gamma I)^{-1} Y stays the NNGP predictor (gamma = T / readout sigma^2).
        backend: array namespace for NumPy inputs (see :func:`static_kernels`); None: $SYMNDK_BACKEND or numpy.
    """
    return static_kernels(X1, X2, activation, depth, sigma_sq, bias_sq, backend).nngp


def ntk_kernel(X1, X2=None, activation="relu", depth=2, sigma_sq=1.0, bias_sq=0.0, backend=None, *,
               biased=None) -> KernelPair:
    """NTK Theta_L = E[grad f(x) . grad f(x')] (all weights of variance sigma^2, biases sigma_b^2 = ``bias_sq``,
    their gradients included); same arguments as :func:`nngp_kernel`, and ``biased`` as :func:`static_kernels`
    (biases initialised at 0: their gradients still count).

    Example (ReLU, L = 1, |x|^2 = N0: a zero-initialised bias adds 1 + C Kdot_1 = 1.5 on the diagonal):
        >>> import numpy as np
        >>> X = np.sqrt(2.0) * np.eye(2)
        >>> with_b, without = (ntk_kernel(X, activation="relu", depth=1, biased=on).train for on in (True, False))
        >>> round(float(with_b[0, 0] - without[0, 0]), 12)
        1.5
    """
    return static_kernels(X1, X2, activation, depth, sigma_sq, bias_sq, backend, biased=biased).ntk
