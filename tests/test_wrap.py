"""360-degree panoramas (--wrap): nothing marks where the left and right edges meet, and a render repeats."""

import cv2
import numpy as np
import pytest
from conftest import PERTURB, run_perturbed

from realtime.dream.engine import Engine
from realtime.dream.flow import Flow, warp
from realtime.dream.transforms import blur, compose, wrapped


@pytest.fixture(scope="module")
def engine(random_model):
    return Engine(random_model, "cpu")


def _panorama(h=160, w=512):
    rng = np.random.default_rng(0)
    return np.clip(cv2.GaussianBlur(rng.uniform(-1, 1, (h, w, 3)).astype(np.float32), (0, 0), 3) * 3, -1, 1)


def test_dream_of_a_rolled_panorama_is_the_rolled_dream(engine):
    pano = _panorama()
    half = pano.shape[1] // 2
    for transform, seamless in ((wrapped(), True), (compose(), False)):
        a = engine.step(pano, 3, 0.02, transform)
        b = engine.step(np.roll(pano, half, axis=1), 3, 0.02, transform)
        diff = np.abs(np.roll(a, half, axis=1) - b)[32:-32]  # away from the poles
        change = np.abs(a - pano).mean()
        if seamless:
            assert diff.mean() < 0.15 * change and diff.max() < 0.1
        else:  # without --wrap the seam shows: the check above has teeth
            assert diff.max() > 0.2


@pytest.mark.child
@pytest.mark.exact
def test_a_wrapped_render_repeats_byte_for_byte(tmp_path, tiny_model, testdata):
    """A 2:1 clip rendered with --wrap (dream, seam and 360-degree metadata): the same bytes in another process
    with another heap."""
    source = cv2.VideoCapture(str(testdata / "pan_coffee_320x240.mp4"))
    clip = tmp_path / "pano.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (160, 80))
    for _ in range(12):
        writer.write(cv2.resize(source.read()[1][40:200], (160, 80), interpolation=cv2.INTER_AREA))
    writer.release()
    outs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for out, perturb in zip(outs, PERTURB):
        run_perturbed(["render", clip, "-o", out, "--model", tiny_model, "--wrap"], perturb)
    assert outs[0].read_bytes() == outs[1].read_bytes() and b"sv3d" in outs[0].read_bytes()


def test_blur_wraps_around():
    grad = np.zeros((20, 40, 3), np.float32)
    grad[:, 0] = 1.0
    out = blur(2.0, around=True)(lambda img: grad)(grad)
    np.testing.assert_allclose(out[:, 1], out[:, -1], atol=1e-6)  # the same spread to both sides
    assert out[:, -1].mean() > 0.1


def test_flow_and_warp_cross_the_seam():
    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (120, 240, 3), dtype=np.uint8), (0, 0), 2)
    moved = np.roll(texture, 6, axis=1)  # the panorama turns 6 pixels: columns wrap around
    motion = Flow("dis", around=True).between(texture, moved)
    warped = warp(texture.astype(np.float32), motion.backward, around=True)
    edge = (slice(10, -10), slice(0, 8))  # the first columns come from the far right of the previous frame
    assert np.abs(warped[edge] - moved[edge]).mean() < 0.3 * np.abs(texture[edge].astype(float) - moved[edge]).mean()
