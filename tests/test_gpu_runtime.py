"""The GPU path's runtime, on the CPU with stand-ins: a failing bound run falls back, `exact` reaches the CUDA
options, the CUDA libraries are looked for in every nvidia/*/lib folder, doctor reports instead of crashing,
and benchmarks/gpu.py records where each row ran and refuses rows from a session that left CUDA."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from realtime.dream import cuda_libs
from realtime.dream.binding import BoundSteps
from realtime.dream.engine import Engine, cuda_options
from realtime.dream.runtime import CUDA

ROOT = Path(__file__).resolve().parents[1]


class Failing:
    """A session whose bound runs fail as run_with_iobinding does on a broken device: a plain RuntimeError."""

    def __init__(self, real):
        self.real = real

    def io_binding(self):
        return self.real.io_binding()

    def run_with_iobinding(self, binding, options):
        raise RuntimeError("Error in execution: CUDA failure 700: an illegal memory access was encountered")


def test_a_bound_run_that_fails_on_the_gpu_falls_back_to_the_cpu(tiny_model, monkeypatch, caplog):
    engine = Engine(tiny_model, "cpu")
    image = np.random.default_rng(1).uniform(-1, 1, (80, 96, 3)).astype(np.float32)
    expected = engine.step(image, 2, 0.02)
    monkeypatch.setattr(engine, "provider", CUDA)  # as if on CUDA, with its bound runs failing
    monkeypatch.setattr(engine, "stepper", BoundSteps(Failing(engine.session), "cpu"))
    np.testing.assert_array_equal(engine.step(image, 2, 0.02), expected)
    assert engine.provider == "CPUExecutionProvider" and "illegal memory access" in engine.fell_back
    assert "falling back to the CPU" in caplog.text


def test_exact_turns_tf32_and_the_timed_algorithm_search_off_on_cuda(tiny_model, monkeypatch):
    assert cuda_options() == {} and cuda_options(graphs=True) == {"enable_cuda_graph": "1"}
    exact = {"use_tf32": "0", "cudnn_conv_algo_search": "HEURISTIC"}
    assert cuda_options(exact=True) == exact
    engine, asked = Engine(tiny_model, "cpu", exact=True), []

    class Recording:
        def InferenceSession(self, path, options, providers):  # noqa: N802 (onnxruntime's name)
            asked.append(providers)

    monkeypatch.setattr("realtime.dream.engine.onnxruntime", lambda: Recording())
    engine._session(CUDA, graphs=True)
    engine._session("CPUExecutionProvider")
    assert asked == [[(CUDA, {**exact, "enable_cuda_graph": "1"})], ["CPUExecutionProvider"]]


def test_a_cuda_read_back_is_not_copied_again_but_a_cpu_one_is():
    class Value:  # numpy() of a CUDA OrtValue: a fresh host array each call
        def numpy(self):
            self.last = np.ones((1, 4, 4, 3), np.float32)
            return self.last

    value = Value()
    on_cuda = BoundSteps(None, "cuda")._read(value)
    assert np.shares_memory(on_cuda, value.last)  # numpy() made the host copy already: no second one
    on_cpu = BoundSteps(None, "cpu")._read(value)
    assert not np.shares_memory(on_cpu, value.last)  # the CPU's is a view of the bound buffer: copied


def test_the_libraries_are_preloaded_from_every_nvidia_lib_folder_and_said_in_one_line(tmp_path, caplog):
    for site, package in (("a", "cudnn"), ("b", "cu13"), ("b", "cublas")):
        (tmp_path / site / "nvidia" / package / "lib").mkdir(parents=True)
    (tmp_path / "b" / "nvidia" / "no_lib").mkdir()
    calls = []

    class Ort:
        def preload_dlls(self, directory=None):
            calls.append(directory)
            print(f"Failed to load libcudnn.so.9 from {directory}")  # what it prints: kept off the terminal

    line = cuda_libs.preload(Ort(), [str(tmp_path / "a"), str(tmp_path / "b"), ""])
    folders = [str(tmp_path / p) for p in ("a/nvidia/cudnn/lib", "b/nvidia/cu13/lib", "b/nvidia/cublas/lib")]
    assert calls == [None, *folders, *folders]  # onnxruntime's own places, then each folder (twice: dependencies)
    assert line.startswith("CUDA libraries: ") and "not loaded: libcudart, libcublasLt, libcublas, libcudnn" in line
    assert caplog.text.count("CUDA libraries") == 1 and "Failed to load" not in caplog.text


def test_the_loaded_libraries_are_read_from_the_process_maps():
    maps = (
        "7f00-7f01 r-xp 00000000 08:01 12 /site/nvidia/cuda_runtime/lib/libcudart.so.12\n"
        "7f02-7f03 r-xp 00000000 08:01 13 /site/nvidia/cudnn/lib/libcudnn.so.9\n"
        "7f04-7f05 r-xp 00000000 08:01 14 /site/nvidia/cudnn/lib/libcudnn_ops.so.9\n"
        "7f06-7f07 rw-p 00000000 00:00 0\n"
    )
    found = cuda_libs.loaded(maps)
    assert found == {
        "libcudart": "/site/nvidia/cuda_runtime/lib/libcudart.so.12",
        "libcudnn": "/site/nvidia/cudnn/lib/libcudnn.so.9",
    }
    line = cuda_libs.summary(found)
    assert "libcudart.so.12 (/site/nvidia/cuda_runtime/lib)" in line and "not loaded: libcublasLt, libcublas" in line


def test_doctor_reports_a_provider_that_raises_a_plain_runtime_error(tiny_model, monkeypatch, capsys):
    from realtime.commands import doctor

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA driver version is insufficient for CUDA runtime version")

    monkeypatch.setattr("realtime.dream.engine.Engine", broken)
    assert doctor.dream_finding(tiny_model, CUDA) is False
    said = capsys.readouterr().out.strip()
    assert said == "dream: CUDA: failed (CUDA driver version is insufficient for CUDA runtime version)"


@pytest.fixture
def gpu_script(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import gpu

    return gpu


def test_gpu_script_rows_say_where_and_how_they_ran(gpu_script, tiny_model, tmp_path, monkeypatch):
    out = tmp_path / "gpu.json"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "gpu.py",
            "--model",
            str(tiny_model),
            "--provider",
            "cpu",
            "--sizes",
            "96x80",
            "--check-size",
            "160x160",
            "--repeats",
            "1",
            "--live-size",
            "96x80",
            "--live-display",
            "128x96",
            "--live-frames",
            "8",
            "--json",
            str(out),
        ],
    )
    assert gpu_script.main() == 0
    result = json.loads(out.read_text())
    assert result["provider"] == "CPUExecutionProvider" and all(c["ok"] for c in result["checks"])
    rows = result["steps"]
    assert [(r["precision"], r["graphs_asked"], r["graphs"]) for r in rows] == [
        ("fp32", False, False),
        ("fp32", True, False),
    ]
    assert all(r["provider"] == "CPUExecutionProvider" and r["size"] == "96x80" for r in rows)
    assert rows[0]["cosine_vs_cpu_fp32"] == 1.0 and "device_mib_of" in rows[0] and "graphs_refused" in rows[1]
    assert result["live"]["provider"] == "CPUExecutionProvider"


def test_gpu_script_refuses_cuda_rows_from_a_session_that_runs_on_the_cpu(
    gpu_script, tiny_model, tmp_path, monkeypatch, capsys
):
    """onnxruntime falls back to the CPU by itself where CUDA cannot start: no figure may say CUDA then."""
    out = tmp_path / "gpu.json"
    monkeypatch.setattr(gpu_script, "choose_provider", lambda requested: CUDA)
    monkeypatch.setattr("realtime.dream.engine.choose_provider", lambda requested: requested)
    monkeypatch.setattr(sys, "argv", ["gpu.py", "--model", str(tiny_model), "--json", str(out)])
    assert gpu_script.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "asked for CUDAExecutionProvider, the session runs on CPUExecutionProvider" in err[0]
    result = json.loads(out.read_text())
    assert "steps" not in result and "live" not in result and result["refused"]
