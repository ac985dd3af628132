"""The video writer's cost per frame and file size (H.264 through PyAV), fast and exact.

    python benchmarks/video_writer.py [--frames 90] [--crf 18 23] [--sizes 640x360 1280x720] [--rounds 3]
    python benchmarks/video_writer.py --one 1280x720 --crf 18 [--exact]     # one measurement, one process
    python benchmarks/video_writer.py --quality --clip DREAM.mp4 --sizes 320x240 --crf 14 16 18 20 \
        --params mbtree=1 mbtree=0                                           # KiB and PSNR per crf
    python benchmarks/video_writer.py --agree --clip DREAM.mp4 --sizes 100x76 --crf 18 --params mbtree=1 \
        --perturb 1 17 99 238                                                # same bytes under other heaps?

Frames of the synthetic source (moving, textured), written with `VideoWriter`: the default one
(libx264 on the machine's threads, what `live --record` uses) and the exact one (`VideoFormat(exact=
True)`: libx264 on one thread, what `render`, `render --ray` and `live --seed` use, so the same frames
give the same bytes whatever the cores). Each measurement runs in its own process, the two kinds
alternating round after round (these VMs drift by 10-30 % over minutes); it prints the encoder, ms
per frame (write + share of the final flush), KiB per second of video, and each round's exact/fast ratio.

--quality and --agree take a clip's frames (a render of one looks like what the exact writer gets), scaled to
each size, through the exact writer with other x264 settings (`--params`, in place of EXACT_X264): --quality
prints KiB per second of video and PSNR against those frames; --agree writes them in child processes under
each MALLOC_PERTURB_ (glibc fills the heap with that byte) and says whether the files are the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import cv2
import numpy as np

from realtime.media import video
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
        return {
            "encoder": writer.encoder,
            "ms": 1000 * elapsed / frames,
            "kib_s": path.stat().st_size / 1024 / (frames / 30),
        }


def clip_frames(clip: str, size, frames: int) -> list[np.ndarray]:
    capture, out = cv2.VideoCapture(clip), []
    while len(out) < frames:
        ok, bgr = capture.read()
        if not ok:
            break
        out.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size, interpolation=cv2.INTER_AREA))
    return out


def write_exact(path: Path, images, crf: int, params: str) -> None:
    video.EXACT_X264 = params  # encoder_options reads it at each call
    writer = VideoWriter(path, 30, images[0].shape[1::-1], VideoFormat(crf=crf, exact=True))
    for image in images:
        writer.write(image)
    writer.close()


def quality(images, crf: int, params: str) -> dict:
    """KiB per second of video and PSNR (dB, RGB, all frames) against `images`."""
    import av

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "q.mp4"
        write_exact(path, images, crf, params)
        with av.open(str(path)) as c:
            decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        kib_s = path.stat().st_size / 1024 / (len(images) / 30)
    mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(images, decoded)])
    return {"kib_s": kib_s, "psnr": 10 * np.log10(255**2 / mse)}


def agree(args, size: str, crf: int, params: str) -> str:
    """The same frames written in a child process under each MALLOC_PERTURB_: one digest, or several."""
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for perturb in args.perturb:
            out = Path(tmp) / f"{perturb}.mp4"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--write",
                    str(out),
                    "--clip",
                    args.clip,
                    "--sizes",
                    size,
                    "--frames",
                    str(args.frames),
                    "--crf",
                    str(crf),
                    "--params",
                    params,
                ],
                check=True,
                env={**os.environ, "MALLOC_PERTURB_": str(perturb)},
            )
            digests.append(hashlib.sha256(out.read_bytes()).hexdigest()[:12])
    return ("same bytes " if len(set(digests)) == 1 else "DIFFERENT ") + " ".join(digests)


def in_process(size: str, frames: int, crf: int, exact: bool) -> dict:
    """One measurement in a fresh process (its own threads and caches)."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            size,
            "--frames",
            str(frames),
            "--crf",
            str(crf),
            *(["--exact"] if exact else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--crf", type=int, nargs="+", default=[18, 23])
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    parser.add_argument("--rounds", type=int, default=3, help="fast and exact alternating, each in its own process")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # WxH: one measurement here, as JSON
    parser.add_argument("--exact", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quality", action="store_true", help="KiB/s and PSNR per crf and --params")
    parser.add_argument("--agree", action="store_true", help="same bytes under each --perturb?")
    parser.add_argument("--clip", default=str(Path(__file__).parents[1] / "tests/data/pan_coffee_320x240.mp4"))
    parser.add_argument("--params", nargs="+", default=["mbtree=1", video.EXACT_X264], help="x264-params to try")
    parser.add_argument("--perturb", type=int, nargs="+", default=[1, 17, 99, 238])
    parser.add_argument("--write", help=argparse.SUPPRESS)  # OUT: --agree's child
    args = parser.parse_args()
    if args.write or args.quality or args.agree:
        return frames_of_a_clip(args)
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
                print(
                    f"{size} crf {crf} {kind}: {rows[0]['encoder']}, {times} ms/frame, "
                    f"{rows[0]['kib_s']:.0f} KiB/s of video"
                )
            print(
                f"{size} crf {crf} exact/fast per round: {', '.join(f'{r:.2f}' for r in ratios)} "
                f"(median {median(ratios):.2f})",
                flush=True,
            )


def frames_of_a_clip(args) -> None:
    """--write, --quality, --agree: the clip's frames, each size, crf and x264 setting."""
    for size in args.sizes:
        images = clip_frames(args.clip, tuple(int(v) for v in size.split("x")), args.frames)
        for crf in args.crf:
            for params in args.params:
                if args.write:
                    return write_exact(Path(args.write), images, crf, params)
                if args.agree:
                    print(f"{size} crf {crf} {params}: {agree(args, size, crf, params)}", flush=True)
                else:
                    q = quality(images, crf, params)
                    print(f"{size} crf {crf} {params}: {q['kib_s']:.0f} KiB/s, PSNR {q['psnr']:.2f} dB", flush=True)


if __name__ == "__main__":
    main()
