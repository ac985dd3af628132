"""`deepdream export` end to end: the file's contract and metadata, and every bad input it must refuse."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from conftest import deepdream  # noqa: E402

from realtime.cli import main  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.export]


def test_model_meets_the_contract(random_model):
    session = ort.InferenceSession(str(random_model), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    assert inputs["image"].type == "tensor(float)"
    assert inputs["image"].shape[3] == 3 and all(isinstance(d, str) for d in inputs["image"].shape[:3])
    outputs = {o.name for o in session.get_outputs()}
    assert {"loss", "grad", "stepped"} <= outputs
    for shape in [(1, 75, 75, 3), (3, 80, 123, 3)]:
        image = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        loss, grad = session.run(["loss", "grad"], {"image": image})
        assert loss.shape == (shape[0],) and grad.shape == shape and np.isfinite(grad).all()


def test_metadata_round_trip(random_model):
    session = ort.InferenceSession(str(random_model), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["deepdream.format"] == "deepdream-live/1"
    assert meta["deepdream.layers"] == "mixed3,mixed5"
    assert json.loads(meta["deepdream.layer_weights"]) == {"mixed3": 1.0, "mixed5": 1.0}
    assert meta["deepdream.weights"] == "random" and meta["deepdream.trained"] == "false"
    versions = json.loads(meta["deepdream.versions"])
    assert {"tensorflow", "tf2onnx", "onnx"} <= set(versions)
    assert not any(n.op_type == "BatchNormalization" for n in onnx.load(random_model).graph.node)  # folded
    checks = json.loads(meta["deepdream.verified"])
    assert len(checks) == 2 and all(c["grad_error"] <= 1e-4 for c in checks)
    sidecar = json.loads(random_model.with_suffix(".json").read_text())
    assert sidecar == {k.removeprefix("deepdream."): v for k, v in meta.items()}


def test_metadata_graph_records_what_the_passes_did(random_model, base_model):
    import re

    from export.fold import batchnorms

    graph = onnx.load(random_model).graph
    note = (
        ort.InferenceSession(str(random_model), providers=["CPUExecutionProvider"])
        .get_modelmeta()
        .custom_metadata_map["deepdream.graph"]
    )
    counts = {what: int(n) for n, what in re.findall(r"(\d+) ([a-z0-9 ]+?)(?:;|$)", note)}
    assert counts["batch norms folded into the convolutions"] == batchnorms(base_model) > 0
    assert not any(n.op_type == "BatchNormalization" for n in graph.node)
    fused = [n for n in graph.node if n.op_type == "Conv" and n.name.endswith("__fused_pointwise")]
    assert counts["sums of 1x1 backprops fused"] == len(fused) > 0
    assert counts["objective seeds broadcast"] > 0
    assert counts["unused initializers dropped"] > 0


def test_the_exported_model_has_no_unused_initializers(random_model):
    graph = onnx.load(random_model).graph
    read = {x for node in graph.node for x in node.input} | {i.name for i in graph.input}
    assert [init.name for init in graph.initializer if init.name not in read] == []


def test_weights_file_is_recorded_by_hash_and_counts_as_trained(tmp_path, base_model, capsys, monkeypatch):
    import hashlib

    from realtime.dream.model import ModelInfo

    weights = tmp_path / "mine.weights.h5"
    base_model.save_weights(str(weights))  # random values, but a FILE: someone's training, as far as we can tell
    out = tmp_path / "m.onnx"
    assert main(["export", "--weights", str(weights), "--layers", "mixed0", "-o", str(out), "--no-verify"]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["weights"] == "file" and meta["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert meta["trained"] == "true" and "untrained" not in capsys.readouterr().err
    assert ModelInfo.load(out).trained and "untrained" not in ModelInfo.load(out).describe()
    monkeypatch.setenv("DEEPDREAM_MODELS", str(tmp_path / "store"))
    assert main(["models", "add", str(out)]) == 0
    capsys.readouterr()
    assert main(["models"]) == 0
    assert "file (trained)" in capsys.readouterr().out


def _cli(*args, env=None):
    return deepdream("export", *args, env=env)


def _one_line_error(result, *needles):
    assert result.returncode != 0
    err = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    last = err[-1]
    assert last.startswith("deepdream export: error:")
    for needle in needles:
        assert needle in last
    return last


@pytest.mark.child
def test_unknown_layer_lists_the_valid_names(tmp_path):
    result = _cli("--layers", "mixed3,mixed11", "-o", str(tmp_path / "m.onnx"))
    _one_line_error(result, "mixed11", "mixed0", "mixed10")
    assert not list(tmp_path.iterdir())


@pytest.mark.child
def test_channel_out_of_range(tmp_path):
    _one_line_error(_cli("--layers", "mixed0/256", "-o", str(tmp_path / "m.onnx")), "mixed0", "0..255")


@pytest.mark.child
@pytest.mark.parametrize("content", [None, b"", b"not an hdf5 file"])
def test_bad_weights_file(tmp_path, content):
    weights = tmp_path / "w.h5"
    if content is not None:
        weights.write_bytes(content)
    _one_line_error(_cli("--weights", str(weights), "-o", str(tmp_path / "m.onnx")), str(weights))
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.child
def test_wrong_network_weights_file(tmp_path):
    import keras

    weights = tmp_path / "small.weights.h5"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(str(weights))
    _one_line_error(_cli("--weights", str(weights), "-o", str(tmp_path / "m.onnx")), "not an InceptionV3 weights")


@pytest.mark.child
def test_offline_imagenet_names_the_file_and_the_alternative(tmp_path):
    result = _cli("--weights", "imagenet", "-o", str(tmp_path / "m.onnx"), env={"KERAS_HOME": str(tmp_path / "keras")})
    if result.returncode == 0:
        pytest.skip("this machine reached the ImageNet weights")
    _one_line_error(result, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "--weights FILE")


@pytest.mark.child
@pytest.mark.parametrize("where", ["file_parent", "directory"])
def test_unwritable_output(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me")
    out = blocker / "m.onnx" if where == "file_parent" else tmp_path
    _one_line_error(_cli("--weights", "random", "-o", str(out)), str(out))
    assert blocker.read_text() == "keep me"


def test_failed_verification_writes_nothing(tmp_path, monkeypatch):
    import export.verify

    monkeypatch.setattr(export.verify, "TOLERANCE", 0.0)
    out = tmp_path / "m.onnx"
    out.write_bytes(b"previous model")
    assert main(["export", "--weights", "random", "--layers", "mixed0", "-o", str(out)]) == 2
    assert out.read_bytes() == b"previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


@pytest.mark.child
def test_export_prints_only_its_own_lines(tmp_path):
    # TensorFlow at its chattiest (a user's shell may set this): its C++ banners, which differ by
    # CPU and build, print on every machine at level 0; none may reach the user.
    env = {**{k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}, "TF_CPP_MIN_LOG_LEVEL": "0"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "realtime.cli",
            "export",
            "--weights",
            "random",
            "--no-verify",
            "-o",
            str(tmp_path / "m.onnx"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "m.onnx")
    strays = [line for line in out.stderr.splitlines() if not line.startswith("[export] ")]
    assert strays == [], out.stderr
