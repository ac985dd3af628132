"""A MIDI controller steering the show: knobs, faders and pitch bend move parameters, pads run commands.

The config's `[midi]` table maps a control change or the pitch bend to a live parameter and a range,
`cc21 = ["zoom", 0.98, 1.05]` (0..127, or the bend's -8192..8191, spread over 0.98..1.05; a range may run
downwards, and must lie within the parameter's own), and a note or a program change to a command,
`note36 = "snapshot"`, `program5 = "scene 2"` (`pause`, `record`, `snapshot`, `next-scene`, `release`,
`scene 2`, `scene calm`). A key ending in `-ch1`..`-ch16` (`cc21-ch2`) takes that channel only, as
musicians count them, and wins over the key without one, which takes any channel. `MidiInput.requests()`,
called between frames, turns what the port received into the same requests as the control page's
(realtime.steer.controls), so MIDI holds a parameter as OSC does. `parse_mapping` checks the table,
`open_midi` opens the port (mido with python-rtmidi, the `[midi]` extra; `virtual`: a port named deepdream
that software connects to): each problem is one line at start. realtime.steer.midi_learn is `midi-learn`.
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
KINDS = {"cc": "control_change", "note": "note_on", "program": "program_change", "bend": "pitchwheel"}
KNOBS = ("control_change", "pitchwheel")  # move a parameter; notes and program changes run a command
PREFIX = {kind: prefix for prefix, kind in KINDS.items()}
KEY = re.compile(r"(cc|note|program|bend)([0-9]{0,3})(?:-ch([0-9]{1,2}))?")
KEYS = "keys are cc0..cc127, note0..note127, program0..program127 and bend, each may end in -ch1..-ch16"
VIRTUAL = "virtual"  # --midi virtual: a port of our own, named PORT_NAME, for software to connect to
PORT_NAME = "deepdream"

# (mido's message type, the cc, note or program number (0 for the bend), the channel 1..16 or None: any)
Control = tuple[str, int, int | None]
Target = tuple[Any, ...]  # a knob's (parameter, low, high), a pad's (command, argument): the message type tells


def key_of(control: Control) -> str:
    """The [midi] key of a control: cc21, bend, program5-ch2."""
    kind, number, channel = control
    name = "bend" if kind == "pitchwheel" else f"{PREFIX[kind]}{number}"
    return name if channel is None else f"{name}-ch{channel}"


def control_of(message: Any) -> Control | None:
    """A mido message's control on its channel (1..16), or None: a note off, a clock, anything unmappable."""
    if message.type not in PREFIX or message.type == "note_on" and message.velocity == 0:
        return None  # a note_on of velocity 0 is a note off, as many controllers send it
    number = {"control_change": "control", "note_on": "note", "program_change": "program"}.get(message.type)
    return message.type, 0 if number is None else getattr(message, number), message.channel + 1


def position(message: Any) -> float:
    """Where a knob's message stands, 0..1: a CC's 0..127, the bend's -8192..8191."""
    if message.type == "pitchwheel":
        return (message.pitch + 8192) / 16383
    return float(message.value) / 127


def parse_mapping(table: object, where: str) -> dict[Control, Target]:
    """The [midi] table -> {("control_change", 21, None): (param, low, high), ("note_on", 36, 10): (command, arg)}."""
    if not isinstance(table, dict):
        raise UserError(f"{where}: [midi] is a table of ccN or bend = [PARAM, LOW, HIGH], noteN or programN = COMMAND")
    numbers = live_numbers()
    mapping: dict[Control, Target] = {}
    keys: dict[Control, str] = {}
    for key, value in table.items():
        control = _control(key, where)
        if control in keys:  # cc21 and cc021: the second would silently replace the first
            raise UserError(f"{where}: [midi] {keys[control]} and {key} are the same control; map it once")
        keys[control] = key
        try:
            mapping[control] = _knob(value, numbers) if control[0] in KNOBS else _pad(value)
        except ValueError as exc:
            raise UserError(f"{where}: [midi] {key}: {exc}") from None
    return mapping


def _control(key: str, where: str) -> Control:
    found = KEY.fullmatch(key)
    kind, number, channel = found.groups() if found else ("", "", None)
    numbered = number == "" if kind == "bend" else number != "" and int(number) <= 127  # the bend has no number
    if not found or not numbered or (channel is not None and not 1 <= int(channel) <= 16):
        raise UserError(f"{where}: [midi] {key}: {KEYS}")
    return KINDS[kind], int(number or 0), None if channel is None else int(channel)


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
    argument = argument.strip()  # "scene  2" is scene 2, not a scene named " 2"
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
        self._unmapped: set[Control] = set()
        self._params = live_numbers()  # looked up once: knobs turn many times a frame

    def requests(self) -> list[Request]:
        """Since the last call: each pad pressed, and each knob's last position (a sweep sends dozens a frame)."""
        out: list[Request] = []
        knobs: dict[str, Request] = {}
        for message in self.port.iter_pending():
            control = control_of(message)
            if control is None:
                continue
            target = self.mapping.get(control) or self.mapping.get((control[0], control[1], None))
            if target is None:
                self._say_unmapped(control)
            elif control[0] in KNOBS:
                name, low, high = target
                value = self._params[name].nearest(low + (high - low) * position(message))
                knobs[name] = Request("set", name, value, origin="midi")
            else:
                out.append(Request("command", target[0], target[1], origin="midi"))
        return [*knobs.values(), *out]

    def _say_unmapped(self, control: Control) -> None:
        if control not in self._unmapped:
            self._unmapped.add(control)
            unmapped = key_of((control[0], control[1], None))
            log.info("midi: %s on channel %d is not mapped in [midi] (ignored)", unmapped, control[2])

    def close(self) -> None:
        self.port.close()


def open_port(name: str) -> Any:  # a mido input port (mido has no types)
    """The named MIDI input port ("": the first; "virtual": one of our own), or one line saying why not."""
    from realtime.quiet import only_our_lines  # ALSA prints its own lines where there is no MIDI system

    try:
        import mido
    except ImportError:
        raise UserError(INSTALL) from None
    with only_our_lines():
        try:
            names = mido.get_input_names()
            if name == VIRTUAL and name not in names:  # a controller really named "virtual" is opened as it is
                return _open_virtual(mido)
            if not names:
                raise UserError(
                    "no MIDI input port here: plug in a controller (deepdream midi-learn lists what it sends)"
                )
            if name and name not in names:
                raise UserError(f"no MIDI input port {name!r}; ports: {', '.join(names)}, or virtual")
            return mido.open_input(name or names[0])
        except ImportError:
            raise UserError(INSTALL) from None
        except (OSError, SystemError, RuntimeError) as exc:  # rtmidi says so when the system has no MIDI at all
            raise UserError(f"cannot open MIDI input: {reason(exc)}") from None


def _open_virtual(mido: Any) -> Any:
    """A virtual input port named deepdream, where the backend has them (python-rtmidi on ALSA and macOS)."""
    try:
        return mido.open_input(PORT_NAME, virtual=True)
    except Exception as exc:  # each backend refuses in its own words: ValueError, NotImplementedError, rtmidi's
        raise UserError(
            f"this MIDI system has no virtual ports ({reason(exc)}): python-rtmidi has them on Linux (ALSA) and "
            "macOS; elsewhere name a port (a loopMIDI port on Windows)"
        ) from None


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
