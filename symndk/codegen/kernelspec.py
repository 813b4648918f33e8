"""Frozen plain-data kernel specs: what a generated module contains, with every SymPy object
already printed to code strings (templates never see SymPy).

:func:`build_module` turns (activation, dual kernels, backend) into a :class:`ModuleSpec`:
``phi``, ``dphi``, the dual kernels ``F``, ``Fdot``, ``Fbar``, ``V``, ``Vdot`` (stabilised, see
:mod:`symndk.codegen.stable`), the fused pair ``kernels(q1, q2, c, D)`` = (F, Fdot) and the fused
per-layer map ``layer(q1, q2, c, D)`` = (F, Fdot, Gram determinant of the next layer), all cse'd.  Functions without a closed form are
listed in ``numeric`` and supplied at load time by :mod:`symndk.kernels.quadrature`.

Example:
    >>> from symndk.spec.activations import get_activation
    >>> from symndk.spec.dual import dual_kernels
    >>> relu = get_activation("relu")
    >>> spec = build_module(relu.name, relu.expr, dual_kernels(relu), "numpy")
    >>> [f.name for f in spec.functions], spec.homogeneous_degree
    (['phi', 'dphi', 'F', 'Fdot', 'Fbar', 'V', 'Vdot', 'kernels', 'layer', '_gram_near'], '1')
    >>> fdot = spec.functions[3]
    >>> fdot.assignments, fdot.outputs
    ((('y0', '(1/2)/numpy.pi'),), ('y0*numpy.arctan2(c, numpy.sqrt(D)) + 1/4',))
"""
from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, replace

import mpmath
import sympy as sp

from symndk.codegen.broadcast import regroup
from symndk.codegen.printers import MpfrPrinter, MpmathPrinter, NumpyPrinter, UnsupportedNode
from symndk.codegen.stable import (D, SMALL_ORDER, THETA, angle_gram, collect_transcendental, gram_factors,
                                   homogeneous_profile, small_scale, stabilise)
from symndk.spec.activations import X
from symndk.spec.dual import C, Q, Q1, Q2

GENERATOR_VERSION = "symndk-codegen 1.5"
#: numpy Gram-factor series are used below this angle (direct form loses ~eps/theta^2)
THETA_SERIES = 0.3
SERIES_ORDER = 34


@dataclass(frozen=True)
class FunctionSpec:
    """One generated function: signature, docstring, cse'd body, optional patches near rho = +-1."""

    name: str
    args: tuple[str, ...]
    doc: str
    uses_D: bool
    assignments: tuple[tuple[str, str], ...]
    patches: tuple[tuple[int, str, str, str], ...]  # (output index, mask code, helper recomputing it where the mask holds, its arguments)
    outputs: tuple[str, ...]
    constant: tuple[bool, ...]  # output does not depend on all arguments: broadcast it
    ops: int
    #: (k, a): a closed form in the body loses about a + k log10(1/scale) digits at small scale; the
    #: scalar backends add that many working digits (and use the series below 10^-precision)
    small: tuple[float, float] | None = None


@dataclass(frozen=True)
class ModuleSpec:
    """Everything a template needs to render one generated module."""

    name: str
    backend: str
    expr: str
    dphi: str
    method: str
    closed_form: bool
    odd: bool
    homogeneous_degree: str | None
    spec_hash: str
    generator_version: str
    helpers: tuple[str, ...]
    constants: tuple[tuple[str, str], ...]  # (name, code) module-level constants the functions use, sorted
    functions: tuple[FunctionSpec, ...]
    numeric: tuple[str, ...]


_PRINTERS = {"numpy": NumpyPrinter, "mpmath": MpmathPrinter, "mpfr": MpfrPrinter}
_DOCS = {
    "phi": "phi(x), elementwise",
    "dphi": "phi'(x) (derived by sympy.diff), elementwise",
    "F": "E[phi(u) phi(v)], Var u = q1, Var v = q2, Cov(u, v) = c; D = q1 q2 - c^2 if given",
    "Fdot": "E[phi'(u) phi'(v)] (the derivative kernel); D = q1 q2 - c^2 if given",
    "Fbar": "E[phi(u)] E[phi(v)] for independent u ~ N(0, q1), v ~ N(0, q2)",
    "V": "E[phi(u)^2], u ~ N(0, q)",
    "Vdot": "E[phi'(u)^2], u ~ N(0, q)",
    "kernels": "Fused (F, Fdot) at (q1, q2, c, D = q1 q2 - c^2)",
    "_gram_near": "V(q1) V(q2) - F^2 without cancellation near rho = +-1",
    "layer": "Fused layer map: (F, Fdot, V(q1) V(q2) - F^2) at (q1, q2, c, D = q1 q2 - c^2)",
    **{f"_small_{k}": f"{k} where an argument is small: its Taylor polynomial of order {SMALL_ORDER} in the common "
       "scale of the arguments replaces the closed form, which cancels there" for k in ("F", "Fdot", "Fbar", "V", "Vdot")},
    "_small_gram": "V(q1) V(q2) - F^2 where an argument is small (from the Taylor polynomials of V and F)",
}
#: name of the scalar backends' runtime threshold below which the small-scale series is used
TINY = sp.Symbol("_tiny", positive=True)
_ARGS = {"phi": (X,), "dphi": (X,), "F": (Q1, Q2, C), "Fdot": (Q1, Q2, C), "Fbar": (Q1, Q2), "V": (Q,), "Vdot": (Q,)}


def _num(expr, point):
    return sp.N(expr.subs(point), 40)


def homogeneity_degree(F: sp.Expr) -> sp.Rational | None:
    """Degree n with F(l q1, l q2, l c) = l^n F(q1, q2, c), tested at random points (or None)."""
    rng = random.Random(1)
    degrees = set()
    for lam in (2, 3):
        pt = {Q1: sp.Rational(rng.randint(5, 30), 10), Q2: sp.Rational(rng.randint(5, 30), 10)}
        pt[C] = sp.Rational(rng.choice((-1, 1)) * rng.randint(1, 9), 10) * sp.sqrt(pt[Q1] * pt[Q2])
        base = _num(F, pt)
        if base == 0:
            return None
        ratio = _num(F, {k: lam * v for k, v in pt.items()}) / base
        with mpmath.workdps(40):
            twice = 2 * mpmath.log(mpmath.mpf(str(ratio))) / mpmath.log(lam)
            if abs(twice - mpmath.nint(twice)) > mpmath.mpf(10) ** -25:
                return None
        n = sp.Rational(int(mpmath.nint(twice)), 2)
        degrees.add(n)
    return degrees.pop() if len(degrees) == 1 else None


def _covers(expr, args) -> bool:
    """True when ``expr`` depends on every argument (D and theta stand for q1, q2, c)."""
    free = sp.sympify(expr, strict=True).free_symbols
    if free & {D, THETA}:
        free |= {Q1, Q2, C}
    return set(args) <= free


#: broadcast axes of the numpy kernels' arguments: q1 a column, q2 a row, c and D full blocks
_AXES = {Q1: {0}, Q2: {1}, C: {0, 1}, D: {0, 1}}


def _codegen(name, exprs, args, printer, prelude=(), extra_doc=""):
    """cse ``exprs`` and print them; ``prelude`` (name, expr) pairs are printed first, as is.
    numpy: sums and products regrouped by broadcast axes (:mod:`symndk.codegen.broadcast`)."""
    reps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("x"), order="canonical")
    if isinstance(printer, NumpyPrinter) and Q1 in args and Q2 in args:
        axes = dict(_AXES)
        for s, e in prelude:
            axes[s] = frozenset().union(*(axes.get(f, ()) for f in e.free_symbols))
        reps, reduced = regroup(reps, reduced, axes)
    assignments = tuple((str(s), printer.doprint(e)) for s, e in (*prelude, *reps))
    body = [e for _, e in prelude] + list(exprs)
    return FunctionSpec(
        name=name, args=tuple(str(a) for a in args), doc=_DOCS[name] + extra_doc,
        uses_D=any(sp.sympify(e, strict=True).has(D) for e in body), assignments=assignments, patches=(),
        outputs=tuple(printer.doprint(e) for e in reduced),
        constant=tuple(not _covers(e, args) for e in exprs),
        ops=int(sum(sp.count_ops(e) for _, e in (*prelude, *reps)) + sum(sp.count_ops(e) for e in reduced)),
    )


def _collected(expr):
    """:func:`collect_transcendental` where it shortens ``expr`` (never lengthens a kernel)."""
    new = collect_transcendental(expr)
    return new if expr is not None and sp.count_ops(new) < sp.count_ops(expr) else expr


def _tidy(expr):
    expanded = sp.expand(expr)
    return expanded if sp.count_ops(expanded) < sp.count_ops(expr) else expr


@dataclass(frozen=True)
class Patch:
    """Where ``mask`` holds, output ``index`` of a function is replaced by ``expr`` (SymPy, evaluated after the
    ``prelude`` pairs), computed by the helper ``helper``; ``near``: the mask is D < near c^2 (|rho| near 1).
    The numpy and C backends print the same patches (:func:`near_patch`, :func:`small_patches`)."""

    index: int
    mask: sp.Basic
    helper: str
    expr: sp.Expr
    prelude: tuple = ()
    doc: str = ""
    near: float | None = None


def near_patch(F, V, degree) -> Patch | None:
    """The patch of the layer map's Gram determinant (output 2) near rho = +-1, or None.

    Positively homogeneous kernel of degree n: (q1 q2)^n A B, with the Gram factors A = J(0) - J(theta),
    B = J(0) + J(theta) taken from their series near the pole where they vanish (theta = 0 for A,
    theta = pi for B; pi - theta = atan2(sqrt D, -c)); an arcsine-type kernel (erf: F = K atan(G)):
    atan differences (:func:`symndk.codegen.stable.angle_gram`); other kernels: None.
    """
    k = math.tan(THETA_SERIES) ** 2
    mask = sp.Lt(D, sp.Float(repr(k)) * C**2)
    if degree is None:
        ag = angle_gram(F, V, Q1, Q2, C, Q)
        return None if ag is None else Patch(2, mask, "_gram_near", ag.expr, near=k,
                                             doc=" (arcsine-type kernel F = K atan(G): atan differences, stable.angle_gram)")
    _, factors = gram_factors(homogeneous_profile(F, degree, Q1, Q2, C), SERIES_ORDER)
    th, th_pi = sp.Symbol("th"), sp.Symbol("th_pi")
    trig = {sp.sin(THETA): sp.sqrt(D) / (sp.sqrt(Q1) * sp.sqrt(Q2)), sp.cos(THETA): C / (sp.sqrt(Q1) * sp.sqrt(Q2))}
    pieces = []
    for (factor, series, at) in factors:
        direct = factor.subs(trig).subs(THETA, th)
        if series is None:
            pieces.append(direct)
            continue
        u = th if at == 0 else th_pi  # distance from the pole
        poly = sp.horner(sp.expand(series.subs(THETA, u if at == 0 else sp.pi - u)).evalf(17))
        pieces.append(sp.Piecewise((poly, u < THETA_SERIES), (direct, True)))
    used = set().union(*(p.free_symbols for p in pieces))
    prelude = tuple((u, e) for u, e in ((th, sp.atan2(sp.sqrt(D), C)), (th_pi, sp.atan2(sp.sqrt(D), -C))) if u in used)
    return Patch(2, mask, "_gram_near", (Q1 * Q2) ** degree * pieces[0] * pieces[1], prelude, near=k,
                 doc=f" (kernel positively homogeneous of degree {degree})")


def small_patches(exprs, branched, names) -> tuple[Patch, ...]:
    """Patches ``_small_<name>`` of the outputs whose small-scale branch (:func:`_small_branches`) differs
    from the closed form: the series, where one of the small-argument conditions holds."""
    out = []
    for i, (direct, branch, key) in enumerate(zip(exprs, branched, names)):
        if branch == direct:
            continue
        conds = sorted({p.args[0].cond for p in branch.atoms(sp.Piecewise)}, key=sp.default_sort_key)
        expr = branch.args[0].expr if len(conds) == 1 and isinstance(branch, sp.Piecewise) else branch
        out.append(Patch(i, sp.Or(*conds), f"_small_{key}", expr))
    return tuple(out)


def _gram(F, V):
    """max(V(q1) V(q2) - F^2, 0): the next layer's Gram determinant, plainly."""
    return sp.Max(V.subs(Q, Q1) * V.subs(Q, Q2) - F**2, 0, evaluate=False)


def _small_branches(stab, backend, mean=None):
    """{key: (cond, branch)} for the closed forms that cancel as their arguments go to 0 (see
    :func:`symndk.codegen.stable.small_scale`): ``branch`` = series where ``cond`` holds, else the closed
    form.  numpy: cond is scale < the float64 switch and the series has float coefficients; mpmath/mpfr:
    cond is scale < ``_tiny`` (10^-working precision, set at run time) and the series is exact."""
    out = {}
    for k in ("F", "Fdot", "Fbar", "V", "Vdot"):
        info = None if stab[k] is None else small_scale(stab[k], tuple(_ARGS[k]))
        if info is None:
            continue
        numpy_backend = backend == "numpy"
        series = info.series.evalf(17) if numpy_backend else info.series
        cond = sp.Lt(info.scale, sp.Float(repr(info.below)) if numpy_backend else TINY)
        out[k] = (cond, sp.Piecewise((series, cond), (stab[k], True)), info)
    info = None if mean is None or stab["Fbar"] is None else small_scale(mean, (Q,))
    if info is not None:  # Fbar = mean(q1) mean(q2): a branch per factor, so that one small variance suffices
        series = info.series.evalf(17) if backend == "numpy" else info.series
        threshold = sp.Float(repr(info.below)) if backend == "numpy" else TINY
        factors = [sp.Piecewise((series.subs(Q, q), sp.Lt(q, threshold)), (mean.subs(Q, q), True)) for q in (Q1, Q2)]
        out["Fbar"] = (None, sp.Mul(*factors, evaluate=False), info)
    return out


def fused(stab, branch, degree) -> dict:
    """The fused maps as SymPy, for the numpy and C backends: ``kernels`` = (F, Fdot) and ``layer`` = (F, Fdot,
    max(V(q1) V(q2) - F^2, 0)), each as (outputs, patches): near rho = +-1 the layer's Gram determinant from
    :func:`near_patch`, at small scale the series of :func:`small_patches` (``branch``: the small-scale branches).
    The mpmath and mpfr backends evaluate the Gram determinant with twice the working precision instead."""
    F, Fdot, V = stab["F"], stab["Fdot"], stab["V"]
    near = near_patch(F, V, degree)
    layer = (F, Fdot, _gram(F, V))
    return {
        "kernels": ((F, Fdot), small_patches((F, Fdot), (branch["F"], branch["Fdot"]), ("F", "Fdot"))),
        "layer": (layer, (() if near is None else (near,)) + small_patches(
            layer, (branch["F"], branch["Fdot"], _gram(branch["F"], branch["V"])), ("F", "Fdot", "gram"))),
    }


def _patched(spec, patches, args, printer, helpers):
    """numpy: ``spec`` with ``patches`` (:class:`Patch`) applied, each helper evaluated only where its mask holds
    (the helpers are collected in ``helpers``; the near-rho mask is the runtime's ``_near``, with a cheap
    none-test)."""
    if not patches:
        return spec
    extra = []
    for p in patches:
        if p.helper not in helpers:
            helpers[p.helper] = _codegen(p.helper, (p.expr,), args, printer, prelude=p.prelude, extra_doc=p.doc)
        mask = printer.doprint(p.mask) if p.near is None else f"_near(D, c, q1, q2, {p.near!r})"
        extra.append((p.index, mask, p.helper, ", ".join(spec.args) + (", D" if len(spec.args) == 3 else "")))
    near = "; near rho = +-1 the Gram determinant comes from _gram_near" if any(p.near for p in patches) else ""
    return replace(spec, doc=spec.doc + near, patches=spec.patches + tuple(extra), uses_D=spec.uses_D or len(spec.args) == 3)


def stabilised(dual) -> dict:
    """The dual kernels F, Fdot, Fbar, V, Vdot as the generated code evaluates them (stabilised, collected)."""
    stab = {k: None if getattr(dual, k) is None else _tidy(_collected(stabilise(getattr(dual, k), Q1, Q2, C)))
            for k in ("F", "Fdot", "Fbar", "V", "Vdot")}
    for k in ("V", "Vdot"):  # second moments: E[delta(u)^2] = +infinity, not complex infinity
        stab[k] = None if stab[k] is None else stab[k].subs(sp.zoo, sp.oo)
    return stab


def spec_hash(name: str, expr: sp.Expr, dual) -> str:
    """Stable hash of what a module is generated from (expressions as srepr + generator version)."""
    parts = [GENERATOR_VERSION, name, sp.srepr(expr)] + [
        sp.srepr(getattr(dual, k)) for k in ("F", "Fdot", "mean", "Fbar", "V", "Vdot")
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def prepared(dual, backend: str):
    """(stab, small, branch, degree): the stabilised kernels (:func:`stabilised`), their small-scale branches
    for ``backend`` (:func:`_small_branches`; ``branch``: each kernel with its branch where it has one) and the
    homogeneity degree of F (None: not positively homogeneous)."""
    stab = stabilised(dual)
    mean = None if dual.mean is None else _tidy(dual.mean)
    small = _small_branches(stab, backend, mean)
    branch = {k: small[k][1] if k in small else stab[k] for k in stab}
    # kink kernels (symndk.spec.kinks) branch on D: not homogeneous when they have an offset, and
    # their rho = +-1 branch is exact already
    degree = homogeneity_degree(dual.F) if dual.F is not None and not dual.F.has(D) else None
    return stab, small, branch, degree


def build_module(name: str, expr: sp.Expr, dual, backend: str) -> ModuleSpec:
    """Plain-data spec of the generated module for one activation and one backend."""
    printer = _PRINTERS[backend]()
    dphi = sp.diff(expr, X)
    stab, small, branch, degree = prepared(dual, backend)
    scalar = backend != "numpy"
    digits = {k: small[k][2].digits for k in small}

    def lost(keys):
        ks = [digits[k] for k in keys if k in digits]
        return (max(k for k, _ in ks), max(a for _, a in ks)) if ks else None

    functions, numeric, helpers = [], [], {}
    for key, e in (("phi", expr), ("dphi", dphi), *stab.items()):
        try:
            if e is None:
                raise UnsupportedNode(key)
            if scalar:
                functions.append(replace(_codegen(key, (branch[key] if key in branch else e,), _ARGS[key], printer),
                                         small=lost([key])))
            else:
                spec = _codegen(key, (e,), _ARGS[key], printer)
                functions.append(_patched(spec, small_patches((e,), (branch.get(key, e),), (key,)), _ARGS[key], printer,
                                          helpers))
        except UnsupportedNode:
            numeric.append(key)
    if not numeric:
        if scalar:
            functions.append(replace(_codegen("kernels", (branch["F"], branch["Fdot"]), _ARGS["F"], printer),
                                     small=lost(["F", "Fdot"])))
            layer = (branch["F"], branch["Fdot"], _gram(branch["F"], branch["V"]))
            functions.append(replace(_codegen("layer", layer, _ARGS["F"], printer), small=lost(["F", "Fdot", "V"])))
        else:
            for fname, (exprs, patches) in fused(stab, branch, degree).items():
                functions.append(_patched(_codegen(fname, exprs, _ARGS["F"], printer), patches, _ARGS["F"], printer, helpers))
    functions += [helpers[n] for n in sorted(helpers)]
    code = "\n".join(c for f in functions for c in (*(c for _, c in f.assignments), *f.outputs))
    helpers = tuple(h for h in ("scipy.special.", "_heaviside(", "_bvn(") if h in code)
    constants = tuple((n, c) for n, c in sorted(printer.constants.items()) if re.search(rf"\b{n}\b", code))
    odd = sp.expand(expr.subs(X, -X) + expr) == 0
    return ModuleSpec(
        name=name, backend=backend, expr=sp.sstr(expr), dphi=sp.sstr(dphi), method=dual.method,
        closed_form=not numeric, odd=bool(odd), homogeneous_degree=None if degree is None else str(degree),
        spec_hash=spec_hash(name, expr, dual), generator_version=GENERATOR_VERSION,
        helpers=helpers, constants=constants, functions=tuple(functions), numeric=tuple(numeric),
    )
