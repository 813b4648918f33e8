"""Biases against neural-tangents (optional oracle; skipped when its venv is absent): NNGP = NT / sigma^2
and the NTK under the explicit parameterisation map of benchmarks/nt_bias.py, depth 1..3, ReLU and erf."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
from scale import nt_python  # noqa: E402


@pytest.mark.skipif(nt_python() is None, reason="neural-tangents venv not installed")
def test_bias_kernels_match_neural_tangents_under_the_explicit_map():
    out = subprocess.run([sys.executable, str(BENCH / "nt_bias.py")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert len(rows) == 18
    for row in rows:
        assert float(row[4]) < 1e-13 and float(row[5]) < 1e-13, row
