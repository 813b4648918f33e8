"""The public model: :class:`Network` (architecture and prior) and :class:`NDK` (a network on a data set).

``Network`` is an immutable, validated description; ``NDK`` validates the data once, builds the
two-time kernels and their compressions once (per test set) and serves every solver from them.
Every method returns the one result type, :class:`symndk.results.Result`.

Example:
    >>> import numpy as np, symndk
    >>> d = symndk.data.synthetic(P=4, r=0.6)
    >>> net = Network(activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0)
    >>> ndk = NDK(net, d.X_train, d.y_train, T=0.01)
    >>> res = ndk.predict([1.0, 3000.0], d.X_test, rtol=1e-10)
    >>> eq = ndk.equilibrium("nngp", d.X_test)
    >>> bool(abs(res.test[-1, 0] - eq.test[0, 0]) < 1e-6), ndk.builds["kernels"]
    (True, 2)
    >>> res.metadata["network"]["activation"], res.metadata["T"], res.metadata["data"]["P"]
    ('relu', 0.01, 4)
"""
from __future__ import annotations

import hashlib
import math
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from symndk import __version__
from symndk import validation as check
from symndk.errors import SymndkError, SymndkWarning, check_finite
from symndk.names import check_name
from symndk.results import Result

MAX_DEPTH = check.MAX_DEPTH
#: the variance fields of :class:`Network` (each a number or a per-layer list)
VARIANCES = ("sigma0_sq", "sigma_sq", "bias_sigma0_sq", "bias_sigma_sq")


@dataclass(frozen=True)
class Option:
    """One field of :class:`Network` as a command-line option (the CLI builds its flags from these)."""

    field: str
    flag: str
    type: type
    help: str


#: the fields of :class:`Network`, in order, as CLI options
OPTIONS = (
    Option("activation", "--activation", str, "activation name (built in, or registered by `symndk kernel`)"),
    Option("depth", "--depth", int, f"number of hidden layers L (1..{MAX_DEPTH})"),
    Option("sigma0_sq", "--sigma0-sq", float, "initial weight variance sigma0^2 (the NTK at t = 0); a comma list "
           "of depth + 1 values: per layer (W_1..W_L, readout)"),
    Option("sigma_sq", "--sigma-sq", float, "prior weight variance sigma^2 (the NNGP at equilibrium); a comma list "
           "of depth + 1 values: per layer, gamma_l = T / sigma_l^2"),
    Option("bias_sigma0_sq", "--bias-sigma0-sq", float, "initial bias variance sigma_b0^2 (0 with --bias-sigma-sq 0: "
           "no biases)"),
    Option("bias_sigma_sq", "--bias-sigma-sq", float, "prior bias variance sigma_b^2 (> 0: biases on every layer "
           "and the output, gamma_b = T / sigma_b^2; 0: no biases)"),
)


@dataclass(frozen=True)
class Network:
    """An infinitely wide fully connected network: activation, depth and weight variances.

    Args:
        activation: activation name (a built-in, or one registered with ``symndk kernel``).
        depth: number of hidden layers L.
        sigma0_sq: variance of the initial weights, sigma0^2 (the kernels at t = 0, the NTK).
        sigma_sq: variance of the prior, sigma^2 (the Langevin stationary state, the NNGP).
        bias_sigma0_sq, bias_sigma_sq: initial and prior variances of the biases (THEORY_NEXT §B),
            on every hidden layer and on the output; gamma_b = T / bias_sigma_sq. Default 0 and 0:
            no biases (the numbers of a bias-free network, exactly).

    **Per-layer variances** (docs/theory.md §B): each of the four variances may instead be a list
    of ``depth + 1`` numbers, one per parameter group in the order W_1, .., W_L, readout a (biases:
    b_1, .., b_L, output bias). Group l then has its own prior OU process and its own weight decay
    gamma_l = T / sigma_l^2; a scalar means the same value for every group (the numbers of the
    scalar network, exactly). A bias list may hold 0 for a layer without a bias (with 0 initial
    variance there). Lists are stored as tuples.

    The static kernels that matter for training are :meth:`ntk_kernel` at initialisation (weight
    variance sigma0^2) and :meth:`nngp_kernel` under the prior (weight variance sigma^2).

    Example (per-layer prior variances; the long-time predictor is the NNGP posterior mean):
        >>> import numpy as np, symndk
        >>> d = symndk.data.synthetic(P=4, r=0.6)
        >>> net = Network("erf", depth=2, sigma0_sq=0.5, sigma_sq=[1.0, 2.0, 0.5])
        >>> net.sigma_sq, net.layered
        ((1.0, 2.0, 0.5), True)
        >>> ndk = NDK(net, d.X_train, d.y_train, T=0.05)
        >>> late, eq = ndk.predict([2000.0], d.X_test).test[0], ndk.equilibrium("nngp", d.X_test).test[0]
        >>> bool(np.allclose(late, eq, atol=1e-8))
        True
        >>> Network(depth=2, sigma_sq=[1.0, 2.0])
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: sigma_sq must be one number or depth + 1 = 3 numbers (W_1..W_L, readout), got 2
        >>> Network(depth=0)
        Traceback (most recent call last):
        ...
        symndk.errors.SymndkError: depth must be an integer in 1..100, got 0
    """

    activation: str = "relu"
    depth: int = 2
    sigma0_sq: float | tuple = 0.5
    sigma_sq: float | tuple = 1.0
    bias_sigma0_sq: float | tuple = 0.0
    bias_sigma_sq: float | tuple = 0.0

    def record(self) -> dict:
        """The fields as a dict for metadata (the bias fields only when biases are set)."""
        d = asdict(self)
        if self.bias is None:
            d.pop("bias_sigma0_sq"), d.pop("bias_sigma_sq")
        return d

    @property
    def bias(self):
        """(bias_sigma0_sq, bias_sigma_sq), or None without biases."""
        return None if not np.any(self.bias_sigma_sq) else (self.bias_sigma0_sq, self.bias_sigma_sq)

    @property
    def layered(self) -> bool:
        """True when any variance is a per-layer list (docs/theory.md §B)."""
        return any(isinstance(getattr(self, n), tuple) for n in VARIANCES)

    def per_layer(self, name: str) -> list:
        """The variance ``name`` as a list of depth + 1 values (a scalar repeated).

        Example:
            >>> Network(depth=2, sigma_sq=[1, 2, 3]).per_layer("sigma0_sq")
            [0.5, 0.5, 0.5]
        """
        v = getattr(self, name)
        return list(v) if isinstance(v, tuple) else [v] * (self.depth + 1)

    def variances(self, stationary: bool = False):
        """(weights, bias) at t = 0 (or of the prior, ``stationary``) in the form the kernels take:
        scalars for a scalar network, lists of depth + 1 per group when :attr:`layered`; bias None
        without biases."""
        w, b = ("sigma_sq", "bias_sigma_sq") if stationary else ("sigma0_sq", "bias_sigma0_sq")
        if not self.layered:
            return getattr(self, w), (None if self.bias is None else getattr(self, b))
        return self.per_layer(w), (None if self.bias is None else self.per_layer(b))

    @property
    def readout_sigma_sq(self) -> float:
        """The prior variance of the readout (the last group): gamma = T / readout_sigma_sq."""
        return self.per_layer("sigma_sq")[-1]

    def __post_init__(self):
        from symndk.kernels import loader

        check_name(self.activation)
        loader.load(self.activation)  # unknown activation -> one SymndkError line
        depth = self.depth
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer, float)) or depth != int(depth) \
                or not 1 <= depth <= MAX_DEPTH:
            raise SymndkError(f"depth must be an integer in 1..{MAX_DEPTH}, got {depth!r}")
        object.__setattr__(self, "depth", int(depth))
        for name in VARIANCES:
            object.__setattr__(self, name, check.layer_variances(name, getattr(self, name), self.depth,
                                                                 zero_ok=name.startswith("bias")))
        for b0, b2 in zip(self.per_layer("bias_sigma0_sq"), self.per_layer("bias_sigma_sq")):
            if b2 == 0 and b0 != 0:
                raise SymndkError(f"bias_sigma0_sq = {b0!r} needs bias_sigma_sq > 0 (the prior variance of the "
                                  "biases) in the same group")

    @property
    def duals(self):
        """The generated numpy dual kernels of the activation."""
        from symndk.kernels import loader

        return loader.load(self.activation)

    def nngp_kernel(self, X1, X2=None):
        """Static NNGP K_L at weight variance sigma^2 (the prior): train (P, P), test (Q, P)."""
        from symndk.kernels.static import nngp_kernel

        X1 = check.inputs("X1", X1)
        X2 = None if X2 is None else check.inputs("X2", X2, X1.shape[1])
        w, b = self.variances(stationary=True)
        return nngp_kernel(X1, X2, self.activation, self.depth, w, 0.0 if b is None else b)

    def ntk_kernel(self, X1, X2=None):
        """Static NTK Theta_L at weight variance sigma0^2 (initialisation): train (P, P), test (Q, P)."""
        from symndk.kernels.static import ntk_kernel

        X1 = check.inputs("X1", X1)
        X2 = None if X2 is None else check.inputs("X2", X2, X1.shape[1])
        w, b = self.variances()
        biased = None if b is None else [v > 0 for v in self.per_layer("bias_sigma_sq")]  # zero-initialised: trained
        return ntk_kernel(X1, X2, self.activation, self.depth, w, 0.0 if b is None else b, biased=biased)


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=float).tobytes())
        h.update(str(np.shape(a)).encode())
    return h.hexdigest()[:16]


class NDK:
    """A :class:`Network` trained by Langevin dynamics at temperature T on (X_train, y_train).

    Kernels are built lazily, once per test set, and reused by every method: ``builds`` counts the
    two-time kernel builds and the compressions actually computed.

    Args:
        network: the :class:`Network`.
        X_train: (P, N0) training inputs (finite, no zero rows).
        y_train: (P,) targets, or (P, K) for K outputs (e.g. one-hot classes): every result then
            carries a last axis K (train (n, P, K), test (n, Q, K)); the columns share every kernel
            build, compression and panel factorisation.
        T: temperature (gamma = T / sigma^2); T = 0 is gradient flow (the NTK dynamics). With
            per-layer variances ``gamma`` is the readout's T / sigma_{L+1}^2 (the regulariser of the
            NNGP kernel normalised by the readout variance); each group decays at its own T / sigma_l^2.
    """

    def __init__(self, network: Network, X_train, y_train, T: float = 0.01):
        if not isinstance(network, Network):
            raise SymndkError(f"network must be a symndk.Network, got {type(network).__name__}")
        self.network = network
        self.X_train = check.inputs("X_train", X_train)
        self.y_train = check.targets(y_train, self.X_train.shape[0])
        self.T = check.temperature(T)
        self.gamma = self.T / network.readout_sigma_sq
        self._kernels: dict = {}
        self.builds = {"kernels": 0, "compressions": 0}

    # ------------------------------------------------------------------ kernels

    def _test(self, X_test):
        Xt = check.optional_inputs(X_test, self.X_train.shape[1])
        return Xt, _digest(Xt)

    def kernel(self, X_test=None, stationary: bool = False, backend=None):
        """The two-time kernel on rows [X_train; X_test] (sigma0 = sigma when ``stationary``), cached; in the
        array namespace ``backend`` (None: NumPy; :class:`~symndk.dynamics.twotime.TwoTimeKernel`)."""
        from symndk.dynamics.twotime import TwoTimeKernel

        Xt, key = self._test(X_test)
        key = (key, stationary) if backend is None else (key, stationary, backend)
        if key not in self._kernels:
            net = self.network
            (w0, b0), (w2, b2) = net.variances(stationary), net.variances(True)
            bias = None if b2 is None else (b0, b2)
            k = TwoTimeKernel(self.X_train, Xt, net.activation, net.depth, w0, w2, self.T, bias, backend=backend)
            k.on_compress = self._count_compression
            self._kernels[key] = k
            self.builds["kernels"] += 1
        return self._kernels[key]

    def _count_compression(self):
        self.builds["compressions"] += 1

    # ------------------------------------------------------------------ results

    def _result(self, times, rows, Xt, method, started, error=0.0, info=None, **extra_meta) -> Result:
        P = self.X_train.shape[0]
        rows = check_finite(f"the {method} result", np.asarray(rows, dtype=float))
        meta = {
            "network": self.network.record(), "T": self.T, "gamma": self.gamma, "method": method,
            "data": {"P": P, "Q": int(Xt.shape[0]), "N0": int(self.X_train.shape[1]),
                     "outputs": 1 if self.y_train.ndim == 1 else int(self.y_train.shape[1]),
                     "hash": _digest(self.X_train, self.y_train, Xt)},
            "version": __version__, "seconds": round(time.perf_counter() - started, 6),
            **extra_meta,
        }
        if info:
            meta["solver"] = info
        if "rtol" in extra_meta:
            tol = extra_meta["atol"] + extra_meta["rtol"] * max(1.0, float(np.max(np.abs(self.y_train))))
            if not float(error) <= tol:
                warnings.warn(f"{method}: error estimate {float(error):.2g} exceeds the tolerance {tol:.2g} "
                              "(atol + rtol max(1, |y|))", SymndkWarning, stacklevel=4)
        return Result(np.asarray(times, dtype=float), rows[:, :P], rows[:, P:], float(error), meta)

    # ------------------------------------------------------------------ solvers

    def predict(self, times, X_test=None, rtol: float = 1e-10, atol: float = 1e-12, *, m: int = 12,
                max_refine: int = 2, cov=False, T_schedule=None, eta_schedule=None, memory=None,
                folder=None, backend=None) -> Result:
        """Mean predictor under Langevin training (docs/theory.md §5), adaptive to ``rtol``/``atol``.

        ``error_estimate`` bounds the absolute error over all entries and times (m vs m - 2
        Radau points on the same mesh, plus the kernel compression error). T = 0 gives the exact
        NTK dynamics.

        Schedules (docs/theory.md §E; each a number, a callable f(t) or a table (times, values),
        linear between the times and constant after the last): ``T_schedule`` replaces the constant
        T by T(t) >= 0 (weight decay T(t) / sigma^2); ``eta_schedule`` is a learning rate eta(t) > 0
        (dTheta = -eta grad E dt + sqrt(2 eta T) dB). A learning rate alone is the change of time
        tau = int eta: the constant-rate predictor at tau(times).

        ``cov``: the ensemble variance along the trajectory (docs/theory.md §A, see :meth:`_cov_mode`):
        True costs about one mean solve per row (P + Q rows), "test" only the Q test rows.

        Memory (docs/numerics.md §7.4; measured, ReLU L = 3, Q = 0, P = 1000-3000): peak about
        0.12 GB + 8 (r + 6.2) P^2 bytes, r the compression rank (``metadata["solver"]["rank"]``, 10-11
        there), the r R P basis of the compressed kernel (R = P + Q rows) and ~6.2 P^2 of working blocks.
        ``memory`` (bytes) caps the basis held in RAM: above it the basis is a memory-mapped .npy file
        (the page cache holds what fits; the values are identical), kept in ``folder`` if given, else in
        a private temporary folder, unlinked at once. Compressions cached by earlier calls are reused as
        they are.

        ``backend`` (``"torch"``, ``"cupy"``, ``"array_api_strict"``; None or ``"numpy"``: NumPy) runs the whole constant-T
        mean predictor in that array namespace, on its device (``$SYMNDK_DEVICE``): kernel blocks,
        compression, panel solves (docs/numerics.md §5); the result comes back as NumPy. Not with ``cov``,
        schedules, T = 0 or ``memory`` (those run in NumPy).
        """
        from symndk.files import capped

        backend = None if backend == "numpy" else backend
        if backend is not None:
            used = [k for k, v in (("cov", cov), ("T_schedule", T_schedule), ("eta_schedule", eta_schedule),
                                   ("memory", memory)) if v is not None and v is not False]
            if used or self.T == 0:
                raise SymndkError(f"backend={backend!r} runs the constant-T mean predictor only; "
                                  f"{', '.join(used) or 'T = 0'} run{'s' if len(used) <= 1 else ''} in NumPy "
                                  "(backend=None)")
        with capped(memory, folder):
            return self._predict(times, X_test, rtol, atol, m=m, max_refine=max_refine, cov=cov,
                                 T_schedule=T_schedule, eta_schedule=eta_schedule, backend=backend)

    def _predict(self, times, X_test, rtol, atol, *, m, max_refine, cov, T_schedule, eta_schedule,
                 backend=None) -> Result:
        from symndk.backend.select import to_numpy
        from symndk.dynamics import solvers

        tt = check.times(times)
        if T_schedule is None and eta_schedule is not None:
            return self._rate_schedule(tt, X_test, eta_schedule, rtol=rtol, atol=atol, m=m, max_refine=max_refine,
                                       cov=cov)
        if self.T == 0 and T_schedule is None:
            return self.ntk_dynamics(tt, X_test, cov=cov)
        if self._cov_mode(cov) and T_schedule is not None:
            raise SymndkError("cov=True with a T_schedule is not implemented (constant T, T = 0 and the end points "
                              "carry it)")
        for name, v in (("rtol", rtol), ("atol", atol)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise SymndkError(f"{name} must be a finite number >= 0, got {v!r}")
        if int(m) != m or m < 4 or m > 30:
            raise SymndkError(f"m (Radau points per panel) must be an integer in 4..30, got {m!r}")
        started = time.perf_counter()
        Xt, _ = self._test(X_test)
        if T_schedule is not None:
            return self._schedule(tt, X_test, Xt, T_schedule, eta_schedule, rtol, atol, int(m), int(max_refine), started)
        train, test, est, info = solvers.trajectory(self.kernel(X_test, backend=backend), self.y_train, tt, rtol,
                                                    atol, int(m), int(max_refine))
        res = self._result(tt, np.hstack([to_numpy(train), to_numpy(test)]), Xt, "volterra, radau iia", started, est,
                           info, rtol=rtol, atol=atol, **({} if backend is None else {"backend": backend}))
        if cov:
            self._trajectory_cov(res, tt, X_test, Xt, rtol, atol, int(m), cov)
        return res

    def _trajectory_cov(self, res, tt, X_test, Xt, rtol, atol, m, cov):
        """Add the ensemble variance along the trajectory (THEORY_NEXT §A; symndk.dynamics.covariance) to
        ``res``: extras ``train_var`` (not for ``cov="test"``), ``test_var`` (``test_cov`` for "full") and
        ``var_error_estimate``; ``error_estimate`` becomes the larger of the two estimates."""
        from symndk.dynamics.covariance import trajectory_cov

        out = trajectory_cov(self.kernel(X_test), np.vstack([self.X_train, Xt]), tt, rtol, atol, max(m, 6),
                             full=cov == "full", test_only=cov == "test")
        res.extras.update({k: out[k] for k in ("train_var", "test_var", "test_cov") if k in out})
        res.extras["var_error_estimate"] = out["error_estimate"]
        res.error_estimate = max(res.error_estimate, out["error_estimate"])
        res.metadata["covariance"] = out["info"]
        if not out["info"].get("met", True):
            warnings.warn(f"covariance: error estimate {out['error_estimate']:.2g} exceeds the tolerance "
                          f"{out['info']['tolerance']:.2g} (atol + rtol max |G|)", SymndkWarning, stacklevel=4)

    def _rate_schedule(self, tt, X_test, eta_schedule, **options) -> Result:
        """A learning rate alone: the constant-rate predictor at the clock tau(t) = int_0^t eta."""
        from symndk.dynamics.schedule import Schedule

        eta = Schedule.from_user(eta_schedule, float(tt[-1]), "eta_schedule", positive=True)
        tau = eta.integral(tt)
        res = self._predict(np.maximum.accumulate(tau), X_test, T_schedule=None, eta_schedule=None, **options)
        res.metadata.update(method=f"{res.metadata['method']} at tau = int eta dt", eta_schedule=eta.record)
        return Result(tt, res.train, res.test, res.error_estimate, res.metadata, dict(res.extras, tau=tau))

    def _schedule(self, tt, X_test, Xt, T_schedule, eta_schedule, rtol, atol, m, max_refine, started) -> Result:
        """The Volterra solve under a T(t) (and eta(t)) schedule: the reference kernel of gamma = 1
        (T = sigma^2) read at the decay clock G(t) = int eta T / sigma^2 (docs/theory.md §E); per-layer
        variances: T = the largest prior variance, each group at its rate ratio (the clocks are proportional)."""
        from symndk.dynamics import solvers
        from symndk.dynamics.schedule import Clock
        from symndk.dynamics.twotime import TwoTimeKernel

        net = self.network
        # per-layer variances: every group's clock is G_g = (ref / sigma_g^2) G with G = int eta T / ref, so the
        # reference kernel is the network at T = ref = the largest prior variance (slowest group: rate 1)
        ref = max(net.per_layer("sigma_sq") + net.per_layer("bias_sigma_sq")) if net.layered else net.sigma_sq
        clock = Clock(T_schedule, eta_schedule, ref, float(tt[-1]))
        if tt[-1] > 0 and not clock.G_end > 0:
            raise SymndkError("T_schedule is 0 throughout: that is gradient flow, use T=0 (ntk_dynamics)")
        _, key = self._test(X_test)
        key = (key, "clock")
        if key not in self._kernels:
            (w0, b0), (w2, b2) = net.variances(), net.variances(True)
            k = TwoTimeKernel(self.X_train, Xt, net.activation, net.depth, w0, w2, ref,
                              None if b2 is None else (b0, b2))
            k.on_compress = self._count_compression
            self._kernels[key] = k
            self.builds["kernels"] += 1
        train, test, est, info = solvers.trajectory(self._kernels[key], self.y_train, tt, rtol, atol, m, max_refine,
                                                    clock=clock)
        return self._result(tt, np.hstack([train, test]), Xt, "volterra, radau iia, scheduled", started, est, info,
                            rtol=rtol, atol=atol, T=None, gamma=None, schedule=clock.record())

    def prior_covariance(self, X_test=None, stationary: bool = False):
        """Covariance G of the prior network output f0 on the rows [X_train; X_test], (R, R): at
        initialisation sigma0^2 K_L + sigma_b0^2 (weights sigma0^2), or stationary sigma^2 K_L + sigma_b^2."""
        from symndk.kernels.static import nngp_kernel

        Xt, _ = self._test(X_test)
        net = self.network
        w, b = net.variances(stationary)
        readout = w[-1] if isinstance(w, list) else w      # the static NNGP is normalised by the readout variance
        return readout * nngp_kernel(np.vstack([self.X_train, Xt]), None, net.activation, net.depth, w,
                                     0.0 if b is None else b).train

    @staticmethod
    def _cov_mode(cov):
        """``cov``: False; True (train_var, test_var); "full" (and test_cov); "test" (test_var only: along a
        T > 0 trajectory it costs Q rows instead of P + Q, each about one mean solve; the closed forms give
        train_var too, at no cost)."""
        if cov not in (False, True, "full", "test"):
            raise SymndkError(f"cov must be False, True, 'full' or 'test', got {cov!r}")
        return cov

    def ntk_dynamics(self, times, X_test=None, cov=False) -> Result:
        """Gradient-driven phase (docs/theory.md §5): (I - e^{-K t}) Y with K the NTK at initialisation.

        ``cov=True``: extras ``train_var`` (n, P), ``test_var`` (n, Q), the variance of one network's
        output across the ensemble (gradient flow from f0 ~ N(0, G), Lee et al. 2019; the same for
        every output column); ``cov="full"`` adds ``test_cov`` (n, Q, Q).
        """
        from symndk.dynamics import solvers

        started = time.perf_counter()
        tt = check.times(times)
        Xt, _ = self._test(X_test)
        K = self.kernel(X_test).block(0.0, 0.0)
        train, test = solvers.ntk_flow(K, self.y_train, tt)
        res = self._result(tt, np.hstack([train, test]), Xt, "ntk closed form", started)
        if self._cov_mode(cov):
            res.extras.update(solvers.ntk_flow_cov(K, self.prior_covariance(X_test), tt, cov == "full"))
        return res

    def equilibrium(self, kind: str, X_test=None, cov=False) -> Result:
        """``"ntk"``: k_NTK^T K_NTK^{-1} Y; ``"nngp"``: k_GP^T (K_GP + gamma I)^{-1} Y (docs/theory.md §6).

        ``cov=True`` / ``"full"``: the ensemble variance (covariance) at the end point, as in
        :meth:`ntk_dynamics`: ``"nngp"`` the NNGP posterior G - g^T (G_XX + T I)^{-1} g of the
        latent function (THEORY_NEXT §A), ``"ntk"`` the t -> inf gradient-flow covariance.
        """
        from symndk.dynamics import solvers

        self._cov_mode(cov)

        started = time.perf_counter()
        Xt, _ = self._test(X_test)
        if kind == "ntk":
            rows = solvers.equilibrium(self.kernel(X_test).block(0.0, 0.0), self.y_train, 0.0, "NTK")
        elif kind == "nngp" and (self.network.bias is not None or self.network.layered):
            # G (G + T I)^{-1} Y, G = sigma^2 K_L + sigma_b^2 (the readout's, per layer)
            G = self.kernel(X_test, stationary=True).with_channels("prior").block(0.0, 0.0)
            rows = solvers.equilibrium(G, self.y_train, self.T, "NNGP kernel")
        elif kind == "nngp":
            K = self.kernel(X_test, stationary=True).with_channels("nngp").block(0.0, 0.0)
            rows = solvers.equilibrium(K, self.y_train, self.gamma, "NNGP kernel")
        else:
            raise SymndkError(f"equilibrium kind must be 'ntk' or 'nngp', got {kind!r}")
        res = self._result([np.inf], np.concatenate(rows, axis=0)[None], Xt, f"{kind} equilibrium", started)
        if cov and kind == "nngp":
            res.extras.update(solvers.conditional_cov(self.prior_covariance(X_test, True), self.X_train.shape[0],
                                                      self.T, cov == "full"))
        elif cov:
            res.extras.update(solvers.ntk_flow_cov(self.kernel(X_test).block(0.0, 0.0), self.prior_covariance(X_test),
                                                   np.array([np.inf]), cov == "full"))
        return res

    def drift(self, t0, times, X_test=None, *, m: int = 12) -> Result:
        """Representational drift, readout (a, output bias) frozen at ``t0`` (docs/theory.md §7), times >= t0."""
        from symndk.dynamics import solvers

        started = time.perf_counter()
        tt = check.times(times)
        if self.T == 0:
            raise SymndkError("drift needs T > 0 (at T = 0 the hidden weights do not move after learning)")
        if not (isinstance(t0, (int, float, np.floating)) and math.isfinite(t0)) or t0 <= 0 or np.any(tt < t0):
            raise SymndkError(f"drift needs 0 < t0 <= times, got t0={t0!r}, min time {tt.min()!r}")
        Xt, _ = self._test(X_test)
        rows, info = solvers.drift(self.kernel(X_test), self.y_train, float(t0), tt, m)
        return self._result(tt, rows, Xt, "drift, general t0", started, info.get("estimate", 0.0), info,
                            t0=float(t0))

    def drift_equilibrium(self, lags, X_test=None) -> Result:
        """Readout frozen at equilibrium, as a function of the lag (inf: the decorrelated limit)."""
        from symndk.dynamics import solvers

        started = time.perf_counter()
        try:
            lags = np.atleast_1d(np.asarray(lags, float))
        except (TypeError, ValueError):
            raise SymndkError("lags must be numbers >= 0 (inf allowed)") from None
        if lags.ndim != 1 or lags.size == 0 or np.any(np.isnan(lags)) or np.any(lags < 0):
            raise SymndkError("lags must be a non-empty list of numbers >= 0 (inf allowed)")
        if self.T == 0:
            raise SymndkError("drift_equilibrium needs T > 0")
        Xt, _ = self._test(X_test)
        rows = solvers.drift_equilibrium(self.kernel(X_test, stationary=True), self.y_train, lags, self.T)
        return self._result(lags, rows, Xt, "drift, equilibrium lag", started)

    def temporal_correlation(self, t_a, t_w, X_test=None, *, m: int = 12) -> Result:
        """Readout/hidden temporal correlation g(x; t_a, t_w) (docs/theory.md §8); one row at times [t_a]."""
        from symndk.dynamics import solvers

        started = time.perf_counter()
        check.times(sorted([t_a, t_w]), "t_a, t_w")
        if self.T == 0:
            raise SymndkError("temporal_correlation needs T > 0")
        Xt, _ = self._test(X_test)
        row, info = solvers.temporal_correlation(self.kernel(X_test), self.y_train, float(t_a), float(t_w), m)
        return self._result([t_a], np.asarray(row)[None], Xt, "temporal correlation", started,
                            info.get("estimate", 0.0), info, t_w=float(t_w))

    def reference(self, times, X_test=None, dps: int = 20, **options) -> Result:
        """Certified high-precision (MPFR) reference of :meth:`predict` on a small data set (P <= 8).

        ``extras``: ``digits`` (certified significant digits per time), ``train_str``/``test_str``
        (decimal strings with that many digits). Floats are taken as the binary numbers they are.
        Biases and per-layer variances are carried (the same runtime recursion, one prior and one
        propagator per group; docs/theory.md §B).
        """
        from symndk.certified.general import reference_predict

        net = self.network
        Xt, _ = self._test(X_test)
        lists = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
        bias = None if net.bias is None else tuple(map(lists, net.bias))
        run = lambda y: reference_predict(self.X_train, y, Xt, net.activation, net.depth, lists(net.sigma0_sq),  # noqa: E731
                                          lists(net.sigma_sq), self.T, times, dps=dps, bias=bias, **options)
        if self.y_train.ndim == 1:
            return run(self.y_train)
        cols = [run(self.y_train[:, k]) for k in range(self.y_train.shape[1])]   # one certified solve per column
        stack = lambda a: np.stack(a, axis=-1)  # noqa: E731
        extras = {k: (np.min(stack([c.extras[k] for c in cols]), axis=-1) if k == "digits"
                      else stack([c.extras[k] for c in cols])) for k in cols[0].extras}
        meta = dict(cols[0].metadata, outputs=len(cols))
        return Result(cols[0].times, stack([c.train for c in cols]), stack([c.test for c in cols]),
                      max(c.error_estimate for c in cols), meta, extras)

    def simulate(self, width=256, n_networks: int = 200, times=(1.0,), X_test=None, seed: int = 0, **options) -> Result:
        """Finite-width Langevin ensemble (mean, and ``train_se``/``test_se`` standard errors in extras)."""
        from symndk.langevin.simulator import simulate

        net = self.network
        Xt, _ = self._test(X_test)
        if net.bias is not None:
            options.setdefault("bias", net.bias)
        return simulate(self.X_train, self.y_train, Xt, net.activation, net.depth, width, net.sigma0_sq,
                        net.sigma_sq, self.T, times=times, n_networks=n_networks, seed=seed, **options)

    def predict_proximal(self, steps, lam, X_test=None, **options) -> Result:
        """Markov proximal learning (docs/theory.md §D): mean predictor at integer ``steps`` for the
        proximal strength ``lam`` (a number, or one value per step), beta = 1/(2T), kappa = gamma;
        ``options`` as :func:`symndk.dynamics.proximal.predict_proximal` (method, p, n_g, k0, n_gl).
        Biases and per-layer variances: each parameter group has its own kappa_g = T / sigma_g^2
        (a lambda schedule: the direct sums)."""
        from symndk.dynamics.proximal import predict_proximal

        net = self.network
        Xt, _ = self._test(X_test)
        return predict_proximal(self.X_train, self.y_train, steps, lam, Xt, activation=net.activation,
                                depth=net.depth, sigma0_sq=net.sigma0_sq, sigma_sq=net.sigma_sq, T=self.T,
                                bias=net.bias, **options)

    def proximal_equilibrium(self, lam, X_test=None) -> Result:
        """Finite-lambda MPL equilibrium (k0 + k1)^T (K0 + K1 + I/beta)^{-1} Y (docs/theory.md §D)."""
        from symndk.dynamics.proximal import proximal_equilibrium

        net = self.network
        Xt, _ = self._test(X_test)
        return proximal_equilibrium(self.X_train, self.y_train, lam, Xt, activation=net.activation, depth=net.depth,
                                    sigma0_sq=net.sigma0_sq, sigma_sq=net.sigma_sq, T=self.T, bias=net.bias)
