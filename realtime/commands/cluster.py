"""`deepdream render --ray`: the clip's chunks (dream/chunks.py) dreamed as Ray tasks, joined in order.

The driver decodes the clip once and sends each chunk's frames (lossless, compressed) and the
model through Ray's object store, so no shared file system is needed; each task dreams its chunk
with a fresh `DreamStream` (onnxruntime's results do not depend on its thread count) and returns
encoded frames; the model file it needs lives in a temporary folder for the task's length. Results are
saved in the `.partial` folder as they come (a rerun submits only the missing chunks) and written to the
output in chunk order, with at most `in_flight` chunks submitted and not yet written.
Ray retries a task whose worker died.
Before any chunk, commands/ray_cluster.py reaches the cluster and makes sure it can run one.
Ray is imported only there and here, only when `--ray` is given.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, field
from pathlib import Path

from realtime.commands.ray_cluster import can_grant, connect, first_worker, parse_ray_address
from realtime.commands.render import RenderJob, check_wrap, claim, finish, ours, output_writer, prepare, work_folder
from realtime.commands.steering import Steering
from realtime.dream.chunks import PLAN, Chunk, ChunkPlan, Joiner, decode, dream_chunk, encode
from realtime.dream.engine import Engine
from realtime.dream.params import CLUSTER
from realtime.dream.runtime import PROVIDER_CHOICES
from realtime.dream.settings import settings_class
from realtime.dream.stream import DreamStream
from realtime.errors import UserError, reason
from realtime.files import write_atomic

RETRIES = 3  # per task, for workers that die (Ray's max_retries)


ClusterOptions = settings_class(
    "ClusterOptions",
    tuple(p for p in CLUSTER if p not in PLAN),
    "How `render --ray` uses the cluster: CPUs per task (also the task's onnxruntime and OpenCV threads), GPUs "
    "per task (None: 1 where the cluster has GPUs), where the cluster is, the chunk plan, chunks in flight.",
    extra=(
        ("address", str, field(default="local")),  # "local": start Ray here; "auto", ray://HOST:10001: join
        ("plan", ChunkPlan, field(default_factory=ChunkPlan)),
        ("in_flight", int, field(default=0)),
    ),  # chunks submitted and not yet written; 0: twice the task slots
    module=__name__,
)


def render_on_ray(job: RenderJob, make_settings, options: ClusterOptions, provider: str = "auto") -> Path:
    address = parse_ray_address(options.address)
    if provider not in PROVIDER_CHOICES:
        raise UserError(f"--provider with --ray is one of {', '.join(PROVIDER_CHOICES)}, got {provider!r}")
    clip, size = prepare(job)
    Engine(job.model, "cpu", threads=1)  # a bad model fails here, in one line, not in every task
    ray = connect(address)
    gpus = options.gpus_per_task
    if gpus is None:  # a GPU per task where the cluster has them, unless the dream is to run on the CPU
        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 and provider != "cpu" else 0
    if provider == "cuda" and not gpus:
        raise UserError("--provider cuda: the Ray cluster has no GPUs (or --gpus-per-task 0 was given)")
    can_grant(ray, options.cpus_per_task, gpus, fixed=address == "local")
    first_worker(ray, options.cpus_per_task, gpus)
    settings = make_settings(size)
    check_wrap(settings)
    steering = Steering.of(job, clip.fps)
    work = work_folder(job.output)
    fingerprint = {
        "input": str(job.input.resolve()),
        "input_bytes": job.input.stat().st_size,
        "model": str(job.model.resolve()),
        "settings": asdict(settings),
        "plan": asdict(options.plan),
        "threads": options.cpus_per_task,
        "gpus": gpus,
        "provider": provider,
        "steering": steering.describe(),
    }
    done = _resume(work, fingerprint)
    slots = max(1, int(ray.cluster_resources().get("CPU", 1) // options.cpus_per_task))
    task = ray.remote(_dream_task).options(num_cpus=options.cpus_per_task, num_gpus=gpus, max_retries=RETRIES)
    task_provider = provider if provider != "auto" else "cuda" if gpus else "cpu"
    args = (ray.put(job.model.read_bytes()), settings, options.cpus_per_task, task_provider)

    def assemble(staged: Path) -> None:
        sink = output_writer(job, staged, clip, settings)
        try:
            run = _Run(
                ray, task, args, work, options.plan, options.in_flight or 2 * slots, sink, clip.expected, steering
            )
            decoded = run.all(clip, done)
        except BaseException:
            sink.abort()  # no half file; the finished chunks stay for a rerun
            raise
        sink.close()
        warning = clip.shortfall(decoded)
        if warning:
            print(warning, file=sys.stderr)

    return finish(work, job.output, assemble)


def _resume(work: Path, fingerprint: dict) -> set[int]:
    """Chunks an earlier run with the same settings finished (none for a fresh render)."""
    saved = work / "ray.json"
    if ours(work) and saved.is_file() and json.loads(saved.read_text()) == json.loads(json.dumps(fingerprint)):
        done = {int(p.stem.split("-")[1]) for p in work.glob("part-*.npz")}
        print(f"resuming: {len(done)} chunks already dreamed in {work}/", file=sys.stderr)
        return done
    claim(work)  # another render's leftovers, or none
    write_atomic(saved, json.dumps(fingerprint).encode())
    return set()


def _dream_task(model, settings, threads: int, provider: str, chunk: Chunk, frames: bytes, values: list) -> bytes:
    """On a worker: one chunk's frames -> its dream, both encoded."""
    import cv2

    cv2.setNumThreads(threads)
    with tempfile.TemporaryDirectory(prefix="deepdream-") as folder:  # gone with the task: nothing left on the node
        path = Path(folder) / "model.onnx"  # onnxruntime and ModelInfo take paths
        path.write_bytes(model)
        stream = DreamStream([Engine(path, provider, threads=threads, exact=True)], settings)
        return encode(dream_chunk(stream, decode(frames), chunk, values))


class _Run:
    """Submits chunks as their frames decode, keeps `window` of them in flight, writes in order."""

    def __init__(self, ray, task, args, work: Path, plan: ChunkPlan, window: int, sink, frames: int, steering):
        from tqdm import tqdm

        self.ray, self.task, self.args, self.work, self.plan, self.window = ray, task, args, work, plan, window
        self.sink, self.joiner, self.chunks, self.pending, self.results = sink, Joiner(), [], {}, {}
        self.written, self.steering = 0, steering  # chunks written to the sink; the sound's values per frame
        self.bar = tqdm(total=frames or None, desc="render (ray)", unit="frame")

    def all(self, clip, done: set[int]) -> int:
        """Every chunk of the clip dreamed and written; returns the frames decoded. On any failure the
        chunks in flight are cancelled (their results would only be thrown away)."""
        try:
            total = self._submit_all(clip, done)
            while self.pending:
                self._collect()
        except BaseException:
            for ref in self.pending:
                self.ray.cancel(ref, force=True)
            raise
        finally:
            self.bar.close()
        if self.results or self.written != len(self.chunks):
            raise RuntimeError("chunks left unwritten")  # a bug, not a user's error
        return total

    def _submit_all(self, clip, done: set[int]) -> int:
        frames, buffer, base, total = clip.frames(), [], 0, clip.count or sys.maxsize
        while True:
            chunk = self.plan.chunk(len(self.chunks), total)
            while base + len(buffer) < chunk.last:
                frame = next(frames, None)
                if frame is None:  # fewer frames than the container said: plan on what decoded
                    total = base + len(buffer)
                    chunk = self.plan.chunk(len(self.chunks), total)
                    break
                buffer.append(frame)
            if chunk.start >= total:
                return total
            self.chunks.append(chunk)
            if chunk.index in done:
                self._flush()
            else:
                self._submit(chunk, buffer[chunk.first - base : chunk.last - base])
            keep_from = max(base, chunk.end - self.plan.warmup_frames)
            buffer, base = buffer[keep_from - base :], keep_from

    def _submit(self, chunk: Chunk, frames: list) -> None:
        import numpy as np

        while len(self.pending) >= self.window:
            self._collect()
        values = [self.steering.values(i) for i in range(chunk.first, chunk.last)]
        self.pending[self.task.remote(*self.args, chunk, encode(np.stack(frames)), values)] = chunk

    def _collect(self) -> None:
        [ready], _ = self.ray.wait(list(self.pending), num_returns=1)
        chunk = self.pending.pop(ready)
        try:
            data = self.ray.get(ready)
        except self.ray.exceptions.RayTaskError as exc:  # the task's own error, with a worker's traceback
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            raise UserError(
                f"chunk {chunk.index + 1} failed on the Ray cluster: {reason(cause, 200)}; the chunks finished so far "
                f"are kept in {self.work}/ for a rerun"
            ) from None
        write_atomic(self.work / f"part-{chunk.index:06d}.npz", data)
        self.results[chunk.index] = data
        self._flush()

    def _flush(self) -> None:
        """Write every chunk whose predecessors are written (results in memory, or saved by a past run)."""
        while self.written < len(self.chunks):
            data = self.results.pop(self.written, None)
            if data is None:
                part = self.work / f"part-{self.written:06d}.npz"
                if self.written in {c.index for c in self.pending.values()} or not part.is_file():
                    return
                data = part.read_bytes()
            frames = self.joiner.add(self.chunks[self.written], decode(data))
            for frame in frames:
                self.sink.write(frame)
            self.bar.update(len(frames))
            self.written += 1
