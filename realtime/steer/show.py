"""The show: everything that steers a running dream, in one object.

A `Show` holds the playlist and its clock, the parameters an operator holds against it, pause, and
turns key and OSC commands into `DreamStream.set` calls. A parameter set by a key, over OSC, from the
control page or MIDI is held: the playlist and the sound leave it alone until `release()` or a scene
jump. The loop calls `tick()` before each frame, then `modulate()` with the sound's values, and
`status()` for what HUD, OSC, /status.json, the control page, the frame log and --stats show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.dream.kinds import Steered
from realtime.dream.params import live_params, switches
from realtime.steer.kinds import Stats

if TYPE_CHECKING:
    from realtime.media.recorder import Recorder
    from realtime.media.sinks import WindowSink
    from realtime.steer.playlist import Playlist

log = logging.getLogger("deepdream.live")

NUDGES: dict[str, tuple[str, Callable[[Any], Any]]] = {  # key command -> (parameter, change)
    "step_size_up": ("step_size", lambda v: v * 1.25),
    "step_size_down": ("step_size", lambda v: v / 1.25),
    "steps_up": ("steps_per_frame", lambda v: v + 1),
    "steps_down": ("steps_per_frame", lambda v: v - 1),
    "feedback_up": ("feedback", lambda v: round(v + 0.05, 2)),
    "feedback_down": ("feedback", lambda v: round(v - 0.05, 2)),
}


class Show:
    def __init__(
        self,
        stream: Steered,
        playlist: Playlist | None = None,
        recorder: Recorder | None = None,
        window: WindowSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.playlist, self.recorder, self.window = stream, playlist, recorder, window
        self.clock = clock
        self.started = clock()
        self.held: set[str] = set()  # parameters an operator set, which the playlist leaves alone
        self.paused = False
        self.scene = ""
        self._refused: set[str] = set()  # what a scene asked and the stream refused, said once
        self.base = dict(stream.figures().values)  # each parameter's value without the sound: flags, then scenes
        self._modulated: set[str] = set()  # what the sound moved at the last frame
        self.levels: dict[str, float] = {}  # what the sound's features are (realtime.steer.features), for status
        self.driven: dict[str, str] = {}  # parameter -> what moves it besides an operator: "midi cc21", "sound bass"
        start = stream.figures().settings  # what "on" means for a switch (flow on): the start's, else the default
        self.on = {
            name: p.default if getattr(start, name) == p.off else getattr(start, name) for name, p in switches().items()
        }

    def tick(self) -> None:
        """Before each frame: the playlist's values for every parameter nobody holds (whole numbers
        rounded during a crossfade); one the stream refuses is logged once and left as it was."""
        if self.playlist is None or self.paused:
            return
        numbers, model, self.scene = self.playlist.at(self.clock() - self.started)
        params = live_params()
        for name, value in numbers.items():
            value = params[name].nearest(value)
            self.base[name] = value
            if name not in self.held and name not in self._modulated:
                self._from_scene(name, value)
        if model is not None and "model" not in self.held:
            paths = [path.resolve() for path in self.stream.figures().model_paths]
            target = Path(model).resolve()
            if target in paths:
                self.stream.set("model", paths.index(target) + 1)

    def modulate(self, values: Mapping[str, float]) -> None:
        """The sound's values for the parameters it moves, each set unless an operator holds it; one it moved
        and moves no more ({} once the sound has stopped) goes back to its value without the sound."""
        for name in self._modulated - set(values) - self.held:
            self._from_scene(name, self.base[name], "sound stopped")
        for name, value in values.items():
            if name not in self.held:
                self._from_scene(name, value, "sound")
        self._modulated = set(values)

    def _from_scene(self, name: str, value: object, what: str = "") -> None:
        try:
            self.stream.set(name, value)
        except ValueError as exc:
            if str(exc) not in self._refused:  # once, not every frame of the scene
                self._refused.add(str(exc))
                log.warning("%s: %s (kept the value in force)", what or f"scene {self.scene}", exc)

    def set(self, name: str, value: object) -> None:
        """An operator's change (key or OSC): checked by the stream, then held against the playlist."""
        if name in switches():  # on/off, 1/0: what was on at the start, or its off
            value = switches()[name].switch(value, self.on[name])
        self.stream.set(name, value)
        self.held.add(name)

    def release(self, name: str | None = None) -> None:
        """Give `name` (None: every parameter held) back to the playlist and the sound."""
        if name is None:
            self.held.clear()
        else:
            self.held.discard(name)

    def jump(self, scene: object) -> None:
        """To a scene by its number (from 1) or name, every parameter given back to the playlist."""
        if self.playlist is None:
            raise ValueError("no playlist: add [[scene]] tables to the --config file")
        self.started = self.clock() - self.playlist.start_of(scene)
        self.held.clear()
        self.tick()

    def next_scene(self) -> None:
        """Jump to the scene after the one playing (the first after the last)."""
        if self.playlist is None:
            raise ValueError("no playlist: add [[scene]] tables to the --config file")
        names = [s.name for s in self.playlist.scenes]
        here = names.index(self.scene) if self.scene in names else -1
        self.jump((here + 1) % len(names) + 1)

    def pause(self, on: bool | None = None) -> None:
        self.paused = (not self.paused) if on is None else on

    def key(self, command: str) -> bool:
        """Apply a key command; False means quit."""
        if command == "quit":
            return False
        if command in NUDGES:
            name, change = NUDGES[command]
            self.set(name, _clamp(name, change(self.stream.figures().values[name])))
        elif command in switches():  # a switch's name is its key command (f: flow)
            self.set(command, self.stream.figures().values[command] == switches()[command].off)
        elif command == "next_model":
            f = self.stream.figures()
            self.set("model", (f.model_index + 1) % f.models + 1)
        elif command in ("mix_down", "mix_up"):
            self._move_mix(-1 if command == "mix_down" else 1)
        elif command == "pause":
            self.pause()
        elif command in ("record", "snapshot") and self.recorder is not None:
            getattr(self.recorder, "toggle" if command == "record" else "snapshot")()
        elif command in ("hud", "help") and self.window is not None:
            attribute = "show_hud" if command == "hud" else "show_help"
            setattr(self.window, attribute, not getattr(self.window, attribute))
        elif command == "fullscreen" and self.window is not None:
            self.window.toggle_fullscreen()
        return True

    def _move_mix(self, delta: int) -> None:
        f = self.stream.figures()
        if not f.mix_layers:
            log.info("%s has fixed layers: export with --mix to blend layers live", f.model)
            return
        start = f.mix_target if f.mix_target is not None else float(len(f.mix_layers) - 1)
        self.set("mix", float(min(max(start + delta, 0), len(f.mix_layers) - 1)))

    def status(self, stats: Stats | None = None) -> dict[str, Any]:
        """The figures everything else shows: the stream's, the show's own, the loop's (`stats`)."""
        f = self.stream.figures()
        out = {
            "frame": stats.frames if stats else f.frame,
            "fps": stats.fps() if stats else float("nan"),
            "ms_per_step": f.ms_per_step,
            "loss": f.loss,
            **asdict(f.settings),
            **f.values,  # model from 1
            "model_name": f.model,
            "models": f.models,
            "scene": self.scene,
            "scene_left": self.scene_left(),
            "paused": self.paused,
            "held": " ".join(sorted(self.held)),  # what a release gives back (the control page offers it)
            **{f"driven_{k}": v for k, v in self.driven.items()},  # flat, as the hub publishes only numbers and text
            "recording": bool(self.recorder is not None and self.recorder.recording),
            "provider": f.provider,
            "fell_back": f.fell_back,
            "mix": f.mix_center,
            "mix_layers": f.mix_layers,  # mix: where the glide is, not where it goes
            "calm_strength": f.calm_strength,
            **{f"sound_{k}": v for k, v in self.levels.items()},
        }
        out.update(getattr(stats, "rates", dict)())  # the asynchronous loop's: display_fps, dream_hz, ...
        return out

    def scene_left(self) -> float | None:
        """Seconds until the playlist moves on from the scene in force (None: no playlist)."""
        if self.playlist is None:
            return None
        t = (self.clock() - self.started) % self.playlist.period
        for scene in self.playlist.scenes:
            if t < scene.duration:
                return scene.duration - t
            t -= scene.duration
        return 0.0


def _clamp(name: str, value: float) -> float:
    low, high = live_params()[name].span()
    return min(max(value, low), high)
