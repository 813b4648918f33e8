"""No orphans (issue 10 item 7): the time-boxed derivation child dies with its parent, whether the
parent is killed by SIGKILL (PR_SET_PDEATHSIG) or SIGTERM (handler kills the child first).
Before, three children stayed at full CPU for 16-18 minutes after their parent was killed."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""
    import multiprocessing, sys, threading, time
    import sympy as sp
    import symndk.spec.dual as dual
    dual.derive_dual_slow = dual.derive_dual
    def slow(expr, timeout=None):
        if timeout is not None:
            return dual.derive_dual_slow(expr, timeout)
        while True:  # a derivation that never ends, at full CPU
            pass
    dual.derive_dual = slow
    def report():
        while not multiprocessing.active_children():
            time.sleep(0.02)
        print(multiprocessing.active_children()[0].pid, flush=True)
    threading.Thread(target=report, daemon=True).start()
    dual.derive_dual(sp.Symbol("x", real=True), timeout=600)
""")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_derivation_child_dies_with_its_parent(sig):
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        os.kill(parent.pid, sig)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), f"derivation child {child} outlived its parent (signal {sig!r})"
    finally:
        if parent.poll() is None:
            parent.kill()
