"""The engine, its transforms and octaves, on a model exported from random weights."""

import numpy as np
import pytest

from realtime.dream.engine import Engine
from realtime.dream.octaves import dream_octaves, octave_sizes
from realtime.dream.transforms import compose, jitter, tile_spans, tiled


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


def _image(h, w, seed=0):
    return np.random.default_rng(seed).uniform(-0.8, 0.8, (h, w, 3)).astype(np.float32)


def test_loss_rises_after_3_steps(engine):
    image = _image(120, 160)
    before = engine.loss_and_gradient(image[None])[0][0]
    after = engine.loss_and_gradient(engine.step(image, 3, 0.02)[None])[0][0]
    assert after > before


def test_fused_and_numpy_steps_agree(engine):
    image = _image(90, 110)
    fused = engine.step(image, 2, 0.02)
    plain = engine.step(image, 2, 0.02, transform=compose())
    np.testing.assert_allclose(fused, plain, atol=2e-5)
    assert fused.min() >= -1 and fused.max() <= 1


def test_tiled_gradient_equals_untiled_when_one_tile_covers(engine):
    image = _image(100, 140)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(tiled(256, rng)(engine.gradient)(image), engine.gradient(image))


def test_tiles_leave_no_seam(engine):
    """Across a tile border the tiled gradient steps no more than the whole-image gradient does anywhere.

    Tiles see other crops of the stride-16/32 feature grid, so values differ from the whole-image
    gradient; what must not appear is a discontinuity (a seam) at the border.
    """
    image = _image(200, 300)
    whole = engine.gradient(image)
    parts = tiled(150, None)(engine.gradient)(image)  # a border between columns 149 and 150
    column_steps = np.abs(np.diff(whole, axis=1)).mean(axis=(0, 2))
    seam = np.abs(parts[:, 150] - parts[:, 149]).mean()
    assert seam < 1.1 * column_steps.max()
    near = (slice(None), slice(120, 180))
    assert 0.8 < parts[near].std() / whole[near].std() < 1.25


def test_tile_spans_cover_once_and_respect_the_minimum():
    for length, tile in [(1000, 256), (300, 150), (80, 512), (330, 160)]:
        spans = tile_spans(length, tile, 64)
        kept = [k for _, _, k0, k1 in spans for k in range(k0, k1)]
        assert kept == list(range(length))
        assert all(r1 - r0 >= min(75, length) and r0 <= k0 and k1 <= r1 for r0, r1, k0, k1 in spans)


def test_jitter_is_reproducible_with_a_seed(engine):
    image = _image(96, 96)
    run = lambda seed: engine.step(image, 3, 0.02, jitter(16, np.random.default_rng(seed)))  # noqa: E731
    np.testing.assert_array_equal(run(5), run(5))
    assert np.abs(run(5) - run(6)).max() > 1e-3


def test_octave_schedule():
    assert octave_sizes(300, 451, 3, 1.3) == [(178, 267), (231, 347), (300, 451)]
    assert octave_sizes(120, 120, 4, 1.5) == [(80, 80), (120, 120)]  # none below 75 pixels
    seen = []
    out = dream_octaves(
        np.zeros((300, 451, 3), np.float32), 3, 1.3, lambda img, i: seen.append(img.shape[:2]) or img + 0.1
    )
    assert seen == [(178, 267), (231, 347), (300, 451)]
    # The detail added at every scale is carried up to the full size.
    np.testing.assert_allclose(out, 0.3, atol=1e-5)


def test_engine_refuses_files_that_are_not_ours(tmp_path):
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    save(helper.make_model(graph), tmp_path / "other.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx at all")
    from realtime.errors import UserError

    with pytest.raises(UserError, match="not a deepdream-live model"):
        Engine(tmp_path / "other.onnx", "cpu")
    with pytest.raises(UserError, match="cannot load"):
        Engine(tmp_path / "junk.onnx", "cpu")
    with pytest.raises(UserError, match="model not found"):
        Engine(tmp_path / "missing.onnx", "cpu")
