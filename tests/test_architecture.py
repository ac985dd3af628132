"""The layers of `realtime/`: the dream computes, media moves frames, the show steers, commands assemble.

The dream part (model, engine, transforms, octaves, flow, stream) must stay free of threads,
sockets and files, so it imports nothing from media, show or commands; media imports no show or
command module. Checked on the source (what a module names), not on what happens to be loaded.
"""
import ast
from pathlib import Path

import pytest

REALTIME = Path(__file__).resolve().parents[1] / "realtime"
ALLOWED = {  # package -> the realtime packages and modules it may import
    "dream": {"dream", "errors"},
    "media": {"dream", "media", "errors", "files", "addresses"},
    "show": {"dream", "media", "show", "errors", "files", "addresses"},
}


def imported(path: Path) -> set[str]:
    """The first component below `realtime.` of every module this file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        names |= {m.split(".")[1] for m in modules if m.startswith("realtime.")}
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_its_layers(package):
    files = sorted((REALTIME / package).glob("*.py"))
    assert files, f"realtime/{package} is empty"
    wrong = {f.name: sorted(imported(f) - ALLOWED[package]) for f in files if imported(f) - ALLOWED[package]}
    assert not wrong, f"realtime/{package} reaches into other layers: {wrong}"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from realtime.show.loop import run\n")
    assert imported(bad) == {"show"}
