"""The video writer's cost per frame and file size (H.264 through PyAV), beside the dream's.

    python benchmarks/video_writer.py [--frames 90] [--crf 18 23]

Frames of the synthetic source (moving, textured) at 640x360 and 1280x720, written with
`VideoWriter`; prints the encoder used, ms per frame (write + share of the final flush) and
kilobytes per second of video.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from realtime.media.sources import SyntheticSource
from realtime.media.video import VideoFormat, VideoWriter


def measure(size, frames: int, crf: int) -> tuple[str, float, float]:
    images = [SyntheticSource(size).render(i) for i in range(frames)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mp4"
        t0 = time.perf_counter()
        writer = VideoWriter(path, 30, size, VideoFormat(crf=crf))
        for image in images:
            writer.write(image)
        writer.close()
        elapsed = time.perf_counter() - t0
        return writer.encoder, 1000 * elapsed / frames, path.stat().st_size / 1024 / (frames / 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--crf", type=int, nargs="+", default=[18, 23])
    args = parser.parse_args()
    for size in ((640, 360), (1280, 720)):
        for crf in args.crf:
            encoder, ms, kbps = measure(size, args.frames, crf)
            print(f"{size[0]}x{size[1]} crf {crf}: {encoder}, {ms:.1f} ms/frame, {kbps:.0f} KiB per second of video")


if __name__ == "__main__":
    main()
