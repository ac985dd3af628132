"""Chunks dreamed apart and joined (realtime/dream/chunks.py): borders, warm-up, crossfade, seams."""

import numpy as np
import pytest

from realtime.dream.chunks import ChunkPlan, Joiner, decode, dream_chunk, encode
from realtime.dream.engine import Engine
from realtime.dream.seams import seam_figures
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.clip import Clip

SEAM_TOLERANCE = 0.1  # a continuous render itself measures up to ~1.06 / 0.99 (benchmarks/seams.py)


@pytest.mark.parametrize("total", [1, 29, 30, 31, 95])
def test_chunks_cover_every_frame_once_at_fixed_borders(total):
    plan = ChunkPlan(chunk_frames=30, warmup_frames=20, blend_frames=8)
    chunks = plan.chunks(total)
    assert [c.start for c in chunks] == list(range(0, total, 30))
    assert sum(c.end - c.start for c in chunks) == total and chunks[-1].end == chunks[-1].last == total
    for c in chunks:
        assert c.first == max(0, c.start - 20) and c.last == min(c.end + 8, total)


def test_bad_plans_are_refused():
    for bad in (
        {"chunk_frames": 0},
        {"warmup_frames": -1},
        {"chunk_frames": 4, "blend_frames": 5},
        {"warmup_frames": float("nan")},
    ):
        with pytest.raises(ValueError):
            ChunkPlan(**bad)


def test_the_crossfade_moves_from_the_earlier_chunk_to_the_later():
    plan = ChunkPlan(chunk_frames=10, warmup_frames=0, blend_frames=4)
    first, second = plan.chunks(20)
    joiner = Joiner()
    a = joiner.add(first, np.zeros((14, 2, 2, 3), np.uint8))
    b = joiner.add(second, np.full((10, 2, 2, 3), 250, np.uint8))
    assert len(a) == len(b) == 10 and not a.any()
    assert list(b[:5, 0, 0, 0]) == [50, 100, 150, 200, 250]


def test_frames_travel_losslessly():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    assert np.array_equal(decode(encode(frames)), frames)


@pytest.fixture(scope="module")
def clip_frames(testdata):
    return list(Clip.open(testdata / "pan_coffee_320x240.mp4").frames())


def _joined(engine, settings, frames, plan):
    joiner, out = Joiner(), []
    for chunk in plan.chunks(len(frames)):
        out.extend(
            joiner.add(chunk, dream_chunk(DreamStream([engine], settings), frames[chunk.first : chunk.last], chunk))
        )
    return out


def test_a_warm_up_back_to_the_first_frame_gives_the_continuous_render(tiny_model, clip_frames):
    engine, settings = Engine(tiny_model, "cpu", threads=1), StreamSettings(size=(96, 80))
    frames = clip_frames[:20]
    whole = _joined(engine, settings, frames, ChunkPlan(chunk_frames=20, warmup_frames=0, blend_frames=0))
    apart = _joined(engine, settings, frames, ChunkPlan(chunk_frames=7, warmup_frames=20, blend_frames=0))
    assert len(apart) == 20 and all(np.array_equal(a, b) for a, b in zip(whole, apart))


def test_warm_up_and_blend_hide_the_seams_that_chunks_joined_apart_show(tiny_model, clip_frames):
    """The seam measure (benchmarks/seams.py): 90 frames in chunks of 30, 2 steps per frame, step 0.03."""
    engine = Engine(tiny_model, "cpu", threads=1)
    settings = StreamSettings(size=(100, 76), steps_per_frame=2, step_size=0.03)
    apart = seam_figures(
        clip_frames,
        _joined(engine, settings, clip_frames, ChunkPlan(chunk_frames=30, warmup_frames=0, blend_frames=0)),
        [30, 60],
    )
    ours = seam_figures(clip_frames, _joined(engine, settings, clip_frames, ChunkPlan(chunk_frames=30)), [30, 60])
    assert apart.warp > 1 + SEAM_TOLERANCE or apart.strength < 1 - SEAM_TOLERANCE, apart
    assert ours.warp <= 1 + SEAM_TOLERANCE and ours.strength >= 1 - SEAM_TOLERANCE, ours
