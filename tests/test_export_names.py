"""What `deepdream export` names and writes: a differently weighted objective gets a name of its own, and a model is
never written without its metadata's place checked first."""

import pytest
from conftest import deepdream

from export.command import default_model_path
from export.objectives import parse
from realtime.store import name_of


@pytest.mark.parametrize(
    "layers, name",
    [
        ("mixed3,mixed5", "mixed3_mixed5"),
        ("mixed3:1.0,mixed5:1", "mixed3_mixed5"),
        ("mixed3:1.0,mixed5:0.5", "mixed3_mixed5_w1-0.5"),
        ("mixed5:0.5,mixed3", "mixed5_mixed3_w0.5-1"),
        ("mixed4/97:2", "mixed4-97_w2"),
    ],
)
def test_the_default_name_tells_weighted_objectives_apart(layers, name):
    assert name_of(default_model_path(parse(layers))) == name


def test_mix_models_are_named_after_their_deepest_layer_whatever_the_weights():
    assert name_of(default_model_path(parse("mixed3:0.2,mixed5"), mix=True)) == "mix_mixed5"


@pytest.mark.child
@pytest.mark.export
def test_a_folder_where_the_metadata_goes_stops_the_export_before_anything_is_written(tmp_path):
    pytest.importorskip("tensorflow", reason="export needs TensorFlow")
    (tmp_path / "e.json" / "keep").mkdir(parents=True)
    result = deepdream("export", "--weights", "random", "-o", tmp_path / "e.onnx", timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "e.json" in result.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json"] and (tmp_path / "e.json" / "keep").is_dir()
