"""Every registered activation's generated kernels pass every check (parametrised over the registry)."""
import pytest

from symndk.checks.kernels import CHECKS, run_checks
from symndk.kernels.loader import load
from symndk.spec.activations import list_activations


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("name", list_activations())
def test_registry_check(name, check):
    (result,) = run_checks(load(name), load(name, "mpmath"), only=(check,))
    assert result.passed, result.line()


@pytest.mark.parametrize("name", list_activations())
def test_contract_api_exists(name):
    for backend in ("numpy", "mpmath", "mpfr"):
        mod = load(name, backend)
        for attr in ("NAME", "CLOSED_FORM", "ODD", "phi", "dphi", "F", "Fdot", "Fbar", "V", "Vdot", "kernels", "layer"):
            assert hasattr(mod, attr), (name, backend, attr)
        assert mod.NAME == name


def test_a_wrong_kernel_fails_the_checks():
    """The checks can fail: a ReLU kernel with a 3% error in F is caught by quadrature, Monte Carlo and Price."""
    import types

    relu = load("relu")
    wrong = types.SimpleNamespace(**{k: getattr(relu, k) for k in dir(relu) if not k.startswith("__")})
    wrong.F = lambda q1, q2, c, D=None: 1.03 * relu.F(q1, q2, c, D)
    failed = {c.name for c in run_checks(wrong, load("relu", "mpmath"), only=("quadrature_2d", "monte_carlo", "price", "mpmath"))
              if not c.passed}
    assert failed == {"quadrature_2d", "monte_carlo", "price", "mpmath"}
