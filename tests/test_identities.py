"""Identity engine: it can fail, it proves what it should, singular points stay real."""
import mpmath as mp
import pytest
import sympy as sp

from symndk.errors import SymndkError
from symndk.checks import verify
from symndk.identities import catalogue, select
from symndk.identities.cat_duals import _quad_identity, dual_point, rho_limits
from symndk.identities.engine import expr_identity, symbolic_zero
from symndk.spec.activations import get_activation, list_activations
from symndk.spec.dual import C, Q1, Q2, dual_kernels


def test_wrong_price_formula_is_reported_failed():
    d = dual_kernels(get_activation("relu"))
    wrong = d.Fdot.subs(sp.pi, sp.pi / 2)  # (pi - theta)/pi instead of /(2 pi)
    r = expr_identity("wrong.price", "wrong", sp.diff(d.F, C), wrong, dual_point, singular=rho_limits()).verify()
    assert r.tier == "failed" and not r.passed and "residual" in r.detail


def test_wrong_closed_form_fails_against_quadrature():
    act = get_activation("relu")
    wrong = dual_kernels(act).F + sp.sqrt(Q1 * Q2 - C**2) / 1000  # a small, plausible-looking error
    r = _quad_identity("relu", "F", act.expr, wrong).verify()
    assert r.tier == "failed" and r.residual > 1e-6


def test_tiers_of_core_identities():
    got = {r.id: r for r in verify("price.relu") + verify("longtime.relu.L2") + verify("prior.*")}
    assert got["price.relu"].tier == "symbolic"
    assert got["longtime.relu.L2"].tier == "sampled" and got["longtime.relu.L2"].residual < 1e-40
    assert all(r.tier == "symbolic" for k, r in got.items() if k.startswith("prior."))


def test_symbolic_zero_is_time_boxed():
    x = sp.Symbol("x")
    assert symbolic_zero((x + 1) ** 2 - x**2 - 2 * x - 1)
    assert not symbolic_zero(sp.sin(x) - x)


@pytest.mark.parametrize("name", list_activations())
@pytest.mark.parametrize("sgn", [1, -1])
def test_rho_pm1_no_nan_no_complex(name, sgn):
    d = dual_kernels(get_activation(name))
    q = mp.mpf("0.8")
    for expr in (d.F, d.Fdot):
        v = mp.mpmathify(sp.lambdify((Q1, Q2, C), expr, "mpmath")(q, q, sgn * q))
        assert isinstance(v, mp.mpf) and mp.isfinite(v), (name, expr)


def test_catalogue_ids_are_unique_and_selectable():
    ids = [i.id for i in catalogue()]
    assert len(ids) == len(set(ids))
    assert [i.id for i in select(catalogue(), "price.relu")] == ["price.relu"]
    assert {i.id for i in select(catalogue(), "longtime.erf.*")} == {f"longtime.erf.L{n}" for n in range(1, 6)}
    with pytest.raises(SymndkError):
        verify("no-such-identity")
    with pytest.raises(SymndkError, match="unknown activation"):
        catalogue(["nope"])


@pytest.mark.slow
def test_full_catalogue_passes():
    results = verify()
    assert all(r.passed for r in results), [(r.id, r.detail) for r in results if not r.passed]
