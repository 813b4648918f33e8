"""Atomic, consistent outputs (issue 10 item 6): a reproduction is marked incomplete until its last
claim is written (a killed run never leaves an old ``"passed": true`` beside new data); reproduce's
figures, data and tables and the CLI's JSON outputs go through symndk.files.atomic_write."""
import json
import types

import numpy as np
import pytest

from symndk.reproduce.runner import run_reproduction


def test_reproduction_is_incomplete_until_its_last_claim(tmp_path):
    def good(ctx):
        ctx.data("d", x=np.arange(3))
        ctx.table("t", [{"a": 1, "b": 2.0}])
        ctx.claim("c", "always", True, {"x": 1.0}, "== 1")

    run_reproduction("demo", tmp_path, module=types.SimpleNamespace(TITLE="demo", run=good), echo=lambda s: None)
    meta = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert meta["complete"] is True and meta["passed"] is True
    assert np.load(tmp_path / "demo" / "d.npz")["x"].tolist() == [0, 1, 2]

    def killed(ctx):  # a later run dies half-way, after writing new data
        ctx.data("d", x=np.arange(5))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_reproduction("demo", tmp_path, module=types.SimpleNamespace(TITLE="demo", run=killed), echo=lambda s: None)
    meta = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert meta["complete"] is False and meta["passed"] is False
    assert not [p for p in (tmp_path / "demo").iterdir() if p.name.endswith(".tmp")]  # no temp files left


def test_cli_json_outputs_are_written_atomically(tmp_path, capsys):
    from symndk.cli import main

    out = tmp_path / "v.json"
    assert main(["verify", "--only", "prior.*", "--json", str(out), "--quiet", "--jobs", "1"]) == 0
    assert json.loads(out.read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
