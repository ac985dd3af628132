"""What an OSC message does to the running loop: set a parameter, switch scene, pause, snapshot,
record, report status. Applied on the loop's thread, between frames; a bad message is logged and
dropped. The address space is documented in realtime/remote.py and the README.
"""
from __future__ import annotations

import logging
import time

from realtime.show.remote import PREFIX

log = logging.getLogger("deepdream.live")


def on_off(value) -> bool:
    if isinstance(value, str) and value.lower() in ("on", "off", "true", "false"):
        return value.lower() in ("on", "true")
    if isinstance(value, (bool, int, float)):
        return bool(value)
    raise ValueError(f"expected 0/1 or on/off, got {value!r}")


def _number(kind, low, high):
    def parse(stream, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"must be within {low}..{high}, got {value}")
        return kind(value)
    return parse


def _model_index(stream, value) -> int:
    number = _number(int, 1, len(stream.engines))(stream, value)
    return number - 1  # models count from 1, as on the HUD


def _mix_index(stream, value) -> float:
    layers = stream.engine.info.mix_layers
    if not layers:
        raise ValueError(f"{stream.engine.info.name} has fixed layers (export with --mix to blend them live)")
    if isinstance(value, str):
        if value not in layers:
            raise ValueError(f"{value!r} is not one of {', '.join(layers)}")
        return float(layers.index(value))
    return _number(float, 0, len(layers) - 1)(stream, value)


# name -> (parse(stream, value), Controls attribute)
PARAMS = {
    "step_size": (_number(float, 1e-5, 1.0), "step_size"),
    "steps_per_frame": (_number(int, 0, 100), "steps_per_frame"),
    "feedback": (_number(float, 0.0, 1.0), "feedback"),
    "zoom": (_number(float, 0.5, 2.0), "zoom"),
    "flow": (lambda stream, value: on_off(value), "flow_on"),
    "model": (_model_index, "model_index"),
    "mix": (_mix_index, "mix_target"),  # a layer index or name (mix models)
}


def handle(message, stream, recorder, stats, remote) -> None:
    action = message.address[len(PREFIX) + 1:]
    args = message.args
    try:
        if action == "set":
            if len(args) != 2 or not isinstance(args[0], str):
                raise ValueError("expects NAME VALUE")
            set_param(stream, args[0], args[1])
        elif action in PARAMS:
            if len(args) != 1:
                raise ValueError("expects one value")
            set_param(stream, action, args[0])
        elif action == "scene":
            jump(stream, _one(args))
        elif action == "release":
            stream.controls.held.clear()
        elif action == "pause":
            stream.controls.paused = on_off(args[0]) if args else not stream.controls.paused
        elif action == "snapshot":
            recorder.snapshot()
        elif action == "record":
            if (on_off(args[0]) if args else recorder.sink is None) != (recorder.sink is not None):
                recorder.toggle()
        elif action == "status":
            sender = (message.sender[0], int(_one(args))) if args else message.sender
            remote.reply(sender, f"{PREFIX}/status", [v for pair in status(stream, recorder, stats) for v in pair])
            return
        else:
            raise ValueError("unknown address")
    except (ValueError, TypeError, OSError) as exc:
        log.warning("osc: %s %s: %s (ignored)", message.address, list(args), exc)
        return
    log.info("osc: %s %s", message.address, " ".join(map(str, args)))


def _one(args):
    if len(args) != 1:
        raise ValueError("expects one value")
    return args[0]


def set_param(stream, name: str, value) -> None:
    if name not in PARAMS:
        raise ValueError(f"unknown parameter {name!r}; parameters: {', '.join(PARAMS)}")
    parse, attribute = PARAMS[name]
    setattr(stream.controls, attribute, parse(stream, value))
    stream.controls.held.add(attribute)  # a playlist leaves it alone until /deepdream/release or /deepdream/scene


def jump(stream, scene) -> None:
    playlist = stream.playlist
    if playlist is None:
        raise ValueError("no playlist: add [[scene]] tables to the --config file")
    stream.started = time.monotonic() - playlist.start_of(scene)
    stream.controls.held.clear()


def status(stream, recorder, stats) -> list[tuple[str, object]]:
    c, t = stream.controls, stream.timing.values
    wall = max(time.monotonic() - stats.started, 1e-9)
    return [("frame", stats.frames), ("fps", round(stats.frames / wall, 3)),
            ("ms_per_step", round(float(t.get("ms_per_step", 0.0)), 2)), ("loss", float(stream.engine.last_loss)),
            ("step_size", float(c.step_size)), ("steps_per_frame", int(c.steps_per_frame)),
            ("feedback", float(c.feedback)), ("zoom", float(c.zoom)), ("flow", int(c.flow_on)),
            ("model", c.model_index % len(stream.engines) + 1), ("model_name", stream.engine.info.name),
            ("scene", stream.scene), ("paused", int(c.paused)), ("recording", int(recorder.sink is not None)),
            ("provider", stream.engine.provider), ("mix", -1.0 if stream.mix_center is None else stream.mix_center)]
