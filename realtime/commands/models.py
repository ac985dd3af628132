"""`deepdream models`: what the model store holds, and `models add FILE.onnx` to bring one made elsewhere.

The list gives each model's name (what `--model` takes), layers, weights (trained or random), whether
it is a `--mix` model, its size and path, read from the file itself (realtime.dream.model). `add`
checks that a file is one of ours (the check `--model` does) before copying it, with its `.json`
metadata if it has one, into the store as `inception_NAME.onnx` (NAME: the file's name without
`inception_` and `.onnx`, in any case), the name it then prints and `--model` takes; a file not named
`*.onnx` is refused, and so is a different model of that name already there.
"""

from __future__ import annotations

import sys
from pathlib import Path

from realtime.dream.model import ModelError, ModelInfo
from realtime.errors import UserError, shown
from realtime.files import check_writable, write_atomic
from realtime.store import MAX_NAME, file_for, held, is_file, name_of, store


def describe(path: Path) -> list[str]:
    """One row: name, layers, weights, mix, size, path (a file that is not a model says why)."""
    try:
        size = f"{path.stat().st_size / 2**20:.1f} MiB"
        info = ModelInfo.load(path)
    except OSError as exc:  # a link to nothing, a file gone meanwhile
        return [name_of(path), "-", f"unreadable: {exc.strerror or exc}", "-", "-", str(path)]
    except ModelError as exc:
        return [name_of(path), "-", f"unreadable: {str(exc)[:60]}", "-", size, str(path)]
    weights = f"{info.weights} ({'trained' if info.trained else 'untrained'})"
    layers = ",".join(info.mix_layers[-1:]) if info.mix_layers else ",".join(info.layers)
    kind = ("mix" if info.mix_layers else "fixed") + (
        f",{info.metadata['precision']}" if "precision" in info.metadata else ""
    )
    return [name_of(path), layers, weights, kind, size, str(path)]


def listing() -> str:
    rows = [["name", "layers", "weights", "kind", "size", "path"], *(describe(p) for p in held())]
    if len(rows) == 1:
        return f"the store ({store()}) holds no model yet: `deepdream export` makes one there\n"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def add(source: Path) -> Path:
    """Copy a model made elsewhere into the store, once it is known to be ours, as inception_NAME.onnx."""
    _check_source(source)
    ModelInfo.load(source)  # a ModelError, in one line, for anything that is not a deepdream-live model
    name = name_of(source)
    target = file_for(name)
    if target.is_dir():
        raise UserError(f"the store holds a folder named {target.name} ({target}); move it away first")
    if target.exists():
        if target.resolve() != source.resolve() and target.read_bytes() != source.read_bytes():
            raise UserError(
                f"the store already holds a different {name} ({target}); remove it first, "
                "or rename the file you are adding"
            )
        print(f"{name} is in the store already: {target}", file=sys.stderr)
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot make the model store {target.parent}: {exc.strerror or exc}") from None
    check_writable(target)  # a read-only store: one line, before anything is written
    write_atomic(target, source.read_bytes())
    metadata = source.with_suffix(".json")
    if is_file(metadata):
        write_atomic(target.with_suffix(".json"), metadata.read_bytes())
    print(f"added {name} (use --model {name})", file=sys.stderr)
    return target


def _check_source(source: Path) -> None:
    """A readable file whose name gives a name `--model` takes: NAME.onnx (any case), NAME short enough."""
    try:
        if source.is_dir():
            raise UserError(f"{source} is a folder; give the model's .onnx file")
        if not source.is_file():
            raise UserError(f"no such file: {source}")
    except OSError as exc:  # a name too long for the system, a folder we may not enter
        raise UserError(f"cannot read {shown(str(source))}: {exc.strerror or exc}") from None
    name = name_of(source)
    if source.suffix.lower() != ".onnx" or not name or name.lower().endswith(".onnx"):
        raise UserError(f"{shown(str(source))}: a model's file is NAME.onnx, and NAME is what --model takes; rename it")
    if len(name.encode()) > MAX_NAME:
        raise UserError(
            f"{shown(name)} is {len(name)} characters long: a model's name has at most {MAX_NAME} "
            "(the store keeps it as a file name); rename the file"
        )
