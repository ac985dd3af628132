"""Phase planes (export/phases.py) as plain ONNX graphs on onnxruntime: split, interleave, crop."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from export import phases  # noqa: E402


class Graph:
    """The `op` / `const` pair the builders take, collecting a plain ONNX graph."""

    def __init__(self):
        self.nodes, self.constants = [], []

    def op(self, op_type, inputs, outputs=1, **attrs):
        names = [f"t{len(self.nodes)}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def const(self, value):
        name = f"c{len(self.constants)}"
        self.constants.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def run(self, output, **feeds):
        inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, None) for k in feeds]
        graph = helper.make_graph(
            self.nodes, "g", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], self.constants
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, feeds)[0]


@pytest.mark.parametrize("strides", [(2, 2), (3, 2), (1, 2)])
@pytest.mark.parametrize("hw", [(9, 12), (10, 11), (7, 7)])
def test_split_then_interleave_and_crop_gives_the_input_back(strides, hw):
    x = np.random.default_rng(0).normal(size=(2, 16, *hw)).astype(np.float32)
    g = Graph()
    planes = phases.split(g.op, g.const, "x", strides, channels=16)
    out = phases.crop(g.op, g.const, phases.interleave(g.op, g.const, planes, strides), g.const(np.array(hw)))
    np.testing.assert_array_equal(g.run(out, x=x), x)


def test_a_plane_holds_every_strided_element():
    x = np.arange(2 * 16 * 7 * 9, dtype=np.float32).reshape(2, 16, 7, 9)
    g = Graph()
    plane = phases.split(g.op, g.const, "x", (2, 3), channels=16)[1, 2]
    got = g.run(plane, x=x)
    assert got.shape == (2, 16, 4, 3)  # ceil(7 / 2) x ceil(9 / 3), zeros past the edge
    np.testing.assert_array_equal(got[:, :, :3], x[:, :, 1::2, 2::3])
    assert not got[:, :, 3].any()
