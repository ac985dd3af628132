"""How to install an extra, said the way that works where the code runs.

From a source checkout (an editable install, or `python -m` in the repository) the extras come from
the checkout: `pip install -e '.[midi]'` in its folder, `pip install -e '/path/to/checkout[midi]'`
from anywhere else. An installed package has no checkout to point at, so it is
`pip install 'deepdream-live[midi]'`. Every message that names an extra (midi, audio, cluster,
virtualcam, export, cpu, gpu) takes its command from `pip_install`; `version` is the one installed.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

PROJECT = "deepdream-live"
ROOT = Path(__file__).resolve().parents[1]  # the checkout's folder, if this package sits in one


@cache
def checkout(root: Path = ROOT) -> Path | None:
    """`root` if it holds this project's pyproject.toml (a source checkout), else None (an installed package)."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("name") == PROJECT else None


def pip_install(extra: str) -> str:
    """The command that adds `extra`: `pip install 'deepdream-live[extra]'`, or from the checkout with -e."""
    root = checkout(ROOT)
    if root is None:
        return f"pip install '{PROJECT}[{extra}]'"
    try:
        here = Path.cwd() == root
    except OSError:  # started in a folder since deleted
        here = False
    return f"pip install -e '{'.' if here else root}[{extra}]'"


def version() -> str:
    """This program's version as installed ("(not installed)": run from a checkout never installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(PROJECT)
    except PackageNotFoundError:
        return "(not installed)"
