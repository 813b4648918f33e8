"""Security: activation names never reach the file system, text is never evaluated, symndk never
deletes or loads a file it did not write (issue 10, items 1-3)."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symndk
from symndk.errors import SymndkError

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = "import pathlib\npathlib.Path(__file__).with_suffix('.pwned').write_text('ran')\n"
BAD_NAMES = ["_runtime", "__init__", "relu_mpmath", "relu_mpfr", "../x", "a/b", "", "x" * 80, "1abc", "re lu"]


@pytest.fixture()
def evil(tmp_path):
    """An attacker's module at an absolute path; the test fails if it ever runs."""
    for stem in ("evil", "evil_mpfr", "evil_mpmath"):
        (tmp_path / f"{stem}.py").write_text(PAYLOAD)
    yield str(tmp_path / "evil")
    assert not list(tmp_path.glob("*.pwned")), "an activation name executed a file"


X = np.array([[1.0, 0.0], [0.6, 0.8]])
Y = np.array([1.0, -1.0])

ENTRY_POINTS = {
    "load_kernels": lambda name: symndk.load_kernels(name),
    "nngp_kernel": lambda name: symndk.nngp_kernel(X, activation=name),
    "ntk_kernel": lambda name: symndk.ntk_kernel(X, activation=name),
    "predict": lambda name: symndk.predict(X, Y, X, activation=name, depth=1, times=[1.0]),
    "ntk_equilibrium": lambda name: symndk.ntk_equilibrium(X, Y, X, activation=name, depth=1),
    "simulate": lambda name: symndk.simulate(X, Y, X, activation=name, depth=1, width=8, n_networks=2,
                                             times=[0.1], seed=0),
    "reference": lambda name: symndk.reference(name, 1, "0.5", "1", "0.01", "0.5", ["1"], dps=20),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_absolute_path_name_never_executes(entry, evil):
    with pytest.raises(SymndkError, match="activation name must match"):
        ENTRY_POINTS[entry](evil)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_give_one_error(name):
    with pytest.raises(SymndkError):
        symndk.load_kernels(name)


@pytest.mark.parametrize("command", ["solve", "simulate"])
def test_cli_activation_path_exits_2(command, evil, tmp_path):
    r = subprocess.run([sys.executable, "-m", "symndk", command, "--activation", evil, "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "activation name" in r.stderr


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from symndk.kernels import loader as duals

    folder = duals.cache_dir()
    folder.mkdir(parents=True)
    yield folder
    for name in ("planted", "tampered"):
        duals.forget(name)


def test_unrecorded_cache_module_is_not_loaded(cache):
    (cache / "planted.py").write_text(PAYLOAD)
    with pytest.raises(SymndkError, match="no generated kernels for activation 'planted'"):
        symndk.load_kernels("planted")
    assert not list(cache.glob("*.pwned"))


def test_modified_cache_module_is_refused(cache):
    from symndk.codegen.writer import render_activation
    from symndk.files import write_recorded

    write_recorded(cache, {"tampered.py": render_activation("linear", "numpy")})
    assert symndk.load_kernels("tampered").F(1.0, 1.0, 0.5) == 0.5  # the recorded bytes load
    from symndk.kernels import loader as duals

    duals.forget("tampered")
    with open(cache / "tampered.py", "a") as fh:
        fh.write(PAYLOAD)
    with pytest.raises(SymndkError, match="modified after symndk wrote it"):
        symndk.load_kernels("tampered")
    assert not list(cache.glob("*.pwned"))


INJECTIONS = ["__import__('os').system('touch {m}')", "open('{m}', 'w')", "x.__class__",
              "lambda: 0", "[x for x in ()]", "exec('1')", "eval('x')", "x if x else 1"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_register_activation_never_evaluates_text(text, tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(SymndkError):
        symndk.register_activation("inj_test", text.format(m=marker))
    assert not marker.exists()


def test_register_activation_parses_text():
    from symndk.spec.activations import unregister_activation

    try:
        assert str(symndk.register_activation("txt_square", "x**2").dphi) == "2*x"
    finally:
        unregister_activation("txt_square")


def test_register_activation_refuses_other_objects():
    with pytest.raises(SymndkError, match="text or a SymPy expression"):
        symndk.register_activation("obj_act", 3.5)


def test_no_eval_of_strings_in_the_source():
    """sympify only with strict=True (which refuses strings); no eval; exec only of hash-verified bytes."""
    allowed_exec = {"symndk/kernels/loader.py"}
    offenders = []
    for path in sorted((ROOT / "symndk").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if fn in ("sympify", "S", "parse_expr") and not any(
                    k.arg == "strict" and getattr(k.value, "value", False) is True for k in node.keywords):
                offenders.append(f"{rel}:{node.lineno} {fn}")
            if fn == "eval" or (fn == "exec" and rel not in allowed_exec):
                offenders.append(f"{rel}:{node.lineno} {fn}")
    assert not offenders, offenders


def test_generate_update_keeps_user_files(tmp_path):
    (tmp_path / "my_analysis.py").write_text("print('mine')\n")
    (tmp_path / "setup.py").write_text("# user setup\n")
    stale = tmp_path / "old_act.py"
    stale.write_text("# generated by symndk, do not edit (regenerate: symndk generate --update)\nx = 1\n")
    r = subprocess.run([sys.executable, "-m", "symndk", "generate", "--update", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "my_analysis.py").read_text() == "print('mine')\n"
    assert (tmp_path / "setup.py").read_text() == "# user setup\n"
    assert not stale.exists() and (tmp_path / "relu.py").exists()
    assert re.search(r"removed 1 stale", r.stdout)


def test_generate_refuses_to_overwrite_a_user_file(tmp_path):
    from symndk.codegen.writer import generate_all

    (tmp_path / "relu.py").write_text("# my own relu\n")
    with pytest.raises(SymndkError, match="not written by symndk"):
        generate_all(tmp_path, names=["relu"])
    assert (tmp_path / "relu.py").read_text() == "# my own relu\n"
