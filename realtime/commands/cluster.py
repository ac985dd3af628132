"""`deepdream render --ray`: the clip's chunks (dream/chunks.py) dreamed as Ray tasks, joined in order.

The driver decodes the clip once and sends each chunk's frames (lossless, compressed) and the
model through Ray's object store, so no shared file system is needed; each task dreams its chunk
with a fresh `DreamStream` and a fixed thread count (its result does not depend on the worker)
and returns encoded frames. Results are saved in the `.partial` folder as they come (a rerun
submits only the missing chunks) and written to the output in chunk order, with at most
`in_flight` chunks submitted and not yet written. Ray retries a task whose worker died.
Ray is imported only here, only when `--ray` is given.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from realtime.commands.render import RenderJob, finish, output_writer, prepare, work_folder
from realtime.dream.chunks import Chunk, ChunkPlan, Joiner, decode, dream_chunk, encode
from realtime.dream.engine import Engine
from realtime.dream.stream import DreamStream
from realtime.errors import UserError
from realtime.files import write_atomic

RETRIES = 3  # per task, for workers that die (Ray's max_retries)


@dataclass(frozen=True)
class ClusterOptions:
    address: str = "local"  # "local": start Ray here; "auto" or ray://HOST:10001: join a cluster
    cpus_per_task: int = 1  # also the task's onnxruntime and OpenCV threads (fixed: results must not vary)
    gpus_per_task: float | None = None  # None: 1 where the cluster has GPUs, else 0
    plan: ChunkPlan = field(default_factory=ChunkPlan)
    in_flight: int = 0  # chunks submitted and not yet written; 0: twice the cluster's task slots


def connect(address: str):
    try:
        import ray
    except ImportError:
        raise UserError("--ray needs Ray: pip install -e '.[cluster]'") from None
    if not ray.is_initialized():  # a caller (a test, a notebook) may have connected already
        try:
            _check_reachable(address)
            with warnings.catch_warnings():  # Ray Client warns as well as raising: one line is enough
                warnings.simplefilter("ignore")
                ray.init(address=address, logging_level="ERROR", log_to_driver=False,
                         **({"include_dashboard": False} if address == "local" else {}))
        except Exception as exc:  # ConnectionError, TimeoutError, ValueError for a bad address, Ray's own
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise UserError(f"cannot reach the Ray cluster at {address}: {reason}") from None
    return ray


def _check_reachable(address: str) -> None:
    """A HOST:PORT head address that does not answer: Ray would retry it for minutes, so ask once."""
    import socket

    if address in ("local", "auto") or "://" in address or ":" not in address:
        return
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10):
        pass


def render_on_ray(job: RenderJob, make_settings, options: ClusterOptions, provider: str = "auto") -> Path:
    clip, size = prepare(job)
    Engine(job.model, "cpu", threads=1)  # a bad model fails here, in one line, not in every task
    ray = connect(options.address)
    gpus = options.gpus_per_task
    if gpus is None:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
    settings = make_settings(size)
    work = work_folder(job.output)
    fingerprint = {"input": str(job.input.resolve()), "input_bytes": job.input.stat().st_size,
                   "model": str(job.model.resolve()), "settings": asdict(settings), "plan": asdict(options.plan),
                   "threads": options.cpus_per_task, "gpus": gpus, "provider": provider}
    done = _resume(work, fingerprint)
    slots = max(1, int(ray.cluster_resources().get("CPU", 1) // options.cpus_per_task))
    task = ray.remote(_dream_task).options(num_cpus=options.cpus_per_task, num_gpus=gpus, max_retries=RETRIES)
    args = (ray.put(job.model.read_bytes()), settings, options.cpus_per_task, "cuda" if gpus else provider)

    def assemble(staged: Path) -> None:
        sink = output_writer(job, staged, clip, settings)
        try:
            run = _Run(ray, task, args, work, options.plan, options.in_flight or 2 * slots, sink, clip.count)
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
    import shutil

    saved = work / "ray.json"
    if saved.is_file() and json.loads(saved.read_text()) == json.loads(json.dumps(fingerprint)):
        done = {int(p.stem.split("-")[1]) for p in work.glob("part-*.npz")}
        print(f"resuming: {len(done)} chunks already dreamed in {work}/", file=sys.stderr)
        return done
    shutil.rmtree(work, ignore_errors=True)  # another render's leftovers, or none
    work.mkdir(parents=True)
    write_atomic(saved, json.dumps(fingerprint).encode())
    return set()


def _dream_task(model, settings, threads: int, provider: str, chunk: Chunk, frames: bytes) -> bytes:
    """On a worker: one chunk's frames -> its dream, both encoded."""
    import cv2

    cv2.setNumThreads(threads)
    stream = DreamStream([Engine(_model_file(model), provider, threads=threads)], settings)
    return encode(dream_chunk(stream, decode(frames), chunk))


def _model_file(model: bytes) -> Path:
    """The model's bytes as a file (onnxruntime and ModelInfo take paths), once per worker machine."""
    path = Path(tempfile.gettempdir()) / f"deepdream-{hashlib.sha256(model).hexdigest()[:16]}.onnx"
    if not path.is_file():
        write_atomic(path, model)
    return path


class _Run:
    """Submits chunks as their frames decode, keeps `window` of them in flight, writes in order."""

    def __init__(self, ray, task, args, work: Path, plan: ChunkPlan, window: int, sink, frames: int):
        from tqdm import tqdm

        self.ray, self.task, self.args, self.work, self.plan, self.window = ray, task, args, work, plan, window
        self.sink, self.joiner, self.chunks, self.pending, self.results = sink, Joiner(), [], {}, {}
        self.written = 0  # chunks written to the sink
        self.bar = tqdm(total=frames or None, desc="render (ray)", unit="frame")

    def all(self, clip, done: set[int]) -> int:
        """Every chunk of the clip dreamed and written; returns the frames decoded."""
        total = self._submit_all(clip, done)
        while self.pending:
            self._collect()
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
                self._submit(chunk, buffer[chunk.first - base:chunk.last - base])
            keep_from = max(base, chunk.end - self.plan.warmup)
            buffer, base = buffer[keep_from - base:], keep_from

    def _submit(self, chunk: Chunk, frames: list) -> None:
        import numpy as np

        while len(self.pending) >= self.window:
            self._collect()
        self.pending[self.task.remote(*self.args, chunk, encode(np.stack(frames)))] = chunk

    def _collect(self) -> None:
        [ready], _ = self.ray.wait(list(self.pending), num_returns=1)
        chunk = self.pending.pop(ready)
        data = self.ray.get(ready)
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
