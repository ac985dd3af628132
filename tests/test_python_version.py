"""The Python the project says it needs: pyproject's requires-python covers every standard-library module the
packages import that is newer than some Pythons (tomllib: 3.11), and the README names the same version."""

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Standard-library modules added after Python 3.8, with the version that added them.
ADDED_IN = {"zoneinfo": (3, 9), "graphlib": (3, 9), "tomllib": (3, 11)}


def _required() -> tuple[int, int]:
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    major, minor = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec.strip()).groups()
    return int(major), int(minor)


def _imported(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_requires_python_covers_the_standard_library_the_packages_import():
    used = set().union(*(_imported(ROOT / package) for package in ("realtime", "export")))
    needed = max((ADDED_IN[name] for name in used if name in ADDED_IN), default=(3, 8))
    assert _required() >= needed, f"pyproject's requires-python allows {_required()}, the code needs {needed}"


def test_the_readme_names_the_python_pyproject_requires():
    claims = re.findall(r"Python (\d+)\.(\d+)\+", (ROOT / "README.md").read_text())
    assert claims, "the README says which Python it needs"
    assert {(int(a), int(b)) for a, b in claims} == {_required()}
