"""`deepdream live`'s outside controls, opened together: OSC (--osc), MIDI (--midi and the config's [midi]
table), the sound (--audio and [[modulate]] rows), and the control page's description of the show (what
it can be steered with, built from the parameter table), wired to the HTTP server of --serve.
"""

from __future__ import annotations

import logging

from realtime.dream.params import steering
from realtime.steer.controls import Controls
from realtime.steer.requests import COMMANDS
from realtime.store import name_of

log = logging.getLogger("deepdream.live")


def open_controls(options, config: dict) -> Controls:
    """OSC, MIDI and sound as the options and the config's tables ask; what opened first is closed on a failure."""
    controls = Controls()
    try:
        controls.remote = _remote(options.osc)
        where = str(options.config or "--midi")
        if "midi" in config or options.midi_port is not None:  # a bad table is said at start, used or not
            from realtime.steer.midi import open_midi, parse_mapping

            mapping = parse_mapping(config.get("midi", {}), where)
            if options.midi_port is not None:
                controls.midi = open_midi(options.midi_port, mapping, where)
        if "modulate" in config:
            from realtime.steer.modulate import open_sound

            controls.sound = open_sound(options.audio, config["modulate"], str(options.config))
        elif options.audio is not None:
            log.warning("--audio %s: the config has no [[modulate]] rows, so the sound moves nothing", options.audio)
    except BaseException:
        controls.close()
        raise
    return controls


def _remote(address: str | None):
    if not address:
        return None
    from realtime.addresses import is_loopback, parse_address
    from realtime.steer.remote import Remote

    host, port = parse_address(address, "--osc")
    remote = Remote(host, port)
    if not is_loopback(host):
        log.warning("OSC on %s: anyone on that network can control the show (OSC has no passwords)", host)
    log.info("OSC remote control on %s:%d (/deepdream/...)", *remote.address[:2])
    return remote


def wire_page(hub, show, controls: Controls) -> None:
    """What MIDI and the sound drive, for the show's status; the control page's schema, and its requests handed
    to the show between frames."""
    show.driven = controls.driven()
    if hub is None:
        return
    hub.schema = schema(show, controls)
    hub.control = controls.submit


def schema(show, controls: Controls) -> dict:
    """What the control page is built from: every row the show is steered by, with its range and unit (the
    models' and layers' rows bounded by what is loaded), the commands, the playlist's scenes, the models
    (with their layers, for --mix models), the sound's features."""
    figures = show.stream.figures()
    models = [name_of(p) for p in figures.model_paths]
    layers = [list(engine.info.mix_layers) for engine in show.stream.engines]
    scenes = [] if show.playlist is None else [{"name": s.name, "duration": s.duration} for s in show.playlist.scenes]
    return {
        "params": param_schema(models, layers),
        "commands": list(COMMANDS),
        "scenes": scenes,
        "models": [{"name": name, "mix_layers": layer} for name, layer in zip(models, layers)],
        "sound": list(controls.figures()) if controls.sound is not None else [],
    }


def param_schema(models: list[str] = [], layers: list[list[str]] = []) -> list[dict]:  # noqa: B006 (read only)
    """Every row a show is steered by, as the page draws it: a slider (in log space where the table's `scale`
    says the parameter is multiplicative) with +/- of one `step` (realtime.dream.parameter.Param.nudge), or
    buttons. A row bounded at run time has `names` for its values from low up: one list (the models), or
    one per model (`per_model`: each model's layers), its range from the longest."""
    within = {"models": [models], "layers": layers}
    out = []
    for p in steering().values():
        names = within.get(p.bound)
        if names is not None:
            p = p.within(tuple(max(names, key=len, default=())))
        out.append(
            {
                "name": p.name,
                "label": p.name.replace("_", " "),
                "kind": p.kind,
                "low": p.low,
                "high": p.high,
                "unit": p.unit,
                "choices": list(p.choices),
                "help": p.help,
                "scale": p.scale,
                **({"step": p.nudge} if p.kind in ("int", "float") else {}),
                **({} if names is None else {"bound": p.bound, "names": names, "per_model": p.bound == "layers"}),
            }
        )
    return out
