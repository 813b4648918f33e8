"""Two-time kernel assembly on data blocks (docs/theory.md §3, §4, §7, §8).

:class:`TwoTimeKernel` holds the input Gram blocks of the rows ``[X_train; X_test]`` against
the columns ``X_train`` and evaluates, through the generated dual kernels of one activation,

* :meth:`TwoTimeKernel.entries` -- chosen channels at chosen (row, col) entries and time pairs,
  vectorised over both (the cheap path used by the compressed solver);
* :meth:`TwoTimeKernel.block` -- whole (P + Q) x P blocks at one time pair.

Channels: ``"ndk"`` = K^d = e^{-gamma(t-s)} Theta_L, ``"nngp"`` = K_L, ``"cross"`` =
Kdot_L Theta_{L-1} (the two pieces of the drift and temporal-correlation integrands), ``"prior"``
= G(t, s) = C(t,s) K_L + C_b(t,s), the covariance of the prior network output f0 (THEORY_NEXT §A).

With biases (``bias=(sigma_b0_sq, sigma_b_sq)``, THEORY_NEXT §B) the recursion runs with
:class:`symndk.runtime.recursion.Bias`: K^d = Theta_L with the weight and bias propagators inside.
Per-layer variances (lists of depth + 1 for ``sigma0_sq``/``sigma_sq``/the bias pair, docs/theory.md §B)
run it with :func:`symndk.runtime.recursion.layer_priors`: one prior and one propagator per group,
K^d = Theta_L; ``gamma`` is then the slowest rate T / max sigma^2 over every group, biases included
(the time scale of the compression and the mesh).

Example (ReLU, L = 2; at t = s = 0 the NDK is the static NTK at sigma0):
    >>> import numpy as np
    >>> X = np.array([[1.0, 1.0], [1.0, -1.0]])
    >>> k = TwoTimeKernel(X, X[:0], "relu", depth=2, sigma0_sq=1.0, sigma_sq=1.0, T=0.1)
    >>> K = k.block(0.0, 0.0)
    >>> K.shape, bool(np.allclose(K, K.T))
    ((2, 2), True)
    >>> round(float(K[0, 0]), 12)  # Theta_1 = 1/2 + 1/2 = 1, Theta_2 = 1/4 + (1/2) Theta_1
    0.75
"""
from __future__ import annotations

import math

import numpy as np

from symndk.backend.namespace import _device, namespace_duals
from symndk.backend.select import resolve, to_numpy
from symndk.dynamics.compress import compress
from symndk.dynamics.device import finite, input_blocks
from symndk.errors import SymndkError, check_finite
from symndk.runtime.recursion import bias_terms, layer_kernels, layer_priors, prior_C, prior_gram

CHANNELS = ("ndk", "nngp", "cross", "prior")
#: smallest gamma = T / sigma^2 solved (measured: relu L=2, 1e-14 agrees with the O(sqrt(gamma t)) limit,
#: 1e-16 reports an estimate of O(1), 1e-30 divides by zero in the lag table)
GAMMA_MIN = 1e-14


def load_duals(activation: str):
    """The generated numpy dual kernels of ``activation`` (``symndk.kernels.loader.load``)."""
    from symndk.kernels import loader as duals

    return duals.load(activation, "numpy")


def input_kernels(obj, X_train, X_test):
    """Set the input kernels of rows [X_train; X_test] x columns X_train on ``obj``: ``P``, ``R``,
    ``norm_rows``/``norm_cols`` (|x|^2 / N0), ``gram`` (K_0, (R, P)), ``det0`` (the input Gram
    determinants; exactly 0, and K_0 = |x|^2 / N0, for identical inputs) and ``twin`` (True there), by
    :func:`symndk.dynamics.device.input_blocks` in NumPy (the code every namespace runs): near-collinear
    pairs get D_0 from the difference of the inputs, not by subtraction (which is 9e-12 relative off in the
    kernels at 1 - rho = 1e-12).

    Example (1 - rho ~ 1e-26: the subtraction gives 0, the difference the Gram determinant):
        >>> class Blocks: pass
        >>> X = np.array([[1.0, 0.0], [1.0, 1e-13]])
        >>> b = Blocks(); input_kernels(b, X, X[:0])
        >>> float(b.det0[0, 1]), float(np.outer(b.norm_rows, b.norm_cols)[0, 1] - b.gram[0, 1] ** 2)
        (2.5e-27, 0.0)
    """
    X_train = np.asarray(X_train, float)
    blocks = input_blocks(X_train, np.asarray(X_test, float).reshape(-1, X_train.shape[1]), np)
    obj.norm_rows, obj.norm_cols, obj.gram, obj.det0, obj.twin = blocks
    obj.R, obj.P = obj.gram.shape


class TwoTimeKernel:
    """Two-time kernels of one network on the rows ``[X_train; X_test]`` x columns ``X_train``.

    Args:
        X_train: (P, N0) training inputs.
        X_test: (Q, N0) test inputs (Q may be 0).
        activation: registered activation name.
        depth: number of hidden layers L.
        sigma0_sq, sigma_sq, T: initial variance, prior variance, temperature.
        bias: None (no biases) or (sigma_b0_sq, sigma_b_sq), bias variances at t = 0 and of the
            prior (gamma_b = T / sigma_b_sq).
        backend: None (NumPy) or an array-API backend name for :meth:`block` (see below).

    Per-layer variances: ``sigma0_sq``, ``sigma_sq`` (and the two entries of ``bias``) lists of
    depth + 1 values (W_1..W_L, readout; zero bias entries: no bias in that group); ``layered``
    is then True.

    ``backend`` (issue 16): None runs NumPy (for NumPy inputs; ``$SYMNDK_BACKEND`` is not read here
    until the Volterra panels run in other namespaces too); ``"array_api_strict"``, ``"torch"``,
    ``"cupy"`` (:mod:`symndk.backend.select`), or inputs of that namespace, run :meth:`block` there:
    the input blocks (:attr:`device`, :func:`symndk.dynamics.device.input_blocks`) are computed once on
    the inputs' device and every block is evaluated and returned there, by the same runtime recursion
    with the dual kernels rebound to the namespace (:func:`symndk.backend.namespace.namespace_duals`;
    closed forms only). Both paths take D_0 of near-collinear inputs from their difference and put
    identical inputs at t = s on the same-input chain. :attr:`xp` is the namespace; ``norm_rows``,
    ``gram``, ``det0``, ``twin`` are host NumPy copies (for :meth:`entries` and the compression's
    sampling: set-up, not per block).

    Example (the same block in ``array_api_strict``, computed and returned there):
        >>> import numpy as np
        >>> from symndk.backend.select import to_numpy
        >>> X = np.random.default_rng(0).normal(size=(6, 3))
        >>> k = TwoTimeKernel(X, X[:2] + 0.1, "erf", 2, 0.5, 1.0, 0.1, bias=(0.1, 0.2))
        >>> kx = TwoTimeKernel(X, X[:2] + 0.1, "erf", 2, 0.5, 1.0, 0.1, bias=(0.1, 0.2), backend="array_api_strict")
        >>> B = kx.block(3.0, 1.0)
        >>> type(B).__module__.split(".")[0], B.shape
        ('array_api_strict', (8, 6))
        >>> bool(np.abs(to_numpy(B) - k.block(3.0, 1.0)).max() < 1e-15)
        True
    """

    def __init__(self, X_train, X_test, activation, depth, sigma0_sq, sigma_sq, T, bias=None, backend=None):
        self.xp, (X_train, X_test) = resolve([X_train, X_test], "numpy" if backend is None else backend)
        if self.xp is np:
            X_train = np.asarray(X_train, float)
            X_test = np.asarray(X_test, float).reshape(-1, X_train.shape[1])
        blocks = input_blocks(X_train, X_test, self.xp)
        self.device = None if self.xp is np else blocks
        self.norm_rows, self.norm_cols, self.gram, self.det0, self.twin = map(to_numpy, blocks)
        self.R, self.P = self.gram.shape
        self.activation, self.depth = activation, int(depth)
        self.layered = isinstance(sigma_sq, (list, tuple))
        if self.layered:
            self.sigma0_sq, self.sigma_sq, self.T = [*map(float, sigma0_sq)], [*map(float, sigma_sq)], float(T)
            self.bias = None if bias is None else ([*map(float, bias[0])], [*map(float, bias[1])])
            self.gamma = self.T / max(self.sigma_sq + ([] if bias is None else self.bias[1]))
        else:
            self.sigma0_sq, self.sigma_sq, self.T = float(sigma0_sq), float(sigma_sq), float(T)
            self.gamma = self.T / self.sigma_sq
            self.bias = None if bias is None else (float(bias[0]), float(bias[1]))
        if 0 < self.gamma < GAMMA_MIN:
            raise SymndkError(f"gamma = T/sigma_sq = {self.gamma:.3g} is below {GAMMA_MIN:g}, where the kernel's decay "
                              "is below float64 resolution; use T = 0 (ntk_dynamics), from which it differs by "
                              "O(sqrt(gamma t))")
        self.duals = load_duals(activation)
        #: the dual kernels :meth:`block` runs (the NumPy ones rebound to :attr:`xp`; closed forms only there)
        self.block_duals = self.duals if self.xp is np else namespace_duals(self.duals, self.xp)
        self._compressed = {}

    def _layers(self, k_tt, k_ss, k_ts, D_0, t, s, lag, exp=np.exp, expm1=np.expm1, duals=None, same=None):
        g, s0, s2 = self.gamma, self.sigma0_sq, self.sigma_sq
        duals = self.duals if duals is None else duals
        if self.layered:
            C_tt, C_ss, C_ts, D_C, groups = layer_priors(t, s, s0, s2, self.T, exp, expm1, lag, self.bias)
            self._C_ts, self._Cb_ts = C_ts[-1], groups[-1].C_ts
            return layer_kernels(k_tt, k_ss, k_ts, C_tt, C_ss, C_ts, self.depth, duals, D_C, D_0, same, bias=groups)
        C_tt = prior_C(t, t, s0, s2, g, exp, expm1=expm1)
        C_ss = prior_C(s, s, s0, s2, g, exp, expm1=expm1)
        C_ts = prior_C(t, s, s0, s2, g, exp, lag, expm1)
        self._C_ts = C_ts
        if self.bias is not None:
            b0, b2 = self.bias
            bias = bias_terms(t, s, b0, b2, self.T / b2, g, exp, lag, expm1)
            self._Cb_ts = bias.C_ts
            D_C = prior_gram(t, s, s0, s2, g, exp, expm1, lag)      # the Gram carry, bias part by runtime.gram_sum
            return layer_kernels(k_tt, k_ss, k_ts, C_tt, C_ss, C_ts, self.depth, duals, D_C, D_0, same, bias=bias)
        self._Cb_ts = None
        D_C = prior_gram(t, s, s0, s2, g, exp, expm1, lag)
        return layer_kernels(k_tt, k_ss, k_ts, C_tt, C_ss, C_ts, self.depth, duals, D_C, D_0, same)

    def equal_time_variances(self, t):
        """Per-layer variances at one time: (C_l(t, t), C_bl(t, t)), lists of depth + 1 (0 where a group
        has no bias); only with :attr:`layered`."""
        C_tt, _, _, _, groups = layer_priors(t, t, self.sigma0_sq, self.sigma_sq, self.T, np.exp, np.expm1, 0.0,
                                             self.bias)
        return C_tt, [0.0 if g.C_tt is None else g.C_tt for g in groups]

    def numeric_error(self, t_end: float) -> float:
        """Relative error of the channels due to numerically evaluated dual kernels (0 for closed
        forms): the recursion rerun with F and Fdot moved by their error bound so far
        (:func:`symndk.kernels.quadrature.perturbed_duals`), on whole blocks at the time pairs
        (0, 0), (t_end, 0), (t_end, t_end); per channel, max |change| over the three blocks divided
        by max |channel| over them (the scale the callers multiply it by), the largest over channels.
        Each block by its own max would blow up a block that has decayed (the NDK at (t_end, 0),
        e^{-gamma t_end} small) into a spurious relative error."""
        from symndk.kernels.quadrature import perturbed_duals, relative_error_bound

        eps = relative_error_bound(self.duals)
        if eps == 0:
            return 0.0
        exact, n = self.duals, len(self.channels)
        pairs = [(0.0, 0.0), (float(t_end), 0.0), (float(t_end), float(t_end))]
        try:
            base = np.stack([np.reshape(self.block(t, s), (n, -1)) for t, s in pairs], axis=1)
            self.duals = perturbed_duals(exact, eps)
            moved = np.stack([np.reshape(self.block(t, s), (n, -1)) for t, s in pairs], axis=1)
        finally:
            self.duals = exact
        change = np.max(np.abs(moved - base), axis=(1, 2))
        return float(np.max(change / np.maximum(np.max(np.abs(base), axis=(1, 2)), 1e-300)))

    def _channels(self, out, lag, exp=np.exp):
        K, Kdot, th_prev, th = out
        res = []
        for name in self.channels:
            if name == "ndk":
                res.append(th if self.bias is not None or self.layered else exp(-self.gamma * lag) * th)
            elif name == "nngp":
                res.append(K)
            elif name == "prior":
                res.append(self._C_ts * K + (self._Cb_ts if self._Cb_ts is not None else 0.0))
            else:
                res.append(Kdot * th_prev)
        return res

    channels = ("ndk",)
    #: called after each compression actually computed (the model's build counter)
    on_compress = None

    def compressed(self, t_end):
        """:func:`~symndk.dynamics.compress.compress` of these channels over [0, t_end], computed once."""
        key = (self.channels, float(t_end))
        if key not in self._compressed:
            self._compressed[key] = compress(self, t_end)
            if self.on_compress is not None:
                self.on_compress()
        return self._compressed[key]

    def with_channels(self, *names):
        """A shallow copy evaluating ``names`` (subset of ``CHANNELS``) instead of the NDK."""
        bad = [n for n in names if n not in CHANNELS]
        if bad:
            raise ValueError(f"unknown channels {bad}; known {CHANNELS}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.channels = tuple(names)
        return new

    def entries(self, rows, cols, t, s, lag=None):
        """Channels at entries (rows[j], cols[j]) and time pairs (t[i], s[i]).

        For t < s the symmetric channels use K(t, s; x, x') = K(s, t; x', x) (the NDK
        channel is only defined for t >= s). ``lag`` (optional) is t - s when known more
        accurately than the difference. Returns an array (n_channels, n_pairs, n_entries).
        """
        rows, cols = np.asarray(rows), np.asarray(cols)
        t = np.asarray(t, float).reshape(-1, 1)
        s = np.asarray(s, float).reshape(-1, 1)
        lag = None if lag is None else np.asarray(lag, float).reshape(-1, 1)
        same = (t == s) & self.twin[rows, cols][None, :]
        return self._eval(self.norm_rows[rows][None, :], self.norm_cols[cols][None, :],
                          self.gram[rows, cols][None, :], self.det0[rows, cols][None, :], t, s,
                          (t.shape[0], rows.size), lag, same if same.any() else None)

    #: entries per chunk of :meth:`block`: the recursion's temporaries stay O(chunk), not O(R P)
    CHUNK = 1 << 19

    def block(self, t, s, lag=None):
        """All channels as (R, P) blocks at one time pair; squeezed when one channel. Evaluated in
        row chunks of about :attr:`CHUNK` entries: the recursion holds some 15 arrays of the
        chunk's size (3 GB at R = P = 5000 in one piece). In another namespace (``backend``) the block
        is computed and returned there (:meth:`_block_xp`)."""
        if self.xp is not np:
            return self._block_xp(float(t), float(s), None if lag is None else abs(float(lag)))
        res = np.empty((len(self.channels),) + self.gram.shape)
        step = max(1, self.CHUNK // max(self.P, 1))
        for a in range(0, self.R, step):
            rows = slice(a, min(a + step, self.R))
            same = self.twin[rows] if t == s and self.twin[rows].any() else None
            res[:, rows] = self._eval(self.norm_rows[rows, None], self.norm_cols[None, :], self.gram[rows],
                                      self.det0[rows], float(t), float(s), self.gram[rows].shape, lag, same)
        return res[0] if len(res) == 1 else res

    def _eval(self, n_row, n_col, k0, d0, t, s, shape, lag, same=None):
        """The channels at broadcasting inputs and times; ``same``: True where the inputs are identical and
        t = s. Those entries are evaluated again on the same-input chain (the recursion's ``same``) and put in
        place: pinning by arithmetic over the whole block would turn an overflow (inf - inf) into NaN."""
        swap = t < s
        if np.any(swap):
            n_row, n_col = np.where(swap, n_col, n_row), np.where(swap, n_row, n_col)
            t, s = np.maximum(t, s), np.minimum(t, s)
        lag = t - s if lag is None else abs(lag)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = np.stack([np.broadcast_to(c, shape) for c in self._channels(
                self._layers(n_row, n_col, k0, d0, t, s, lag), lag)])
            if same is not None:
                at = np.nonzero(np.broadcast_to(same, shape))
                pick = lambda a: np.broadcast_to(a, shape)[at]  # noqa: E731
                pinned = self._layers(pick(n_row), pick(n_col), pick(k0), pick(d0), pick(t), pick(s), pick(lag),
                                      same=1.0)
                res[(slice(None), *at)] = np.stack([np.broadcast_to(c, at[0].shape)
                                                    for c in self._channels(pinned, pick(lag))])
        return check_finite("the two-time kernel", res)

    #: entries per chunk of :meth:`_block_xp` (a device favours fewer, larger launches; not tuned on a GPU)
    XP_CHUNK = 1 << 22

    def _block_xp(self, t, s, lag):
        """:meth:`block` in :attr:`xp`: the input blocks of :attr:`device`, the runtime recursion and the
        rebound dual kernels on row chunks, the scalar time factors by :mod:`math`; nothing leaves the
        device but one finiteness flag."""
        xp, dev = self.xp, self.device
        res = xp.empty((len(self.channels),) + tuple(dev.gram.shape), dtype=xp.float64, device=_device(dev.gram))
        step = max(1, self.XP_CHUNK // max(self.P, 1))
        lag = abs(t - s) if lag is None else lag
        for a in range(0, self.R, step):
            rows = slice(a, min(a + step, self.R))
            n_row, n_col, k0 = dev.norm_rows[rows, None], dev.norm_cols[None, :], dev.gram[rows, :]
            if t < s:  # K(t, s; x, x') = K(s, t; x', x)
                n_row, n_col = n_col, n_row
            args = n_row, n_col, k0, dev.det0[rows, :], max(t, s), min(t, s), lag, math.exp, math.expm1, self.block_duals
            block = xp.stack([xp.broadcast_to(c, k0.shape) for c in self._channels(self._layers(*args), lag, math.exp)])
            if t == s:  # identical inputs on the same-input chain, selected (arithmetic would make inf - inf NaN)
                twin = dev.twin[rows, :]
                pinned = self._layers(*args, same=xp.astype(twin, xp.float64))
                block = xp.where(twin, xp.stack([xp.broadcast_to(c, k0.shape)
                                                 for c in self._channels(pinned, lag, math.exp)]), block)
            res[:, rows, :] = block
        res = finite("the two-time kernel", res, xp)
        return res[0, ...] if res.shape[0] == 1 else res
