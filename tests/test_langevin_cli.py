"""``symndk simulate`` and ``symndk validate`` command lines: outputs, metadata, one-line errors."""
import json
import subprocess
import sys

import numpy as np
import pytest

import symndk

from symndk.cli import main

SMALL = ["--data", "synthetic:2,0.5", "--depth", "1", "--width", "16", "--n-networks", "8", "--T", "0.2",
         "--dt", "0.05", "--times", "0:0.5:3", "--quiet"]


def test_simulate_writes_npz_json_and_png(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--out", str(out), "--plot", str(tmp_path / "run.png"), "--pairs", "0.5:0.25"]
    assert main(["simulate", *SMALL, *args]) == 0
    z = symndk.load_result(out)
    assert z.train.shape == (3, 2) and z.test_se.shape == (3, 1) and z.pairs.shape == (1, 2)
    meta = z.metadata
    assert meta["activation"] == "relu" and meta["n_units"] == 4 and meta["task"].startswith("synthetic")
    js = json.loads((tmp_path / "run.json").read_text())
    assert js["metadata"]["widths"] == [16] and z.times.shape == (3,)
    png = (tmp_path / "run.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("extra,match", [
    (["--times", "0,0.33"], "multiple of dt"),
    (["--activation", "no-such-act"], "no-such-act"),
    (["--data", "mystery:1"], "--data"),
    (["--pairs", "1;2"], "--pairs"),
    (["--n-networks", "7"], "even"),
])
def test_simulate_bad_input_is_one_error_line(tmp_path, capsys, extra, match):
    assert main(["simulate", *SMALL, "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symndk: error:") and match in err[0]


def test_validate_lists_cases_and_rejects_unknown(capsys):
    assert main(["validate", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "ci-relu" in listing and "drift-relu" in listing
    assert main(["validate", "no-such-case"]) == 2
    assert "unknown validation case" in capsys.readouterr().err


def test_cli_exit_code_in_a_subprocess(tmp_path):
    r = subprocess.run([sys.executable, "-m", "symndk", "simulate", *SMALL, "--out", str(tmp_path / "x"),
                        "--dt", "-1"], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
