"""The video writer's cost per frame and file size (H.264 through PyAV), fast and exact.

    python benchmarks/video_writer.py [--frames 90] [--crf 18 23] [--sizes 640x360 1280x720] [--rounds 3]
    python benchmarks/video_writer.py --one 1280x720 --crf 18 [--exact]     # one measurement, one process

Frames of the synthetic source (moving, textured), written with `VideoWriter`: the default one
(libx264 on the machine's threads, what `live --record` uses) and the exact one (`VideoFormat(exact=
True)`: libx264 on one thread, what `render`, `render --ray` and `live --seed` use, so the same frames
give the same bytes whatever the cores). Each measurement runs in its own process, the two kinds
alternating round after round (these VMs drift by 10-30 % over minutes); it prints the encoder, ms
per frame (write + share of the final flush), KiB per second of video, and each round's exact/fast ratio.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from realtime.media.sources import SyntheticSource
from realtime.media.video import VideoFormat, VideoWriter


def measure(size, frames: int, crf: int, exact: bool) -> dict:
    images = [SyntheticSource(size).render(i) for i in range(frames)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mp4"
        t0 = time.perf_counter()
        writer = VideoWriter(path, 30, size, VideoFormat(crf=crf, exact=exact))
        for image in images:
            writer.write(image)
        writer.close()
        elapsed = time.perf_counter() - t0
        return {"encoder": writer.encoder, "ms": 1000 * elapsed / frames,
                "kib_s": path.stat().st_size / 1024 / (frames / 30)}


def in_process(size: str, frames: int, crf: int, exact: bool) -> dict:
    """One measurement in a fresh process (its own threads and caches)."""
    out = subprocess.run([sys.executable, __file__, "--one", size, "--frames", str(frames), "--crf", str(crf),
                          *(["--exact"] if exact else [])], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--crf", type=int, nargs="+", default=[18, 23])
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    parser.add_argument("--rounds", type=int, default=3, help="fast and exact alternating, each in its own process")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # WxH: one measurement here, as JSON
    parser.add_argument("--exact", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        size = tuple(int(v) for v in args.one.split("x"))
        print(json.dumps(measure(size, args.frames, args.crf[0], args.exact)))
        return
    for size in args.sizes:
        for crf in args.crf:
            ratios, runs = [], {False: [], True: []}
            for _ in range(args.rounds):
                fast, exact = in_process(size, args.frames, crf, False), in_process(size, args.frames, crf, True)
                runs[False].append(fast)
                runs[True].append(exact)
                ratios.append(exact["ms"] / fast["ms"])
            for kind, rows in (("fast ", runs[False]), ("exact", runs[True])):
                times = ", ".join(f"{r['ms']:.1f}" for r in rows)
                print(f"{size} crf {crf} {kind}: {rows[0]['encoder']}, {times} ms/frame, "
                      f"{rows[0]['kib_s']:.0f} KiB/s of video")
            print(f"{size} crf {crf} exact/fast per round: {', '.join(f'{r:.2f}' for r in ratios)} "
                  f"(median {median(ratios):.2f})", flush=True)


if __name__ == "__main__":
    main()
