"""What `--serve` costs the display thread: ms per frame handed to the HTTP hub, with no viewer and with one.

    python benchmarks/serve_cost.py [--frames 300] [--viewer] [--json out.json]

`ServeSink.write`, the call the display thread makes for every frame shown, timed alone (median and
mean of `--frames` calls after a warm-up call) on the synthetic source's frames at the two display
sizes of benchmarks/live.py (640x480 and 1280x720). With `--viewer` a thread takes frames as an MJPEG
connection does (`FrameHub.next_after`), so the JPEG is wanted. The script imports whichever tree
PYTHONPATH names first, so one copy of it times two versions of the hub, each in its own process:

    PYTHONPATH=/path/to/other/tree python benchmarks/serve_cost.py
"""

from __future__ import annotations

import argparse
import statistics
import threading

from timing import report, times_ms

from realtime.media.serve import FrameHub, ServeSink
from realtime.media.sources import SyntheticSource

SIZES = [(640, 480), (1280, 720)]


def viewer(hub: FrameHub) -> threading.Thread:
    """A connection taking every frame it can, until the hub closes."""

    def take():
        seen = 0
        while (item := hub.next_after(seen, timeout=60)) is not None:
            seen = item[0]

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def measure(size: tuple[int, int], frames: int, with_viewer: bool) -> dict:
    source = SyntheticSource(size, paced=False)
    images = [source.render(i) for i in range(30)]  # rendered beforehand: only the write is timed
    hub = FrameHub()
    sink, taker = ServeSink(hub), viewer(hub) if with_viewer else None
    index = iter(range(frames + 1))
    ms = times_ms(lambda: sink.write(images[next(index) % len(images)]), frames)
    hub.close()
    if taker is not None:
        taker.join(timeout=60)
    return {
        "size": f"{size[0]}x{size[1]}",
        "viewer": "one" if with_viewer else "none",
        "ms_median": statistics.median(ms),
        "ms_mean": statistics.fmean(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--viewer", action="store_true", help="with one viewer taking frames")
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = [measure(size, args.frames, args.viewer) for size in SIZES]
    report(
        "ServeSink.write, ms per frame on the display thread",
        [
            ("size", "size", ""),
            ("viewer", "viewer", ""),
            ("ms_median", "median ms", ".3f"),
            ("ms_mean", "mean ms", ".3f"),
        ],
        rows,
        args.json,
    )


if __name__ == "__main__":
    main()
