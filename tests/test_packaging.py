"""A non-editable install builds out of the source tree: the wheel (made by the project's own build backend,
as `pip install .` makes it) leaves no build/ or *.egg-info behind and carries both packages and the
pages --serve serves."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.child
def test_the_wheel_builds_elsewhere_and_carries_the_static_files(tmp_path):
    pytest.importorskip("hatchling", reason="the build backend: pip install -e '.[test]'")
    before = {p.name for p in ROOT.iterdir()}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    left = {p.name for p in ROOT.iterdir()} - before
    assert not left, f"the build wrote into the source tree: {sorted(left)}"
    [wheel] = tmp_path.glob("deepdream_live-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    static = {n.rpartition("/")[2] for n in names if n.startswith("realtime/media/static/")}
    assert {"viewer.html", "viewer.js", "glview.js", "control.html", "control.js"} <= static
    assert {"realtime/cli.py", "export/command.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "deepdream = realtime.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
