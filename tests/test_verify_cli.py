"""`symndk verify` CLI: table, exit codes, --json, --report, --only, unknown activation."""
import json
import subprocess
import sys


def _run(*args):
    return subprocess.run([sys.executable, "-m", "symndk", "verify", "--quiet", *args], capture_output=True, text=True)


def test_only_json_and_report(tmp_path):
    js, md = tmp_path / "v.json", tmp_path / "v.md"
    r = _run("--activation", "relu", "--only", "price.relu", "--jobs", "1", "--json", str(js), "--report", str(md))
    assert r.returncode == 0, r.stderr
    assert "price.relu" in r.stdout and "symbolic" in r.stdout
    data = json.loads(js.read_text())
    assert data == [{"id": "price.relu", "status": "proved", "tier": "symbolic", "residual": 0.0,
                     "seconds": data[0]["seconds"]}]
    text = md.read_text()
    assert "## `price.relu`" in text and "$$" in text and "atan" in text and "\\partial_c" in text


def test_glob_selects_several_with_two_jobs(tmp_path):
    r = _run("--activation", "erf", "--only", "longtime.erf.L*", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert sum(line.startswith("longtime.erf.L") for line in r.stdout.splitlines()) == 5


def test_unknown_activation_one_error_line_exit_2():
    r = _run("--activation", "nope")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symndk: error: unknown activation 'nope'")


def test_no_match_exit_2():
    r = _run("--activation", "linear", "--only", "no.such.id")
    assert r.returncode == 2 and "no identity matches" in r.stderr


def test_failed_identity_gives_exit_1(monkeypatch, capsys):
    import argparse

    from symndk.commands import verify as cmd
    from symndk.identities import engine
    import symndk.checks as checks

    bad = engine.custom_identity("demo.bad", "bad", "1 = 2", lambda: ("failed", 1.0, "1 != 2"))
    monkeypatch.setattr(checks, "catalogue", lambda activations=None: [bad])
    monkeypatch.setattr(cmd, "_IDENTS", [])
    args = argparse.Namespace(only=None, activation=None, json=None, report=None, jobs=1, quiet=True)
    assert cmd.run(args) == 1
    assert "FAILED demo.bad: 1 != 2" in capsys.readouterr().out
