"""The data flow is one-way: numerics and generated code never import SymPy (or Jinja2)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"sympy", "jinja2"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _files(*dirs):
    out = []
    for d in dirs:
        out += sorted((ROOT / d).rglob("*.py"))
    return out


@pytest.mark.parametrize("path", _files("symndk/numerics", "generated"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_symbolic_imports(path):
    bad = _imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("generated"), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_imports_only_numerical_libraries(path):
    allowed = {"numpy", "scipy", "mpmath", "gmpy2", "math", "__future__", "symndk_generated"}
    extra = _imported_roots(path) - allowed
    assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_walker_catches_a_sympy_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import numpy as np\nfrom sympy import Symbol\n")
    assert _imported_roots(f) & FORBIDDEN == {"sympy"}
