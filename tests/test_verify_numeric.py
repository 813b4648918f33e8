"""Issue 12 item 4: `symndk verify --activation NAME` on an activation without closed-form kernels.

The families run on the certified Mehler kernels (symndk.kernels.hermite_mpfr) at 30 digits with
tolerances derived from the kernels' error bound (symndk.checks.numeric_identities); the truths are
independent quadratures (1-D mpmath, polar 2-D Gauss-Legendre) or the identities themselves. Foils:
a mean kernel moved by 1e-20 relative, far above the derived tolerance, fails.
"""
import mpmath
import pytest


def test_verify_mean_family_says_points_and_tolerance(silu, capsys, monkeypatch):
    from symndk.checks import numeric_identities
    from symndk.cli import main

    assert main(["verify", "--activation", silu, "--only", "mean.*", "--quiet", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"mean.{silu}" in out and " 0 failed" in out
    assert "5 points" in out and "tolerance from the kernel bound" in out
    moved = numeric_identities.NumericDuals.mean
    monkeypatch.setattr(numeric_identities.NumericDuals, "mean", lambda self, q: moved(self, q) * (1 + mpmath.mpf("1e-20")))
    assert main(["verify", "--activation", silu, "--only", "mean.*", "--quiet", "--jobs", "1"]) == 1   # foil
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.slow
def test_verify_runs_every_family_on_silu(silu, capsys):
    """Price, quadrature (F, Fdot), mean, NTK, long-time L = 1..5, transient, equilibrium, drift: all pass
    (about 10 min of checks on one core)."""
    from symndk.cli import main

    assert main(["verify", "--activation", silu, "--only", f"*{silu}*", "--quiet", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    for fam in ("price", "quad", "mean", "ntk", "longtime", "transient", "equilibrium", "drift"):
        assert f"{fam}.{silu}" in out
    assert " 0 failed" in out and "13 identities" in out
