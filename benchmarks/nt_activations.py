"""Static NNGP/NTK of every activation symndk and neural-tangents both have (issue 12 item 5).

    python benchmarks/nt_activations.py [--skip-numerical]   # needs the venv of ../shared/tools/install_neural_tangents.sh

Parameterisation map (as in benchmarks/nt_bias.py): neural-tangents ``stax.Dense(W_std=sigma,
b_std=sigma_b)`` (NTK parameterisation) on every hidden layer and the readout against
``symndk.static_kernels(..., sigma_sq, bias_sq)``. Here sigma_b is 0 or sigma, where both kernels map
by one factor: NNGP_NT = sigma^2 NNGP_symndk (symndk returns the output covariance over sigma^2) and
NTK_NT = sigma^2 Theta_symndk (NT weights each parameter group's gradient by its prior variance, symndk's
is the raw-parameter tangent kernel; at sigma_b in {0, sigma} every group has variance sigma^2).

Activations (NT layer -> symndk): Relu, LeakyRelu(0.1), ABRelu(-0.3, 1.7), Abs, Erf, Erf(1.5, 0.6, -0.2),
Sigmoid_like, Gelu, Sin, Cos, Sin(1.3, 0.7, 0.4), Rbf(0.5), Exp, Exp(0.8, 0.5), Gaussian(1, -1),
Gaussian(1, -1/2) (symndk's ``gauss``), Sign, Hermite(3), Hermite(4), Monomial(2, 3, 5),
RectifiedMonomial(0, 1, 2, 3), Polynomial; built-ins by name, the rest as user activations
(``symndk kernel`` expressions, closed forms). Depth L = 1..3. Inputs: 6 points in 4 dimensions, among
them an exactly collinear pair with different norms (rho = 1), a nearly collinear pair (1 - rho ~ 1e-15)
and an antipodal pair (rho = -1). Deviation = max |NT - sigma^2 symndk| / max |NT|, for each kernel.

Where NT sets a kernel by convention rather than by the formula, only the other is compared:
Sign and RectifiedMonomial(0) (NT's NTK is 0: it drops phi' = delta, symndk keeps it); Hermite assumes
unit-variance pre-activations in NT (its kernel is rho^n), so Hermite runs on unit-norm inputs at
sigma^2 = 1, sigma_b = 0. Entries where NT returns NaN are counted and left out (RectifiedMonomial at
rho = +-1, where its arccos form divides by sin(theta) = 0).

Numerical: ``ElementwiseNumerical`` (Gauss-Hermite, ``deg`` 25, the degree its docs start from, and
200) for SiLU, tanh and ELU against symndk (Mehler table; ELU a closed form) and an independent
20-digit mpmath quadrature truth (:func:`mp_recursion`, built on :func:`activations.mp_F`) of the depth-1
and depth-2 NNGP and NTK entries of three pairs (generic, nearly collinear, antipodal): digits =
-log10 |relative error|.

Truth for the kinked activations, where NT and symndk disagree near rho = 1: the layer recursion in
mpmath at 40 digits with the literature's closed forms (arc-cosine kernels, :data:`MP_DUALS`).

Measured 2026-12-05 (2 loaded cores): smooth closed forms agree to <= 3.9e-14 (Monomial(5), L = 3;
most <= 1e-15). ReLU-type NTKs and the Sign/Heaviside NNGP differ by up to 4e-9: NT's error (its angle
from sqrt(q1 q2 - c^2) cancels near rho = 1), symndk's <= 7e-16 against the truth without biases; with
biases symndk's NTK error near rho = 1 is up to 2.1e-9 as well (the bias terms drop the Gram-determinant
carry of the recursion). NT's RectifiedMonomial is NaN at rho = +-1 (so everywhere from L = 2 on) and
its NTK off by up to 0.4 at the nearly collinear pair; symndk's <= 3.6e-15. Numerical, L = 1, 2 (digits
symndk / NT deg 25 / NT deg 200): SiLU 14.9-15.7 / 8.3-15.9 / 13.6-15.0; tanh 14.8-15.9 / 3.6-8.1 /
13.7-15.0; ELU (symndk closed form) 14.8-17.7 / 1.4-3.5 / 2.6-5.1. 7 min wall, 6.6 min CPU in all.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import nt_batch  # noqa: E402

WORKER = r"""
import jax.numpy as jnp
FN = {'silu': (lambda x: x * jax.nn.sigmoid(x), lambda x: jax.nn.sigmoid(x) * (1 + x * (1 - jax.nn.sigmoid(x)))),
      'tanh': (jnp.tanh, lambda x: 1 / jnp.cosh(x) ** 2),
      'elu': (lambda x: jnp.where(x > 0, x, jnp.expm1(jnp.minimum(x, 0))), lambda x: jnp.where(x > 0, 1.0, jnp.exp(jnp.minimum(x, 0))))}
LAYERS = {name: getattr(stax, name) for name in ('Relu', 'LeakyRelu', 'ABRelu', 'Abs', 'Erf', 'Sigmoid_like', 'Gelu',
          'Sin', 'Cos', 'Rbf', 'Exp', 'Sign', 'Gaussian', 'Hermite', 'Monomial', 'RectifiedMonomial', 'Polynomial')}
LAYERS['Numerical'] = lambda fn, deg: stax.ElementwiseNumerical(FN[fn][0], int(deg), FN[fn][1])
import warnings; warnings.simplefilter('ignore')
X, out = np.load(sys.argv[1]), {}
for key, layer, L, w2, b2, unit in json.loads(sys.argv[3]):
    x = X / np.sqrt((X ** 2).mean(axis=1, keepdims=True)) if unit else X
    dense = lambda n: stax.Dense(n, W_std=w2 ** 0.5, b_std=b2 ** 0.5)
    k = stax.serial(*[dense(512), LAYERS[layer[0]](*layer[1:])] * L, dense(1))[2](x, None, get=('nngp', 'ntk'))
    out[key] = [np.asarray(k[0]).tolist(), np.asarray(k[1]).tolist()]
"""


@dataclass(frozen=True)
class Case:
    """One activation in both libraries: NT layer (constructor name, arguments), symndk activation (a
    built-in name, or an expression registered under ``name``), sigma^2, which kernels NT defines by the
    formula, unit-norm inputs."""

    label: str
    nt: tuple
    symndk: str
    w2: float = 1.3
    kernels: tuple = ("nngp", "ntk")
    unit: bool = False
    depths: tuple = (1, 2, 3)

    @property
    def builtin(self) -> bool:
        return self.symndk.isidentifier()


#: built-in symndk activations (no derivation: the default test runs these)
BUILTIN = [
    Case("Relu", ("Relu",), "relu"),
    Case("LeakyRelu(0.1)", ("LeakyRelu", 0.1), "leaky_relu"),
    Case("Abs", ("Abs",), "abs"),
    Case("Erf", ("Erf",), "erf"),
    Case("Gelu", ("Gelu",), "gelu"),
    Case("Sin", ("Sin",), "sin"),
    Case("Cos", ("Cos",), "cos"),
    Case("Gaussian(1,-1/2)", ("Gaussian", 1.0, -0.5), "gauss"),
    Case("Monomial(3)", ("Monomial", 3), "cube", w2=0.5),
    Case("RectifiedMonomial(1)", ("RectifiedMonomial", 1), "relu"),
]
#: the same NT layers with other parameters, and the rest, as symndk user activations
USER = [
    Case("ABRelu(-0.3,1.7)", ("ABRelu", -0.3, 1.7), "-0.3*Min(x, 0) + 1.7*Max(x, 0)"),
    Case("Erf(1.5,0.6,-0.2)", ("Erf", 1.5, 0.6, -0.2), "1.5*erf(0.6*x) - 0.2"),
    Case("Sigmoid_like", ("Sigmoid_like",), "0.5*erf(x/2.4020563531719796) + 0.5"),
    Case("Sin(1.3,0.7,0.4)", ("Sin", 1.3, 0.7, 0.4), "1.3*sin(0.7*x + 0.4)"),
    Case("Rbf(0.5)", ("Rbf", 0.5), "sqrt(2)*sin(x + pi/4)"),
    Case("Exp", ("Exp",), "exp(x)", w2=0.2),
    Case("Exp(0.8,0.5)", ("Exp", 0.8, 0.5), "0.8*exp(0.5*x)", w2=0.5),
    Case("Gaussian(1,-1)", ("Gaussian", 1.0, -1.0), "exp(-x**2)"),
    Case("Sign", ("Sign",), "sign(x)", kernels=("nngp",), depths=(1,)),
    Case("Hermite(3)", ("Hermite", 3), "(x**3 - 3*x)/sqrt(6)", w2=1.0, unit=True),
    Case("Hermite(4)", ("Hermite", 4), "(x**4 - 6*x**2 + 3)/sqrt(24)", w2=1.0, unit=True),
    Case("Monomial(2)", ("Monomial", 2), "x**2", w2=0.5),
    Case("Monomial(5)", ("Monomial", 5), "x**5", w2=0.3),
    Case("RectifiedMonomial(0)", ("RectifiedMonomial", 0), "Heaviside(x)", kernels=("nngp",), depths=(1,)),
    Case("RectifiedMonomial(2)", ("RectifiedMonomial", 2), "Max(x, 0)**2", w2=0.8),
    Case("RectifiedMonomial(3)", ("RectifiedMonomial", 3), "Max(x, 0)**3", w2=0.6),
    Case("Polynomial", ("Polynomial", [0.5, -0.3, 0.2, 0.1]), "0.5 - 0.3*x + 0.2*x**2 + 0.1*x**3", w2=0.5),
]
#: NT's Gauss-Hermite ElementwiseNumerical against symndk (numeric Mehler table; ELU a closed form)
NUMERICAL = {"silu": "silu(x)", "tanh": "tanh(x)", "elu": "elu(x)"}
DEGREES = (25, 200)


def inputs() -> np.ndarray:
    """6 points in 4 dimensions: three random, 3 = X0 / 2 (rho = 1, other norm), 4 = X1 + 1e-7 noise
    (1 - rho ~ 1e-15), 5 = -X2 (rho = -1)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    X[3] = 0.5 * X[0]
    X[4] = X[1] + 1e-7 * rng.standard_normal(4)
    X[5] = -X[2]
    return X


def _key(label, L, w2, b2, deg=None):
    return f"{label}|{L}|{w2}|{b2}" + ("" if deg is None else f"|{deg}")


def settings(case: Case):
    """(sigma^2, sigma_b^2) pairs run for a case: no biases, and biases of the weights' variance."""
    return [(case.w2, 0.0)] if case.unit else [(case.w2, 0.0), (case.w2, case.w2)]


def activation_name(case: Case) -> str:
    """The symndk activation of a case: the built-in, or the expression registered as a user activation."""
    if case.builtin:
        return case.symndk
    from symndk.checks.activation import activation_kernel

    name = f"nt_{''.join(c if c.isalnum() else '_' for c in case.label.lower())}".rstrip("_")
    result = activation_kernel(case.symndk, name)
    if not result.passed:
        raise AssertionError(f"{case.label}: symndk's kernels for {case.symndk} fail their checks")
    return name


def compare(cases, X=None):
    """Rows (case label, L, sigma^2, sigma_b^2, NNGP, NTK, NaN entries of NT); each kernel's entry is None
    where NT defines it by convention (see the module docstring), else (deviation, symndk's error, NT's
    error): deviation = max |NT - sigma^2 symndk| over NT's finite entries (NaN if none) and the errors
    against the mpmath truth of :data:`MP_DUALS` (None without one), each relative to the largest entry
    of the truth (of NT's finite entries without one)."""
    import symndk

    X = inputs() if X is None else X
    request = [[_key(c.label, L, w2, b2), list(c.nt), L, w2, b2, c.unit] for c in cases for L in c.depths
               for w2, b2 in settings(c)]
    nt = nt_batch(WORKER, X, json.dumps(request))
    rows = []
    for c in cases:
        name = activation_name(c)
        x = X / np.sqrt((X ** 2).mean(axis=1, keepdims=True)) if c.unit else X
        for L in c.depths:
            for w2, b2 in settings(c):
                k = symndk.static_kernels(x, None, name, L, w2, b2) if "ntk" in c.kernels else _nngp1(name, x, w2, b2)
                truth = mp_truth(c.label, x, L, w2, b2)
                out, nans = [], 0
                for t, (which, theirs, ours) in enumerate(zip(("nngp", "ntk"), nt[_key(c.label, L, w2, b2)],
                                                              (k.nngp, k.ntk))):
                    if which not in c.kernels:
                        out.append(None)
                        continue
                    theirs, ours = np.array(theirs, dtype=float), w2 * np.asarray(ours.train)
                    ok = np.isfinite(theirs)
                    nans = max(nans, int((~ok).sum()))
                    scale = (np.abs(truth[t]).max() if truth is not None else
                             np.abs(theirs[ok]).max() if ok.any() else np.nan)
                    dev = np.abs(theirs - ours)[ok].max() / scale if ok.any() else np.nan
                    errs = (None, None)
                    if truth is not None:
                        errs = (float(np.abs(ours - truth[t]).max() / scale),
                                float(np.abs(theirs - truth[t])[ok].max() / scale) if ok.any() else np.nan)
                    out.append((float(dev), *errs))
                rows.append((c.label, L, w2, b2, *out, nans))
    return rows


def _nngp1(name, X, w2, b2):
    """Depth-1 NNGP of an activation whose phi' is a delta (sign, Heaviside) from its generated F: its NTK
    is infinite at rho = +-1, the diagonal included, and ``static_kernels``/``nngp_kernel`` refuse the pair
    of them. Pre-activation covariances q = w2 x.x'/N0 + b2 with the Gram determinant cancellation-free:
    q1 q2 - c^2 = w2^2 (Lagrange identity) + w2 b2 |x - x'|^2 / N0."""
    from types import SimpleNamespace

    from symndk.kernels.loader import load

    n0 = X.shape[1]
    q = w2 * X @ X.T / n0 + b2
    lagrange = (np.einsum("ik,jl->ijkl", X, X) - np.einsum("il,jk->ijkl", X, X)) ** 2
    D = w2 ** 2 * lagrange.sum(axis=(2, 3)) / (2 * n0 ** 2) + w2 * b2 * ((X[:, None] - X[None]) ** 2).sum(-1) / n0
    d = np.diag(q)
    F = load(name).F(d[:, None] + 0 * q, d[None, :] + 0 * q, q, D)
    return SimpleNamespace(nngp=SimpleNamespace(train=F + b2 / w2), ntk=None)


def _abrelu(a, b):
    """ABReLU a min(x, 0) + b max(x, 0) = b relu(x) - a relu(-x): F = (a^2 + b^2) k(theta) - 2ab k(pi - theta),
    k the arc-cosine kernel of degree 1, Fdot = ((a^2 + b^2)(pi - theta) + 2ab theta) / (2 pi)."""
    import mpmath

    k = lambda s, th: s * (mpmath.sin(th) + (mpmath.pi - th) * mpmath.cos(th)) / (2 * mpmath.pi)  # noqa: E731
    return (lambda s, th: (a * a + b * b) * k(s, th) - 2 * a * b * k(s, mpmath.pi - th),
            lambda s, th: ((a * a + b * b) * (mpmath.pi - th) + 2 * a * b * th) / (2 * mpmath.pi))


def _arccos(n):
    """Rectified monomial x^n 1{x > 0}: F = (q1 q2)^(n/2) J_n(theta) / (2 pi) with Cho & Saul's J_n, and
    phi' = n x^(n-1) 1{x > 0}, so Fdot = n^2 (q1 q2)^((n-1)/2) J_(n-1)(theta) / (2 pi)."""
    import mpmath

    J = [lambda t: mpmath.pi - t,
         lambda t: mpmath.sin(t) + (mpmath.pi - t) * mpmath.cos(t),
         lambda t: 3 * mpmath.sin(t) * mpmath.cos(t) + (mpmath.pi - t) * (1 + 2 * mpmath.cos(t) ** 2),
         lambda t: (15 * mpmath.sin(t) - 11 * mpmath.sin(t) ** 3
                    + (mpmath.pi - t) * (9 * mpmath.sin(t) ** 2 * mpmath.cos(t) + 15 * mpmath.cos(t) ** 3))]
    return (lambda s, th: s ** n * J[n](th) / (2 * mpmath.pi),
            (lambda s, th: n * n * s ** (n - 1) * J[n - 1](th) / (2 * mpmath.pi)) if n else None)


def _sign():
    """sign(x): F = 1 - 2 theta / pi (NT's NTK of Sign is 0 by convention: no Fdot compared)."""
    import mpmath

    return lambda s, th: 1 - 2 * th / mpmath.pi, None


#: hand-written closed forms (literature, in mpmath) of the kinked activations, as functions of
#: s = sqrt(q1 q2) and theta = arccos(rho) (Fdot None where only the NNGP is compared): the truth where
#: NT and symndk disagree near rho = +-1
MP_DUALS = {"Relu": lambda: _abrelu(0, 1), "RectifiedMonomial(1)": lambda: _abrelu(0, 1),
            "LeakyRelu(0.1)": lambda: _abrelu(0.1, 1), "Abs": lambda: _abrelu(-1, 1),
            "ABRelu(-0.3,1.7)": lambda: _abrelu(-0.3, 1.7),
            "Sign": _sign,
            **{f"RectifiedMonomial({n})": (lambda n=n: _arccos(n)) for n in (0, 2, 3)}}


def mp_truth(label, X, L, w2, b2, dps=40):
    """(NNGP_NT, NTK_NT) of all pairs of X at depth L by the layer recursion in mpmath at ``dps`` digits
    (Gram matrix from the float64 inputs exactly), with the closed forms of :data:`MP_DUALS`; None
    for activations without one."""
    if label not in MP_DUALS:
        return None
    import mpmath

    F, Fdot = MP_DUALS[label]()
    n = X.shape[0]
    with mpmath.workdps(dps):
        x = [[mpmath.mpf(float(v)) for v in row] for row in X]
        S = [[w2 * sum(p * r for p, r in zip(x[i], x[j])) / len(x[i]) + b2 for j in range(n)] for i in range(n)]
        T = [row[:] for row in S]
        for _ in range(L):
            s = [[mpmath.sqrt(S[i][i] * S[j][j]) for j in range(n)] for i in range(n)]
            th = [[mpmath.acos(max(min(S[i][j] / s[i][j], 1), -1)) for j in range(n)] for i in range(n)]
            dF = [[0 if Fdot is None else Fdot(s[i][j], th[i][j]) for j in range(n)] for i in range(n)]
            T = [[w2 * F(s[i][j], th[i][j]) + b2 + w2 * dF[i][j] * T[i][j] for j in range(n)] for i in range(n)]
            S = [[w2 * F(s[i][j], th[i][j]) + b2 for j in range(n)] for i in range(n)]
        return np.array(S, dtype=float), np.array(T, dtype=float)


def numerical_digits(names=tuple(NUMERICAL), degrees=DEGREES, depth=2, pairs=((0, 1), (1, 4), (2, 5)), w2=1.3,
                     dps=20):
    """Rows (activation, L, pair, kernel, truth, symndk digits, NT digits per degree) for L = 1..``depth``:
    NNGP and NTK (sigma_b = 0) of the pairs against :func:`mp_recursion` (digits = -log10 |relative error|)."""
    import mpmath

    import symndk
    from activations import ACTS
    from symndk.checks.activation import activation_kernel

    X = inputs()
    request = [[_key(n, L, w2, 0.0, d), ["Numerical", n, d], L, w2, 0.0, False] for n in names
               for L in range(1, depth + 1) for d in degrees]
    nt = nt_batch(WORKER, X, json.dumps(request))
    rows = []
    for n in names:
        activation_kernel(NUMERICAL[n], f"ntnum_{n}")
        _, f, df = ACTS[n]
        for i, j in pairs:
            truths = mp_recursion(f, df, X[i], X[j], depth, w2, dps)
            for L in range(1, depth + 1):
                k = symndk.static_kernels(X, None, f"ntnum_{n}", L, w2, 0.0)
                for t, (which, ours) in enumerate(zip(("nngp", "ntk"), (k.nngp.train, k.ntk.train))):
                    truth = truths[L - 1][t]
                    digits = lambda v: float(-mpmath.log10(abs((mpmath.mpf(float(v)) - truth) / truth)  # noqa: E731
                                                           + mpmath.mpf(10) ** -dps))
                    rows.append((n, L, (i, j), which, float(truth), digits(w2 * ours[i, j]),
                                 *(digits(nt[_key(n, L, w2, 0.0, d)][t][i][j]) for d in degrees)))
                    print(f"{n:5s} L={L} pair {i},{j} {which:4s} truth {float(truth): .15e}  symndk {rows[-1][5]:5.1f}  "
                          + "  ".join(f"NT deg {d} {v:5.1f}" for d, v in zip(degrees, rows[-1][6:])) + "  digits",
                          flush=True)
    return rows


def mp_recursion(f, df, x1, x2, depth, w2, dps=20):
    """[(NNGP_NT, NTK_NT) at L = 1..depth] of the inputs x1, x2 (sigma_b = 0) by the layer recursion with
    every Gaussian expectation an mpmath quadrature at ``dps`` digits (:func:`activations.mp_F`: 2-D, 1-D
    at rho = +-1 and on the diagonal), from the float64 inputs exactly."""
    import mpmath

    from activations import mp_F

    out = []
    with mpmath.workdps(dps):
        x = [[mpmath.mpf(float(v)) for v in row] for row in (x1, x2)]
        dot = lambda a, b: sum(p * r for p, r in zip(x[a], x[b])) / len(x[a])  # noqa: E731
        q11, q22, q12 = w2 * dot(0, 0), w2 * dot(1, 1), w2 * dot(0, 1)
        theta = q12
        for _ in range(depth):
            rho = max(min(q12 / mpmath.sqrt(q11 * q22), mpmath.mpf(1)), mpmath.mpf(-1))
            F, Fdot = mp_F(f, q11, q22, rho, dps), mp_F(df, q11, q22, rho, dps)
            theta = w2 * F + w2 * Fdot * theta
            q11, q22, q12 = w2 * mp_F(f, q11, q11, 1, dps), w2 * mp_F(f, q22, q22, 1, dps), w2 * F
            out.append((q12, theta))
    return out


def _fmt(entry):
    if entry is None:
        return "-"
    dev, ours, theirs = entry
    return f"{dev:.1e}" + ("" if ours is None else f" [{ours:.1e}, {theirs:.1e}]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-numerical", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="symndk-nt-"))
    print("deviation = max|NT - s2 symndk|, and where a closed-form mpmath truth exists [symndk error, NT error] "
          "against it, relative to the largest entry (of the truth, else of NT); '-': NT sets that kernel by convention")
    print(f"{'NT layer':22s} {'L':>2s} {'s2':>4s} {'sb2':>4s} {'NNGP deviation [sym, NT]':>32s} "
          f"{'NTK deviation [sym, NT]':>32s}  NT NaN entries")
    for label, L, w2, b2, gp, tk, nans in compare(BUILTIN + USER):
        print(f"{label:22s} {L:2d} {w2:4.2g} {b2:4.2g} {_fmt(gp):>32s} {_fmt(tk):>32s}  {nans or ''}", flush=True)
    if not args.skip_numerical:
        numerical_digits()


if __name__ == "__main__":
    main()
