"""What a new user meets with models, through the real `deepdream` command: a store of one model is used without
--model and called by one name everywhere; files that are not usable models, names too long for a file, a store
that cannot be written and a folder deleted under doctor are each one line. Tiny ONNX models carrying our metadata
stand in for exported ones (no TensorFlow needed)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import Running, deepdream

from realtime.cli import main

onnx = pytest.importorskip("onnx")
REPO = Path(__file__).resolve().parents[1]


def tiny_model(path: Path, grad_scale: int = 1) -> Path:
    """A model with our metadata whose gradient is the image itself (every `grad_scale`-th pixel of it)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("ReduceMean", ["image"], ["loss"], axes=[1, 2, 3], keepdims=0)]
    ints = {"starts": [0, 0], "ends": [1 << 30, 1 << 30], "axes": [1, 2], "steps": [grad_scale] * 2}
    nodes.append(helper.make_node("Slice", ["image", *ints], ["grad"]))
    image = ["n", "h", "w", 3]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, image)],
        [
            helper.make_tensor_value_info("loss", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("grad", TensorProto.FLOAT, image),
        ],
        initializer=[numpy_helper.from_array(np.array(v, np.int64), k) for k, v in ints.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    for key, value in {
        "format": "deepdream-live/1",
        "layers": "mixed3",
        "objective": "mixed3",
        "weights": "random",
        "trained": "false",
    }.items():
        model.metadata_props.add(key=f"deepdream.{key}", value=value)
    onnx.save(model, path)
    return path


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("DEEPDREAM_MODELS", str(folder))
    return folder


def one_line_error(result, *words) -> str:
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("deepdream ") and ": error: " in line, result.stderr
    assert all(word in line for word in words), line
    return line


@pytest.mark.child
def test_the_only_model_is_used_without_model_and_has_one_name_everywhere(store, tmp_path):
    added = deepdream("models", "add", tiny_model(tmp_path / "m.onnx"))
    assert added.returncode == 0 and "use --model m" in added.stderr, added.stderr
    assert deepdream("models").stdout.splitlines()[1].split()[0] == "m"
    with Running("live", "--source", "synthetic", "--size", "96x80", "--headless", "--serve", "127.0.0.1:0") as live:
        live.wait_for(r"using model m, the only one in the store")
        live.wait_for(r"model m: mixed3")
        port = live.wait_for(r"viewer at http://127\.0\.0\.1:(\d+)/").group(1)
        base = f"http://127.0.0.1:{port}"
        live.wait_for(r"dreaming at")
        state = json.loads(urllib.request.urlopen(f"{base}/control/state.json", timeout=60).read())
        assert [m["name"] for m in state["schema"]["models"]] == ["m"]
        status = json.loads(urllib.request.urlopen(f"{base}/status.json", timeout=60).read())
        assert status["model"] == "m"
        code, said = live.interrupt()
    assert code == 0 and "inception_m" not in said, said
    doctor = deepdream("doctor")
    assert doctor.returncode == 0 and "using model m, the only one in the store" in doctor.stderr, doctor.stderr
    assert "model: m: mixed3" in doctor.stdout


@pytest.mark.child
def test_two_models_and_no_default_is_one_line_naming_them(store, tmp_path, testdata):
    for name in ("a", "b"):
        assert deepdream("models", "add", tiny_model(tmp_path / f"{name}.onnx")).returncode == 0
    line = one_line_error(deepdream("dream", testdata / "chelsea.png", "-o", tmp_path / "o.png"), "a, b", "--model")
    assert "deepdream export" not in line and not (tmp_path / "o.png").exists()


@pytest.mark.child
def test_export_without_tensorflow_names_the_extra(store, tmp_path):
    result = deepdream("export", "--weights", "random", "-o", tmp_path / "e.onnx", block=["tensorflow", "keras"])
    one_line_error(result, "[export]", "pip install")
    assert not list(tmp_path.iterdir())


def _packaged(tmp_path: Path) -> Path:
    """The packages as pip installs them: no checkout around them."""
    site = tmp_path / "site"
    for package in ("realtime", "export"):
        shutil.copytree(REPO / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    return site


@pytest.mark.child
@pytest.mark.parametrize(
    "extra, args, block",
    [
        ("export", ["export", "-o", "e.onnx"], ["tensorflow", "keras"]),
        ("midi", ["live", "--source", "synthetic", "--headless", "--frames", "1", "--midi"], ["mido", "rtmidi"]),
        (
            "virtualcam",
            ["live", "--source", "synthetic", "--headless", "--frames", "1", "--virtualcam"],
            ["pyvirtualcam"],
        ),
        ("cpu", ["models", "add", "m.onnx"], ["onnxruntime"]),
    ],
)
def test_install_hints_fit_where_the_code_runs(store, tmp_path, monkeypatch, extra, args, block):
    work = tmp_path / "work"
    work.mkdir()
    tiny_model(work / "m.onnx")
    args = [work / a if a.endswith(".onnx") else a for a in args]
    args += ["--model", work / "m.onnx"] if args[0] == "live" else []
    monkeypatch.setenv("PYTHONPATH", str(_packaged(tmp_path)))
    one_line_error(deepdream(*args, cwd=work, block=block), f"pip install 'deepdream-live[{extra}]'")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    line = one_line_error(deepdream(*args, cwd=REPO, block=block), f"pip install -e '.[{extra}]'")
    assert "deepdream-live[" not in line


@pytest.mark.parametrize("name", ["Up.ONNX", "inception_Low.onnx"])
def test_a_model_is_known_by_the_name_models_add_prints(store, tmp_path, name, capsys):
    source = tiny_model(tmp_path / name)
    assert main(["models", "add", str(source)]) == 0
    given = capsys.readouterr().err.split("use --model ")[1].split(")")[0]
    assert given == name.split(".")[0].removeprefix("inception_")
    assert main(["models"]) == 0
    assert [row.split()[0] for row in capsys.readouterr().out.splitlines()[1:]] == [given]
    assert main(["dream", str(tmp_path / "none.png"), "-o", str(tmp_path / "o.png"), "--model", given]) == 2
    assert "none.png" in capsys.readouterr().err  # the model was found: the missing input is what stops it


@pytest.mark.parametrize("name", ["m", "x.onnx.bak", "inception_.onnx", "y.onnx.onnx"])
def test_models_add_refuses_a_file_whose_name_would_not_be_usable(store, tmp_path, name, capsys):
    source = tiny_model(tmp_path / name)
    assert main(["models", "add", str(source)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NAME.onnx" in err and not store.exists()


@pytest.mark.child
def test_models_add_where_the_store_holds_a_folder_of_that_name(store, tmp_path):
    (store / "inception_m.onnx" / "inside").mkdir(parents=True)
    one_line_error(deepdream("models", "add", tiny_model(tmp_path / "m.onnx")), "folder")
    assert (store / "inception_m.onnx" / "inside").is_dir()


@pytest.mark.child
def test_a_gradient_of_the_wrong_shape_is_refused_by_every_command(store, tmp_path, testdata):
    half = tiny_model(tmp_path / "half.onnx", grad_scale=2)
    one_line_error(deepdream("models", "add", half), "gradient", "shape")
    assert not store.exists()
    for args in (
        ["dream", testdata / "chelsea.png", "-o", tmp_path / "o.png"],
        ["live", "--source", "synthetic", "--headless", "--frames", "2", "--size", "96x80"],
        ["doctor"],
    ):
        one_line_error(deepdream(*args, "--model", half), "gradient", "shape")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.child
@pytest.mark.parametrize("length", [300, 5000])
def test_a_name_too_long_for_a_file_is_one_line(store, tmp_path, testdata, length):
    name = "a" * length
    one_line_error(deepdream("dream", testdata / "chelsea.png", "-o", tmp_path / "o.png", "--model", name))
    one_line_error(deepdream("dream", testdata / "chelsea.png", "-o", tmp_path / "o.png", "--model", f"{name}.onnx"))
    one_line_error(deepdream("models", "add", tmp_path / f"{name}.onnx"))
    assert not (tmp_path / "o.png").exists() and not store.exists()


@pytest.mark.child
def test_models_add_refuses_a_name_too_long_for_the_store(store, tmp_path):
    long = tiny_model(tmp_path / f"{'b' * 240}.onnx")  # a file that exists; inception_NAME.onnx would not fit
    assert len(one_line_error(deepdream("models", "add", long), "at most")) < 300
    assert not list(store.glob("*"))


@pytest.fixture
def read_only(monkeypatch):
    """Make a folder read-only; as root (who writes there anyway) its temporary files are refused instead."""

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        if os.geteuid() == 0:

            def refuse(real):
                def made(*args, dir=None, **kwargs):
                    if dir is not None and Path(dir) == folder:
                        raise PermissionError(13, "Permission denied", str(folder))
                    return real(*args, dir=dir, **kwargs)

                return made

            monkeypatch.setattr(tempfile, "mkstemp", refuse(tempfile.mkstemp))
            monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse(tempfile.NamedTemporaryFile))
        return folder

    yield make


@pytest.mark.export
def test_a_read_only_store_is_one_line(store, tmp_path, read_only, capsys):
    read_only(store)
    assert main(["models", "add", str(tiny_model(tmp_path / "m.onnx"))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Permission denied" in err and str(store) in err
    assert not list(store.iterdir())
    pytest.importorskip("tensorflow", reason="export needs TensorFlow")
    assert main(["export", "--weights", "random", "--no-verify"]) == 2
    assert "Permission denied" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not list(store.iterdir())


@pytest.mark.child
def test_doctor_started_in_a_folder_since_deleted(store, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); from realtime.cli import main; "
        f"sys.exit(main(['doctor', '--model', {str(tiny_model(tmp_path / 'm.onnx'))!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "this folder is gone" in result.stdout and "dream: CPU: 3 steps" in result.stdout
