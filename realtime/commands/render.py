"""`deepdream render`: every frame of a clip through the live loop's dream stream, offline.

Same `DreamStream` as `live` (feedback and flow included), but every frame, in order, not in real
time: the output has the input's frame rate, frame count and sound. Frames go to a work folder beside the
output in chunks, each with the stream's state, so an interrupted render continues where it
stopped; the MP4 is assembled (atomically) at the end. The dream is deterministic: two renders
with the same settings give the same file.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.dream.engine import Engine
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.media.video import VideoFormat, VideoWriter
from realtime.dream.stream import DreamStream

CHUNK = 30  # frames per chunk file: what an interruption can lose


@dataclass(frozen=True)
class RenderJob:
    input: Path
    output: Path
    model: Path
    size: tuple[int, int] | None = None
    seed: int = 0
    crf: int = 18


def _open(job: RenderJob):
    if not job.input.is_file():
        raise UserError(f"input not found: {job.input}")
    if job.output.suffix.lower() != ".mp4":
        raise UserError(f"output must be an .mp4 file, got {job.output}")
    if job.output.resolve() == job.input.resolve():
        raise UserError(f"output {job.output} is the input; choose another name")
    check_writable(job.output)  # now, not after the render
    cap = cv2.VideoCapture(str(job.input))
    if not cap.isOpened() or not cap.read()[0]:
        raise UserError(f"{job.input} is not a readable video")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return cap


def render(job: RenderJob, make_settings, provider: str = "auto") -> Path:
    from tqdm import tqdm

    cap = _open(job)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    size = job.size or (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    settings = make_settings(size)
    engine = Engine(job.model, provider)
    stream = DreamStream([engine], settings)
    work = job.output.with_name(f".{job.output.name}.partial")
    fingerprint = {"input": str(job.input.resolve()), "input_bytes": job.input.stat().st_size,
                   "model": str(job.model.resolve()), "settings": asdict(settings), "seed": job.seed}
    done = _resume(work, fingerprint, stream)
    for _ in range(done):  # decode up to where the last run stopped (seeking is not frame-exact)
        cap.read()
    pending, index = [], done
    with tqdm(total=total or None, initial=done, desc="render", unit="frame") as bar:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            pending.append(stream(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            index += 1
            bar.update(1)
            if len(pending) == CHUNK:
                _save_chunk(work, index, pending, stream, fingerprint)
                pending = []
    if pending:
        _save_chunk(work, index, pending, stream, fingerprint)
    _assemble(work, job.output, fps, size, VideoFormat(crf=job.crf, spherical=settings.wrap), job.input)
    shutil.rmtree(work, ignore_errors=True)
    return job.output


def _resume(work: Path, fingerprint: dict, stream: DreamStream) -> int:
    """Frames already rendered by an earlier run with the same settings (0 for a fresh render)."""
    progress = work / "progress.json"
    if progress.is_file():
        saved = json.loads(progress.read_text())
        if saved["fingerprint"] == json.loads(json.dumps(fingerprint)):
            with np.load(work / "state.npz", allow_pickle=False) as state:
                stream.restore(dict(state))
            return int(saved["frames"])
    shutil.rmtree(work, ignore_errors=True)  # another render's leftovers, or none
    work.mkdir(parents=True)
    return 0


def _save_chunk(work: Path, index: int, frames: list, stream: DreamStream, fingerprint: dict) -> None:
    """Chunk, then state, then progress: a crash between them leaves the last consistent point."""
    import io

    for name, arrays, save in ((f"chunk-{index:08d}.npz", {"frames": np.stack(frames)}, np.savez_compressed),
                               ("state.npz", stream.state(), np.savez)):
        buffer = io.BytesIO()
        save(buffer, **arrays)
        write_atomic(work / name, buffer.getvalue())
    write_atomic(work / "progress.json", json.dumps({"fingerprint": fingerprint, "frames": index}).encode())


def _assemble(work: Path, output: Path, fps: float, size, fmt: VideoFormat, sound: Path | None = None) -> None:
    """The rendered chunks as one H.264 MP4, with the sound of `sound` (the input clip) if it has any."""
    frames = int(json.loads((work / "progress.json").read_text())["frames"])
    sink = VideoWriter(output, fps, size, fmt, audio_from=sound)
    try:
        for chunk in sorted(work.glob("chunk-*.npz")):
            if int(chunk.stem.split("-")[1]) > frames:
                break  # written after the last consistent point
            with np.load(chunk) as data:
                for frame in data["frames"]:
                    sink.write(frame)
    except BaseException:
        sink.abort()  # no half file; the chunks stay for the next run
        raise
    sink.close()
