"""Every activation symndk and neural-tangents both have, against NT (optional oracle; skipped when its venv
is absent), under the parameterisation map of benchmarks/nt_activations.py (NT = sigma^2 symndk at
sigma_b in {0, sigma}), depth 1..3, inputs with collinear, nearly collinear and antipodal pairs.

Tolerances: smooth closed forms agree to 1e-13 relative to the largest entry (measured <= 3.9e-14).
Where the two disagree by more (ReLU-type NTKs and the sign/Heaviside NNGP near rho = 1, NT's rectified
monomials), an mpmath truth from the literature's closed forms decides: symndk's error <= 1e-13 without
biases, NT's error accounts for the deviation. With biases symndk is held to 1e-8 near rho = 1 (measured
2.1e-9, Abs NTK at L = 3: the bias terms drop the recursion's Gram-determinant carry; NT's error is as large). Numerical activations
(``ElementwiseNumerical``) against a 20-digit mpmath quadrature truth: symndk to 1e-13 (slow test).
Foil: NT's LeakyRelu(0.1) against symndk's relu must disagree.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from scale import nt_python  # noqa: E402

pytestmark = pytest.mark.skipif(nt_python() is None, reason="neural-tangents venv not installed")


def _check(rows):
    for label, L, w2, b2, *kernels, nans in rows:
        for which, entry in zip(("NNGP", "NTK"), kernels):
            if entry is None:          # NT sets this kernel by convention (sign, Heaviside: NTK 0)
                continue
            dev, ours, theirs = entry
            where = (label, L, w2, b2, which, entry)
            if ours is None:           # no truth: a smooth closed form, exact on both sides
                assert dev <= 1e-13, where
                continue
            assert ours <= (1e-13 if b2 == 0 else 1e-8), where
            if b2 == 0 and not dev <= 1e-13:   # NT's own error explains the deviation (or NT is NaN everywhere)
                assert np.isnan(dev) or theirs >= 0.9 * dev, where


def test_builtin_activations_match_neural_tangents(tmp_path, monkeypatch):
    import nt_activations as nta

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    foil = nta.Case("foil: LeakyRelu(0.1) vs relu", ("LeakyRelu", 0.1), "relu")
    rows = nta.compare(nta.BUILTIN + [foil])
    assert {r[0] for r in rows} == {c.label for c in nta.BUILTIN + [foil]}
    _check([r for r in rows if r[0] != foil.label])
    assert all(r[4][0] > 1e-3 and r[5][0] > 1e-3 for r in rows if r[0] == foil.label)


@pytest.mark.slow
def test_user_activations_match_neural_tangents(tmp_path, monkeypatch):
    """The NT layers that are symndk user activations (closed forms derived by ``symndk kernel``)."""
    import nt_activations as nta

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rows = nta.compare(nta.USER)
    assert {r[0] for r in rows} == {c.label for c in nta.USER}
    _check(rows)


@pytest.mark.slow
def test_numerical_silu_against_mpmath_and_neural_tangents(tmp_path, monkeypatch):
    """SiLU at depth 1: symndk's Mehler table and NT's ElementwiseNumerical (deg 25, 200) against the
    20-digit quadrature truth at the nearly collinear and the antipodal pair."""
    import nt_activations as nta

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rows = nta.numerical_digits(names=("silu",), depth=1, pairs=((1, 4), (2, 5)))
    assert len(rows) == 4
    for name, L, pair, which, truth, ours, *theirs in rows:
        assert ours >= 13, rows           # digits
        assert theirs[0] < ours, rows     # NT's default degree loses digits near rho = +-1 (measured 8-9.5)
