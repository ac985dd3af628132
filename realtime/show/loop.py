"""The live loop: source -> dreamer -> sinks, until the source ends, N frames, a quit key or Ctrl-C.

It knows nothing of providers or bindings: it takes frames from a `Latest` reader, calls the
stream, writes to every sink, applies window commands to the stream's controls, and keeps the
figures that `--stats` writes (fps, ms per step, capture-to-display latency, where time goes).
"""
from __future__ import annotations

import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.show.control import handle

log = logging.getLogger("deepdream.live")


@dataclass
class LoopStats:
    frames: int = 0
    started: float = field(default_factory=time.monotonic)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=10000))  # bounded: runs last days
    lost_frames: int = 0
    spent: dict = field(default_factory=lambda: {"capture": 0.0, "flow": 0.0, "dream": 0.0, "display": 0.0})

    def summary(self, stream) -> dict:
        wall = max(time.monotonic() - self.started, 1e-9)
        lat = np.array(list(self.latencies_ms) or [float("nan")])
        total = sum(self.spent.values()) or 1.0
        return {"fps": self.frames / wall, "frames": self.frames,
                "ms_per_step": stream.timing.values.get("ms_per_step", float("nan")),
                "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
                "share": {k: v / total for k, v in self.spent.items()}, "lost_frames": self.lost_frames,
                "provider": stream.engine.provider}


def apply(command: str, stream, window, recorder) -> bool:
    """Apply a key command; False means quit."""
    c = stream.controls
    if command == "quit":
        return False
    changes = {
        "pause": lambda: setattr(c, "paused", not c.paused),
        "next_model": lambda: setattr(c, "model_index", (c.model_index + 1) % len(stream.engines)),
        "step_size_up": lambda: setattr(c, "step_size", c.step_size * 1.25),
        "step_size_down": lambda: setattr(c, "step_size", c.step_size / 1.25),
        "steps_up": lambda: setattr(c, "steps_per_frame", c.steps_per_frame + 1),
        "steps_down": lambda: setattr(c, "steps_per_frame", max(0, c.steps_per_frame - 1)),
        "feedback_up": lambda: setattr(c, "feedback", min(1.0, round(c.feedback + 0.05, 2))),
        "feedback_down": lambda: setattr(c, "feedback", max(0.0, round(c.feedback - 0.05, 2))),
        "flow": lambda: setattr(c, "flow_on", not c.flow_on),
        "mix_down": lambda: _move_mix(stream, -1),
        "mix_up": lambda: _move_mix(stream, +1),
        "record": recorder.toggle,
        "snapshot": recorder.snapshot,
        "hud": lambda: setattr(window, "show_hud", not window.show_hud),
        "help": lambda: setattr(window, "show_help", not window.show_help),
        "fullscreen": window.toggle_fullscreen,
    }
    changes[command]()
    return True


def _move_mix(stream, delta: int) -> None:
    layers = stream.engine.info.mix_layers
    if not layers:
        log.info("%s has fixed layers: export with --mix to blend layers live", stream.engine.info.name)
        return
    c = stream.controls
    start = c.mix_target if c.mix_target is not None else float(len(layers) - 1)
    c.mix_target = float(min(max(start + delta, 0), len(layers) - 1))


def mix_line(stream) -> str | None:
    layers = stream.engine.info.mix_layers
    if not layers or stream.mix_center is None:
        return None
    from realtime.dream.stream import mix_bump

    bars = " _.-=#"
    weights = mix_bump(len(layers), stream.mix_center)
    return "mix " + "".join(bars[min(5, int(w * 10))] for w in weights) + f"  ~{layers[round(stream.mix_center)]}"


def hud(stream, stats: LoopStats, lost: bool) -> list[str]:
    c, t = stream.controls, stream.timing.values
    fps = stats.frames / max(time.monotonic() - stats.started, 1e-9)
    lines = [f"{fps:4.1f} fps  {t.get('ms_per_step', 0):5.0f} ms/step  {c.steps_per_frame} steps/frame",
             f"step {c.step_size:.3f}  feedback {c.feedback:.2f}  flow {'on' if c.flow_on else 'off'}"
             + ("  PAUSED" if c.paused else ""),
             f"{stream.engine.info.name} on {stream.engine.provider.removesuffix('ExecutionProvider')}"
             + (f"  [{stream.scene}]" if stream.scene else "")]
    mix = mix_line(stream)
    if mix:
        lines.append(mix)
    if lost:
        lines.append("CAMERA LOST: showing the last frame, reconnecting")
    if stream.engine.fell_back:
        lines.append(f"ON CPU: {stream.engine.fell_back}")
    return lines


def run(reader, stream, sinks, window=None, recorder=None, max_frames: int = 0, present=None,
        frame_log=None, remote=None) -> LoopStats:
    """Run until done; every sink (the recorder among them) is closed on the way out.

    `present` turns the dream into what the sinks show (side-by-side stereo, say); `remote`
    (a realtime.show.remote.Remote) delivers OSC messages, applied between frames."""
    stats = LoopStats()
    was_lost = False
    try:
        while not max_frames or stats.frames < max_frames:
            t0 = time.perf_counter()
            frame = reader.get()
            if frame is None:
                break
            if frame.lost != was_lost:
                log.warning("camera lost: showing the last frame, reconnecting" if frame.lost else "camera back")
                was_lost = frame.lost
            stats.lost_frames += frame.lost
            t1 = time.perf_counter()
            dreamed = stream(frame.image)
            if present is not None:
                dreamed = present(dreamed)
            t2 = time.perf_counter()
            if window is not None:
                window.hud_lines = hud(stream, stats, frame.lost)
            for sink in sinks:
                sink.write(dreamed)
            t3 = time.perf_counter()
            if frame_log is not None:
                frame_log(frame, stream, stats.frames)
            stats.frames += 1
            stats.latencies_ms.append((time.monotonic() - frame.time) * 1e3)
            stats.spent["capture"] += t1 - t0
            stats.spent["flow"] += stream.last["flow_s"]
            stats.spent["dream"] += (t2 - t1) - stream.last["flow_s"]
            stats.spent["display"] += t3 - t2
            if remote is not None:
                for message in remote.messages():
                    handle(message, stream, recorder, stats, remote)
            if window is not None and not all(apply(c, stream, window, recorder) for c in window.commands()):
                break
    except KeyboardInterrupt:
        log.info("interrupted: closing")
    except BrokenPipeError:
        log.info("the program reading --pipe has gone: closing")
    finally:
        for sink in sinks:
            sink.close()
    return stats


def write_stats(path: Path, summary: dict):
    path.write_text(json.dumps(summary, indent=2) + "\n")
