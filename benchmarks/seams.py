"""Seams where separately dreamed chunks meet (realtime.dream.seams' measure), for chunk plans side by side.

    python benchmarks/seams.py [--model M.onnx] [--clip CLIP.mp4] [--size 160x120] [--plans 0/0,20/8]

The clip is rendered continuously, then in chunks of --chunk frames for each warm-up/blend plan
(chunks dreamed one after another in this process, as Ray tasks would, and joined). Printed per
render: the worst near-border warping error over the other frames' p95, and the weakest
near-border strength over their p5 (one frame either side of each border); > 1 / < 1 means the
border frames are worse than the clip's own outliers.
"""

from __future__ import annotations

import time

from timing import clip_parser, model_or_exit

from realtime.dream.chunks import ChunkPlan, Joiner, dream_chunk
from realtime.dream.engine import Engine
from realtime.dream.seams import seam_figures
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.clip import Clip


def joined(engine, settings, frames, plan: ChunkPlan):
    joiner, out = Joiner(), []
    for chunk in plan.chunks(len(frames)):
        dreamed = dream_chunk(DreamStream([engine], settings), frames[chunk.first : chunk.last], chunk)
        out.extend(joiner.add(chunk, dreamed))
    return out


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("--chunk", type=int, default=30)
    ap.add_argument("--plans", default="0/0,10/4,20/8", help="warm-up/blend pairs")
    args = ap.parse_args()
    args.model = model_or_exit(args.model)
    size = tuple(int(v) for v in args.size.split("x"))
    frames = list(Clip.open(args.clip).frames())
    settings = StreamSettings(size=size, steps_per_frame=2, step_size=0.03)
    engine = Engine(args.model, "cpu", threads=1)
    borders = list(range(args.chunk, len(frames), args.chunk))
    t0 = time.perf_counter()
    whole = joined(engine, settings, frames, ChunkPlan(chunk_frames=len(frames), warmup=0, blend=0))
    s = seam_figures(frames, whole, borders)
    print(f"continuous: warp {s.warp:.2f}  strength {s.strength:.2f}  ({time.perf_counter() - t0:.0f} s)")
    for pair in args.plans.split(","):
        warmup, blend = (int(v) for v in pair.split("/"))
        t0 = time.perf_counter()
        out = joined(
            engine, settings, frames, ChunkPlan(chunk_frames=args.chunk, warmup_frames=warmup, blend_frames=blend)
        )
        s = seam_figures(frames, out, borders)
        print(
            f"chunks of {args.chunk}, warm-up {warmup}, blend {blend}: warp {s.warp:.2f}  strength {s.strength:.2f}"
            f"  ({time.perf_counter() - t0:.0f} s)"
        )


if __name__ == "__main__":
    main()
