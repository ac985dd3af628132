"""A settings file read within bounds: a TOML document of at most 1 MiB, every value one the show can hold.

`read(path)` refuses, in one line naming the file (and the key), what TOML allows or a parser trips
on but no setting means: a FIFO or a device (read without end), a file over `LIMIT` bytes, nesting
deeper than `DEPTH`, an integer beyond 64 bits (TOML's own range), a NUL character (no path or name
holds one), and two spellings of one key in a table (`step-size` and `step_size`: one would be lost).
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from realtime.errors import UserError, shown

LIMIT = 1 << 20  # bytes: a show's settings and playlist fit in a few KiB
DEPTH = 8  # tables and arrays inside one another: [[modulate]] range = [..] is 3 deep
INT64 = 1 << 63


def read(path: Path) -> dict:
    """The parsed document, or UserError saying in one line why not."""
    data = _parse(_text(Path(path)), path)
    _check(data, path)
    return data


def _text(path: Path) -> str:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"--config {path} is a directory; give a .toml file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO waits for a writer, /dev/zero never ends
            raise UserError(f"--config {path} is not a regular file; give a .toml file")
        if info.st_size > LIMIT:
            raise UserError(f"{path} is {info.st_size} bytes; a config holds at most {LIMIT} (1 MiB)")
        with open(path, "rb") as fh:
            raw = fh.read(LIMIT + 1)  # the size can change between the stat and the read
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > LIMIT:
        raise UserError(f"{path} is over {LIMIT} bytes (1 MiB); a config holds less")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: not UTF-8 text (byte {exc.start})") from None


def _parse(text: str, path) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise UserError(f"{path}: arrays or tables nested more than {DEPTH} deep") from None
    except ValueError:  # int() refuses text of more than sys.get_int_max_str_digits() digits
        raise UserError(f"{path}: a number with thousands of digits; TOML integers are 64-bit") from None


def _check(data: dict, path) -> None:
    """Every value in `data`, walked without recursion (the walk itself must not trip on depth)."""
    pending = [("", data, 0)]
    while pending:
        where, value, depth = pending.pop()
        if depth > DEPTH:
            raise UserError(f"{path}: {_key(where)}: arrays or tables nested more than {DEPTH} deep")
        if isinstance(value, dict):
            _same_keys(value, where, path)
            pending += [(f"{where}.{key}" if where else key, item, depth + 1) for key, item in value.items()]
        elif isinstance(value, list):
            pending += [(f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value)]
        elif isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
            raise UserError(f"{path}: {_key(where)}: an integer beyond 64 bits (TOML's range); no setting takes one")
        elif isinstance(value, str) and "\0" in value:
            raise UserError(f"{path}: {_key(where)}: a NUL character; no path or name holds one")


def _key(where: str) -> str:
    """A key path as a message names it: as written where it is plain, else quoted and cut (one line)."""
    return where if where.isprintable() and len(where) <= 80 else shown(where)


def _same_keys(table: dict, where: str, path) -> None:
    seen: dict[str, str] = {}
    for key in table:
        if "\0" in key:
            raise UserError(f"{path}: {_key(where) if where else 'top level'}: a key with a NUL character")
        dest = key.replace("-", "_")
        if dest in seen:
            raise UserError(
                f"{path}: {_key(where) if where else 'top level'}: {shown(seen[dest])} and "
                f"{shown(key)} are one setting; give it once"
            )
        seen[dest] = key
