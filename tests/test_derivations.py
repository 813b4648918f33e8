"""Every derivation runs, and every identity it cites exists and passes."""
import importlib.util
from pathlib import Path

import pytest

from symndk.identities import catalogue

DERIVATIONS = sorted((Path(__file__).resolve().parents[1] / "derivations").glob("*.py"))


def _load(path):
    spec = importlib.util.spec_from_file_location(f"derivation_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_six_derivations_are_there():
    assert {p.stem for p in DERIVATIONS} >= {"prior", "dual_kernels", "recursion", "ndk_ntk", "longtime_equilibrium", "drift"}


@pytest.mark.parametrize("path", DERIVATIONS, ids=lambda p: p.stem)
def test_derivation_runs_and_cited_identities_pass(path, capsys):
    mod = _load(path)
    assert mod.__doc__ and len(mod.__doc__) > 300, "a derivation states its argument in the docstring"
    mod.main()
    assert "cites:" in capsys.readouterr().out
    known = {i.id: i for i in catalogue()}
    missing = [c for c in mod.CITES if c not in known]
    assert mod.CITES and not missing, f"unknown identity ids {missing}"
    failed = [(r.id, r.detail) for r in (known[c].verify() for c in mod.CITES) if not r.passed]
    assert not failed
