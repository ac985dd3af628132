"""The model store: export writes into the user's data folder, --model takes a name or a path from any folder,
`deepdream models` lists what the store holds and `models add` brings a model made elsewhere, checked first."""

import shutil
from pathlib import Path

import pytest
from conftest import deepdream

from realtime.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh user: HOME and the working folder are new, empty folders; the store is where platformdirs says."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    for name in ("DEEPDREAM_MODELS", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    return home


def _store(home: Path) -> Path:
    import platformdirs

    return platformdirs.user_data_path("deepdream-live", appauthor=False) / "models"


def _cli(*args, cwd=None):
    return deepdream(*args, timeout=600, cwd=cwd, env={"PYTHONPATH": str(Path(__file__).parents[1])})


@pytest.mark.child
@pytest.mark.export
def test_export_then_live_from_another_folder_with_no_model_flag(home, tmp_path):
    exported = _cli("export", "--weights", "random", "--no-verify")
    assert exported.returncode == 0, exported.stderr
    path = Path(exported.stdout.strip())
    assert path == _store(home) / "inception_mixed3_mixed5.onnx" and path.is_file()
    assert path.is_relative_to(home / ".local" / "share" / "deepdream-live")  # the user's data folder (Linux)
    assert "saved as mixed3_mixed5: --model mixed3_mixed5" in exported.stderr
    other = tmp_path / "other"
    other.mkdir()
    shown = _cli("live", "--source", "synthetic", "--size", "96x80", "--headless", "--frames", "3", cwd=other)
    assert shown.returncode == 0, shown.stderr
    assert "model mixed3_mixed5:" in shown.stderr and not list(other.iterdir())  # nothing left in the folder


def test_a_name_finds_its_model_and_an_unknown_one_says_what_the_store_holds(home, tiny_model, capsys):
    from realtime.store import find

    assert main(["models", "add", str(tiny_model)]) == 0
    assert find("mixed3_mixed5") == _store(home) / "inception_mixed3_mixed5.onnx"
    assert find("inception_mixed3_mixed5") == find("mixed3_mixed5") == find(None)  # the stem works too; the default
    assert find(str(tiny_model)) == tiny_model  # a path is a path
    capsys.readouterr()
    assert main(["dream", str(tiny_model.parent / "x.png"), "-o", "o.png", "--model", "mixed8"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no model named 'mixed8'" in err and "holds mixed3_mixed5" in err


def test_no_model_at_all_says_how_to_make_or_bring_one(home, capsys, monkeypatch):
    import importlib.util

    assert main(["render", "in.mp4", "-o", "out.mp4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no mixed3_mixed5 model in the store" in err and "`deepdream export`" in err and len(err.splitlines()) == 1
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    assert main(["gallery", "in.png", "-o", "sheet.png"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no mix_mixed10 model" in err and "on a machine with TensorFlow" in err and "deepdream models add" in err


def test_the_repositorys_models_folder_still_counts(home, tiny_model):
    from realtime.store import find

    (Path.cwd() / "models").mkdir()
    legacy = Path("models") / "inception_mixed3_mixed5.onnx"
    shutil.copy(tiny_model, legacy)
    assert find(None) == legacy  # where earlier releases exported, for a user who has models there


@pytest.fixture(scope="module")
def mix_model(tmp_path_factory):
    pytest.importorskip("tensorflow", reason="export needs TensorFlow")
    path = tmp_path_factory.mktemp("mix") / "inception_mix_mixed3.onnx"
    assert main(["export", "--weights", "random", "--mix", "--layers", "mixed3", "--no-verify", "-o", str(path)]) == 0
    return path


def test_models_lists_name_layers_weights_and_kind(home, random_model, mix_model, capsys):
    for model in (random_model, mix_model):
        assert main(["models", "add", str(model)]) == 0
    capsys.readouterr()
    assert main(["models"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["name", "layers", "weights", "kind", "size", "path"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"mixed3_mixed5", "mix_mixed3"}
    assert by_name["mixed3_mixed5"][1:4] == ["mixed3,mixed5", "random", "(untrained)"]
    assert "fixed" in by_name["mixed3_mixed5"] and "mix" in by_name["mix_mixed3"]
    assert by_name["mix_mixed3"][1] == "mixed3" and by_name["mix_mixed3"][-1] == str(_store(home) / mix_model.name)


def test_an_empty_store_says_how_to_fill_it(home, capsys):
    assert main(["models"]) == 0
    assert "holds no model yet" in capsys.readouterr().out


def _foreign_onnx(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph), path)
    return path


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: (p.write_text("not a model"), p)[1], "cannot load"),
        (_foreign_onnx, "is not a deepdream-live model"),
        (lambda p: p, "no such file"),
    ],
)
def test_models_add_refuses_what_is_not_ours(home, tmp_path, capsys, make, words):
    bad = make(tmp_path / "bad.onnx")
    assert main(["models", "add", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and not _store(home).exists()


def test_models_add_will_not_replace_a_different_model_of_the_same_name(
    home, random_model, mix_model, tmp_path, capsys
):
    assert main(["models", "add", str(random_model)]) == 0
    impostor = tmp_path / random_model.name
    shutil.copy(mix_model, impostor)
    assert main(["models", "add", str(impostor)]) == 2
    assert "already holds a different mixed3_mixed5" in capsys.readouterr().err
    assert (_store(home) / random_model.name).read_bytes() == random_model.read_bytes()
    assert main(["models", "add", str(random_model)]) == 0  # the same file again: nothing to do


def test_deepdream_models_moves_the_store(home, tmp_path, tiny_model, monkeypatch):
    from realtime.store import find

    moved = tmp_path / "show-pc-models"
    monkeypatch.setenv("DEEPDREAM_MODELS", str(moved))
    assert main(["models", "add", str(tiny_model)]) == 0
    assert (moved / tiny_model.name).is_file() and not _store(home).exists()
    assert find(None) == moved / tiny_model.name


@pytest.mark.export
def test_an_unwritable_store_is_one_line(home, tmp_path, tiny_model, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("DEEPDREAM_MODELS", str(tmp_path / "a-file" / "models"))  # can never be a folder
    assert main(["models", "add", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot make the model store" in err and len(err.splitlines()) == 1
    assert main(["export", "--weights", "random", "--no-verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "cannot write" in err[-1] and "a-file/models" in err[-1]


@pytest.mark.export
def test_random_weights_never_quietly_replace_a_trained_model_in_the_store(home, tiny_model, capsys, monkeypatch):
    from realtime.dream.model import ModelInfo

    assert main(["models", "add", str(tiny_model)]) == 0
    kept = (_store(home) / tiny_model.name).read_bytes()
    real = ModelInfo.load
    monkeypatch.setattr(
        ModelInfo,
        "load",
        classmethod(
            lambda cls, path: real.__func__(cls, path).__class__(**{**vars(real.__func__(cls, path)), "trained": True})
        ),
    )  # as if the store's model were ImageNet's
    capsys.readouterr()
    assert main(["export", "--weights", "random", "--no-verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "has trained weights" in err and "give -o" in err
    assert (_store(home) / tiny_model.name).read_bytes() == kept


def test_a_link_to_nothing_in_the_store_is_a_row_not_a_traceback(home, tiny_model, capsys):
    assert main(["models", "add", str(tiny_model)]) == 0
    (_store(home) / "inception_gone.onnx").symlink_to(_store(home) / "nowhere.onnx")
    capsys.readouterr()
    assert main(["models"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {"mixed3_mixed5"}  # a link to nothing is no model


def test_a_file_with_our_metadata_but_not_our_outputs_is_refused(home, tmp_path, capsys):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("ReduceSum", ["image"], ["loss"], keepdims=0),
            helper.make_node("Identity", ["image"], ["grad"]),
        ],
        "forged",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", "h", "w", 3])],
        [
            helper.make_tensor_value_info("loss", TensorProto.FLOAT, []),
            helper.make_tensor_value_info("grad", TensorProto.FLOAT, ["n", "h", "w", 3]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.metadata_props.add(key="deepdream.format", value="deepdream-live/1")
    onnx.save(model, tmp_path / "forged.onnx")  # a scalar loss: every dream once ended in an IndexError
    assert main(["models", "add", str(tmp_path / "forged.onnx")]) == 2
    assert "does not have the image -> loss, grad contract" in capsys.readouterr().err
