"""`deepdream midi-learn`: what each control of a MIDI controller sends, and a [midi] line to map it.

One line per control moved, not per value: a knob's line is finished once it stops (another control
moves, or it is still for QUIET_S), with its channel, its kind (CC n, pitch bend, note n, program n), the
values it went through, and a suggested mapping. Knobs are offered the live parameters in turn (or the one
--param names), pads the commands in turn. Ctrl-C prints the [midi] table learnt; --write FILE adds it to
FILE (a new file, or a config without a [midi] table: never one that has one).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import tomllib
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

import tomli_w

from realtime.dream.params import live_numbers
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.steer.midi import KNOBS, NOTE_COMMANDS, Control, control_of, key_of, open_port

QUIET_S = 0.6  # a knob still this long has stopped: a sweep sends a value every few milliseconds
KINDS = {"control_change": "CC {}", "pitchwheel": "pitch bend", "note_on": "note {}", "program_change": "program {}"}


@dataclass
class Moved:
    """One control moving: the values it went through, and the mapping offered for it."""

    control: Control
    key: str
    target: Any  # ["PARAM", LOW, HIGH] or "COMMAND"
    low: int
    high: int

    def line(self) -> str:
        kind, number, channel = self.control
        values = f"{self.low}..{self.high}" if self.low != self.high else str(self.low)
        what = KINDS[kind].format(number) + ("" if kind in ("note_on", "program_change") else f" {values}")
        return f"ch {channel:<2}  {what:<22} {self.key} = {json.dumps(self.target)}"


class Learner:
    """Turns controls into Moved ones, each new control offered the next parameter or command."""

    def __init__(self, param: str | None) -> None:
        numbers = live_numbers()
        if param is not None and param.replace("-", "_") not in numbers:
            keys = ", ".join(p.key for p in numbers.values())
            raise UserError(f"--param {param}: not a live parameter; knobs move {keys}")
        names = [param.replace("-", "_")] if param else list(numbers)
        self._params = cycle([[numbers[n].key, *suggested_range(n)] for n in names])
        self._commands = cycle(NOTE_COMMANDS)
        self.learnt: dict[Control, Moved] = {}  # each control once, with the key and target first offered

    def start(self, control: Control, value: int) -> Moved:
        known = self.learnt.get(control)
        if known is None:
            same = any(c[:2] == control[:2] for c in self.learnt)  # on another channel: this one needs its own key
            key = key_of(control if same else (control[0], control[1], None))
            target = next(self._params) if control[0] in KNOBS else next(self._commands)
            known = self.learnt[control] = Moved(control, key, target, value, value)
        known.low, known.high = min(known.low, value), max(known.high, value)
        return known

    def table(self) -> dict[str, Any]:
        return {m.key: m.target for m in self.learnt.values()}


CONFIG_LIMIT = 1 << 20  # bytes, as a --config file may hold (realtime.tomlfile)


def suggested_range(name: str) -> tuple[float, float]:
    """Around the parameter's default, where a look stays recognisable: within half to twice the default and a
    quarter of the parameter's range either side of it (zoom 0.625..1.375, step-size 0.01..0.04)."""
    p = live_numbers()[name]
    low, high = p.span()
    default, reach = float(p.default), (high - low) / 4  # type: ignore[arg-type]
    ends = max(low, default - reach, default / 2), min(high, default + reach, default * 2 if default > 0 else high)
    nice = [round(e) if p.kind == "int" else float(f"{e:.3g}") for e in ends]
    return p.check(max(nice[0], low)), p.check(min(nice[1], high))


def value_of(message: Any) -> int:
    return int(message.pitch if message.type == "pitchwheel" else getattr(message, "value", 0))


def learn(name: str, param: str | None = None, write: str | None = None) -> int:
    """Listen until Ctrl-C: one line per control moved, then the [midi] table (added to `write` if given)."""
    learner, target = Learner(param), None if write is None else Path(write)
    if target is not None:  # refused now, before any knob is turned, if it would be refused at the end
        check_writable(target, replacing="adding [midi] to {path}")
        addition(target, {})
    port = open_port(name)
    messages: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=pump, args=(port, messages), daemon=True).start()
    print(f"listening on {port.name}: move a knob, fader, bend or pad (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        listen(messages, learner, sys.stdout.isatty())
    except KeyboardInterrupt:
        pass
    finally:
        port.close()
    return summary(learner, target)


def pump(port: Any, messages: queue.Queue[Any]) -> None:
    """The port's messages into the queue, which the listener waits on for a while at most (a port cannot)."""
    try:
        for message in port:  # ends when the port is closed
            messages.put(message)
    except (OSError, ValueError):  # closed between two messages (mido: "receive() called on closed port")
        pass


def listen(messages: queue.Queue[Any], learner: Learner, terminal: bool) -> None:
    """A control's line when it stops moving; on a terminal, shown from its first value and rewritten then."""
    moving: Moved | None = None
    try:
        while True:
            try:
                message = messages.get(timeout=QUIET_S if moving else None)
            except queue.Empty:
                finish(moving, terminal)
                moving = None
                continue
            control = control_of(message)
            if control is None:
                continue
            if moving is None or moving.control != control:
                finish(moving, terminal)
                moving = learner.start(control, value_of(message))
                if terminal:
                    print(moving.line(), end="", flush=True)
            else:
                learner.start(control, value_of(message))
    finally:
        finish(moving, terminal)


def finish(moving: Moved | None, terminal: bool) -> None:
    if moving is not None:
        print(("\r\033[K" if terminal else "") + moving.line(), flush=True)


def summary(learner: Learner, target: Path | None) -> int:
    table = learner.table()
    if not table:
        print("nothing moved" + ("" if target is None else f"; {target} left as it was"), file=sys.stderr)
        return 0
    text = tomli_w.dumps({"midi": table})
    print("\n" + text, end="", flush=True)
    if target is not None:
        write_atomic(target, addition(target, table))
        print(f"[midi] written to {target}", file=sys.stderr, flush=True)
    return 0


def addition(target: Path, table: dict[str, Any]) -> bytes:
    """`target`'s bytes with the [midi] table after them; refused if it has one, or is not TOML."""
    if target.is_dir():
        raise UserError(f"--write {target}: a folder; give a file name")
    try:
        old = _config_bytes(target)
        found = tomllib.loads(old.decode())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"--write {target}: cannot read it as TOML ({exc}); give another file") from None
    if "midi" in found:
        raise UserError(f"--write {target}: it has a [midi] table already; give another file (nothing is replaced)")
    joint = b"\n" if old and not old.endswith(b"\n") else b""
    return old + joint + (b"\n" if old else b"") + tomli_w.dumps({"midi": table}).encode()


def _config_bytes(target: Path) -> bytes:
    """A config file's bytes, read within bounds: a FIFO or a device is no config (it would block or never end)."""
    if not target.exists():
        return b""
    if not target.is_file():
        raise UserError(f"--write {target}: not a regular file; give a .toml file")
    if target.stat().st_size > CONFIG_LIMIT:
        raise UserError(f"--write {target}: over {CONFIG_LIMIT} bytes; a config holds less")
    return target.read_bytes()
