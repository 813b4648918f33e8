"""Checks every registered (or new) activation's generated kernels must pass.

Each check takes the loaded numpy and mpmath kernels (``symndk.kernels.loader.load``) and returns
a :class:`Check` (name, passed, worst value against its tolerance, detail).  The registry test
(tests/test_kernels_registry.py) and ``symndk kernel`` run the same functions.

* ``quadrature_2d``: F, Fdot against independent quadrant-split polar Gauss-Legendre quadrature;
* ``monte_carlo``: F, Fdot against sampled (u, v), within 5 standard errors;
* ``price``: dF/dc = Fdot (central differences);
* ``symmetry``: (q1, c) <-> (q2, c);
* ``psd``: kernel matrices (F on random data, and the depth-2 NNGP/NTK) positive semi-definite;
* ``extremes``: rho = +-1 and +-(1 - 1e-k), k = 1..15: finite, real, Cauchy-Schwarz bounded;
* ``mpmath``: numpy against the mpmath twin (30 digits) to float64 precision;
* ``native``: the compiled layer maps (where a C compiler built them) against the same twin.

Example:
    >>> from symndk.kernels.loader import load
    >>> [c.passed for c in run_checks(load("relu"), load("relu", "mpmath"), only=("symmetry", "price"))]
    [True, True]
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from symndk.errors import SymndkError
from symndk.kernels.quadrature import cartesian_expect2, polar_expect2

RNG_SEED = 20231104
#: test points (q1, q2, rho) away from the boundary
POINTS = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.6), (2.0, 0.7, 0.85), (1.3, 1.3, -0.2), (0.25, 3.0, 0.5)]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    worst: float
    tol: float
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name:14s} worst {self.worst:.1e} (tol {self.tol:.0e})  {self.detail}"


def _points(points=POINTS):
    q1, q2, rho = (np.array(v) for v in zip(*points))
    return q1, q2, rho * np.sqrt(q1 * q2)


def _scale(duals, q1, q2, which):
    V = duals.V if which == "F" else duals.Vdot
    return np.sqrt(np.abs(V(q1) * V(q2))) + 1e-300


def _has_dphi(duals) -> bool:
    try:
        duals.dphi(np.array([0.5]))
        return True
    except ValueError:
        return False


def quadrature_2d(duals, mp=None, tol=1e-11, kinks=()):
    """``kinks``: points away from 0 where phi or phi' jumps (activations with offset kinks): the
    reference is then Cartesian Gauss-Legendre split at them (the quadrant-split polar rule
    splits at 0 only)."""
    q1, q2, c = _points()
    worst = 0.0
    offset = any(k != 0 for k in kinks)
    for which, f in (("F", duals.phi), ("Fdot", duals.dphi if _has_dphi(duals) else None)):
        if f is None:
            continue
        ref = cartesian_expect2(f, f, q1, q2, c, kinks) if offset else polar_expect2(f, f, q1, q2, c)
        worst = max(worst, float(np.max(np.abs(getattr(duals, which)(q1, q2, c) - ref) / _scale(duals, q1, q2, which))))
    how = "Cartesian Gauss-Legendre split at the kinks" if offset else "quadrant-split polar Gauss-Legendre"
    return Check("quadrature_2d", worst <= tol, worst, tol, f"vs {how}, relative to sqrt(V1 V2)")


def monte_carlo(duals, mp=None, n=400_000, tol=5.0):
    rng = np.random.default_rng(RNG_SEED)
    z1, z2 = rng.standard_normal((2, n))
    worst = 0.0
    for q1, q2, rho in POINTS[:3]:
        u = np.sqrt(q1) * z1
        v = np.sqrt(q2) * (rho * z1 + np.sqrt(1 - rho * rho) * z2)
        c = rho * np.sqrt(q1 * q2)
        for which, f in (("F", duals.phi), ("Fdot", duals.dphi if _has_dphi(duals) else None)):
            if f is None:
                continue
            samples = f(u) * f(v)
            se = samples.std() / np.sqrt(n) + 1e-15
            worst = max(worst, float(abs(samples.mean() - getattr(duals, which)(q1, q2, c)) / se))
    return Check("monte_carlo", worst <= tol, worst, tol, f"|F - MC mean| / standard error, {n} samples")


def price(duals, mp=None, tol=1e-6):
    q1, q2, c = _points()
    h = 1e-4 * np.sqrt(q1 * q2)
    dF = (duals.F(q1, q2, c + h) - duals.F(q1, q2, c - h)) / (2 * h)
    worst = float(np.max(np.abs(dF - duals.Fdot(q1, q2, c)) / _scale(duals, q1, q2, "Fdot")))
    return Check("price", worst <= tol, worst, tol, "dF/dc (central difference) = Fdot")


def symmetry(duals, mp=None, tol=1e-14):
    q1, q2, c = _points()
    worst = 0.0
    for which in ("F", "Fdot"):
        fn = getattr(duals, which)
        worst = max(worst, float(np.max(np.abs(fn(q1, q2, c) - fn(q2, q1, c)) / _scale(duals, q1, q2, which))))
    return Check("symmetry", worst <= tol, worst, tol, "(q1, c) <-> (q2, c)")


def psd(duals, mp=None, tol=1e-12):
    from symndk.kernels.static import nngp_kernel, ntk_kernel

    rng = np.random.default_rng(RNG_SEED)
    X = 0.7 * rng.standard_normal((24, 6))
    X[1] = X[0] * (1 + 1e-9)  # a nearly duplicate pair
    worst = 0.0
    with np.errstate(all="ignore"):
        try:
            mats = [nngp_kernel(X, activation=duals, depth=2).train]
        except SymndkError:    # static_kernels refuses a non-finite NTK (phi' a delta): the NNGP by hand
            K = X @ X.T / X.shape[1]
            for _ in range(2):
                d = np.diag(K).copy()
                K = duals.F(d[:, None], d[None, :], K)
                np.fill_diagonal(K, duals.V(d))
            mats = [K]
        finite_vdot = bool(np.all(np.isfinite(duals.Vdot(np.array([0.5, 1.0, 2.0])))))
    if _has_dphi(duals) and finite_vdot:   # a distributional phi' (thresholds) has no NTK: Vdot = E[delta^2] = inf
        mats.append(ntk_kernel(X, activation=duals, depth=2).train)
    q = np.einsum("ij,ij->i", X, X) / X.shape[1]
    mats.append(duals.F(q[:, None], q[None, :], X @ X.T / X.shape[1]))
    for M in mats:
        if not np.all(np.isfinite(M)):
            return Check("psd", False, float("inf"), tol, "kernel matrix not finite (overflow at depth 2)")
        ev = np.linalg.eigvalsh((M + M.T) / 2)
        worst = max(worst, float(-ev.min() / max(abs(ev).max(), 1e-300)))
    return Check("psd", worst <= tol, worst, tol, "-min eigenvalue / max |eigenvalue| of F, NNGP, NTK matrices")


def extremes(duals, mp=None, tol=1e-12):
    ks = np.arange(1, 16)
    rho = np.concatenate([[1.0, -1.0], 1 - 10.0**-ks, -1 + 10.0**-ks])
    worst, bad = 0.0, []
    for q1, q2 in ((1.0, 1.0), (0.3, 2.5)):
        c = rho * np.sqrt(q1 * q2)
        with np.errstate(divide="ignore"):  # a distributional phi' has Fdot = inf at rho = +-1
            F, Fdot, gram = duals.layer(q1, q2, c)
        for name, val in (("F", F), ("Fdot", Fdot), ("gram", gram)):
            val = np.asarray(val)
            if not (np.isrealobj(val) and np.all(np.isfinite(val))):
                if name == "Fdot" and not _has_dphi(duals):
                    continue  # distributional phi' (step, sign): E[delta(u) delta(v)] is infinite at rho = +-1
                bad.append(name)
        excess = np.abs(F) - np.sqrt(duals.V(q1) * duals.V(q2))
        worst = max(worst, float(np.max(excess / _scale(duals, q1, q2, "F"))))
    ok = not bad and worst <= tol
    return Check("extremes", ok, worst, tol, "rho = +-1, +-(1 - 1e-k), k <= 15: finite, real, |F| <= sqrt(V1 V2)"
                 + (f"; non-finite: {sorted(set(bad))}" if bad else ""))


def mpmath_agreement(duals, mp, tol=1e-13, dps=30):
    q1, q2, c = _points(POINTS[:1] if not getattr(mp, "CLOSED_FORM", True) else POINTS)
    worst = 0.0
    digits = dps if getattr(mp, "CLOSED_FORM", True) else 16
    numeric = not getattr(mp, "CLOSED_FORM", True)  # mpmath 2-D quadrature: one point, F only
    for which in ("F",) if numeric or not _has_dphi(duals) else ("F", "Fdot"):
        approx = getattr(duals, which)(q1, q2, c)
        scale = _scale(duals, q1, q2, which)
        with mpmath.workdps(digits):
            ref = [getattr(mp, which)(a, b, d) for a, b, d in zip(q1, q2, c)]
        worst = max(worst, max(float(abs(mpmath.mpf(float(a)) - r)) / s for a, r, s in zip(approx, ref, scale)))
    return Check("mpmath", worst <= tol, worst, tol, f"numpy vs mpmath twin at {digits} digits")


def native(duals, mp, tol=1e-13, dps=30):
    """The compiled ``layer`` and ``kernels`` (:mod:`symndk.kernels.native`) on a block of every pair of the
    test variances against the mpmath twin, relative to sqrt(V1 V2), sqrt(Vdot1 Vdot2) and V1 V2; passes
    as not applicable where they are not compiled."""
    if not hasattr(duals, "library") or not getattr(mp, "CLOSED_FORM", True):
        return Check("native", True, 0.0, tol, "not compiled: the numpy layer maps run")
    q, rho = np.array([p[0] for p in POINTS]), np.array([p[2] for p in POINTS])
    q1, q2 = q[:, None], q[None, :]
    c = rho[:, None] * np.sqrt(q1 * q2)
    D = q1 * q2 * (1 - rho[:, None]) * (1 + rho[:, None])
    got = (*duals.layer(q1, q2, c, D), *duals.kernels(q1, q2, c, D))
    worst = 0.0
    with mpmath.workdps(dps):
        for i, j in np.ndindex(c.shape):
            a, b, cc, d = (mpmath.mpf(float(v)) for v in (q1[i, 0], q2[0, j], c[i, j], D[i, j]))
            ref = (*mp.layer(a, b, cc, d), *mp.kernels(a, b, cc, d))
            v, w = mp.V(a) * mp.V(b), mp.Vdot(a) * mp.Vdot(b) if _has_dphi(duals) else 1
            scales = [mpmath.sqrt(v), mpmath.sqrt(w), v, mpmath.sqrt(v), mpmath.sqrt(w)]
            for k in range(5) if _has_dphi(duals) else (0, 2, 3):
                worst = max(worst, float(abs(mpmath.mpf(float(got[k][i, j])) - ref[k]) / (scales[k] + mpmath.mpf(1e-300))))
    return Check("native", worst <= tol, worst, tol, f"compiled layer/kernels vs mpmath twin at {dps} digits")


CHECKS = {
    "quadrature_2d": quadrature_2d, "monte_carlo": monte_carlo, "price": price, "symmetry": symmetry,
    "psd": psd, "extremes": extremes, "mpmath": mpmath_agreement, "native": native,
}


def run_checks(duals, mp, only=None, kinks=()) -> list[Check]:
    """Run the checks (all, or those named in ``only``) on loaded numpy/mpmath kernels; ``kinks``:
    where phi or phi' jumps, when away from 0 (the quadrature reference splits there)."""
    return [CHECKS[name](duals, mp, kinks=kinks) if name == "quadrature_2d" else CHECKS[name](duals, mp)
            for name in (only or CHECKS)]
