"""The wheel installs as a package (not ``-e``) and works from outside the source tree.

The test copies the source tree to a temp folder (so no ``build/`` or ``*.egg-info`` lands in the
checkout), builds the wheel with ``pip wheel --no-deps`` (without build isolation when this
environment already has the build backend, else pip fetches it from its configured index),
checks what the wheel holds, and installs it with ``pip install --no-deps --force-reinstall``
(no ``-e``) into a fresh virtual environment.

The environment is made with ``--system-site-packages`` so that numpy, scipy, sympy, mpmath,
gmpy2, jinja2 ... are reused rather than downloaded; when the tests themselves run inside a
virtual environment (CI does), that environment's site-packages are added after the new one's with
a ``.pth`` file, for the same reason. Either may hold an editable install of symndk that points at
the checkout: the wheel installed in the new environment comes first on ``sys.path``, and the test
asserts that ``symndk`` and ``symndk_generated`` are imported from the new environment and that no
``sys.path`` entry lies in the source tree. The checks run with ``python -I`` from a working
directory outside the source tree: a small ``predict``, ``nngp_kernel``, ``reference`` (10 digits)
and the console script's ``symndk verify --only prior``.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TOP_LEVEL_SKIP = {".git", ".venv", "venv", "build", "dist", ".pytest_cache", ".hypothesis",
                   "out", "results", "symndk-reproduce"}
BIN = "Scripts" if os.name == "nt" else "bin"


def _ignore(folder, names):
    skip = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
    if Path(folder).resolve() == ROOT:
        skip |= _TOP_LEVEL_SKIP & set(names)
    return skip


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(cmd, cwd, timeout=300) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _backend_installed(src: Path) -> bool:
    """Whether this environment satisfies ``build-system.requires`` (then build without isolation)."""
    requires = tomllib.loads((src / "pyproject.toml").read_text())["build-system"]["requires"]
    for req in requires:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*(?:>=\s*([0-9]+)[0-9.]*)?\s*", req)
        if not m:
            return False
        try:
            have = importlib.metadata.version(m.group(1))
        except importlib.metadata.PackageNotFoundError:
            return False
        if m.group(2) and int(have.split(".")[0]) < int(m.group(2)):
            return False
    return True


def build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", src]
    if _backend_installed(src):
        cmd.insert(4, "--no-build-isolation")
    _run(cmd, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("symndk-*.whl")
    return wheel


def missing_from_wheel(root: Path, names: set[str]) -> list[str]:
    """Source files (and package ``__init__``) the wheel ``names`` must hold but do not."""
    want = []
    for d in [root / "symndk", *(p for p in (root / "symndk").rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        if any(d.glob("*.py")):
            want.append((d / "__init__.py").relative_to(root).as_posix())  # a package, so it must be one
    for pattern in ("*.py", "*.j2", "*.json", "*.csv"):
        want += [p.relative_to(root).as_posix() for p in (root / "symndk").rglob(pattern) if "__pycache__" not in p.parts]
    want += ["symndk_generated/" + p.name for pattern in ("*.py", "*.c") for p in (root / "generated").glob(pattern)]
    return sorted(set(want) - names)


def test_missing_from_wheel_can_fail(tmp_path):
    (tmp_path / "symndk" / "sub").mkdir(parents=True)
    (tmp_path / "generated").mkdir()
    (tmp_path / "symndk" / "__init__.py").write_text("")
    (tmp_path / "symndk" / "sub" / "m.py").write_text("")
    (tmp_path / "symndk" / "t.j2").write_text("")
    (tmp_path / "generated" / "relu.py").write_text("")
    (tmp_path / "generated" / "relu.c").write_text("")
    assert missing_from_wheel(tmp_path, {"symndk/__init__.py", "symndk/sub/m.py"}) == [
        "symndk/sub/__init__.py", "symndk/t.j2", "symndk_generated/relu.c", "symndk_generated/relu.py"]


CHECK = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import numpy as np
    import symndk, symndk_generated

    root = Path(sys.argv[1]).resolve()
    assert not any(Path(p or '.').resolve().is_relative_to(root) for p in sys.path), sys.path

    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    y = np.array([1.0, -1.0, 0.5])
    Xt = np.array([[0.8, 0.6]])
    res = symndk.predict(X, y, Xt, activation="relu", depth=2, sigma0_sq=0.5, sigma_sq=1.0, T=0.01,
                         times=np.array([0.1, 1.0, 10.0]), rtol=1e-6)
    assert res.test.shape == (3, 1) and np.all(np.isfinite(res.test))
    K = symndk.nngp_kernel(X, Xt, activation="erf", depth=2)
    ref = symndk.reference("relu", 1, T=0.01, times=(1.0, 10.0), dps=10, jobs=1)
    assert min(ref.digits) >= 10, ref.digits
    from symndk.kernels.loader import load
    print(json.dumps({"symndk": symndk.__file__, "symndk_generated": symndk_generated.__file__,
                      "kernels": type(K).__name__, "compiled": hasattr(load("erf"), "library")}))
""")


def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    wheel = build_wheel(tmp_path)

    names = set(zipfile.ZipFile(wheel).namelist())
    assert not missing_from_wheel(ROOT, names), f"the wheel lacks {missing_from_wheel(ROOT, names)}"
    assert any(n.startswith("symndk/codegen/templates/") and n.endswith(".j2") for n in names)
    assert any(n.startswith("symndk/reference_tables/") and n.endswith(".json") for n in names)
    assert "symndk/reference_tables/synthetic.csv" in names
    assert "symndk_generated/__init__.py" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=tmp_path)
    python = venv / BIN / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    parent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_parent_environment.pth").write_text("".join(p + "\n" for p in sorted(parent)))
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--force-reinstall",
          "--no-index", wheel], cwd=tmp_path)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "check.py").write_text(CHECK)
    out = _run([python, "-I", outside / "check.py", ROOT], cwd=outside)
    files = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    for name in ("symndk", "symndk_generated"):
        assert Path(files[name]).resolve().is_relative_to(venv.resolve()), f"{name} imported from {files[name]}"
    assert files["kernels"] == "KernelPair"
    from symndk.kernels.loader import load
    assert files["compiled"] == hasattr(load("erf"), "library")   # the C kernels ship and compile as in the source tree

    verify = _run([venv / BIN / "symndk", "verify", "--only", "prior"], cwd=outside)
    assert re.search(r"\b0 failed\b", verify.stdout), verify.stdout
    assert "prior." in verify.stdout
