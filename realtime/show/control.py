"""What an OSC message does to the running show: set a parameter, switch scene, pause, snapshot,
record, report status. Applied on the loop's thread, between frames; a bad message is logged and
dropped. Parameters are the live ones of the parameter table (realtime.dream.params) plus `model`
and `mix`, checked by the same rules as flags and TOML. The address space is documented in
realtime/show/remote.py and the README.
"""
from __future__ import annotations

import logging

from realtime.dream.params import live_params, on_off
from realtime.show.remote import PREFIX

log = logging.getLogger("deepdream.live")
STATUS_KEYS = ("frame", "fps", "ms_per_step", "loss", *live_params(), "model", "model_name", "scene", "paused",
               "recording", "provider", "mix")
RATE_KEYS = ("display_fps", "dream_hz")  # the asynchronous mode's (realtime.show.async_loop), when present


def parameters() -> tuple[str, ...]:
    return (*live_params(), "model", "mix")


def handle(message, show, stats, remote) -> None:
    action = message.address[len(PREFIX) + 1:]
    args = message.args
    try:
        if action == "set":
            if len(args) != 2 or not isinstance(args[0], str):
                raise ValueError("expects NAME VALUE")
            set_param(show, args[0], args[1])
        elif action in parameters():
            set_param(show, action, _one(args))
        elif action == "scene":
            show.jump(_one(args))
        elif action == "release":
            show.release()
        elif action == "pause":
            show.pause(on_off(_one(args)) if args else None)
        elif action == "snapshot":
            show.key("snapshot")
        elif action == "record":
            recording = show.recorder is not None and show.recorder.recording
            if (on_off(_one(args)) if args else not recording) != recording:
                show.key("record")
        elif action == "status":
            sender = (message.sender[0], _port(_one(args))) if args else message.sender
            remote.reply(sender, f"{PREFIX}/status", [v for pair in status_pairs(show, stats) for v in pair])
            return
        else:
            raise ValueError("unknown address")
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        log.warning("osc: %s %s: %s (ignored)", message.address, list(args), exc)
        return
    log.info("osc: %s %s", message.address, " ".join(map(str, args)))


def _one(args):
    if len(args) != 1:
        raise ValueError("expects one value")
    return args[0]


def _port(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or not 1 <= value <= 65535 \
            or value != int(value):
        raise ValueError(f"a reply port is 1..65535, got {value!r}")
    return int(value)


def set_param(show, name: str, value) -> None:
    if name not in parameters():
        raise ValueError(f"unknown parameter {name!r}; parameters: {', '.join(parameters())}")
    if name == "model":  # models count from 1 over OSC, as on the HUD
        models = show.stream.figures().models
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
                or not 1 <= value <= models or value != int(value):
            raise ValueError(f"model expects a number 1..{models}, got {value!r}")
        value = int(value) - 1
    show.set(name, value)  # held: a playlist leaves it alone until /deepdream/release or /deepdream/scene


def status_pairs(show, stats) -> list[tuple[str, object]]:
    """The status reply as OSC-typed pairs (numbers, strings; no None)."""
    s = show.status(stats)
    out = []
    for key in STATUS_KEYS + tuple(k for k in RATE_KEYS if k in s):
        value = s[key]
        if key == "mix":
            value = -1.0 if value is None else float(value)
        elif isinstance(value, bool):
            value = int(value)
        elif value is None:
            value = ""
        out.append((key, value))
    return out
