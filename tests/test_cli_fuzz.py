"""CLI fuzz (issue 10 item 5): every command's options with bad values end in exit status 2 and
exactly one stderr line, never a traceback.  Most cases run in-process through
``symndk.cli.main`` (fast); a few run as real subprocesses."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from symndk.cli import main
from symndk.errors import SymndkError

BAD_FLOATS = ["nan", "inf", "-inf", "-1", "abc", "1e308", ""]
BAD_INTS = ["0", "-1", "1.5", "abc", "10**6", "1000000000000", ""]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    np.save(d / "X.npy", np.eye(3))
    np.save(d / "y.npy", np.array([1.0, -1.0, 1.0]))
    np.save(d / "ynan.npy", np.array([1.0, np.nan, 1.0]))
    np.save(d / "y2.npy", np.ones(2))
    np.save(d / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (d / "bad.csv").write_text("1,2\n3\n")
    (d / "afile").write_text("a file, not a folder\n")  # unwritable as a folder even for root
    return d


def _cases(d):
    """(argv, ...) lists; each must be refused with exit 2 and one stderr line."""
    missing, ro = str(d / "missing" / "sub" / "out"), str(d / "afile" / "out")
    solve = ["solve", "--task", "synthetic:2,0.5", "--activation", "relu", "--depth", "1", "--T", "0.01",
             "--times", "0,1", "--out", str(d / "ok")]
    sim = ["simulate", "--data", "synthetic:2,0.5", "--width", "8", "--n-networks", "2", "--times", "0,1",
           "--dt", "0.1", "--quiet", "--out", str(d / "oksim")]
    ref = ["reference", "--activation", "relu", "--depth", "1", "--T", "0.01", "--dps", "10", "--times", "1",
           "-o", str(d / "ref.json")]
    cases = []

    def vary(base, opt, values):
        for v in values:
            argv = list(base)
            if opt in argv:
                argv[argv.index(opt) + 1] = v
            else:
                argv += [opt, v]
            cases.append(argv)

    for base in (solve, sim):
        for opt in ("--sigma-sq", "--sigma0-sq", "--T"):
            vary(base, opt, BAD_FLOATS)
        vary(base, "--depth", BAD_INTS + ["101", "100000"])
        vary(base, "--activation", ["nosuch", "/tmp/evil", "../x", "_runtime", "relu_mpmath", ""])
        vary(base, "--task", ["synthetic:nan,0.5", "synthetic:2,nan", "synthetic:0,0.5", "synthetic:-1,0.5",
                              "synthetic:100000000,0.5", "synthetic:2,2", "nosuch:1", "digits:0,0", "digits:0,11",
                              "synthetic:", "synthetic:2", "files"])
        vary(base, "--times", ["nan", "inf", "1,0", "-1,1", "0:1e300:5", "0:1:0", "0:1:-5", "0:1:1e12", "1e300", "0,1e15",
                               "a,b", "", "0:1"])
        vary(base, "--out", [missing, ro])
        cases.append(base + ["--task", "files", "--x-train", str(d / "X.npy"), "--y-train", str(d / "ynan.npy")])
        cases.append(base + ["--task", "files", "--x-train", str(d / "X.npy"), "--y-train", str(d / "y2.npy")])
        cases.append(base + ["--task", "files", "--x-train", str(d / "obj.npy"), "--y-train", str(d / "y.npy")])
        cases.append(base + ["--task", "files", "--x-train", str(d / "bad.csv"), "--y-train", str(d / "y.npy")])
        cases.append(base + ["--task", "files", "--x-train", str(d / "nofile.npy"), "--y-train", str(d / "y.npy")])
    for opt in ("--rtol", "--atol"):
        vary(solve, opt, ["nan", "inf", "-1", "abc", ""])
    for opt, values in (("--width", BAD_INTS + ["100000000"]), ("--n-networks", BAD_INTS + ["100000000"]),
                        ("--seed", ["-1", "abc", "1.5"]), ("--dt", BAD_FLOATS + ["0"]),
                        ("--pairs", ["1", "a:b", "1:", "nan:1", "-1:1", "2:1,"]),
                        ("--freeze-readout-at", BAD_FLOATS), ("--batch-size", ["0", "-1", "abc"]),
                        ("--plot", [missing + ".png", ro + ".png"])):
        vary(sim, opt, values)
    for opt, values in (("--dps", BAD_INTS + ["100000"]), ("--order", BAD_INTS + ["100000"]),
                        ("--T", BAD_FLOATS + ["0"]), ("--r", ["nan", "inf", "abc", "1.5"]), ("--sigma-sq", BAD_FLOATS),
                        ("--depth", BAD_INTS + ["101"]), ("--times", ["nan", "1,0", "-1", "1e300", "a", ""]),
                        ("--jobs", ["0", "-1", "abc"]), ("-o", [missing + ".json", ro + ".json"]),
                        ("--task", ["synthetic:nan,0.5", "synthetic:100,0.5", "digits:0,0", "nosuch:1"]),
                        ("--table", [missing, ro])):
        vary(ref, opt, values)
    for opt, values in (("--n-networks", BAD_INTS), ("--seed", ["-1", "abc"]), ("--json", [missing, ro])):
        for v in values:
            cases.append(["validate", "nosuchcase" if opt == "--json" else "ci", opt, v])
    cases += [["validate", "nosuchcase"], ["reproduce", "nosuch"], ["reproduce", "diffusive", "--jobs", "0"],
              ["reproduce", "diffusive", "--jobs", "-1"], ["reproduce", "diffusive", "--out", missing + "/x" + "\0"],
              ["verify", "--only", "no-such-identity-zzz"], ["verify", "--only", "prior.*", "--json", missing],
              ["verify", "--only", "prior.*", "--report", ro], ["verify", "--jobs", "0"],
              ["generate", "--check", "--out", missing], ["generate", "--update", "--out", str(d / "afile")]]
    for expr in ("(x**64)**64", "exp(x**64)", "x**64", "x**1000000", "x" + "+x" * 5000,
                 "__import__('os')", "x +", "", "y", "nan", "1e309*x", "sin(x)**(2**40)"):
        cases.append(["kernel", expr, "--name", "fuzz1"])
    cases += [["kernel", "x", "--name", "1bad"], ["kernel", "x", "--name", "relu"], ["kernel", "x", "--name", "f", "--tol", "-1"],
              ["kernel", "x", "--name", "f", "--tol", "nan"], ["kernel", "x", "--name", "f", "--timeout", "-1"],
              ["kernel", "x", "--name", "f", "--timeout", "nan"]]
    return cases


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def run_inprocess(argv, capsys, limit=30):
    """(status, stderr lines, stdout) of ``symndk argv`` run in this process, or status 'timeout'."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    except _Timeout:
        status = "timeout"
    except BaseException as exc:  # noqa: BLE001 - a traceback is exactly what the fuzz looks for
        status = f"traceback: {type(exc).__name__}: {str(exc)[:100]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    return status, [line for line in err.splitlines() if line.strip()], out


def test_parser_refuses_huge_degrees_fast():
    """``(x**64)**64`` (11 characters), ``exp(x**64)`` and ``x**64`` ran for minutes; now refused at once."""
    import time

    from symndk.errors import SymndkError
    from symndk.spec.parser import parse_activation

    for text in ("(x**64)**64", "exp(x**64)", "x**64", "tanh(x)*x**20", "1e309*x"):
        t0 = time.perf_counter()
        with pytest.raises(SymndkError, match="degree|range"):
            parse_activation(text)
        assert time.perf_counter() - t0 < 0.5
    assert parse_activation("x**3 + exp(x**2)") is not None


def test_cli_bad_inputs_give_one_line_and_exit_2(files, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    failures, cases = [], _cases(files)
    for argv in cases:
        status, err, _ = run_inprocess(argv, capsys)
        if status != 2 or len(err) != 1 or "Traceback" in "\n".join(err):
            failures.append(f"{' '.join(argv)[:160]!r}: status {status}, stderr {err[-3:]}")
    assert not failures, f"{len(failures)} of {len(cases)} bad-input cases misbehaved:\n" + "\n".join(failures)


@pytest.mark.parametrize("argv", [
    ["solve", "--task", "synthetic:nan,0.5", "--times", "0,1"],
    ["solve", "--sigma-sq", "1e308", "--times", "0,1"],
    ["simulate", "--seed", "-1", "--times", "0,1"],
    ["reference", "--order", "0", "--times", "1"],
    ["kernel", "(x**64)**64", "--name", "fuzzsub"],
])
def test_cli_subprocess_bad_inputs(argv, tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-m", "symndk.cli", *argv], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=60)
    err = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(err) == 1 and "Traceback" not in res.stderr, (res.returncode, res.stderr[-2000:])


@pytest.mark.parametrize("text, message", [("0:1:-3", "1 <= num"), ("0:1:2000000", "1 <= num"), ("1,0", "sorted"),
                                           ("nan,1", "non-finite"), ("0:1e20:3", "must lie in"),
                                           ("-1,2", "must lie in"), ("a,b", "start:stop:num")])
def test_cli_times_are_validated_like_the_api(text, message):
    from symndk.commands._task import parse_times

    with pytest.raises(SymndkError, match=message):
        parse_times(text)
