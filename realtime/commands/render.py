"""`deepdream render`: every frame of a clip through the live loop's dream stream, offline.

Same `DreamStream` as `live` (feedback and flow included), but every frame, in order, not in real
time: the output has the input's frame rate, frame count and sound. The output is checked before any
work; frames go to a work folder beside the output in chunks, each with the stream's state, so an
interrupted render continues where it stopped; the MP4 is assembled inside the work folder and
moved over the output only when complete. The dream is deterministic: two renders with the same
settings give the same file. `--ray` (commands/cluster.py) shares the checks and the finish.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from realtime.dream.engine import Engine
from realtime.dream.stream import DreamStream
from realtime.dream.transforms import MIN_SIDE
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.media.clip import Clip
from realtime.media.video import VideoFormat, VideoWriter

CHUNK = 30  # frames per chunk file: what an interruption can lose


@dataclass(frozen=True)
class RenderJob:
    input: Path
    output: Path
    model: Path
    size: tuple[int, int] | None = None
    crf: int = 18  # H.264 quality


def prepare(job: RenderJob) -> tuple[Clip, tuple[int, int]]:
    """Check the output, then the input, before any work; say when an output will be replaced."""
    if not job.input.is_file():
        raise UserError(f"input not found: {job.input}")
    if job.output.resolve() == job.input.resolve():
        raise UserError(f"output {job.output} is the input; choose another name")
    if job.output.suffix.lower() != ".mp4":
        raise UserError(f"output must be an .mp4 file, got {job.output}")
    check_writable(job.output, replacing="replacing existing {path} when the render completes")
    clip = Clip.open(job.input)
    size = job.size or clip.size
    if min(size) < MIN_SIDE:
        raise UserError(f"{job.input} is {size[0]}x{size[1]}: the network needs at least {MIN_SIDE} px on a side "
                        "(render it larger with --size)")
    return clip, size


def work_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial")


def render(job: RenderJob, make_settings, provider: str = "auto") -> Path:
    from tqdm import tqdm

    clip, size = prepare(job)
    settings = make_settings(size)
    stream = DreamStream([Engine(job.model, provider)], settings)
    work = work_folder(job.output)
    fingerprint = {"input": str(job.input.resolve()), "input_bytes": job.input.stat().st_size,
                   "model": str(job.model.resolve()), "settings": asdict(settings)}
    done = _resume(work, fingerprint, stream)
    pending, index = [], done
    with tqdm(total=clip.count or None, initial=done, desc="render", unit="frame") as bar:
        for rgb in clip.frames(skip=done):
            pending.append(stream(rgb))
            index += 1
            bar.update(1)
            if len(pending) == CHUNK:
                _save_chunk(work, index, pending, stream, fingerprint)
                pending = []
    if pending:
        _save_chunk(work, index, pending, stream, fingerprint)
    warning = clip.shortfall(index)
    if warning:
        print(warning, file=sys.stderr)
    return finish(work, job.output, lambda staged: _assemble(work, output_writer(job, staged, clip, settings)))


def finish(work: Path, output: Path, assemble) -> Path:
    """`assemble(staged)` writes the MP4 inside the work folder; only a complete one replaces `output`.
    A failure (a full disk) removes the half file and keeps the dreamed frames for a rerun."""
    staged = work / "assembled.mp4"
    try:
        assemble(staged)
        os.replace(staged, output)
    except OSError as exc:
        for leftover in [staged, *work.glob(".assembled.*")]:
            leftover.unlink(missing_ok=True)
        raise UserError(f"cannot write {output}: {exc.strerror or exc}; the dreamed frames are kept in {work}/, "
                        "run the same command again to finish without dreaming them again") from None
    shutil.rmtree(work, ignore_errors=True)
    return output


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
    try:
        for name, arrays, save in ((f"chunk-{index:08d}.npz", {"frames": np.stack(frames)}, np.savez_compressed),
                                   ("state.npz", stream.state(), np.savez)):
            buffer = io.BytesIO()
            save(buffer, **arrays)
            write_atomic(work / name, buffer.getvalue())
        write_atomic(work / "progress.json", json.dumps({"fingerprint": fingerprint, "frames": index}).encode())
    except OSError as exc:
        raise UserError(f"cannot save the render's progress in {work}: {exc.strerror or exc}; "
                        "what was saved before is kept, and the same command continues from there") from None


def output_writer(job: RenderJob, path: Path, clip: Clip, settings) -> VideoWriter:
    """The render's H.264 writer: the clip's rate and sound, 360-degree metadata for --wrap."""
    return VideoWriter(path, clip.fps, settings.size, VideoFormat(crf=job.crf, spherical=settings.wrap),
                       audio_from=job.input)


def _assemble(work: Path, sink: VideoWriter) -> None:
    """The rendered chunks, in order, into `sink`; an interruption leaves no half file (the chunks stay)."""
    frames = int(json.loads((work / "progress.json").read_text())["frames"])
    try:
        for chunk in sorted(work.glob("chunk-*.npz")):
            if int(chunk.stem.split("-")[1]) > frames:
                break  # written after the last consistent point
            with np.load(chunk) as data:
                for frame in data["frames"]:
                    sink.write(frame)
    except BaseException:
        sink.abort()
        raise
    sink.close()
