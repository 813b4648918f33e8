"""CLI basics: unknown commands and bad flags give one error line and exit 2."""
import subprocess
import sys


def _run(*args):
    return subprocess.run([sys.executable, "-m", "symndk", *args], capture_output=True, text=True)


def test_unknown_command_exits_2():
    r = _run("no-such-command")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "error" in r.stderr


def test_help_lists_commands():
    r = _run("--help")
    assert r.returncode == 0
    assert "COMMAND" in r.stdout
