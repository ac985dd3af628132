"""The live dream's detail moves with the picture: on a panning picture, the dream's detail of one frame, moved
by the pan, is nearly the next frame's (realtime.dream.momentum and the stream's fine flow)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.dream.engine import Engine
from realtime.dream.flow import Flow
from realtime.dream.momentum import steadied
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream

SIZE = (320, 120)  # (width, height)
SPEED = 2.5  # px per frame to the left: half a pixel off the grid every other frame, the hardest to carry


@pytest.fixture(scope="module")
def picture(testdata) -> np.ndarray:
    """A photo with fixed grain on it (as a sensor's): the fine texture the dream's steps pick up and the flow
    must carry."""
    rgb = cv2.cvtColor(cv2.imread(str(testdata / "chelsea.png")), cv2.COLOR_BGR2RGB).astype(np.float32)
    return np.clip(rgb + np.random.default_rng(0).normal(0, 20, rgb.shape), 0, 255).astype(np.uint8)


def panned(picture: np.ndarray, t: float) -> np.ndarray:
    move = np.float32([[1, 0, -SPEED * t], [0, 1, 0]])
    return cv2.warpAffine(picture, move, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_the_dream_detail_moves_with_a_panning_picture(tiny_model, picture):
    stream = DreamStream([Engine(tiny_model, "cpu", exact=True)], StreamSettings(size=SIZE, step_size=0.02))
    details = []
    for t in range(20):
        frame = panned(picture, t)
        details.append(stream(frame).astype(np.float32) - frame)
    back = np.float32([[1, 0, -SPEED], [0, 1, 0]])
    inner = (slice(8, -8), slice(8, -8 - int(np.ceil(SPEED))))  # away from the edges the pan brings in
    change, size = [], []
    for before, after in zip(details[10:], details[11:]):  # once the dream has built up
        moved = cv2.warpAffine(before, back, SIZE, flags=cv2.INTER_LINEAR)
        change.append(np.abs(after - moved)[inner].mean())
        size.append(np.abs(after)[inner].mean())
    # Fresh steps painted over a detail carried a pixel off changed it by about 9 % a frame; now about 5 %.
    assert np.mean(change) < 0.07 * np.mean(size)


def test_a_fine_flow_follows_a_sub_pixel_pan_closer(picture):
    a, b = panned(picture, 0), panned(picture, 1)
    inner = (slice(8, -8), slice(8, -16))
    errors = [np.abs(Flow(fine=fine).between(a, b).backward[inner][..., 0] - SPEED).mean() for fine in (False, True)]
    assert errors[1] < errors[0] / 2


def test_the_running_step_keeps_the_fresh_steps_size_and_leans_on_the_carried_one():
    rng = np.random.default_rng(1)
    state = np.zeros((40, 40, 3), np.float32)
    carried, fresh = (rng.normal(0, 0.02, state.shape).astype(np.float32) for _ in range(2))
    _, first = steadied(state, state + fresh, None)
    dream, mean = steadied(state, state + fresh, carried)
    rms = lambda step: np.sqrt(np.mean(np.square(step)))  # noqa: E731
    assert rms(mean) == pytest.approx(rms(first), rel=1e-4)  # --step-size keeps its meaning
    _, uniform = steadied(state, state + 0.02, np.full_like(state, 0.02))
    assert uniform == pytest.approx(np.full_like(state, 0.02), rel=1e-4)  # a step moving all alike keeps its size
    assert np.corrcoef(mean.ravel(), carried.ravel())[0, 1] > 0.9  # mostly where the picture's step was going
    np.testing.assert_allclose(dream, state + mean, atol=1e-6)
