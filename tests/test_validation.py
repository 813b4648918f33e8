"""Theory against finite-width Langevin simulation (docs/theory.md §5, §7, §8, §13).

The CI cases (L = 1, width 256, 400 networks in antithetic pairs, diffusive time sigma^2/T = 2)
must match ``symndk.predict`` within 4 standard errors at every recorded time and output, and
the same statistic must reject the foil (the Volterra kernel without its e^{-gamma (t-s)}
prefactor) -- so the test can fail. The larger cases run with ``pytest -m slow`` or
``symndk validate all``.
"""
from dataclasses import replace

import numpy as np
import pytest

from symndk.checks.langevin import CASES, Report, run_case


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if not c.slow])
def test_ci_simulation_matches_theory_and_rejects_the_foil(name):
    rep = run_case(CASES[name])
    assert rep.z.size >= 60 and np.all(np.isfinite(rep.z))
    assert rep.max_z < CASES[name].tol, rep.line()
    assert rep.foil_max_z > CASES[name].foil_min, rep.line()
    assert rep.passed


def test_report_fails_on_a_large_z_or_a_foil_that_is_not_rejected():
    case = CASES["ci-relu"]
    assert not Report(case, np.array([0.5, -4.5]), np.array([20.0]), 0.0).passed
    assert not Report(case, np.array([0.5, -1.0]), np.array([3.0]), 0.0).passed
    assert Report(case, np.array([0.5, -1.0]), np.array([30.0]), 0.0).passed


def test_bias_allowance_widens_the_band_by_bias_over_se():
    case, se = replace(CASES["ci-relu"], bias=0.01), np.array([0.002, 0.002])
    foil = np.array([30.0, 0.0])
    assert Report(case, np.array([0.0, 8.0]), foil, 0.0, se).passed  # 0.016 = bias + 3 se
    assert not Report(case, np.array([0.0, -10.0]), foil, 0.0, se).passed  # 0.02 = bias + 5 se
    assert not Report(case, np.array([0.0, 1.0]), np.array([9.0, 0.0]), 0.0, se).passed  # foil inside band


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.slow])
def test_slow_validation(name):
    rep = run_case(CASES[name])
    assert rep.passed, rep.line()
