"""Where each key of a TOML document is written, so an error can name its line.

tomllib gives values no positions, so `KeyLines(text)` reads the text once: table headers (`[dose]`,
`[dose.zero]`, the n-th `[[block]]`) and `key = value` lines (dotted keys too), skipping comments and
the insides of multi-line strings. `line(path)` is the line of the key at `path`, a tuple of names and
array-table numbers as the parsed document nests them (`("block", 2, "order")`: the second `[[block]]`'s
order). A key it cannot see (inside an inline table, or missing) falls back to the nearest enclosing one
that it can: the inline table's key, the table's header.
"""

from __future__ import annotations

import re

_BARE = r"[A-Za-z0-9_-]+"
_PART = rf'(?:{_BARE}|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_ARRAY = re.compile(rf"\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE = re.compile(rf"\s*\[\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"\s*({_DOTTED})\s*=")
_SPLIT = re.compile(rf"\s*({_PART})\s*(?:\.|$)")
_TRIPLE = re.compile(r'"""|\'\'\'')


def name(key: str) -> str:
    """A key as the document's dict holds it, spelled with _ (the protocol takes step-size and step_size)."""
    if key[:1] in "\"'":
        key = key[1:-1]
    return key.replace("-", "_")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(name(m.group(1)) for m in _SPLIT.finditer(dotted) if m.group(1))


class KeyLines:
    def __init__(self, text: str) -> None:
        self.lines: dict[tuple, int] = {}
        arrays: dict[tuple, int] = {}  # an array table's path -> how many of its headers so far
        prefix: tuple = ()
        in_string = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if line.count(in_string) % 2:
                    in_string = ""
                continue
            if match := _ARRAY.match(line):
                path = _parts(match.group(1))
                arrays[path] = arrays.get(path, 0) + 1
                prefix = (*path, arrays[path])
                self.lines.setdefault(prefix, number)
            elif match := _TABLE.match(line):
                prefix = _parts(match.group(1))
                self.lines.setdefault(prefix, number)
            elif match := _KEY.match(line):
                self.lines.setdefault((*prefix, *_parts(match.group(1))), number)
                in_string = self._opens(line[match.end() :])

    @staticmethod
    def _opens(value: str) -> str:
        """The quote that a value opens and leaves open on its line (a multi-line string), or ""."""
        marks = _TRIPLE.findall(value)
        return marks[0] if len(marks) % 2 else ""

    def line(self, path: tuple) -> int:
        """The line of `path`, or of the nearest enclosing key or header written; 1 if none is."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1
