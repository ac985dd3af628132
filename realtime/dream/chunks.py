"""A clip cut into chunks that can be dreamed apart and joined without a visible seam.

The feedback makes frame t depend on every frame before it, so chunk k (frames [start, end), at
fixed multiples of `chunk_frames`) first dreams `warmup_frames` frames before its start, which
are thrown away (the feedback builds up as in a continuous render), and `blend_frames` past its
end, which the `Joiner` crossfades into the next chunk's first frames. Borders depend only on the plan,
never on who dreams the chunks, so the joined frames do not depend on the number of workers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.dream.parameter import param
from realtime.dream.params import CLUSTER
from realtime.dream.settings import settings_class

if TYPE_CHECKING:
    from realtime.dream.stream import DreamStream


@dataclass(frozen=True)
class Chunk:
    index: int
    first: int  # first frame dreamed (the warm-up starts here)
    start: int  # first frame kept
    end: int  # one past the chunk's own last frame
    last: int  # one past the last frame dreamed (its end plus the blend, within the clip)


PLAN = tuple(param(CLUSTER, name) for name in ("chunk_frames", "warmup_frames", "blend_frames"))


# Made at run time from the parameter table, so its fields are unknown to a type checker (Any).
PlanParameters: Any = settings_class(
    "PlanParameters", PLAN, "How a clip is cut: the chunk parameters of CLUSTER.", module=__name__
)


class ChunkPlan(PlanParameters):
    """Where chunks start and end (chunk_frames), and what each dreams around itself (warm-up, blend)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.blend_frames > self.chunk_frames:
            raise ValueError(f"--blend-frames {self.blend_frames} is more than --chunk-frames {self.chunk_frames}")

    def chunk(self, index: int, total: int) -> Chunk:
        start = index * self.chunk_frames
        end = min(start + self.chunk_frames, total)
        return Chunk(index, max(0, start - self.warmup_frames), start, end, min(end + self.blend_frames, total))

    def chunks(self, total: int) -> list[Chunk]:
        return [self.chunk(i, total) for i in range(-(-total // self.chunk_frames))]


def dream_chunk(
    stream: DreamStream,
    frames: Iterable[np.ndarray],
    chunk: Chunk,
    values: Sequence[Mapping[str, object]] | None = None,
) -> np.ndarray:
    """`frames`: the clip's frames [chunk.first, chunk.last) -> the dream of [chunk.start, chunk.last).
    `values`: each of those frames' parameters (a render that follows the sound), set before its dream."""
    kept = []
    for offset, rgb in enumerate(frames):
        for name, value in (values[offset] if values else {}).items():
            stream.set(name, value)
        dreamed = stream(rgb)
        if chunk.first + offset >= chunk.start:
            kept.append(dreamed)
    return np.stack(kept)


class Joiner:
    """Chunks' dreams in chunk order -> the output's frames, each overlap crossfaded (linearly,
    toward the later chunk: the earlier one has the longer history, the later one takes over)."""

    def __init__(self) -> None:
        self.tail = np.zeros((0,), np.uint8)  # the previous chunk's frames past its end

    def add(self, chunk: Chunk, dreamed: np.ndarray) -> np.ndarray:
        own = chunk.end - chunk.start
        head = dreamed[:own].copy()
        n = len(self.tail)
        if n:
            w = (np.arange(1, n + 1, dtype=np.float32) / (n + 1))[:, None, None, None]
            mixed = (1 - w) * self.tail.astype(np.float32) + w * head[:n].astype(np.float32)
            head[:n] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
        self.tail = dreamed[own:]
        return head


def encode(frames: np.ndarray) -> bytes:
    """Frames as compressed, lossless bytes (what travels between the driver and the tasks)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, frames=frames)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return npz["frames"]
