"""`render` against `render --ray` on this machine, Ray's overheads, and per-frame cost at large sizes.

    PYTHONPATH=. python benchmarks/render_cluster.py [--model M.onnx] [--clip CLIP.mp4] [--size 160x120]

1. Wall time of `deepdream render` and `deepdream render --ray` (local Ray, all cores) on the clip,
   each in its own process, alternating, --rounds times.
2. Ray start-up (ray.init of a local Ray) and per-chunk overhead: round trip of a one-frame task
   (engine built in the task, frames encoded both ways) minus the same frame dreamed in-process.
3. Seconds per frame of the dream stream (1 step, flow on) at 1280x720 and 3840x1920 (--wrap, the
   360-degree case), the first frame (no flow yet) excluded: the throughput model's input.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import clip_parser, model_or_exit

from realtime.commands.cluster import _dream_task
from realtime.dream.chunks import Chunk, dream_chunk, encode
from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.clip import Clip


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "realtime.cli", *argv], check=True, capture_output=True)
    return time.perf_counter() - t0


def renders(model: Path, clip: Path, size: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = ["render", str(clip), "-o", f"{tmp}/out.mp4", "--model", str(model), "--size", size, "--provider", "cpu"]
        times = {"plain": [], "ray": []}
        for _ in range(rounds):
            times["plain"].append(wall(base))
            times["ray"].append(wall([*base, "--ray"]))
    for name, values in times.items():
        print(f"render {name:5s} {size}: {statistics.median(values):.1f} s wall (median of {rounds})")


def overheads(model: Path, frame: np.ndarray, tasks: int = 8) -> None:
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    print(f"ray.init (local, 2 CPUs): {time.perf_counter() - t0:.1f} s")
    settings, chunk = StreamSettings(size=frame.shape[1::-1]), Chunk(0, 0, 0, 1, 1)
    task = ray.remote(_dream_task).options(num_cpus=1)
    model_ref, frames = ray.put(model.read_bytes()), encode(frame[None])
    ray.get(task.remote(model_ref, settings, 1, "cpu", chunk, frames, None))  # start a worker, import everything
    trips = []
    for _ in range(tasks):
        t0 = time.perf_counter()
        ray.get(task.remote(model_ref, settings, 1, "cpu", chunk, frames, None))
        trips.append(time.perf_counter() - t0)
    ray.shutdown()
    engine = Engine(model, "cpu", threads=1)
    t0 = time.perf_counter()
    for _ in range(tasks):
        dream_chunk(DreamStream([engine], settings), [frame], chunk)
    local = (time.perf_counter() - t0) / tasks
    print(
        f"one-frame task round trip {statistics.median(trips) * 1e3:.0f} ms, in-process {local * 1e3:.0f} ms: "
        f"per-chunk overhead {(statistics.median(trips) - local) * 1e3:.0f} ms"
    )


def per_frame(model: Path, frame: np.ndarray, size: tuple[int, int], wrap: bool, frames: int = 3) -> None:
    engine = Engine(model, "cpu", threads=0)
    stream = DreamStream([engine], StreamSettings(size=size, wrap=wrap))
    shifted = [np.roll(frame, 2 * i, axis=1) for i in range(frames + 1)]
    stream(shifted[0])
    t0 = time.perf_counter()
    for f in shifted[1:]:
        stream(f)
    print(
        f"{size[0]}x{size[1]}{' --wrap' if wrap else ''}: {(time.perf_counter() - t0) / frames:.2f} s per frame "
        f"(1 step, flow on, {frames} frames, all cores)"
    )


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: renders,overheads,large")
    args = ap.parse_args()
    args.model = model_or_exit(args.model)
    first = next(Clip.open(args.clip).frames())
    if "renders" not in args.skip:
        renders(args.model, args.clip, args.size, args.rounds)
    if "overheads" not in args.skip:
        overheads(args.model, first[:120, :160].copy())
    if "large" not in args.skip:
        import cv2

        for size, wrap in (((1280, 720), False), ((3840, 1920), True)):
            per_frame(args.model, cv2.resize(first, size), size, wrap)


if __name__ == "__main__":
    main()
