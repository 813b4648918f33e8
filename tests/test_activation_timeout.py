"""The code generation of a new activation's closed forms runs under --timeout too (it used to hang: the
Gabor-like exp(-x^2/2) cos(2x) spent > 5 minutes expanding series in codegen.stable.small_scale, with the
default 60 s limit applying to the derivation only). Past the limit the kernels are evaluated numerically,
with a warning."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symndk.checks.activation import _generate
from symndk.errors import SymndkError, SymndkWarning
from symndk.spec.dual import DualKernels

CLOSED = DualKernels(1, 1, None, None, 1, 1, "stand-in closed forms")


def _writer(name, staging, expr, dual):
    """Writes one file, then hangs on closed forms (as the series analysis did); numeric ones are quick."""
    (Path(staging) / f"{name}.py").write_text("partial")
    if dual.F is not None:
        time.sleep(60)
    (Path(staging) / f"{name}.py").write_text("numeric")
    return [Path(staging) / f"{name}.py"]


def test_a_hanging_generation_falls_back_to_numeric_kernels(tmp_path):
    start = time.perf_counter()
    with pytest.warns(SymndkWarning, match="took more than 0.5 s; its kernels are evaluated numerically"):
        paths, dual = _generate(_writer, "demo", tmp_path, None, CLOSED, 0.5)
    assert time.perf_counter() - start < 10                     # foil: without the time box, 60 s
    assert dual.F is None and dual.V is None and "evaluated numerically" in dual.method
    assert [p.read_text() for p in paths] == ["numeric"] and sorted(tmp_path.iterdir()) == paths


def test_a_quick_generation_keeps_the_closed_forms(tmp_path):
    quick = DualKernels(None, 1, None, None, 1, 1, "F numeric, the rest closed")
    paths, dual = _generate(_writer, "demo", tmp_path, None, quick, 30)
    assert dual is quick and [p.read_text() for p in paths] == ["numeric"]


def test_a_failing_generation_is_one_error_line(tmp_path):
    def broken(name, staging, expr, dual):
        raise ValueError("bad node\nsecond line")

    with pytest.raises(SymndkError, match=r"generating the kernels of 'demo' failed: ValueError: bad node$"):
        _generate(broken, "demo", tmp_path, None, CLOSED, 30)


@pytest.mark.slow
def test_gabor_finishes_within_its_time_limits(tmp_path):
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "symndk", "kernel", "exp(-x**2/2)*cos(2*x)", "--name", "gabor_t",
                        "--timeout", "10"], capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)}, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "evaluated numerically" in r.stderr and "all checks passed" in r.stdout
    assert time.perf_counter() - start < 120                    # measured 16.6 s; it ran > 5 min before
