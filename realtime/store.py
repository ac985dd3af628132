"""Where models live: one store in the user's data folder, and a model named by its path or its name.

The store is `platformdirs`' user data folder + `models/` (~/.local/share/deepdream-live/models on
Linux, ~/Library/Application Support/deepdream-live/models on macOS, %LOCALAPPDATA%\\deepdream-live\\
models on Windows), or the folder `DEEPDREAM_MODELS` names, so a tool installed with pip and started
from any folder (a desktop shortcut, a service) finds its models; `deepdream export` writes there
unless `-o` says where. A model's name is its file's stem without `inception_` (`mixed3_mixed5`,
`mix_mixed10`), the one name every command, log line and page shows (`name_of`). `find(text, default)`
turns a `--model` value into a file: a path is taken as it is, a name is looked up in the store, then
in ./models (where earlier releases exported); with no `--model`, a store holding one model only uses
it; nothing found is one line saying what the store holds and how to make or bring the model.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from realtime.errors import UserError, shown
from realtime.install import pip_install

ENV = "DEEPDREAM_MODELS"
PREFIX = "inception_"
LEGACY = Path("models")  # earlier releases exported into ./models: still looked in, so nothing breaks
DEFAULT = "mixed3_mixed5"  # the default objective's model: dream, live, render
MAX_NAME = 200  # bytes: inception_NAME.onnx and its temporary twin (realtime.files) stay within 255
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
    return text.lower().endswith(".onnx") or "/" in text or os.sep in text or is_file(Path(text))


def is_file(path: Path) -> bool:
    """Path.is_file, with a name too long for the system (ENAMETOOLONG) or any other unreadable path as no file."""
    try:
        return path.is_file()
    except OSError:
        return False


def find(text: str | None, default: str = DEFAULT) -> Path:
    """A --model value (a path, a name, or None) -> the model's file. None: `default` if the store (or ./models)
    holds it, else the store's only model (said in one line), else an error listing the names."""
    if text is not None and looks_like_a_path(text):
        return Path(text).expanduser()  # the engine says in one line if it is missing or not ours
    name = default if text is None else text
    for folder in (store(), LEGACY):
        for candidate in (file_for(name, folder), folder / f"{name}.onnx"):
            if is_file(candidate):
                return candidate
    models = held()
    if text is None and default == DEFAULT and len(models) == 1:  # gallery's mix model is no stand-in
        print(f"using model {name_of(models[0])}, the only one in the store", file=sys.stderr, flush=True)
        return models[0]
    raise UserError(missing(name, asked=text is not None))


def missing(name: str, asked: bool) -> str:
    names = ", ".join(name_of(p) for p in held())
    if asked:
        return (
            f"no model named {shown(name)}: the store ({store()}) holds {names or 'no model yet'}; "
            "give a name from those or a .onnx path"
        )
    if names and name == DEFAULT:  # any of them will dream; gallery's mix model is said how to make below
        return f"no {name} model in the store ({store()}); it holds {names}: choose one with --model NAME"
    how = HOW.get(name, f"deepdream export --layers {name.replace('_', ',')}")
    if importlib.util.find_spec("tensorflow") is None:
        how = (
            f"`{how}` on a machine with TensorFlow ({pip_install('export')}), then bring the file "
            "here with `deepdream models add FILE.onnx`"
        )
    else:
        how = f"make it with `{how}`"
    return f"no {name} model in the store ({store()}, which holds {names or 'no model yet'}): {how}"
