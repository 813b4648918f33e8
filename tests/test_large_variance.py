"""Large variances (issue 10 item 4, found by the slow hypothesis run): the float64 dual kernels keep
their digits as q -> infinity. GELU's Fdot and Vdot were long sums that cancel there (relative
error 4e-9 at q = 1e6, 2e-5 at q = 1e8; a depth-5 GELU NTK of two collinear inputs came out
indefinite); the generator now collects each transcendental atom's algebraic coefficient
(:func:`symndk.codegen.stable.collect_transcendental`).

Truth: the SymPy spec's closed forms lambdified for mpmath at 60 digits (its cancellation costs at
most ~10 of them at q = 1e8)."""
import warnings

import mpmath as mp
import numpy as np
import pytest

from symndk.kernels import loader
from symndk.spec.activations import get_activation
from symndk.spec.recursion import MpDuals

BUILTINS = ["linear", "relu", "erf", "leaky_relu", "abs", "gelu", "sin", "cos", "gauss", "cube"]


@pytest.mark.parametrize("name", BUILTINS)
def test_dual_kernels_keep_their_digits_at_large_variance(name):
    fast, spec = loader.load(name, "numpy"), MpDuals(get_activation(name))
    worst = {}
    for q in (1e2, 1e4, 1e6, 1e8):
        for rho in (1.0, 0.999999, 0.3, -0.9):
            # q2 = 4 q1, so rho = 1 is c = 2 q exactly; D from the float inputs in exact arithmetic
            q1, q2, c = q, 4 * q, float(rho * 2 * q)
            D = float(mp.mpf(q1) * mp.mpf(q2) - mp.mpf(c) ** 2)
            for fn in ("F", "Fdot"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    got = float(np.asarray(getattr(fast, fn)(np.array([q1]), np.array([q2]), np.array([c]),
                                                             np.array([D]))).ravel()[0])
                # rho = 1 is a branch point of the closed forms: the spec is taken as the limit there
                with mp.workdps(160 if D == 0 else 60):
                    cc = mp.mpf(c) * (1 - mp.mpf(10) ** -100) if D == 0 else mp.mpf(c)
                    want = getattr(spec, fn)(mp.mpf(q1), mp.mpf(q2), cc)
                    diag = [getattr(spec, fn)(mp.mpf(v), mp.mpf(v), mp.mpf(v)) for v in (q1, q2)]
                    worst[(fn, q, rho)] = float(abs(got - mp.re(want)) / mp.sqrt(abs(diag[0] * diag[1])))
    bad = {k: v for k, v in worst.items() if not v <= 1e-12}
    assert not bad, bad
