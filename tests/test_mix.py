"""Run-time objectives: a mix model's layer weights, the guide objective, and the layer gallery."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
ort = pytest.importorskip("onnxruntime")

from export.verify import relative_error  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.export]


@pytest.fixture(scope="module")
def mix_model(tmp_path_factory, base_model):
    """A mix model mixed0..mixed5 with default weights mixed3:1, mixed5:1, from the same random weights."""
    from export.convert import to_onnx
    from export.graph import mix_defaults, mix_function
    from export.objectives import parse

    objective = parse("mixed3,mixed5")
    defaults = {
        "layer_weights": mix_defaults(objective),
        "guide": np.zeros((1, 768), np.float32),
        "guide_weight": np.array(0.0, np.float32),
    }
    meta = {
        "format": "deepdream-live/1",
        "layers": "mixed3,mixed5",
        "objective": "mixed3,mixed5",
        "mix_layers": "mixed0,mixed1,mixed2,mixed3,mixed4,mixed5",
        "weights": "random",
        "trained": "false",
    }
    path = tmp_path_factory.mktemp("mix") / "mix.onnx"
    path.write_bytes(to_onnx(mix_function(base_model, objective), meta, defaults).SerializeToString())
    return path


@pytest.fixture(scope="module")
def mix_engine(mix_model):
    from realtime.dream.engine import Engine

    return Engine(mix_model, "cpu")


def _image(h=97, w=130, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (1, h, w, 3)).astype(np.float32)


@pytest.mark.parametrize("layer", ["mixed0", "mixed3", "mixed5"])
def test_one_hot_weights_give_the_fixed_layer_gradient(mix_engine, converted, layer):
    _, fixed = converted(layer)
    mix_engine.mix(np.eye(6, dtype=np.float32)[int(layer[-1])])
    image = _image()
    loss, grad = mix_engine.loss_and_gradient(image)
    want_loss, want_grad = fixed.run(["loss", "grad"], {"image": image})
    assert relative_error(grad, want_grad) <= 1e-4
    assert relative_error(loss, want_loss) <= 1e-5


def test_default_weights_keep_the_contract(mix_model, converted):
    session = ort.InferenceSession(str(mix_model), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]  # the rest have defaults
    image = _image(seed=1)
    loss, grad = session.run(["loss", "grad"], {"image": image})
    want_loss, want_grad = converted("mixed3,mixed5")[1].run(["loss", "grad"], {"image": image})
    assert relative_error(grad, want_grad) <= 1e-4 and relative_error(loss, want_loss) <= 1e-5


def test_negative_weight_suppresses_a_layer(mix_engine):
    image = _image(seed=2)
    mix_engine.mix(np.eye(6, dtype=np.float32)[3])
    _, up = mix_engine.loss_and_gradient(image)
    mix_engine.mix(-np.eye(6, dtype=np.float32)[3])
    _, down = mix_engine.loss_and_gradient(image)
    np.testing.assert_allclose(down, -up, atol=1e-6 * np.abs(up).max())


def test_guide_loss_rises_and_its_gradient_is_right(mix_engine):
    rng = np.random.default_rng(3)
    guide = rng.uniform(-1, 1, (120, 120, 3)).astype(np.float32)
    mix_engine.guide(guide)
    image = _image(80, 80, seed=4)[0]
    loss0, grad = mix_engine.loss_and_gradient(image[None])
    # Central differences along random directions, with a step small enough to cross no ReLU
    # kink, max-pool switch or best-match switch (the function is piecewise smooth). The float32
    # loss is known to a few ulps, which bounds how well a difference quotient can agree.
    eps = 1e-4
    resolution = 8 * np.finfo(np.float32).eps * abs(float(loss0[0])) / (2 * eps)
    for _ in range(2):
        direction = rng.normal(size=image.shape).astype(np.float32)
        plus = mix_engine.loss_and_gradient((image + eps * direction)[None])[0][0]
        minus = mix_engine.loss_and_gradient((image - eps * direction)[None])[0][0]
        numeric = (plus - minus) / (2 * eps)
        analytic = float((grad[0] * direction).sum())
        assert abs(numeric - analytic) <= 0.03 * abs(analytic) + resolution, (numeric, analytic, resolution)
    losses = []
    for _ in range(3):
        image = mix_engine.step(image, 1, 0.02)
        losses.append(mix_engine.loss_and_gradient(image[None])[0][0])
    assert losses[0] > loss0 and losses[2] > losses[0]


def test_guide_features_are_computed_once(mix_engine, monkeypatch):
    calls = []
    real = mix_engine.features
    monkeypatch.setattr(mix_engine, "features", lambda img: calls.append(1) or real(img))
    mix_engine.guide(_image(90, 90)[0])
    mix_engine.step(_image(80, 80)[0], 3, 0.02)
    assert calls == [1]


def test_gallery_has_one_labelled_tile_per_layer(mix_engine):
    from realtime.commands.gallery import LABEL_HEIGHT, contact_sheet, dream_layers

    mix_engine.set_inputs(guide_weight=np.array(0.0, np.float32))
    image = _image(90, 90, seed=5)[0]
    tiles = dream_layers(mix_engine, image, steps=2, step_size=0.05)
    assert [name for name, _ in tiles] == [f"mixed{i}" for i in range(6)]
    assert all(np.abs(a - b).max() > 1e-3 for (_, a), (_, b) in zip(tiles, tiles[1:]))  # each layer paints its own
    sheet = contact_sheet(tiles, columns=4)
    assert sheet.shape == (2 * (90 + LABEL_HEIGHT), 4 * 90, 3)
    for k in range(6):
        x, y = (k % 4) * 90, (k // 4) * (90 + LABEL_HEIGHT) + 90
        strip = sheet[y : y + LABEL_HEIGHT, x : x + 90]
        assert strip.max() > 200  # label text drawn on the dark strip
    empty = sheet[90 + LABEL_HEIGHT + 90 :, 2 * 90 :]  # no tile 7 and 8
    assert empty.max() < 20


@pytest.mark.child
def test_gallery_refuses_a_model_that_does_not_reach_mixed10(mix_model, tmp_path):
    from conftest import deepdream

    result = deepdream("gallery", str(tmp_path / "x.png"), "-o", str(tmp_path / "s.png"), "--model", str(mix_model))
    assert result.returncode == 2 and "mix model up to mixed10" in result.stderr


def test_mix_rejects_channel_terms(tmp_path):
    from realtime.cli import main

    assert main(["export", "--mix", "--layers", "mixed4/3", "--weights", "random", "-o", str(tmp_path / "m.onnx")]) == 2
    assert not (tmp_path / "m.onnx").exists()


def test_dream_with_a_guide_from_the_cli(mix_model, random_model, tmp_path, testdata):
    from PIL import Image

    from realtime.cli import main

    out = tmp_path / "guided.png"
    assert (
        main(
            [
                "dream",
                str(testdata / "chelsea.png"),
                "-o",
                str(out),
                "--model",
                str(mix_model),
                "--steps",
                "2",
                "--guide",
                str(testdata / "chelsea.png"),
            ]
        )
        == 0
    )
    assert Image.open(out).size == (451, 300)
    assert (
        main(
            [
                "dream",
                str(testdata / "chelsea.png"),
                "-o",
                str(tmp_path / "x.png"),
                "--model",
                str(random_model),
                "--guide",
                str(testdata / "chelsea.png"),
            ]
        )
        == 2
    )


def test_gallery_cli_end_to_end(tmp_path, testdata):
    """The real path: a mix model up to mixed10 from `export --mix`, then one sheet of 11 labelled tiles."""
    from PIL import Image

    from realtime.cli import main
    from realtime.commands.gallery import LABEL_HEIGHT

    model = tmp_path / "mix10.onnx"
    assert main(["export", "--mix", "--layers", "mixed10", "--weights", "random", "--no-verify", "-o", str(model)]) == 0
    sheet = tmp_path / "sheet.png"
    assert (
        main(
            [
                "gallery",
                str(testdata / "chelsea.png"),
                "-o",
                str(sheet),
                "--model",
                str(model),
                "--steps",
                "1",
                "--size",
                "96",
            ]
        )
        == 0
    )
    # 451x300 at 96 a side is 96x64, raised to the network's 75 rows: 96x75 tiles, 4 columns, 3 rows.
    assert Image.open(sheet).size == (4 * 96, 3 * (75 + LABEL_HEIGHT))


def test_osc_moves_the_mix_and_it_glides(mix_engine):
    from realtime.dream.settings import StreamSettings
    from realtime.dream.stream import DreamStream
    from realtime.run.loop import LoopStats
    from realtime.steer.remote import Message
    from realtime.steer.requests import handle
    from realtime.steer.show import Show

    mix_engine.set_inputs(guide_weight=np.array(0.0, np.float32))
    stream = DreamStream([mix_engine], StreamSettings(size=(96, 96), flow="off"))
    show = Show(stream)
    frame = (np.random.default_rng(6).uniform(0, 255, (96, 96, 3))).astype(np.uint8)
    handle(Message("/deepdream/mix", ("mixed5",), ("127.0.0.1", 9)), show, LoopStats(), None)
    stream(frame)
    handle(Message("/deepdream/mix", (1,), ("127.0.0.1", 9)), show, LoopStats(), None)
    centers = []
    for _ in range(4):
        stream(frame)
        centers.append(stream.figures().mix_center)
    assert stream.figures().mix_target == 1.0
    assert 5.0 > centers[0] > centers[1] > centers[2] > centers[3] > 1.0  # a smooth turn, not a jump
    weights = mix_engine.extra["layer_weights"]
    assert weights.argmax() in (1, 2) and weights.sum() == pytest.approx(1.0)
