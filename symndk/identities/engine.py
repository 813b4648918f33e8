"""Identity engine: named identities, each verified to a stated tier.

Tiers, strongest first:

* ``symbolic`` -- the residual is reduced to exactly 0 by targeted rewrites (expand, together,
  cancel, radsimp, ...) inside a time box; never a blanket ``simplify``;
* ``sampled`` -- the residual vanishes to the identity's tolerance (40 significant digits
  unless stated: 30 for the 2-D quadrature checks) at random points in mpmath at >= 50
  digits, *and* a limit check at the singular points (e.g. rho -> +-1) finds finite, real
  values with the same small residual;
* ``failed`` -- with the offending value in ``detail``.

Example:
    >>> import sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> ident = expr_identity("demo.sq", "demo", (x + 1) ** 2, x**2 + 2 * x + 1, {x: (0, 1)})
    >>> ident.verify().tier
    'symbolic'
    >>> bad = expr_identity("demo.bad", "demo", sp.sin(x) ** 2, x**2, {x: (0.1, 1)}, symbolic=False)
    >>> r = bad.verify(); r.tier, r.passed
    ('failed', False)
"""
from __future__ import annotations

import random
import signal
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import mpmath as mp
import sympy as sp

TOL_DIGITS = 40
DPS = 60


@dataclass(frozen=True)
class Result:
    """Outcome of one identity check."""

    id: str
    tier: str
    residual: float
    seconds: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.tier != "failed"


@dataclass
class Identity:
    """A named relation with a ``check()`` returning ``(tier, residual, detail)``."""

    id: str
    title: str
    latex: str
    check: Callable[[], tuple[str, float, str]] = field(repr=False)

    def verify(self) -> Result:
        start = time.perf_counter()
        try:
            tier, residual, detail = self.check()
        except Exception as exc:  # an identity that crashes has failed, with the reason
            tier, residual, detail = "failed", float("nan"), f"{type(exc).__name__}: {exc}"
        return Result(self.id, tier, float(residual), time.perf_counter() - start, detail)


class _Timeout(Exception):
    pass


@contextmanager
def timebox(seconds: float):
    """Raise :class:`TimeoutError` after ``seconds`` of CPU time of this process (so a loaded
    machine does not change the verdict); main thread only, elsewhere no limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGPROF, handler)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    except _Timeout:
        raise TimeoutError(f"time box of {seconds} s exceeded") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


_REWRITES = (
    sp.expand,
    lambda e: sp.cancel(sp.together(e)),
    lambda e: sp.radsimp(sp.cancel(e)),
    lambda e: sp.expand(sp.powsimp(sp.powdenest(e, force=True), force=True)),
    lambda e: sp.cancel(sp.expand_trig(e.rewrite(sp.exp))),
)


def symbolic_zero(expr, seconds: float = 4.0) -> bool:
    """True when a chain of targeted rewrites brings ``expr`` to exactly 0 within the time box."""
    try:
        with timebox(seconds):
            for rw in _REWRITES:
                expr = rw(expr)
                if expr == 0:
                    return True
    except TimeoutError:
        return False
    return False


def rng_for(ident_id: str) -> random.Random:
    """A reproducible random stream per identity id."""
    return random.Random(zlib.crc32(ident_id.encode()))


def rel_residual(a, b):
    """|a - b| / max(|a|, |b|, 1e-300) as an mpf; complex or non-finite values give +inf."""
    a, b = mp.mpmathify(a), mp.mpmathify(b)
    if isinstance(a, mp.mpc) or isinstance(b, mp.mpc) or not (mp.isfinite(a) and mp.isfinite(b)):
        return mp.inf
    return abs(a - b) / max(abs(a), abs(b), mp.mpf(10) ** -300)


def sampled(evaluate, points, singular=(), digits: int = TOL_DIGITS, dps: int = DPS):
    """Check ``evaluate(point) -> (lhs, rhs)`` at points (regular and singular-limit ones).

    Limit points (callables returning a point, so they are built at the higher precision
    used for them) are evaluated with 40 extra digits.  Returns ``(tier, residual, detail)``
    with tier ``sampled`` or ``failed``.
    """
    worst = mp.mpf(0)
    tol = mp.mpf(10) ** -digits
    for kind, pts in (("point", points), ("limit", singular)):
        for p in pts:
            with mp.workdps(dps if kind == "point" else dps + 40):  # limits lose digits to cancellation
                p = p() if callable(p) else p
                r = rel_residual(*evaluate(p))
                if not r <= worst:
                    worst = r
                if not r <= tol:
                    return "failed", float(r), f"residual {mp.nstr(r, 5)} at {kind} {p}"
    return "sampled", float(worst), f"{len(points)} points + {len(singular)} limit points"


def expr_identity(ident_id, title, lhs, rhs, ranges, *, singular=(), symbolic=True, n=4, latex=None,
                  digits: int = TOL_DIGITS, dps: int = DPS, seconds: float = 4.0) -> Identity:
    """Identity ``lhs == rhs`` between SymPy expressions.

    ``ranges`` maps each free symbol to ``(lo, hi)`` (uniform samples) or is a callable
    ``rng -> {symbol: value}``; ``singular`` lists substitution dicts for the limit checks.
    """
    lhs, rhs = sp.sympify(lhs, strict=True), sp.sympify(rhs, strict=True)
    latex = latex or rf"{sp.latex(lhs)} = {sp.latex(rhs)}"

    def check():
        if symbolic and symbolic_zero(lhs - rhs, seconds):
            return "symbolic", 0.0, "proved by targeted rewrites"
        syms = sorted((lhs - rhs).free_symbols, key=sp.default_sort_key)
        f = sp.lambdify(syms, [lhs, rhs], "mpmath", cse=True)
        rng = rng_for(ident_id)
        with mp.workdps(dps):
            pts = [_draw(ranges, rng) for _ in range(n)]
        evaluate = lambda p: f(*[mp.mpmathify(p[s]) for s in syms])  # noqa: E731
        return sampled(evaluate, pts, singular, digits, dps)

    return Identity(ident_id, title, latex, check)


def _draw(ranges, rng):
    if callable(ranges):
        return ranges(rng)
    return {s: mp.mpf(lo) + (mp.mpf(hi) - mp.mpf(lo)) * mp.mpf(rng.random()) for s, (lo, hi) in ranges.items()}


def custom_identity(ident_id, title, latex, check) -> Identity:
    """Identity whose ``check()`` is written out (quadrature, limits, proofs by induction)."""
    return Identity(ident_id, title, latex, check)
