"""``symndk reproduce proximal --quick``: every claim passes and the outputs are written."""
from __future__ import annotations

import json

from symndk.reproduce.runner import run_reproduction


def test_quick_proximal_reproduction(tmp_path):
    lines = []
    rep = run_reproduction("proximal", tmp_path, quick=True, jobs=1, echo=lines.append)
    meta = json.loads((tmp_path / "proximal" / "proximal.json").read_text())
    status = {c["name"]: c["status"] for c in meta["claims"]}
    assert set(status) == {"mpl-to-langevin-order-1", "mpl-equilibrium-reached", "mpl-equilibrium-shift-O(kappa/lambda)",
                           "mpl-schedule-T0-limit", "lr-schedule-change-of-time", "anneal-matches-simulation",
                           "anneal-long-time-identity-fails"}
    assert set(status.values()) == {"PASS"}, lines
    assert (tmp_path / "proximal" / "proximal.png").is_file() and rep.passed
