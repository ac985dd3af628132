"""The layers of `realtime/`: the dream computes, media moves frames, steer changes a show, run runs it,
commands assemble.

The dream part (model, engine, transforms, octaves, flow, stream) must stay free of threads,
sockets, processes and windows: it imports nothing from media, steer, run or commands, nor threading,
socket, http, subprocess or pygame; media imports no steer, run or command module; steer imports nothing
from run (what runs a show uses what steers it, never the other way). Checked on the source (what a
module names), not on what happens to be loaded.
"""

import ast
from pathlib import Path

import pytest

REALTIME = Path(__file__).resolve().parents[1] / "realtime"
ALLOWED = {  # package -> the realtime packages and modules it may import
    # store (where models live, their one name) and install (how to add an extra) are leaves like errors
    "dream": {"dream", "errors", "store", "install"},
    "media": {"dream", "media", "errors", "files", "addresses", "quiet", "install"},
    "steer": {"dream", "media", "steer", "errors", "files", "addresses", "quiet", "install"},
    "run": {"dream", "media", "steer", "run", "errors", "files", "addresses", "quiet", "install"},
    # what a study adds to a run: protocols, trial order, events, LSL, the photodiode patch, replay
    "lab": {"dream", "media", "steer", "run", "lab", "errors", "files", "addresses", "quiet", "install", "tomlfile"},
}


FORBIDDEN = {  # package -> modules outside realtime it must not import
    "dream": {"threading", "socket", "http", "subprocess", "pygame", "multiprocessing", "concurrent", "asyncio"},
}


def modules(path: Path) -> set[str]:
    """Every module this file imports (absolute imports), anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def imported(path: Path) -> set[str]:
    """The first component below `realtime.` of every module this file imports."""
    return {m.split(".")[1] for m in modules(path) if m.startswith("realtime.")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_its_layers(package):
    files = sorted((REALTIME / package).glob("*.py"))
    assert files, f"realtime/{package} is empty"
    wrong = {f.name: sorted(imported(f) - ALLOWED[package]) for f in files if imported(f) - ALLOWED[package]}
    assert not wrong, f"realtime/{package} reaches into other layers: {wrong}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_dream_has_no_threads_sockets_processes_or_windows(package):
    wrong = {
        f.name: sorted(m for m in modules(f) if m.split(".")[0] in FORBIDDEN[package])
        for f in sorted((REALTIME / package).glob("*.py"))
    }
    assert not {k: v for k, v in wrong.items() if v}, f"realtime/{package} imports what it must not: {wrong}"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from realtime.run.loop import run\n    import threading, http.server\n")
    assert imported(bad) == {"run"}
    assert {m.split(".")[0] for m in modules(bad)} & FORBIDDEN["dream"] == {"threading", "http"}
