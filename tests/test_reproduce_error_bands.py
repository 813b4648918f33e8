"""``symndk reproduce error-bands --quick``: the claim passes and the outputs are written (slow: ~3 min)."""
import json

import pytest

from symndk.reproduce.runner import run_reproduction


@pytest.mark.slow
def test_quick_error_bands_reproduction(tmp_path):
    lines = []
    rep = run_reproduction("error-bands", tmp_path, quick=True, jobs=1, echo=lines.append)
    meta = json.loads((tmp_path / "error-bands" / "error-bands.json").read_text())
    assert [c["status"] for c in meta["claims"]] == ["PASS"], lines
    assert (tmp_path / "error-bands" / "error_bands.png").is_file() and rep.passed


def test_sd_z_rejects_a_wrong_spread():
    from symndk.reproduce.error_bands import sd_z

    assert abs(sd_z([0.50], [0.40], [0.01], 0.02)[0]) > 4      # 25 % off with 2 % se: rejected
