"""The live dreamer: a stateful stream, built once, `prepare()`d for a size, then called per frame.

Per frame: the camera frame is scaled to the processing size; the dream added to the previous
frame (previous dream minus the frame it was made from) is warped along the optical flow onto the
new frame, dropped where the flow check finds occlusions, weighted by --feedback (or separately for
moving and static pixels), optionally zoomed, and laid on the new frame; then K ascent steps run,
at one octave of the pyramid per frame when --octaves > 1, their step blended with the previous frame's,
carried the same way (realtime.dream.momentum), so the detail moves with the picture. `--calm` fades
the dream out while the scene moves. Feedback state, the live parameters and timing EMAs live on the
object; callers change parameters with `set()` and read what it is doing from `figures()`. What steers
it (a playlist, keys, OSC, pause) is the show's business (realtime.steer.show), not the stream's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from realtime.dream.flow import Motion, following, warp
from realtime.dream.momentum import moved, steadied
from realtime.dream.octaves import resize
from realtime.dream.parameter import MIN_SIDE, Param
from realtime.dream.params import SHOW, live_params, steering
from realtime.dream.pixels import to_uint8, to_unit
from realtime.dream.settings import Figures, StreamSettings
from realtime.dream.transforms import wrapped

if TYPE_CHECKING:
    from realtime.dream.engine import Engine


@dataclass
class _Live:
    """The live values a stream dreams with, by name (realtime.dream.params.steering); changed only through
    DreamStream.set. `model` counts from 1; `mix` is the layer the mix moves toward (None: the model's own)."""

    values: dict[str, Any]


@dataclass
class Timing:
    """Exponential moving averages, in milliseconds."""

    alpha: float = 0.1
    values: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, ms: float) -> None:
        old = self.values.get(key)
        self.values[key] = ms if old is None else old + self.alpha * (ms - old)


class DreamStream:
    """`stream(frame) -> dreamed frame`; `set(name, value)` between frames; `figures()` to read it."""

    def __init__(self, engines: list[Engine], settings: StreamSettings) -> None:
        self.engines, self.settings = engines, settings
        self._live = _Live(
            {**{name: getattr(settings, name) for name in live_params()}, **{p.name: p.default for p in SHOW}}
        )
        self.flow = following(None, settings.flow, settings.wrap, fine=True)
        self.transform = wrapped() if settings.wrap else None
        self.timing = Timing()
        self.prepare(settings.size)

    def prepare(self, size: tuple[int, int]) -> None:
        """Reset the feedback state for a (width, height) processing size."""
        self.size = size
        self.prev_frame: np.ndarray | None = None  # uint8 RGB, processing size
        self.prev_source: np.ndarray | None = None  # float, the frame the previous dream was made from
        self.prev_dream: np.ndarray | None = None
        self.prev_step: np.ndarray | None = None  # the running step (realtime.dream.momentum)
        self.carried_step: np.ndarray | None = None  # that step moved onto the new frame with the detail
        self.count = 0
        self.calm_strength = 1.0
        self.motion = 0.0
        self.last = {"flow_s": 0.0, "dream_s": 0.0}
        self.mix_center: float | None = None

    STATE = ("prev_frame", "prev_source", "prev_dream", "prev_step", "count", "calm_strength", "motion", "mix_center")

    def state(self) -> dict[str, Any]:
        """The feedback state, enough to continue a render exactly where it stopped."""
        return {k: getattr(self, k) for k in self.STATE if getattr(self, k) is not None}

    def restore(self, state: Mapping[str, Any]) -> None:
        for k in self.STATE:
            value = state.get(k)
            if value is not None and np.ndim(value) == 0:
                value = value.item() if hasattr(value, "item") else value
            setattr(self, k, value)

    def set(self, name: str, value: object) -> None:
        """Change a live parameter (realtime.dream.params.steering) for the next frames, checked by its row
        within this stream's bounds; ValueError names what is wrong."""
        rows = steering()
        if name not in rows:
            raise ValueError(f"unknown parameter {name!r}; live parameters: {', '.join(rows)}")
        self._live.values[name] = self.row(rows[name]).check(value)

    def row(self, param: Param) -> Param:
        """A row as this stream holds it: a run-time bound (Param.bound) filled in from its models."""
        if not param.bound:
            return param
        names = {"models": tuple(e.info.name for e in self.engines), "layers": self.engine.info.mix_layers}
        if not names[param.bound]:  # only a model's layers can be none
            raise ValueError(f"{self.engine.info.name} has fixed layers (export with --mix to blend them live)")
        return param.within(names[param.bound])

    def figures(self) -> Figures:
        t, engine = self.timing.values, self.engine
        return Figures(
            frame=self.count,
            settings=self.settings,
            values=dict(self._live.values),
            model=engine.info.name,
            model_index=self._live.values["model"] - 1,
            models=len(self.engines),
            model_paths=tuple(e.info.path for e in self.engines),
            provider=engine.provider,
            fell_back=engine.fell_back,
            loss=float(engine.last_loss),
            ms_per_step=t.get("ms_per_step", float("nan")),
            flow_ms=t.get("flow_ms", float("nan")),
            dream_ms=t.get("dream_ms", float("nan")),
            last_flow_s=self.last["flow_s"],
            last_dream_s=self.last["dream_s"],
            calm_strength=self.calm_strength,
            mix_layers=engine.info.mix_layers,
            mix_center=self.mix_center,
            mix_target=self._live.values["mix"],
        )

    @property
    def engine(self) -> Engine:
        return self.engines[self._live.values["model"] - 1]

    def __call__(self, rgb: np.ndarray, seed: np.ndarray | None = None, motion: Motion | None = None) -> np.ndarray:
        """One camera frame (uint8 RGB, any size) -> one dreamed frame (uint8 RGB, processing size).
        From the previous frame (the asynchronous worker's), `seed`: the motion composed from the
        frames between (realtime.dream.chain), where the flow starts; `motion`: the motion already
        measured, used instead."""
        w, h = self.size
        frame = rgb if rgb.shape[:2] == (h, w) else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        source = to_unit(frame)
        v = self.dosed()
        t0 = time.perf_counter()
        state = np.clip(source + self._carried_detail(frame, source, seed, motion, v), -1, 1)
        t1 = time.perf_counter()
        dream, self.prev_step = steadied(state, self._dream(state, v), self.carried_step)
        t2 = time.perf_counter()
        self.last = {"flow_s": t1 - t0, "dream_s": t2 - t1}
        self.timing.add("flow_ms", (t1 - t0) * 1e3)
        self.timing.add("dream_ms", (t2 - t1) * 1e3)
        steps = v["steps_per_frame"]
        if steps:
            self.timing.add("ms_per_step", (t2 - t1) * 1e3 / steps)
        if v["dose"] == 0:  # the source itself, dreamed all the same (same time), and no detail carried on
            self.prev_frame, self.prev_source, self.prev_dream, self.prev_step = frame, source, source, None
            self.count += 1
            return frame.copy() if frame is rgb else frame
        self.prev_frame, self.prev_source, self.prev_dream = frame, source, dream
        self.count += 1
        return to_uint8(source + self.calm_strength * (dream - source)) if self.settings.calm else to_uint8(dream)

    def dosed(self) -> dict[str, Any]:
        """The live values this frame dreams with: the dose's scenes interpolated (realtime.dream.dose)."""
        return self.settings.dose_scenes.at(self._live.values, self._live.values["dose"])

    def _carried_detail(
        self, frame: np.ndarray, source: np.ndarray, seed: np.ndarray | None, motion: Motion | None, v: dict[str, Any]
    ) -> np.ndarray:
        before, before_source, dream = self.prev_frame, self.prev_source, self.prev_dream  # set together
        self.carried_step = None
        if before is None or before_source is None or dream is None or v["feedback"] <= 0:
            return np.zeros_like(source)
        detail, step = dream - before_source, self.prev_step
        weight: np.ndarray | float = v["feedback"]
        if v["flow"] != "off":
            self.flow = following(self.flow, v["flow"], self.settings.wrap, fine=True)  # switched live, maybe
            if motion is None:
                motion = self.flow.between(before, frame, seed)
            detail = warp(detail, motion.backward, self.settings.wrap)
            detail[motion.occluded] = 0.0  # newly revealed: take the camera there
            step = moved(step, motion, self.settings.wrap)
            self.motion = float(motion.magnitude.mean())
            s = self.settings
            if s.feedback_moving is not None or s.feedback_static is not None:
                moving = np.clip(motion.magnitude / 2.0, 0, 1)[..., None]  # 2 px/frame counts as moving
                fm = v["feedback"] if s.feedback_moving is None else s.feedback_moving
                fs = v["feedback"] if s.feedback_static is None else s.feedback_static
                weight = moving * fm + (1 - moving) * fs
        elif self.settings.calm:
            self.motion = float(np.abs(frame.astype(np.float32) - before).mean()) / 4.0
        if self.settings.calm:
            # Still scene -> strength back to 1 over ~1 s; movement (~1 px/frame) -> fade to the camera.
            target = float(np.clip(1.0 - self.motion, 0.0, 1.0))
            rate = 0.3 if target < self.calm_strength else 0.03
            self.calm_strength += rate * (target - self.calm_strength)
        if v["zoom"] != 1.0:
            detail = _zoom(detail, v["zoom"])
            step = None if step is None else _zoom(step, v["zoom"])
        self.carried_step = step
        return weight * detail

    def _glide_mix(self, engine: Engine) -> None:
        """Move the mix a quarter of the way toward its target each frame: a smooth turn of the knob."""
        target = self._live.values["mix"]
        if target is None or not engine.info.mix_layers:
            return
        self.mix_center = target if self.mix_center is None else self.mix_center + 0.25 * (target - self.mix_center)
        engine.mix(mix_bump(len(engine.info.mix_layers), self.mix_center))

    def _dream(self, state: np.ndarray, v: dict[str, Any]) -> np.ndarray:
        k, engine = v["steps_per_frame"], self.engine
        self._glide_mix(engine)
        if k <= 0:
            return state
        octaves = self.settings.octaves
        level = self.count % octaves if octaves > 1 else 0
        step_size = v["step_size"]
        if level == 0:
            return engine.step(state, k, step_size, self.transform)
        h, w = state.shape[:2]
        small_size = (
            max(MIN_SIDE, round(h / self.settings.octave_scale**level)),
            max(MIN_SIDE, round(w / self.settings.octave_scale**level)),
        )
        small = resize(state, small_size)
        added = engine.step(small, k, step_size, self.transform) - small
        return np.clip(state + resize(added, (h, w)), -1, 1)


def _zoom(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, factor)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def mix_bump(count: int, center: float, width: float = 0.75) -> np.ndarray:
    """Layer weights: a bump around a (fractional) layer index, summing to 1."""
    w = np.exp(-0.5 * ((np.arange(count) - center) / width) ** 2).astype(np.float32)
    return w / w.sum()
