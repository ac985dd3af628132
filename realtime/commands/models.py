"""`deepdream models`: what the model store holds, and `models add FILE.onnx` to bring one made elsewhere.

The list gives each model's name (what `--model` takes), layers, weights (trained or random), whether
it is a `--mix` model, its size and path, read from the file itself (realtime.dream.model). `add`
checks that a file is one of ours (the check `--model` does) before copying it, with its `.json`
metadata if it has one, into the store under its own file name; a different model of that name
already there is refused, not replaced.
"""
from __future__ import annotations

import sys
from pathlib import Path

from realtime.dream.model import ModelError, ModelInfo
from realtime.errors import UserError
from realtime.files import write_atomic
from realtime.store import PREFIX, held, name_of, store


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
    kind = ("mix" if info.mix_layers else "fixed") + (f",{info.metadata['precision']}" if "precision" in info.metadata else "")
    return [name_of(path), layers, weights, kind, size, str(path)]


def listing() -> str:
    rows = [["name", "layers", "weights", "kind", "size", "path"], *(describe(p) for p in held())]
    if len(rows) == 1:
        return f"the store ({store()}) holds no model yet: `deepdream export` makes one there\n"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def add(source: Path) -> Path:
    """Copy a model made elsewhere into the store, once it is known to be ours."""
    if source.is_dir():
        raise UserError(f"{source} is a folder; give the model's .onnx file")
    if not source.is_file():
        raise UserError(f"no such file: {source}")
    ModelInfo.load(source)  # a ModelError, in one line, for anything that is not a deepdream-live model
    target = store() / (source.name if source.stem.startswith(PREFIX) else f"{PREFIX}{source.name}")
    if target.exists() and target.resolve() != source.resolve():
        if target.read_bytes() != source.read_bytes():
            raise UserError(f"the store already holds a different {name_of(target)} ({target}); remove it first, "
                            "or rename the file you are adding")
        print(f"{name_of(target)} is in the store already: {target}", file=sys.stderr)
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot make the model store {target.parent}: {exc.strerror or exc}") from None
    write_atomic(target, source.read_bytes())
    metadata = source.with_suffix(".json")
    if metadata.is_file():
        write_atomic(target.with_suffix(".json"), metadata.read_bytes())
    print(f"added {name_of(target)} (use --model {name_of(target)})", file=sys.stderr)
    return target
