"""benchmarks/gpu.py's third section: the live view beside the display, on a clip made here.

`make_clip` writes a panning texture at 60 fps; `live_figures` dreams it as `deepdream live --size P
--display-size D --steps-per-frame 2` does (the dream worker beside the display path), after a
warm-up step outside the measured window, and returns display fps, dreams/s, latency, dropped
frames and the display path's ms a frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import ListSink
from realtime.media.sources import CaptureSource, Latest
from realtime.run.display import DisplayPath
from realtime.run.live_mode import beside_display
from realtime.run.loop import run
from realtime.run.steps import BesideDisplay
from realtime.run.system import lowered
from realtime.run.worker import DreamWorker, StreamProxy
from realtime.steer.show import Show


def make_clip(path: Path, wh: tuple[int, int], seconds: float = 4.0, fps: int = 60) -> Path:
    """A panning texture at 60 fps (PyAV's H.264 where installed, else OpenCV's MPEG-4)."""
    import cv2

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.integers(0, 255, (wh[1] + 64, wh[0] * 2, 3), dtype=np.uint8), (0, 0), 4)
    shift = [(6 * i) % wh[0] for i in range(int(seconds * fps))]  # 6 px a frame to the right, round again
    frames = (big[32 : 32 + wh[1], s : s + wh[0]] for s in shift)
    try:
        import av

        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=fps, options={"crf": "23", "preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = *wh, "yuv420p"
            for i, frame in enumerate(frames):
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                picture.pts = i
                out.mux(stream.encode(picture))
            out.mux(stream.encode(None))
    except ImportError:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, wh)
        for frame in frames:
            writer.write(frame)
        writer.release()
    return path


def live_figures(open_engine, clip: Path, processing, display, frames: int) -> dict:
    """`deepdream live --size P --display-size D --steps-per-frame 2` beside the display, on the clip, looped;
    `open_engine(**options)` opens the engine (the caller's model and provider)."""
    engine = lowered(lambda below: open_engine(**beside_display(below)))
    # Warm-up outside the measured window: allocations, cuDNN's algorithm search, the graphs' capture.
    engine.step(np.zeros((processing[1], processing[0], 3), np.float32), 2, 0.02)
    stream = DreamStream([engine], StreamSettings(size=processing, steps_per_frame=2))
    proxy = StreamProxy(stream)
    source = CaptureSource(str(clip), loop=True)
    reader = Latest(source)

    class Counting(ListSink):
        def write(self, frame):
            self.frames.append(None)

    stats = run(
        reader,
        Show(proxy),
        [Counting()],
        max_frames=frames,
        fps=source.fps,
        step=BesideDisplay(DreamWorker(stream, proxy), DisplayPath(processing, display, 4)),
    )
    reader.close()
    s = stats.summary(Show(proxy))
    return {
        "size": f"{processing[0]}x{processing[1]}",
        "display": f"{display[0]}x{display[1]}",
        "source_fps": source.fps,
        "display_fps": round(s["display_fps"], 2),
        "dream_hz": round(s["dream_hz"], 2),
        "latency_ms": s["latency_ms"],
        "dream_age_ms": s["dream_age_ms"],
        "dropped_frames": s["dropped_frames"],
        "display_ms": s["display_ms"],
        "provider": s["provider"],
        "graphs": engine.stepper.graphs,
        "graphs_refused": engine.graphs_refused,
    }
