"""`deepdream render`: every frame of a clip through the live loop's dream stream, offline.

Same `DreamStream` as `live` (feedback and flow included), but every frame, in order, not in real
time: the output has the input's frame rate, frame count and sound. The output is checked before any
work; frames go to a work folder beside the output in chunks, each with the stream's state, so an
interrupted render continues where it stopped; the MP4 is assembled inside the work folder and
moved over the output only when complete. The work folder carries a marker file: only a folder
with it is ever cleared or deleted. The dream is deterministic and the writer exact
(realtime.media.video), so two renders with the same settings give the same file. `--ray`
(commands/cluster.py) shares the checks and the finish.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from dataclasses import asdict, field
from pathlib import Path

import numpy as np

from realtime.commands.steering import Steering
from realtime.dream.engine import Engine
from realtime.dream.parameter import MIN_SIDE
from realtime.dream.params import OUTPUT
from realtime.dream.settings import settings_class
from realtime.dream.stream import DreamStream
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.media.audio import check_sound
from realtime.media.clip import Clip
from realtime.media.spherical import not_360
from realtime.media.video import VideoFormat, VideoWriter

CHUNK = 30  # frames per chunk file: what an interruption can lose
MARK = "made-by-deepdream-render"  # in every work folder we make: nothing without it is deleted


RenderJob = settings_class(
    "RenderJob",
    OUTPUT,
    "A render: the clip, the output, the model, the processing size (None: the clip's), "
    "and the OUTPUT parameters (crf).",
    extra=(
        ("input", Path, field()),
        ("output", Path, field()),
        ("model", Path, field()),
        ("size", tuple, field(default=None)),
        ("config", Path, field(default=None)),  # with [[modulate]] rows: the dream follows the sound
        ("audio", Path, field(default=None)),
    ),  # the sound they follow (None: the clip's own)
    module=__name__,
)


def prepare(job: RenderJob) -> tuple[Clip, tuple[int, int]]:
    """Check the output, then the input, before any work; say when an output will be replaced."""
    if not job.input.is_file():
        raise UserError(f"input not found: {job.input}")
    if job.output.resolve() == job.input.resolve():
        raise UserError(f"output {job.output} is the input; choose another name")
    if job.output.suffix.lower() != ".mp4":
        raise UserError(f"output must be an .mp4 file, got {job.output}")
    check_writable(job.output, replacing="replacing existing {path} when the render completes")
    ours(work_folder(job.output))
    clip = Clip.open(job.input)
    size = job.size or clip.size
    if min(size) < MIN_SIDE:
        raise UserError(
            f"{job.input} is {size[0]}x{size[1]}: the network needs at least {MIN_SIDE} px on a side "
            "(render it larger with --size)"
        )
    check_sound(job.input)
    return clip, size


def check_wrap(settings) -> None:
    """Say now, not in the finished file, when --wrap frames cannot be marked as 360-degree video."""
    note = not_360(settings.size) if settings.wrap else None
    if note:
        print(f"note: {note}", file=sys.stderr, flush=True)


def work_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial")


def ours(work: Path) -> bool:
    """Whether `work` is a work folder we made (False: there is none); anything else in its place is refused."""
    if work.is_symlink() or (work.exists() and not work.is_dir()):
        raise UserError(f"{work} is in the way of the render's work folder; move it away or choose another output")
    if work.is_dir() and not (work / MARK).is_file():
        raise UserError(
            f"{work}/ was not made by deepdream render (no {MARK} file in it), so it is left alone; "
            "move it away or choose another output"
        )
    return work.is_dir()


def claim(work: Path) -> None:
    """A fresh, empty work folder of ours at `work` (an earlier render's leftovers cleared)."""
    if ours(work):
        shutil.rmtree(work)
    try:
        work.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"cannot make the work folder {work}: {exc.strerror or exc}") from None
    write_atomic(work / MARK, b"deepdream render's work folder: deleted when the render completes\n")


def render(job: RenderJob, make_settings, provider: str = "auto") -> Path:
    from tqdm import tqdm

    clip, size = prepare(job)
    settings = make_settings(size)
    check_wrap(settings)
    steering = Steering.of(job, clip.fps)
    stream = DreamStream([Engine(job.model, provider, exact=True)], settings)
    work = work_folder(job.output)
    fingerprint = {
        "input": str(job.input.resolve()),
        "input_bytes": job.input.stat().st_size,
        "model": str(job.model.resolve()),
        "settings": asdict(settings),
        "steering": steering.describe(),
    }
    done = _resume(work, fingerprint, stream)
    pending, index = [], done
    with tqdm(total=clip.expected, initial=done, desc="render", unit="frame") as bar:
        for rgb in clip.frames(skip=done):
            steering.apply(stream, index)
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
        raise UserError(
            f"cannot write {output}: {exc.strerror or exc}; the dreamed frames are kept in {work}/, "
            "run the same command again to finish without dreaming them again"
        ) from None
    if ours(work):
        shutil.rmtree(work, ignore_errors=True)
    return output


def _resume(work: Path, fingerprint: dict, stream: DreamStream) -> int:
    """Frames already rendered by an earlier run with the same settings (0 for a fresh render)."""
    progress = work / "progress.json"
    if ours(work) and progress.is_file():
        saved = json.loads(progress.read_text())
        if saved["fingerprint"] == json.loads(json.dumps(fingerprint)):
            with np.load(work / "state.npz", allow_pickle=False) as state:
                stream.restore(dict(state))
            return int(saved["frames"])
    claim(work)  # another render's leftovers, or none
    return 0


def _save_chunk(work: Path, index: int, frames: list, stream: DreamStream, fingerprint: dict) -> None:
    """Chunk, then state, then progress: a crash between them leaves the last consistent point."""
    try:
        for name, arrays, save in (
            (f"chunk-{index:08d}.npz", {"frames": np.stack(frames)}, np.savez_compressed),
            ("state.npz", stream.state(), np.savez),
        ):
            buffer = io.BytesIO()
            save(buffer, **arrays)
            write_atomic(work / name, buffer.getvalue())
        write_atomic(work / "progress.json", json.dumps({"fingerprint": fingerprint, "frames": index}).encode())
    except OSError as exc:
        raise UserError(
            f"cannot save the render's progress in {work}: {exc.strerror or exc}; "
            "what was saved before is kept, and the same command continues from there"
        ) from None


def output_writer(job: RenderJob, path: Path, clip: Clip, settings) -> VideoWriter:
    """The render's H.264 writer: the clip's rate and sound, 360-degree metadata for --wrap."""
    return VideoWriter(
        path,
        clip.fps,
        settings.size,
        VideoFormat(
            crf=job.crf, exact=True, spherical=settings.wrap and not not_360(settings.size)
        ),  # check_wrap said why not
        audio_from=job.input,
    )


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
