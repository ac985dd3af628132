"""The two test tiers, a pytest plugin (tests/conftest.py loads it): `pytest --fast` leaves out every test marked
`export` (exports a model or runs TensorFlow), `child` (starts a process), `ray`, `browser` or `slow`, and enforces
the rule, so nothing slow slips into the fast tier unmarked.

Tests get their marks by hand or from their fixtures (FIXTURE_MARKS). Under --fast a `Guard` is installed for the
session: starting a child process (subprocess, os.fork, os.posix_spawn, os.system) or importing one of
HEAVY_MODULES fails the test that did it, naming the mark it needs. A failure raised in a thread the test started
may be swallowed there, so such a one is also kept in `caught` for the autouse fixture to fail the test with after
it ran. While the test modules are collected, a heavy import raises ModuleNotFoundError instead: a module that
starts with `pytest.importorskip("tensorflow")` is skipped whole.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import subprocess
import sys
import threading

import pytest

MARKS = ("export", "child", "ray", "browser", "slow")  # what the fast tier leaves out
FIXTURE_MARKS = {
    "random_model": "export",
    "half_model": "export",
    "base_model": "export",
    "converted": "export",
    "mix_model": "export",
    "served": "child",
    "browser": "browser",
    "ray_session": "ray",
}
HEAVY_MODULES = {"tensorflow": "export", "tf2onnx": "export", "keras": "export", "ray": "ray", "playwright": "browser"}
SPAWNS = [
    (subprocess.Popen, "_execute_child", "subprocess"),
    (os, "fork", "os.fork"),
    (os, "posix_spawn", "os.posix_spawn"),
    (os, "posix_spawnp", "os.posix_spawnp"),
    (os, "system", "os.system"),
]


class _Refused(importlib.abc.Loader):
    """A found heavy module whose import fails the test: importlib.util.find_spec still answers truly."""

    def __init__(self, guard: Guard, mark: str):
        self.guard, self.mark = guard, mark

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if self.guard.collecting:  # a test module's import: `pytest.importorskip` leaves the module out
            raise ModuleNotFoundError(f"the fast tier imports no {module.__name__}", name=module.__name__)
        self.guard.refuse(f"the fast tier imports no {module.__name__}: mark the test `{self.mark}`")


class Guard(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.caught: list[str] = []
        self.collecting = True  # until pytest_collection_finish: then a heavy import fails the test
        self._patch = pytest.MonkeyPatch()

    def install(self) -> None:
        for owner, name, label in SPAWNS:
            if hasattr(owner, name):
                self._patch.setattr(owner, name, self._spawn_refused(label))
        sys.meta_path.insert(0, self)

    def remove(self) -> None:
        self._patch.undo()
        sys.meta_path.remove(self)

    def refuse(self, message: str):
        if threading.current_thread() is not threading.main_thread():
            self.caught.append(message)  # the thread may swallow the failure: the test fails after it ran
        pytest.fail(message, pytrace=False)

    def _spawn_refused(self, name: str):
        def refused(*args, **kwargs):
            self.refuse(f"the fast tier starts no process ({name}): mark the test `child`")

        return refused

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in HEAVY_MODULES:  # the top-level package: its modules come after it
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is None:
            return None  # not installed: the import fails as it would anyway (importorskip skips)
        return importlib.machinery.ModuleSpec(fullname, _Refused(self, HEAVY_MODULES[fullname]), origin=real.origin)


def pytest_addoption(parser):
    parser.addoption(
        "--fast",
        action="store_true",
        help="the fast tier: leave out the tests marked " + ", ".join(MARKS) + "; an unmarked test "
        "that starts a child process or imports TensorFlow, Ray or Playwright fails",
    )


def pytest_configure(config):
    if config.getoption("--fast"):
        config.fast_guard = Guard()
        config.fast_guard.install()


def pytest_collection_modifyitems(config, items):
    """Mark tests by their fixtures (item.fixturenames holds the fixtures' own fixtures too); with --fast,
    deselect the marked ones."""
    for item in items:
        for fixture in FIXTURE_MARKS.keys() & set(item.fixturenames):
            item.add_marker(FIXTURE_MARKS[fixture])
    if config.getoption("--fast"):
        heavy = [item for item in items if any(item.get_closest_marker(m) for m in MARKS)]
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if item not in heavy]


def pytest_collection_finish(session):
    guard = getattr(session.config, "fast_guard", None)
    if guard is not None:
        guard.collecting = False


def pytest_unconfigure(config):
    guard = getattr(config, "fast_guard", None)
    if guard is not None:
        guard.remove()


@pytest.fixture(autouse=True)
def _fast_tier(request):
    """A process start or a heavy import that a thread of the test swallowed still fails the test."""
    guard = getattr(request.config, "fast_guard", None)
    yield
    if guard is not None and guard.caught:
        caught, guard.caught = guard.caught, []
        pytest.fail(caught[0], pytrace=False)
