"""The GPU path, on the CPU: the onnxruntime build chosen, its absence said in one line, steps bound in place (the
same numbers as plain runs), CUDA graphs refused cleanly (stand-ins), and the build scripts' choice of wheel."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import deepdream

from realtime.cli import main
from realtime.dream.binding import BoundSteps, GraphRefused
from realtime.dream.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def _build(tmp_path, nvidia_smi: str | None, *flags) -> str:
    """scripts/onnxruntime-build's answer with a stand-in nvidia-smi on PATH (or none at all)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    path = f"{bin_dir}:/usr/bin:/bin"
    if nvidia_smi is not None:
        stand_in = bin_dir / "nvidia-smi"
        stand_in.write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        stand_in.chmod(0o755)
    out = subprocess.run(
        [str(ROOT / "scripts" / "onnxruntime-build"), *flags],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.child
def test_the_build_follows_nvidia_smi_and_the_flags_force_it(tmp_path):
    gpu = 'echo "GPU 0: NVIDIA H200 (UUID: GPU-5f1e0c9a)"'
    broken = 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2; exit 9'
    assert _build(tmp_path, gpu) == "gpu"
    assert _build(tmp_path, broken) == "cpu"  # a driver that does not answer is no GPU
    assert _build(tmp_path, 'echo "No devices were found"') == "cpu"
    assert _build(tmp_path, None) == "cpu"
    assert _build(tmp_path, gpu, "--cpu") == "cpu" and _build(tmp_path, None, "--gpu") == "gpu"
    bad = subprocess.run([str(ROOT / "scripts" / "onnxruntime-build"), "--tpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown option '--tpu'" in bad.stderr


def test_installing_the_project_never_brings_an_onnxruntime_of_its_own():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = lambda deps: {d.split("[")[0].split(">")[0].split("=")[0].split(";")[0].strip() for d in deps}  # noqa: E731
    assert not names(project["dependencies"]) & {"onnxruntime", "onnxruntime-gpu"}
    extras = project["optional-dependencies"]
    assert names(extras["cpu"]) == {"onnxruntime"} and extras["gpu"][0].startswith("onnxruntime-gpu[cuda,cudnn]")
    for name, deps in extras.items():  # only cpu and gpu choose a build, so no extra puts the other one back
        if name not in ("cpu", "gpu"):
            assert not names(deps) & {"onnxruntime", "onnxruntime-gpu"}, name


def test_no_onnxruntime_is_one_line_naming_both_builds(tmp_path, monkeypatch, capsys, tiny_model, testdata):
    from realtime.dream import runtime

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    runtime.onnxruntime.cache_clear()
    try:
        assert (
            main(["dream", str(testdata / "chelsea.png"), "-o", str(tmp_path / "o.png"), "--model", str(tiny_model)])
            == 2
        )
    finally:
        runtime.onnxruntime.cache_clear()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[cpu]'" in err and "[gpu]'" in err  # pip install, as it works here


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


def test_bound_steps_give_the_numbers_of_plain_runs_and_never_alias_what_they_returned(engine):
    rng = np.random.default_rng(0)
    images = [rng.uniform(-1, 1, (96, 128, 3)).astype(np.float32) for _ in range(2)]
    plain = images[0][None]
    for _ in range(3):
        plain = engine.session.run(["stepped"], {"image": plain, "step_size": np.array(0.03, np.float32)})[0]
    first = engine.step(images[0], 3, 0.03)
    kept = first.copy()
    second = engine.step(images[1], 1, 0.05)  # the next call fills the same bound buffers, with a new step size
    np.testing.assert_array_equal(first, plain[0])
    np.testing.assert_array_equal(first, kept)  # what a call returned is the caller's own
    expected = engine.session.run(["stepped"], {"image": images[1][None], "step_size": np.array(0.05, np.float32)})[0]
    np.testing.assert_array_equal(second, expected[0])


class Refusing:
    """A session whose runs refuse a CUDA graph (what onnxruntime says when a node is not on CUDA)."""

    def __init__(self, real):
        self.real, self.runs = real, []

    def io_binding(self):
        return self.real.io_binding()

    def run_with_iobinding(self, binding, options):
        self.runs.append(options.get_run_config_entry("gpu_graph_id") if options else None)
        raise RuntimeError("This session cannot use the CUDA Graph feature: not all nodes are on CUDA")


def test_a_refused_graph_capture_is_one_line_and_the_steps_go_on_without(engine, monkeypatch, caplog):
    image = np.random.default_rng(1).uniform(-1, 1, (80, 96, 3)).astype(np.float32)
    expected = engine.step(image, 2, 0.02)
    refusing = Refusing(engine.session)
    stepper = BoundSteps(refusing, "cpu", graphs=True)
    with pytest.raises(GraphRefused, match="CUDA Graph feature"):
        stepper.steps(image, 1)
    assert refusing.runs == ["1"]  # the capture was asked for, with a graph id of its own
    reopened = []
    monkeypatch.setattr(engine, "stepper", stepper)
    monkeypatch.setattr(engine, "_step_size", None)
    monkeypatch.setattr(engine, "_open", lambda provider: reopened.append(provider) or Engine._open(engine, provider))
    out = engine.step(image, 2, 0.02)
    np.testing.assert_array_equal(out, expected)  # the same step, without a graph
    assert reopened == [engine.provider] and engine.graphs is False and "CUDA Graph feature" in engine.graphs_refused
    assert caplog.text.count("CUDA graphs refused") == 1


def test_a_session_that_will_not_open_with_graphs_steps_without_them(tiny_model, monkeypatch, caplog):
    real, asked = Engine._session, []

    def picky(self, provider, graphs=False):  # CUDA refusing enable_cuda_graph at session creation, stood in
        asked.append(graphs)
        if graphs:
            from realtime.dream.model import ModelError

            raise ModelError("cannot load it") from RuntimeError(
                "CUDA graph is not supported: some nodes are on the CPU"
            )
        return real(self, provider)

    monkeypatch.setattr(Engine, "_wants_graphs", lambda self: self.graphs)
    monkeypatch.setattr(Engine, "_session", picky)
    engine = Engine(tiny_model, "cpu")
    assert asked == [False, True]  # the plain session first: a bad file says so, not "graphs"
    assert engine.graphs is False and "some nodes" in engine.graphs_refused and engine.stepper.graphs is False
    assert engine.step(np.zeros((75, 75, 3), np.float32), 1, 0.02).shape == (75, 75, 3)
    assert caplog.text.count("CUDA graphs refused") == 1


def test_runs_other_than_the_fused_steps_never_touch_the_graph_session(tiny_model, monkeypatch):
    """onnxruntime replays a captured graph for any run of a graph session: guides and transforms use the other."""
    real, graph_runs = Engine._session, []

    class Tracked:
        def __init__(self, session):
            self.session = session

        def io_binding(self):
            return self.session.io_binding()

        def run_with_iobinding(self, binding, options=None):
            graph_runs.append(options.get_run_config_entry("gpu_graph_id"))
            return self.session.run_with_iobinding(binding, options)

        def __getattr__(self, name):  # any other use fails the test
            raise AssertionError(f"the graph session was used for {name}")

    monkeypatch.setattr(Engine, "_wants_graphs", lambda self: self.graphs)
    monkeypatch.setattr(
        Engine,
        "_session",
        lambda self, provider, graphs=False: Tracked(real(self, provider)) if graphs else real(self, provider),
    )
    engine = Engine(tiny_model, "cpu")
    image = np.random.default_rng(2).uniform(-1, 1, (80, 96, 3)).astype(np.float32)
    from realtime.dream.transforms import jitter

    engine.gradient(image)
    engine.step(image, 2, 0.02, transform=jitter(4, np.random.default_rng(0)))
    assert graph_runs == []
    stepped = engine.step(image, 2, 0.02)
    assert graph_runs == ["1", "2"]  # each direction its own graph id
    plain = image[None]
    for _ in range(2):
        plain = engine.session.run(["stepped"], {"image": plain, "step_size": np.array(0.02, np.float32)})[0]
    np.testing.assert_array_equal(stepped, plain[0])


def _doctor(tmp_path, *args, nvidia_smi=None, env=None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if nvidia_smi is not None:
        (bin_dir / "nvidia-smi").write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        (bin_dir / "nvidia-smi").chmod(0o755)
    return deepdream(
        "doctor",
        *args,
        timeout=600,
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.mark.child
def test_doctor_on_a_cpu_machine_says_one_line_per_finding_and_dreams(tmp_path, tiny_model):
    out = _doctor(tmp_path, "--model", tiny_model)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    topics = [line.split(":")[0].strip() for line in lines]
    assert topics[:4] == ["python", "onnxruntime", "gpu", "cameras"] and "disk" in topics and "model" in topics
    assert "CPUExecutionProvider" in lines[1] and "no NVIDIA driver here" in lines[2]
    assert lines[-1].startswith("      dream: CPU: 3 steps at 640x360 in ") and "ms a step" in lines[-1]


@pytest.mark.child
def test_doctor_names_the_gpu_nvidia_smi_reports(tmp_path, tiny_model):
    fake = 'case "$1" in -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-1)";; *) echo "NVIDIA H200, 143771 MiB, 580.65";; esac'
    out = _doctor(tmp_path, "--model", tiny_model, nvidia_smi=fake)
    assert out.returncode == 0, out.stderr
    assert "        gpu: 0: NVIDIA H200, 143771 MiB, driver 580.65" in out.stdout.splitlines()
    assert "dream: CPU:" in out.stdout  # this onnxruntime has no CUDA provider: the CPU dreamed


@pytest.mark.child
def test_doctor_with_nothing_to_dream_with_exits_non_zero_naming_why(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    assert main(["doctor"]) == 2  # an empty store, and no TensorFlow to export one for the check
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deepdream doctor: error: no mixed3_mixed5 model in the store")


def test_a_float16_export_is_a_valid_model_with_float32_io_that_agrees_with_float32(half_model, random_model):
    import json

    import onnx

    model = onnx.load(half_model)
    onnx.checker.check_model(model)
    float32 = onnx.TensorProto.FLOAT
    assert {v.type.tensor_type.elem_type for v in [*model.graph.input, *model.graph.output]} == {float32}
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer)  # the weights are halved
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["deepdream.precision"] == "fp16"
    check = json.loads(meta["deepdream.fp16_check"])
    assert check["checked"] and all(row["grad_cosine"] >= 0.99 for row in check["rows"])
    image = np.random.default_rng(5).uniform(-1, 1, (96, 128, 3)).astype(np.float32)
    half, full = (Engine(m, "cpu").step(image, 1, 0.02) - image for m in (half_model, random_model))
    cosine = float((half * full).sum() / (np.linalg.norm(half) * np.linalg.norm(full)))
    assert cosine > 0.99 and half_model.stat().st_size < 0.6 * random_model.stat().st_size  # same seed's weights
