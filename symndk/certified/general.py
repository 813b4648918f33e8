"""High-precision reference of the mean predictor on a small data set, with an error certificate.

:func:`reference_predict` solves the full vector Volterra system of docs/theory.md §5,

    fbar_train(t) = int_0^t ds K^d(t,s;X,X) (Y - fbar_train(s))        (P-vector)
    fbar(x,t)     = int_0^t ds K^d(t,s;x,X) (Y - fbar_train(s)),

for u = Y - fbar_train with the same machinery as :func:`symndk.certified.synthetic.reference` (the
scalar synthetic task): Radau IIA panel collocation (:mod:`symndk.certified.volterra`, mP x mP
panel systems) on MPFR numbers at ``dps + GUARD`` digits, with all P x P and Q x P kernel entries
from :class:`symndk.certified.kernel.NDKernel` at the exact input Gram matrix of the float64
inputs, at collocation orders p and p + 6 on the same mesh; their agreement is the certificate.

Example (erf, L = 1, P = 2 digits inputs, one test point; 8 certified digits):
    >>> from symndk import data
    >>> ds = data.digits(0, 1, n_per_class=1, n_test_per_class=1)
    >>> res = reference_predict(ds.X_train, ds.y_train, ds.X_test[:1], activation="erf", depth=1,
    ...                         T=0.5, times=[0, 2], dps=8)
    >>> res.train_str[1].tolist(), res.test_str[1].tolist()
    (['0.30840319', '-0.30840319'], ['0.15072506'])
    >>> bool(min(res.digits) >= 8)
    True
    >>> [a.shape for a in (res.times, res.train, res.test)]
    [(2,), (2, 2), (2, 1)]
"""
from __future__ import annotations

from operator import mul

import gmpy2
import mpmath

from symndk.errors import SymndkError
from symndk.certified.numbers import mpfr, to_mpf
from symndk import validation
from symndk.certified.synthetic import _check, _number, _Problem, certified, exact_str, to_result

#: largest training set the reference accepts (the panel systems are mP x mP, solved in pure Python)
MAX_P = 8


class _Dataset(_Problem):
    """The vector system for inputs X (P rows), labels y, test inputs Xt (Q rows), given as
    float lists; the input Gram matrix x.x'/N0 is formed at the working precision."""

    def __init__(self, activation, depth, sigma0_sq, sigma_sq, T, X, y, Xt, bias, times):
        import numpy as np

        rows = [[gmpy2.mpq(v) for v in x] for x in list(X) + list(Xt)]  # exact; one rounding per entry
        n0 = len(rows[0])
        gram = [[mpfr(0)] * len(rows) for _ in rows]
        for i, a in enumerate(rows):
            for j in range(i, len(rows)):
                gram[i][j] = gram[j][i] = mpfr(sum(map(mul, a, rows[j]), gmpy2.mpq(0)) / n0)
        norms = sorted({gram[i][i] for i in range(len(rows))})
        index = [norms.index(gram[i][i]) for i in range(len(rows))]
        P, Q = len(X), len(Xt)
        rho2 = [gram[a][b] ** 2 / (gram[a][a] * gram[b][b]) for a in range(P + Q) for b in range(min(a, P))]
        rho = gmpy2.sqrt(max((r for r in rho2 if r < 1), default=mpfr(0)))
        layered = bias is not None or isinstance(sigma_sq, list) or isinstance(sigma0_sq, list)
        per = lambda v: v if isinstance(v, list) else [v] * (depth + 1)  # noqa: E731
        groups = (per(sigma0_sq), per(sigma_sq), T, None if bias is None else (per(bias[0]), per(bias[1])))
        super().__init__(activation, depth, sigma0_sq, sigma_sq, T, times, norms, rho, groups if layered else None)
        self.sizes, self.y = (P, Q), list(y)
        self.kernel = self.kern.matrix([[(index[a], index[b], gram[a][b]) for b in range(P)] for a in range(P)])
        self.test = self.kern.matrix([[(index[q], index[b], gram[q][b]) for b in range(P)]
                                      for q in range(P, P + Q)]) if Q else None
        zero = mpfr(0)
        k0 = np.array([[float(v) for v in row] for row in self.kernel(zero, zero, zero)])
        self.build(mpfr(float(np.linalg.eigvalsh((k0 + k0.T) / 2)[-1])))

    def read(self, solver):
        out = []
        for t in self.probes:
            u = solver.value_at_end(t)
            out.append(([mpfr(y) - v for y, v in zip(self.y, u)], solver.apply(self.test, t) if self.test else []))
        return out


def _plain(v):
    """A per-layer sequence (list, tuple, 1-D array) as a list of its entries; a number or string as given."""
    return v.tolist() if hasattr(v, "tolist") else list(v) if isinstance(v, tuple) else v


def _groups(depth, sigma0_sq, sigma_sq, bias):
    """Per-layer lists as lists of depth + 1 (scalars kept), and the bias pair (None: no biases)."""
    def group(name, v, zero_ok=False):
        if not isinstance(v, list):
            if zero_ok and not (mpmath.isfinite(_number(name, v)) and _number(name, v) >= 0):
                raise SymndkError(f"{name} must be a finite number >= 0, got {v!r}")
            return v
        if len(v) != depth + 1:
            raise SymndkError(f"{name} must be one number or depth + 1 = {depth + 1} numbers, got {len(v)}")
        return [group(f"{name}[{i}]", x, True) for i, x in enumerate(v)] if zero_ok else list(v)

    sigma0_sq, sigma_sq = group("sigma0_sq", sigma0_sq), group("sigma_sq", sigma_sq)
    if bias is None:
        return sigma0_sq, sigma_sq, None
    if not isinstance(bias, (list, tuple)) or len(bias) != 2:
        raise SymndkError(f"bias must be None or a pair (bias_sigma0_sq, bias_sigma_sq), got {bias!r}")
    b0, b2 = group("bias_sigma0_sq", _plain(bias[0]), True), group("bias_sigma_sq", _plain(bias[1]), True)
    pairs = list(zip(*(v if isinstance(v, list) else [v] * (depth + 1) for v in (b0, b2))))
    if any(mpmath.mpf(b) == 0 and mpmath.mpf(a) != 0 for a, b in pairs):
        raise SymndkError("a bias with bias_sigma0_sq > 0 needs bias_sigma_sq > 0 in the same group")
    return sigma0_sq, sigma_sq, None if all(mpmath.mpf(b) == 0 for _, b in pairs) else (b0, b2)


def reference_predict(X_train, y_train, X_test=None, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0,
                      T=0.01, times=(1.0, 10.0, 100.0), dps=20, order=None, jobs=None, progress=False, bias=None):
    """Certified high-precision mean predictor on a small data set (docs/theory.md §5).

    Args:
        X_train: (P, N0) training inputs, P <= 8; y_train: (P,) targets; X_test: (Q, N0) or None.
            Float64 arrays, taken exactly (the input kernel x.x'/N0 is formed at the working precision).
        activation, depth: registered activation (numeric kernels as in :func:`symndk.certified.synthetic.reference`),
            hidden layers L (1..6).
        sigma0_sq, sigma_sq, T: initial variance, prior variance, temperature (all > 0, gamma = T / sigma_sq);
            numbers or decimal strings; or per-layer lists of depth + 1 (W_1..W_L, readout; docs/theory.md §B).
        bias: None, or (sigma_b0_sq, sigma_b_sq): biases on every hidden layer and the output (gamma_b =
            T / sigma_b_sq), each a number or a list of depth + 1 (0: no bias in that group). With biases or
            lists the kernel entries are the runtime recursion on one prior and one propagator per group
            (:class:`symndk.certified.kernel.NDKernel` ``groups``), as the float64 solvers run it.
        times: strictly increasing times >= 0.
        dps: requested significant digits (working precision dps + GUARD).
        order: collocation order p (default from dps); the certificate run uses p + 6.
        jobs: processes for the two orders (default: 2 if the machine has 2+ cores, else 1).
        progress: show a tqdm bar over panels per order.

    Returns:
        :class:`~symndk.results.Result` (see :func:`symndk.certified.synthetic.to_result`); ``digits``
        gives the agreement of orders p and p + 6 at each time.
        Raises SymndkError on bad input.
    """
    sigma0_sq, sigma_sq = _plain(sigma0_sq), _plain(sigma_sq)
    _check(activation, depth, sigma0_sq, sigma_sq, T, 0, times, dps)
    X = validation.inputs("X_train", X_train)
    y = validation.targets(y_train, X.shape[0])
    Xt = validation.optional_inputs(X_test, X.shape[1])
    if X.shape[0] > MAX_P:
        raise SymndkError(f"reference_predict takes at most {MAX_P} training points (mP x mP panel systems "
                          f"in pure Python), got P = {X.shape[0]}")
    sigma0_sq, sigma_sq, bias = _groups(int(depth), sigma0_sq, sigma_sq, bias)
    args = (activation, int(depth), sigma0_sq, sigma_sq, T, X.tolist(), y.tolist(), Xt.tolist(), bias, list(times))
    extra = {} if bias is None else {"bias": [[exact_str(x) for x in v] if isinstance(v, list) else exact_str(v)
                                              for v in bias]}
    ts, values, digits, meta = certified(_Dataset, args, dps, order, jobs, progress, P=X.shape[0], Q=Xt.shape[0],
                                         N0=X.shape[1], lambda_max=lambda prob: mpmath.nstr(to_mpf(prob.lam), 17),
                                         **extra)
    return to_result(ts, [v[0] for v in values], [v[1] for v in values], digits, meta)
