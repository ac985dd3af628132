"""A MIDI controller steering the show: knobs and faders move parameters, pads run commands.

The config's `[midi]` table maps a control change to a live parameter and a range, `cc21 = ["zoom",
0.98, 1.05]` (0..127 spread over 0.98..1.05; a range may run downwards, and must lie within the
parameter's own), and a note to a command, `note36 = "snapshot"` (`pause`, `record`, `snapshot`,
`next-scene`, `release`, `scene 2`, `scene calm`). `MidiInput.requests()`, called between frames,
turns what the port received into the same requests as the control page's (realtime.steer.controls),
so MIDI holds a parameter as OSC does. `parse_mapping` checks the table, `open_midi` opens the port (mido with
python-rtmidi, the `[midi]` extra): each problem is one line at start. `deepdream midi-learn` prints
the number of whatever is touched.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from realtime.dream.parameter import Param
from realtime.dream.params import live_numbers
from realtime.errors import UserError, reason
from realtime.install import pip_install
from realtime.steer.controls import Request

log = logging.getLogger("deepdream.live")
NOTE_COMMANDS = ("pause", "record", "snapshot", "next-scene", "release")  # and "scene N|NAME"
SCENE_DIGITS = 6  # a longer number is no playlist's (and int() refuses thousands of digits)
INSTALL = f"MIDI needs mido and python-rtmidi: {pip_install('midi')}"


Control = tuple[str, int]  # (mido's message type, the cc or note number)
Target = tuple[Any, ...]  # a knob's (parameter, low, high), a pad's (command, argument): the message type tells


def parse_mapping(table: object, where: str) -> dict[Control, Target]:
    """The [midi] table -> {("control_change", n): (param, low, high), ("note_on", n): (command, value)}."""
    if not isinstance(table, dict):
        raise UserError(f"{where}: [midi] is a table of ccN = [PARAM, LOW, HIGH] and noteN = COMMAND")
    numbers = live_numbers()
    mapping: dict[Control, Target] = {}
    keys: dict[Control, str] = {}
    for key, value in table.items():
        found = re.fullmatch(r"(cc|note)([0-9]{1,3})", key)
        if not found or int(found.group(2)) > 127:
            raise UserError(f"{where}: [midi] {key}: keys are cc0..cc127 and note0..note127")
        control = ("control_change" if found.group(1) == "cc" else "note_on", int(found.group(2)))
        if control in keys:  # cc21 and cc021: the second would silently replace the first
            raise UserError(f"{where}: [midi] {keys[control]} and {key} are the same control; map it once")
        keys[control] = key
        try:
            mapping[control] = _knob(value, numbers) if found.group(1) == "cc" else _pad(value)
        except ValueError as exc:
            raise UserError(f"{where}: [midi] {key}: {exc}") from None
    return mapping


def _knob(value: object, numbers: dict[str, Param]) -> tuple[str, float, float]:
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)):
        raise ValueError(f'expects ["PARAM", LOW, HIGH], got {value!r}')
    name, low, high = value[0].replace("-", "_"), value[1], value[2]
    if name not in numbers:
        raise ValueError(f"unknown parameter {value[0]!r}; knobs move {', '.join(numbers)}")
    return name, numbers[name].check(low), numbers[name].check(high)  # the parameter's own rule, its message


def _pad(value: object) -> tuple[str, int | str | None]:
    if not isinstance(value, str):
        raise ValueError(f"expects a command ({', '.join(NOTE_COMMANDS)}, scene N), got {value!r}")
    command, _, argument = value.strip().partition(" ")
    if command == "scene" and argument:
        number = re.fullmatch(rf"[0-9]{{1,{SCENE_DIGITS}}}", argument)  # checked before int(): it refuses
        if number and int(argument) < 1 or argument.lstrip("-").isdigit() and not number:  # thousands of digits
            raise ValueError(f"scenes count from 1 (at most {SCENE_DIGITS} digits), got {argument[:20]!r}")
        return "scene", int(argument) if number else argument
    if command not in NOTE_COMMANDS or argument:
        raise ValueError(f"unknown command {value!r}; pads run {', '.join(NOTE_COMMANDS)}, or scene N|NAME")
    return command, None


class MidiInput:
    """A port's messages since the last call, as requests; unmapped controls are said once each."""

    def __init__(self, port: Any, mapping: dict[Control, Target]) -> None:  # port: a mido input port
        self.port, self.mapping = port, mapping
        self._unmapped: set[tuple[str, int | None]] = set()
        self._params = live_numbers()  # looked up once: knobs turn many times a frame

    def requests(self) -> list[Request]:
        """Since the last call: each pad pressed, and each knob's last position (a sweep sends dozens a frame)."""
        out: list[Request] = []
        knobs: dict[str, Request] = {}
        for message in self.port.iter_pending():
            if message.type == "note_on" and message.velocity == 0:
                continue  # a note off, as many controllers send it
            number: int | None = getattr(message, "control", getattr(message, "note", None))  # None: neither
            target = None if number is None else self.mapping.get((message.type, number))
            if target is None:
                self._say_unmapped(message.type, number)
            elif message.type == "control_change":
                name, low, high = target
                value = low + (high - low) * message.value / 127
                knobs[name] = Request("set", name, self._params[name].nearest(value), origin="midi")
            else:
                out.append(Request("command", target[0], target[1], origin="midi"))
        return [*knobs.values(), *out]

    def _say_unmapped(self, kind: str, number: int | None) -> None:
        if kind in ("control_change", "note_on") and (kind, number) not in self._unmapped:
            self._unmapped.add((kind, number))
            log.info(
                "midi: %s%s is not mapped in [midi] (ignored)", "cc" if kind == "control_change" else "note", number
            )

    def close(self) -> None:
        self.port.close()


def open_port(name: str) -> Any:  # a mido input port (mido has no types)
    """The named MIDI input port ("": the first), or one line saying why not."""
    from realtime.quiet import only_our_lines  # ALSA prints its own lines where there is no MIDI system

    try:
        import mido
    except ImportError:
        raise UserError(INSTALL) from None
    with only_our_lines():
        try:
            names = mido.get_input_names()
            if not names:
                raise UserError(
                    "no MIDI input port here: plug in a controller (deepdream midi-learn lists what it sends)"
                )
            if name and name not in names:
                raise UserError(f"no MIDI input port {name!r}; ports: {', '.join(names)}")
            return mido.open_input(name or names[0])
        except ImportError:
            raise UserError(INSTALL) from None
        except (OSError, SystemError, RuntimeError) as exc:  # rtmidi says so when the system has no MIDI at all
            raise UserError(f"cannot open MIDI input: {reason(exc)}") from None


def open_midi(name: str, mapping: dict[Control, Target], where: str) -> MidiInput:
    """The port, with a mapping parse_mapping made (a bad table is refused before any port is opened)."""
    if not mapping:
        log.warning(
            "--midi: no [midi] table in %s, so no knob moves anything",
            where if where != "--midi" else "a --config file",
        )
    port = open_port(name)
    log.info("MIDI from %s: %d controls mapped", port.name, len(mapping))
    return MidiInput(port, mapping)


def learn(name: str) -> int:
    """`deepdream midi-learn`: print the number of each knob, fader or pad touched, until Ctrl-C."""
    port = open_port(name)
    print(f"listening on {port.name}: touch a knob, fader or pad (Ctrl-C to stop)", flush=True)
    try:
        for message in port:
            if message.type == "control_change":
                print(
                    f'cc{message.control} = {message.value}   ([midi] cc{message.control} = ["zoom", 0.98, 1.05])',
                    flush=True,
                )
            elif message.type == "note_on" and message.velocity:
                print(f'note{message.note}   ([midi] note{message.note} = "snapshot")', flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        port.close()
    return 0
