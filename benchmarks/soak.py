"""Soak: run the headless live loop for a long time and print RSS and fps over time.

    python benchmarks/soak.py --minutes 60 [--model M.onnx] [--source synthetic] [--size 320x240] [--every 60]

Prints one line per interval: elapsed minutes, frames, fps over the interval, RSS in MiB. Memory
should stay flat: the loop keeps no per-frame state beyond a bounded latency window.
"""
from __future__ import annotations

import argparse
import resource
import threading
import time
from pathlib import Path

from realtime.engine import Engine
from realtime.loop import run
from realtime.sources import Latest, open_source
from realtime.stills import DEFAULT_MODEL
from realtime.stream import DreamStream, StreamSettings


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CountingSink:
    def __init__(self):
        self.frames = 0

    def write(self, frame):
        self.frames += 1

    def close(self):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--every", type=float, default=60, help="seconds between report lines")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    stream = DreamStream([Engine(Path(args.model), "cpu")], StreamSettings(size=(w, h)))
    reader = Latest(open_source(args.source, loop=True, size=(w, h)))
    sink = CountingSink()
    stop_at = time.monotonic() + args.minutes * 60
    done = threading.Event()

    def report():
        start, last_frames, last_t = time.monotonic(), 0, time.monotonic()
        print("minutes frames fps rss_mib", flush=True)
        while not done.wait(args.every):
            now = time.monotonic()
            fps = (sink.frames - last_frames) / (now - last_t)
            print(f"{(now - start) / 60:7.1f} {sink.frames:6d} {fps:4.1f} {rss_mib():7.1f}", flush=True)
            last_frames, last_t = sink.frames, now

    threading.Thread(target=report, daemon=True).start()

    class Until:  # ends the loop at the deadline
        def get(self, timeout=5.0):
            return reader.get(timeout) if time.monotonic() < stop_at else None

    try:
        run(Until(), stream, [sink])
    finally:
        done.set()
        reader.close()
    print(f"done: {sink.frames} frames, final RSS {rss_mib():.1f} MiB")


if __name__ == "__main__":
    main()
