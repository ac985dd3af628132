"""The live loop: source -> dreamer -> sinks, until the source ends, N frames, a quit key or Ctrl-C.

It knows nothing of providers or bindings: it takes frames from a `Latest` reader, lets the show
steer (`tick`), calls the show's stream, writes to every sink, hands key and OSC commands to the
show, and keeps the figures that `--stats` writes (fps, ms per step, capture-to-display latency,
where time goes). HUD lines are made from the show's status and the parameter table.
"""
from __future__ import annotations

import json
import logging
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.dream.params import live_params

log = logging.getLogger("deepdream.live")


@dataclass
class LoopStats:
    frames: int = 0
    started: float = field(default_factory=time.monotonic)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=10000))  # bounded: runs last days
    lost_frames: int = 0
    spent: dict = field(default_factory=lambda: {"capture": 0.0, "flow": 0.0, "dream": 0.0, "display": 0.0})

    stopped: float | None = None  # when the loop ended: closing (a dream in flight, a recording) is not the show

    def elapsed(self) -> float:
        return max((self.stopped or time.monotonic()) - self.started, 1e-9)

    def stop(self) -> None:
        self.stopped = time.monotonic()

    def fps(self) -> float:
        return self.frames / self.elapsed()

    def rates(self) -> dict:
        """What the show's status adds (HUD, OSC, /status.json, the control page): the last frame's latency."""
        return {"latency_ms": self.latencies_ms[-1]} if self.latencies_ms else {}

    def summary(self, show) -> dict:
        lat = np.array(list(self.latencies_ms) or [float("nan")])
        total = sum(self.spent.values()) or 1.0
        status = show.status(self)
        return {"fps": self.fps(), "frames": self.frames, "ms_per_step": status["ms_per_step"],
                "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
                "share": {k: v / total for k, v in self.spent.items()}, "lost_frames": self.lost_frames,
                "provider": status["provider"]}


def mix_line(status: dict) -> str | None:
    layers, center = status["mix_layers"], status["mix"]
    if not layers or center is None:
        return None
    from realtime.dream.stream import mix_bump

    bars = " _.-=#"
    weights = mix_bump(len(layers), center)
    return "mix " + "".join(bars[min(5, int(w * 10))] for w in weights) + f"  ~{layers[round(center)]}"


def hud(show, stats: LoopStats, lost: bool) -> list[str]:
    s = show.status(stats)
    live = "  ".join(f"{p.name.replace('_', ' ')} {_short(s[p.name])}" for p in live_params().values()
                     if p.name != "steps_per_frame")
    rate = f"{s['fps']:4.1f} fps" if "dream_hz" not in s else f"{s['display_fps']:4.1f} fps shown  {s['dream_hz']:4.1f} dreams/s"
    lines = [f"{rate}  {s['ms_per_step']:5.0f} ms/step  {s['steps_per_frame']} steps/frame",
             live + ("  PAUSED" if s["paused"] else ""),
             f"{s['model_name']} on {s['provider'].removesuffix('ExecutionProvider')}"
             + (f"  [{s['scene']}]" if s["scene"] else "")]
    mix = mix_line(s)
    if mix:
        lines.append(mix)
    if "sound_level" in s:
        lines.append("sound " + "  ".join(f"{k.removeprefix('sound_')} {'#' * round(8 * s[k]):<8}" for k in s
                                          if k.startswith("sound_")))
    if lost:
        lines.append("CAMERA LOST: showing the last frame, reconnecting")
    if s["fell_back"]:
        lines.append(f"ON CPU: {s['fell_back']}")
    return lines


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def run(reader, show, sinks, window=None, max_frames: int = 0, present=None, frame_log=None, controls=None,
        publish=None, fps: float = 30.0) -> LoopStats:
    """Run until done; every sink (the recorder among them) is closed on the way out.

    `present` turns the dream into what the sinks show (side-by-side stereo, say); `controls`
    (realtime.steer.controls.Controls) brings OSC, the control page, MIDI and the sound's modulation,
    applied before each frame (`fps`: the source's, for the sound's timing); `publish(status)` hears the
    show's figures after every frame (the HTTP viewer's /status.json and the control page)."""
    stats = LoopStats()
    shown = None
    with running(stats, sinks):
        for frame, t0 in frames(reader, stats, max_frames):
            t1 = time.perf_counter()
            show.tick()
            if controls is not None:  # what came in while the frame was awaited: this frame shows it
                controls.apply(show, stats)
                controls.modulate(show, frame, fps, stats.started)
            dreamed = not (show.paused and shown is not None)  # paused: the last frame again, no dream
            if dreamed:
                shown = show.stream(frame.image)
                shown = present(shown) if present is not None else shown
            t2 = time.perf_counter()
            if window is not None:
                window.hud_lines = hud(show, stats, frame.lost)
            for sink in sinks:
                sink.write(shown)
            t3 = time.perf_counter()
            if frame_log is not None:
                frame_log(frame, show.status(stats), stats.frames, dreamed)
            _count(stats, frame, show.stream.figures().last_flow_s if dreamed else 0.0, t0, t1, t2, t3)
            if not steer(show, stats, window, publish):
                break
    return stats


def frames(reader, stats: LoopStats, max_frames: int = 0):
    """(frame, time asked) from the reader until it ends or `max_frames` were shown; a camera lost
    and back is said once each way, and every lost frame counted."""
    was_lost = False
    while not max_frames or stats.frames < max_frames:
        t0 = time.perf_counter()
        frame = reader.get()
        if frame is None:
            return
        if frame.lost != was_lost:
            log.warning("camera lost: showing the last frame, reconnecting" if frame.lost else "camera back")
            was_lost = frame.lost
        stats.lost_frames += frame.lost
        yield frame, t0


def steer(show, stats, window, publish) -> bool:
    """After a frame: the show's figures out, keys in; False when a key says quit."""
    if publish is not None:
        publish(show.status(stats))
    return window is None or all(show.key(c) for c in window.commands())


@contextmanager
def running(stats: LoopStats, sinks, *also_close):
    """A loop's run: Ctrl-C or a vanished --pipe reader end it quietly; the stats' clock stops, then
    sinks (and `also_close`) close."""
    try:
        yield
    except KeyboardInterrupt:
        log.info("interrupted: closing")
    except BrokenPipeError:
        log.info("the program reading --pipe has gone: closing")
    finally:
        stats.stop()
        for close in also_close:
            close()
        for sink in sinks:
            sink.close()


def _count(stats: LoopStats, frame, flow_s: float, t0: float, t1: float, t2: float, t3: float) -> None:
    stats.frames += 1
    stats.latencies_ms.append((time.monotonic() - frame.time) * 1e3)
    stats.spent["capture"] += t1 - t0
    stats.spent["flow"] += flow_s
    stats.spent["dream"] += (t2 - t1) - flow_s
    stats.spent["display"] += t3 - t2


def write_stats(path: Path, summary: dict):
    """--stats at the end of a run: written whole or not at all (a full disk is one line, not a traceback)."""
    from realtime.files import write_atomic

    write_atomic(path, (json.dumps(summary, indent=2) + "\n").encode())
