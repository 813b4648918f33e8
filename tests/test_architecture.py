"""The import table: which layer may import which, enforced on every module's import statements.

Data flows one way, bottom to top. A module may import its own package and the layers in its row,
nothing else from symndk; third-party imports must be in its row too (the standard library is
always allowed, except in ``symndk_generated``). Function-local imports count, relative imports are
resolved, and ``importlib.import_module("constant.name")`` counts as an import.

| layer | packages | may import (symndk) | third-party |
|---|---|---|---|
| base | `symndk.errors`, `symndk.names`, `symndk.files`, `symndk.results`, `symndk.validation` | base | numpy |
| runtime | `symndk.runtime` | base | - (pure arithmetic: no numpy, no sympy) |
| spec | `symndk.spec` | base, runtime | sympy, mpmath |
| identities | `symndk.identities` | base, runtime, spec | sympy, mpmath |
| codegen | `symndk.codegen` | base, runtime, spec, identities | sympy, mpmath, jinja2 |
| generated | `symndk_generated` | - | numpy, scipy, mpmath, gmpy2 (stdlib: math only) |
| backend | `symndk.backend` | base | numpy, array_api_compat |
| kernels | `symndk.kernels` | base, runtime, generated, backend | numerics, array_api_compat |
| dynamics | `symndk.dynamics` | base, runtime, generated, backend, kernels | numerics |
| certified | `symndk.certified` | base, runtime, generated, kernels, dynamics | numerics |
| langevin | `symndk.langevin` | base, runtime, generated, kernels, dynamics | numerics |
| data | `symndk.data` | base | numpy; optional loaders sklearn, mlxtend |
| model | `symndk.model` | all rows above | numerics |
| checks | `symndk.checks` | all rows above | numerics, sympy |
| api | `symndk` (the lazy facade), `symndk.api` | all rows above | numerics |
| sweep | `symndk.sweep` | all rows above | numerics, dask, distributed |
| reproduce | `symndk.reproduce` | all rows above | numerics, matplotlib |
| commands | `symndk.commands` | all rows above | numerics, matplotlib |
| cli | `symndk.cli`, `symndk.__main__` | all rows above | - |

"numerics" = numpy, scipy, mpmath, gmpy2, tqdm, threadpoolctl. The numerics packages (runtime,
kernels, dynamics, certified, langevin) and generated never import sympy or jinja2, directly or
through spec/identities/codegen/checks; a subprocess test also checks it transitively.
``from symndk import __version__`` is allowed everywhere; ``from symndk import data`` is an import of
``symndk.data``; any other name imported from the ``symndk`` facade is an import of the api layer.

Known violations of today's code are listed in :data:`KNOWN_VIOLATIONS` (each with the fix it
needs); the test fails on a new violation and on a listed one that is gone, so the list only shrinks.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names)
NUMERICS = frozenset({"numpy", "scipy", "mpmath", "gmpy2", "tqdm", "threadpoolctl"})
SYMBOLIC = frozenset({"sympy", "jinja2"})


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]            # package/module prefixes; "symndk" means the root module only
    imports: tuple[str, ...]            # other layers it may import (its own layer always)
    third_party: frozenset[str]
    stdlib: frozenset[str] | None = None  # None: the whole standard library


_BELOW_API = ("base", "runtime", "spec", "identities", "codegen", "generated", "backend",
              "kernels", "dynamics", "certified", "langevin", "data", "model", "checks")

#: bottom to top; a layer may only import layers listed before it
LAYERS = (
    Layer("base", ("symndk.errors", "symndk.names", "symndk.files", "symndk.results", "symndk.validation"), (),
          frozenset({"numpy"})),
    Layer("runtime", ("symndk.runtime",), ("base",), frozenset()),
    Layer("spec", ("symndk.spec",), ("base", "runtime"), frozenset({"sympy", "mpmath"})),
    Layer("identities", ("symndk.identities",), ("base", "runtime", "spec"), frozenset({"sympy", "mpmath"})),
    Layer("codegen", ("symndk.codegen",), ("base", "runtime", "spec", "identities"),
          frozenset({"sympy", "mpmath", "jinja2"})),
    Layer("generated", ("symndk_generated",), (), frozenset({"numpy", "scipy", "mpmath", "gmpy2"}),
          stdlib=frozenset({"math", "__future__"})),
    Layer("backend", ("symndk.backend",), ("base",), frozenset({"numpy", "array_api_compat"})),
    Layer("kernels", ("symndk.kernels",), ("base", "runtime", "generated", "backend"), NUMERICS | {"array_api_compat"}),
    Layer("dynamics", ("symndk.dynamics",), ("base", "runtime", "generated", "backend", "kernels"), NUMERICS),
    Layer("certified", ("symndk.certified",), ("base", "runtime", "generated", "kernels", "dynamics"), NUMERICS),
    Layer("langevin", ("symndk.langevin",), ("base", "runtime", "generated", "kernels", "dynamics"), NUMERICS),
    Layer("data", ("symndk.data",), ("base",), frozenset({"numpy", "sklearn", "mlxtend"})),
    Layer("model", ("symndk.model",), _BELOW_API[:-2], NUMERICS),
    Layer("checks", ("symndk.checks",), _BELOW_API[:-1], NUMERICS | {"sympy"}),
    Layer("api", ("symndk", "symndk.api"), _BELOW_API, NUMERICS),
    Layer("sweep", ("symndk.sweep",), _BELOW_API + ("api",), NUMERICS | {"dask", "distributed"}),
    Layer("reproduce", ("symndk.reproduce",), _BELOW_API + ("api", "sweep"), NUMERICS | {"matplotlib"}),
    Layer("commands", ("symndk.commands",), _BELOW_API + ("api", "sweep", "reproduce"), NUMERICS | {"matplotlib"}),
    Layer("cli", ("symndk.cli", "symndk.__main__"), _BELOW_API + ("api", "sweep", "reproduce", "commands"),
          frozenset()),
)
BY_NAME = {layer.name: layer for layer in LAYERS}
NUMERICS_LAYERS = ("runtime", "kernels", "dynamics", "certified", "langevin", "generated")

#: (file, imported module) -> why it is wrong and what fixes it. Shrink only.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path = ROOT) -> str:
    """``symndk/a/b.py`` -> ``symndk.a.b``; ``generated/x.py`` -> ``symndk_generated.x``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] == "generated":
        parts[0] = "symndk_generated"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for d in ("symndk", "generated") for p in (root / d).rglob("*.py") if "__pycache__" not in p.parts)


KNOWN_MODULES = frozenset(module_name(p) for p in source_files())


def _dynamic_target(node: ast.Call) -> str | None:
    """The module of ``import_module("a.b")`` / ``import_module(f"a.b.{x}")`` (then ``a.b``)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "import_module" or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        return prefix.rsplit(".", 1)[0] if "." in prefix else None
    return None


def imports_of(path: Path, module: str, known=KNOWN_MODULES) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, function-local ones included."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    out.append((node.lineno, sub))
                elif target == "symndk" and alias.name == "__version__":
                    out.append((node.lineno, "symndk.errors"))  # version metadata: base
                else:
                    out.append((node.lineno, target))
        elif isinstance(node, ast.Call) and (target := _dynamic_target(node)):
            out.append((node.lineno, target))
    return out


def layer_of(module: str) -> Layer | None:
    best, best_len = None, -1
    for layer in LAYERS:
        for prefix in layer.modules:
            exact_only = prefix == "symndk"
            if module == prefix or (not exact_only and module.startswith(prefix + ".")):
                if len(prefix) > best_len:
                    best, best_len = layer, len(prefix)
    return best


def violations(path: Path, module: str, known=KNOWN_MODULES) -> list[tuple[int, str, str]]:
    """(line, imported module, rule broken) for every import the table does not allow."""
    layer = layer_of(module)
    if layer is None:
        return [(0, module, "module is not in the import table")]
    out = []
    for line, target in imports_of(path, module, known):
        root = target.split(".")[0]
        if root in ("symndk", "symndk_generated"):
            dest = layer_of(target)
            if dest is None:
                out.append((line, target, "imports a symndk module that is not in the table"))
            elif dest is not layer and dest.name not in layer.imports:
                out.append((line, target, f"{layer.name} may not import {dest.name}"))
        elif root in STDLIB:
            if layer.stdlib is not None and root not in layer.stdlib:
                out.append((line, target, f"{layer.name} may import only {sorted(layer.stdlib)} of the stdlib"))
        elif root not in layer.third_party:
            out.append((line, target, f"{layer.name} may not import third-party {root}"))
    return out


def all_violations(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        for line, target, rule in violations(path, module_name(path, root)):
            msg = f"{rel}:{line} imports {target}: {rule}"
            if msg not in found.setdefault((rel, target), []):
                found[(rel, target)].append(msg)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """layer -> layers and third-party packages it imports today (print it with ``python tests/test_architecture.py``)."""
    graph: dict[str, set[str]] = {}
    for path in source_files(root):
        module = module_name(path, root)
        src = layer_of(module)
        src_name = src.name if src else module
        for _, target in imports_of(path, module):
            top = target.split(".")[0]
            if top in ("symndk", "symndk_generated"):
                dest = layer_of(target)
                name = dest.name if dest else target
            elif top in STDLIB:
                continue
            else:
                name = top
            if name != src_name:
                graph.setdefault(src_name, set()).add(name)
    return graph


# --------------------------------------------------------------------------- the table itself

def test_table_is_one_way():
    seen = set()
    for layer in LAYERS:
        assert set(layer.imports) <= seen, f"{layer.name} imports a layer above it: {set(layer.imports) - seen}"
        seen.add(layer.name)


def test_numerics_layers_are_free_of_symbolic_code_by_table():
    symbolic_layers = {"spec", "identities", "codegen", "checks"}
    for name in NUMERICS_LAYERS:
        layer = BY_NAME[name]
        assert not layer.third_party & SYMBOLIC, name
        assert not set(layer.imports) & symbolic_layers, name
    assert not BY_NAME["runtime"].third_party, "runtime is pure arithmetic"


def test_every_module_is_in_the_table():
    missing = [module_name(p) for p in source_files() if layer_of(module_name(p)) is None]
    assert not missing, f"add these to LAYERS in tests/test_architecture.py: {missing}"


def test_every_package_with_modules_has_an_init():
    for d in (ROOT / "symndk", ROOT / "generated"):
        for sub in [d, *(p for p in d.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
            if any(sub.glob("*.py")):
                assert (sub / "__init__.py").is_file(), f"{sub.relative_to(ROOT)} has modules but no __init__.py"


def _table_rows(text: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]
    return [r for r in rows if r[0] != "layer"]


def test_docstring_table_matches_layers_and_readme():
    rows = _table_rows(__doc__)
    assert [r[0] for r in rows] == [layer.name for layer in LAYERS]
    seen: list[str] = []
    for (name, modules, imports, _), layer in zip(rows, LAYERS):
        assert modules.replace(" (the lazy facade)", "") == ", ".join(f"`{m}`" for m in layer.modules), name
        expected = ("all rows above" if set(layer.imports) == set(seen) and len(seen) > 6
                    else ", ".join(("base",) * (name == "base") + layer.imports) or "-")
        assert imports == expected, f"{name}: docstring says {imports!r}, LAYERS says {expected!r}"
        seen.append(name)
    readme = (ROOT / "README.md").read_text()
    assert _table_rows(readme[readme.index("**Import table.**"):]) == rows, "README's import table differs from this docstring"


# --------------------------------------------------------------------------- the code

def test_imports_follow_the_table():
    found = all_violations()
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    assert not new, "imports the table forbids:\n" + "\n".join(m for v in new.values() for m in v)


def test_known_violations_are_still_there():
    gone = set(KNOWN_VIOLATIONS) - set(all_violations())
    assert not gone, f"fixed, so remove from KNOWN_VIOLATIONS: {sorted(gone)}"


def test_numerics_do_not_load_sympy_or_jinja2_at_import():
    """Transitively: importing every numerics module (and symndk itself) loads neither library."""
    exempt = {path for path, _ in KNOWN_VIOLATIONS}
    modules = sorted(module_name(p) for p in source_files()
                     if layer_of(module_name(p)).name in NUMERICS_LAYERS and p.relative_to(ROOT).as_posix() not in exempt)
    code = ("import importlib, sys, symndk\n"
            f"for m in {modules!r}:\n    importlib.import_module(m)\n"
            "print(sorted(k for k in ('sympy', 'jinja2') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"a numerics import loads {out.stdout.strip()}"


# --------------------------------------------------------------------------- the walker can fail

def test_walker_catches_forbidden_imports(tmp_path):
    pkg = tmp_path / "symndk" / "dynamics"
    pkg.mkdir(parents=True)
    foil = pkg / "foil.py"
    foil.write_text(
        "import numpy as np\n"
        "from symndk.kernels import loader\n"
        "def f():\n"
        "    import sympy\n"                      # function-local
        "    from ..spec import dual\n"           # relative, resolves to symndk.spec.dual
        "    from symndk import predict\n"        # the api facade, from below it
        "    import importlib\n"
        "    return importlib.import_module('symndk.commands.verify')\n")
    known = KNOWN_MODULES | {"symndk.spec.dual"}
    got = {(line, target) for line, target, _ in violations(foil, "symndk.dynamics.foil", known)}
    assert got == {(4, "sympy"), (5, "symndk.spec.dual"), (6, "symndk"), (8, "symndk.commands.verify")}


def test_walker_catches_unknown_modules_and_generated_stdlib(tmp_path):
    foil = tmp_path / "x.py"
    foil.write_text("import os\nimport math\n")
    assert [t for _, t, _ in violations(foil, "symndk_generated.x")] == ["os"]
    assert violations(foil, "symndk.newpackage.x")[0][2] == "module is not in the import table"
    assert [t for _, t, _ in violations(foil, "symndk.runtime.x")] == []
    foil.write_text("import numpy\n")
    assert [t for _, t, _ in violations(foil, "symndk.runtime.x")] == ["numpy"]


if __name__ == "__main__":
    for src, dests in sorted(import_graph().items()):
        print(f"{src:12s} -> {', '.join(sorted(dests))}")
    for key, msgs in sorted(all_violations().items()):
        print("VIOLATION", *msgs, sep="\n  ")
