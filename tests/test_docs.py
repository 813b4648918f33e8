"""Documentation: every module's examples run in the default suite, every package says what flows
in and out, and code citations point inside the repository."""
import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_doctests_of_every_module_are_collected():
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in opts["addopts"] and "symndk" in opts["testpaths"]


def test_every_package_opens_with_an_in_out_docstring():
    for init in sorted((ROOT / "symndk").rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert doc, f"{init.relative_to(ROOT)} has no docstring"


def test_citations_point_inside_the_repository():
    cited = set()
    for path in list((ROOT / "symndk").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        text = path.read_text()
        assert not re.search(r"\b(THEORY|NUMERICS)(_NEXT)?\.md", text), path
        cited |= set(re.findall(r"docs/(\w+)\.md", text))
    assert cited and all((ROOT / "docs" / f"{name}.md").is_file() for name in cited), cited
