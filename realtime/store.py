"""Where models live: one store in the user's data folder, and a model named by its path or its name.

The store is `platformdirs`' user data folder + `models/` (~/.local/share/deepdream-live/models on
Linux, ~/Library/Application Support/deepdream-live/models on macOS, %LOCALAPPDATA%\\deepdream-live\\
models on Windows), or the folder `DEEPDREAM_MODELS` names, so a tool installed with pip and started
from any folder (a desktop shortcut, a service) finds its models; `deepdream export` writes there
unless `-o` says where. A model's name is its file's stem without `inception_` (`mixed3_mixed5`,
`mix_mixed10`). `find(text, default)` turns a `--model` value into a file: a path is taken as it is,
a name is looked up in the store, then in ./models (where earlier releases exported); nothing found
is one line saying what the store holds and how to make or bring the model.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from realtime.errors import UserError

ENV = "DEEPDREAM_MODELS"
PREFIX = "inception_"
LEGACY = Path("models")  # earlier releases exported into ./models: still looked in, so nothing breaks
DEFAULT = "mixed3_mixed5"  # the default objective's model: dream, live, render
GALLERY = "mix_mixed10"  # gallery's: a mix model up to mixed10
HOW = {DEFAULT: "deepdream export", GALLERY: "deepdream export --mix --layers mixed10"}


def store() -> Path:
    """The model store: $DEEPDREAM_MODELS, else the user's data folder's models/."""
    chosen = os.environ.get(ENV)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return platformdirs.user_data_path("deepdream-live", appauthor=False) / "models"


def name_of(path: Path) -> str:
    return Path(path).stem.removeprefix(PREFIX)


def file_for(name: str, folder: Path | None = None) -> Path:
    """Where a model called `name` is written in the store (or `folder`)."""
    return (store() if folder is None else folder) / f"{PREFIX}{name}.onnx"


def held() -> list[Path]:
    """The models in the store, by name."""
    folder = store()
    return sorted((p for p in folder.glob("*.onnx") if p.is_file()), key=name_of) if folder.is_dir() else []


def looks_like_a_path(text: str) -> bool:
    return text.lower().endswith(".onnx") or "/" in text or os.sep in text or Path(text).is_file()


def find(text: str | None, default: str = DEFAULT) -> Path:
    """A --model value (a path, a name, or None for `default`) -> the model's file."""
    if text is not None and looks_like_a_path(text):
        return Path(text).expanduser()  # the engine says in one line if it is missing or not ours
    name = default if text is None else text
    for folder in (store(), LEGACY):
        for candidate in (file_for(name, folder), folder / f"{name}.onnx"):
            if candidate.is_file():
                return candidate
    raise UserError(missing(name, asked=text is not None))


def missing(name: str, asked: bool) -> str:
    names = ", ".join(name_of(p) for p in held()) or "no model yet"
    if asked:
        return f"no model named {name!r}: the store ({store()}) holds {names}; give a name from those or a .onnx path"
    how = HOW.get(name, f"deepdream export --layers {name.replace('_', ',')}")
    if importlib.util.find_spec("tensorflow") is None:
        how = (f"`{how}` on a machine with TensorFlow (pip install 'deepdream-live[export]'), then bring the file "
               "here with `deepdream models add FILE.onnx`")
    else:
        how = f"make it with `{how}`"
    return f"no {name} model in the store ({store()}, which holds {names}): {how}"
