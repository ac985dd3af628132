"""`deepdream dream` on stills: parity with a TensorFlow run of the seed's loop, image modes, bad input."""

import numpy as np
import pytest
from conftest import deepdream
from PIL import Image

from realtime.cli import main
from realtime.media.images import load_image


def _photo(tmp_path, testdata=None, size=(160, 120)):
    if testdata is not None:
        return testdata / "chelsea.png"
    rng = np.random.default_rng(0)
    path = tmp_path / "in.png"
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.slow
def test_simple_loop_matches_tensorflow(tmp_path, random_model, base_model, testdata):
    """20 steps, no octaves/jitter/tiles/blur: PSNR >= 40 dB against the TensorFlow tutorial loop."""
    import tensorflow as tf

    from export.graph import dream_function
    from export.objectives import parse
    from realtime.dream.pixels import to_uint8, to_unit

    source = testdata / "chelsea.png"
    out = tmp_path / "out.png"
    assert main(["dream", str(source), "-o", str(out), "--model", str(random_model), "--steps", "20"]) == 0
    got = np.asarray(Image.open(out)).astype(np.float64)

    dream = dream_function(base_model, parse("mixed3,mixed5"))
    img = tf.constant(to_unit(load_image(source))[None])
    for _ in range(20):
        g = dream(img, tf.constant(0.01))["grad"]
        g /= tf.math.reduce_std(g) + 1e-8
        img = tf.clip_by_value(img + g * 0.01, -1, 1)
    want = to_uint8(img.numpy()[0]).astype(np.float64)
    assert got.shape == want.shape == (300, 451, 3)
    psnr = 10 * np.log10(255.0**2 / np.mean((got - want) ** 2))
    assert psnr >= 40, psnr
    assert np.abs(got - np.asarray(Image.open(source).convert("RGB"))).mean() > 1  # it did dream


def test_output_keeps_the_input_size_with_octaves_and_max_dim(tmp_path, tiny_model):
    src = _photo(tmp_path, size=(203, 131))
    out = tmp_path / "o.jpg"
    assert (
        main(
            [
                "dream",
                str(src),
                "-o",
                str(out),
                "--model",
                str(tiny_model),
                "--steps",
                "2",
                "--octaves",
                "2",
                "--max-dim",
                "120",
                "--jitter",
                "8",
                "--blur",
                "1",
                "--tile",
                "128",
            ]
        )
        == 0
    )
    assert Image.open(out).size == (203, 131)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "CMYK"])
def test_any_mode_is_read_as_rgb(tmp_path, mode):
    rgb = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    img = Image.fromarray(rgb)
    img = {
        "L": lambda: img.convert("L"),
        "RGBA": lambda: img.convert("RGBA"),
        "P": lambda: img.convert("P"),
        "I;16": lambda: Image.fromarray(rgb[..., 0].astype(np.uint16) * 257),
        "CMYK": lambda: img.convert("CMYK"),
    }[mode]()
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    img.save(path)
    loaded = load_image(path)
    assert loaded.shape == (90, 120, 3) and loaded.dtype == np.uint8
    if mode == "I;16":
        np.testing.assert_allclose(loaded[..., 0], rgb[..., 0], atol=1)


def test_exif_orientation_is_honoured(tmp_path):
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[:, :100] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "rot.jpg"
    Image.fromarray(rgb).save(path, exif=exif.tobytes())
    loaded = load_image(path)
    assert loaded.shape == (200, 100, 3)
    assert loaded[:90].mean() > 200 and loaded[110:].mean() < 50  # white now on top


def _dream(*args):
    return deepdream("dream", *args, timeout=120)


def _fails_cleanly(result, *needles):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("deepdream dream: error:"), result.stderr
    for needle in needles:
        assert needle in line


@pytest.mark.child
def test_bad_inputs(tmp_path, tiny_model):
    model = ["--model", str(tiny_model), "--steps", "1"]
    src = _photo(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty.png").write_bytes(b"")
    _fails_cleanly(_dream(str(tmp_path / "notes.txt"), "-o", str(tmp_path / "a.png"), *model), "not a readable image")
    _fails_cleanly(_dream(str(tmp_path / "empty.png"), "-o", str(tmp_path / "a.png"), *model), "not a readable image")
    _fails_cleanly(_dream(str(tmp_path / "nope.png"), "-o", str(tmp_path / "a.png"), *model), "input not found")
    _fails_cleanly(
        _dream(str(src), "-o", str(tmp_path / "a.png"), "--model", str(tmp_path / "m.onnx")), "model not found"
    )
    _fails_cleanly(
        _dream(str(src), "-o", str(tmp_path / "a.png"), "--model", str(tmp_path / "notes.txt")), "cannot load"
    )
    before = src.read_bytes()
    _fails_cleanly(_dream(str(src), "-o", str(src), *model), "is the input")
    assert src.read_bytes() == before
    _fails_cleanly(_dream(str(src), "-o", str(tmp_path / "notes.txt" / "a.png"), *model), "cannot write")
    _fails_cleanly(_dream(str(src), "-o", str(tmp_path / "a.xyz"), *model), "image format")
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (40, 300)).save(tiny)
    _fails_cleanly(_dream(str(tiny), "-o", str(tmp_path / "a.png"), *model), "75 pixels")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.png", "in.png", "notes.txt", "tiny.png"]


@pytest.mark.child
def test_existing_output_survives_a_failed_run(tmp_path, tiny_model):
    out = tmp_path / "keep.png"
    out.write_bytes(b"the user's picture")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    _fails_cleanly(_dream(str(tmp_path / "bad.png"), "-o", str(out), "--model", str(tiny_model)))
    assert out.read_bytes() == b"the user's picture"
