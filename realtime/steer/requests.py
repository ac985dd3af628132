"""What a control request does to the running show, whoever sends it: OSC, the control page, MIDI.

Two kinds: `set_param(show, name, value)` sets a live parameter of the table (realtime.dream.params.steering:
the stream's, then `model` from 1 and `mix`, a layer), checked by the same rule as flags and TOML and then held
against the playlist; `command(show, name, value)` runs one of COMMANDS. Both return what is now in force,
or raise ValueError naming what is wrong. `handle(message, ...)` turns an OSC message (the address
space is in realtime/steer/remote.py) into those; a bad one is logged and dropped. Everything runs
on the loop's thread, between frames.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from realtime.dream.parameter import canonical, on_off, table
from realtime.dream.params import SHOW, live_params, steering
from realtime.errors import shown
from realtime.steer.kinds import Stats
from realtime.steer.remote import PREFIX, Message, Remote

if TYPE_CHECKING:
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")
MODEL, MIX = table(SHOW)  # the show's rows; the status reply keeps them where positional clients read them
STATUS_KEYS = (  # the reply's order is its format: a new live parameter goes with the others, mix stays last
    "frame",
    "fps",
    "ms_per_step",
    "loss",
    *live_params(),
    MODEL,
    "model_name",
    "scene",
    "paused",
    "recording",
    "provider",
    MIX,
)
RATE_KEYS = ("display_fps", "dream_hz")  # the dream beside the display (realtime.run.steps.BesideDisplay), when present
COMMANDS = {  # name -> what its value is
    "pause": "on/off, or nothing to toggle",
    "record": "on/off, or nothing to toggle",
    "snapshot": "nothing",
    "scene": "a scene's number (from 1) or name",
    "next-scene": "nothing",
    "release": "nothing (every held parameter) or a parameter's name",
}


def parameters() -> tuple[str, ...]:
    return tuple(steering())


def _parameter(name: object) -> str:
    """A parameter's name as the table spells it, from however it came (step-size, step_size)."""
    if not isinstance(name, str) or canonical(name) not in parameters():
        raise ValueError(f"release takes a parameter's name ({', '.join(parameters())}), got {shown(name)}")
    return canonical(name)


def set_param(show: Show, name: str, value: object) -> object:
    """An operator's change; returns the value now in force (as the show's status says it). A name is taken as
    the table writes it or as TOML does (step_size, step-size), from wherever it comes."""
    if canonical(name) not in parameters():
        raise ValueError(f"unknown parameter {shown(name)}; parameters: {', '.join(parameters())}")
    name = canonical(name)
    show.set(name, value)  # held: a playlist leaves it alone until a release or a scene jump
    return show.stream.figures().values[name]


def command(show: Show, name: str, value: object = None) -> object:
    """pause, record, snapshot, scene, next-scene, release; returns what is now in force."""
    if name == "pause":
        show.pause(None if value is None else on_off(value))
        return show.paused
    if name == "record":
        recording = show.recorder is not None and show.recorder.recording
        if (not recording if value is None else on_off(value)) != recording:
            show.key("record")
        return bool(show.recorder is not None and show.recorder.recording)
    if name == "snapshot":
        show.key("snapshot")
        return True
    if name == "scene":
        show.jump(value)
        return show.scene
    if name == "next-scene":
        show.next_scene()
        return show.scene
    if name == "release":
        show.release(None if value is None else _parameter(value))
        return True
    raise ValueError(f"unknown command {name!r}; commands: {', '.join(COMMANDS)}")


def handle(message: Message, show: Show, stats: Stats | None, remote: Remote) -> None:
    """One OSC message, applied; a bad one is logged (with its address and arguments) and dropped."""
    action = message.address[len(PREFIX) + 1 :]
    args = message.args
    try:
        if action == "set":
            if len(args) != 2 or not isinstance(args[0], str):
                raise ValueError("expects NAME VALUE")
            set_param(show, args[0], args[1])
        elif canonical(action) in parameters():
            set_param(show, action, _one(args))
        elif action in COMMANDS:
            command(show, action, _one(args) if args or action == "scene" else None)
        elif action == "status":
            sender = (message.sender[0], _port(_one(args))) if args else message.sender
            remote.reply(sender, f"{PREFIX}/status", [v for pair in status_pairs(show, stats) for v in pair])
            return
        else:
            raise ValueError("unknown address")
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        log.warning("osc: %s %s: %s (ignored)", message.address[:80], shown(list(args)), str(exc)[:200])
        return
    log.info("osc: %s %s", message.address, " ".join(map(str, args)))


def _one(args: tuple[object, ...]) -> object:
    if len(args) != 1:
        raise ValueError("expects one value")
    return args[0]


def _port(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or not 1 <= value <= 65535
        or value != int(value)
    ):
        raise ValueError(f"a reply port is 1..65535, got {value!r}")
    return int(value)


def status_pairs(show: Show, stats: Stats | None) -> list[tuple[str, object]]:
    """The status reply as OSC-typed pairs (numbers, strings; no None)."""
    s, rows = show.status(stats), steering()
    out = []
    for key in STATUS_KEYS + tuple(k for k in RATE_KEYS if k in s):
        value = s[key]
        if key in rows and rows[key].kind == "float":  # a number however it stands: none is -1, below any range
            value = -1.0 if value is None else float(value)
        elif isinstance(value, bool):
            value = int(value)
        elif value is None:
            value = ""
        out.append((key, value))
    return out
