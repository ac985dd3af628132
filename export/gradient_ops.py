"""ONNX conversions for TensorFlow's gradient ops, as tf2onnx custom op handlers.

tf2onnx converts forward graphs; the input-gradient graph that DeepDream needs also holds
ReluGrad, MaxPoolGrad, AvgPoolGrad and, once N/H/W are dynamic, ShapeN and ConcatOffset, which
tf2onnx has no mapping for. Each handler here rewrites one such node into standard ONNX ops.
Spatial ops run channels-first (ONNX's layout) between Transposes, like tf2onnx's own pool and
conv handlers, so its transpose optimizer can cancel them against their neighbours.

`HANDLERS` is the table handed to tf2onnx as `custom_op_handlers`.
"""

import numpy as np
from onnx import TensorProto, helper
from tf2onnx import utils
from tf2onnx.onnx_opset import nn as tf2onnx_nn

from export import phases, pool_gradients

TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]


def _hw(values, data_format):
    """Spatial (h, w) entries of a TF 4-vector attribute such as ksize or strides."""
    if data_format == "NCHW":
        return [int(values[2]), int(values[3])]
    return [int(values[1]), int(values[2])]


def _pool_attrs(node):
    """(kernel, strides, padding, data_format) of a TF pool-gradient node."""
    data_format = _attr_str(node, "data_format", "NHWC")
    kernel = _hw(node.get_attr_value("ksize"), data_format)
    strides = _hw(node.get_attr_value("strides"), data_format)
    return kernel, strides, _attr_str(node, "padding", ""), data_format


def _to_nchw(ctx, name, data_format):
    if data_format == "NCHW":
        return name
    return ctx.make_node("Transpose", [name], attr={"perm": TO_NCHW}).output[0]


def _finish(ctx, node, nchw_result, data_format):
    """Make `node` produce `nchw_result` in its own layout, keeping its output name."""
    node.type = "Identity" if data_format == "NCHW" else "Transpose"
    if data_format != "NCHW":
        node.set_attr("perm", TO_NHWC)
    for attr in (
        "ksize",
        "strides",
        "padding",
        "data_format",
        "explicit_paddings",
        "T",
        "dilations",
        "use_cudnn_on_gpu",
    ):
        if attr in node.attr:
            del node.attr[attr]
    ctx.replace_inputs(node, [nchw_result])


def relu_grad(ctx, node, name, args):
    """ReluGrad(dy, features) = dy where features > 0, else 0."""
    dy, features = node.input
    zero = ctx.make_const(_uname(node, "zero"), np.array(0, np.float32)).output[0]
    positive = ctx.make_node("Greater", [features, zero]).output[0]
    mask = ctx.make_node("Cast", [positive], attr={"to": TensorProto.FLOAT}).output[0]
    node.type = "Mul"
    if "T" in node.attr:
        del node.attr["T"]
    ctx.replace_inputs(node, [dy, mask])


def max_pool_grad(ctx, node, name, args):
    """MaxPoolGrad(x, y, dy): route each dy to its window's first maximum, summing where windows
    overlap; built by export/pool_gradients.py."""
    kernel, strides, padding, data_format = _pool_attrs(node)
    x, y, dy = (_to_nchw(ctx, t, data_format) for t in node.input)
    shape = ctx.get_shape(node.input[0]) or []
    channels = shape[1 if data_format == "NCHW" else 3] if len(shape) == 4 else None
    op, const = _builders(ctx, node)
    dx = pool_gradients.max_pool_grad(op, const, x, y, dy, kernel, strides, padding, channels)
    _finish(ctx, node, dx, data_format)


def _builders(ctx, node):
    """The `op` / `const` pair that export/phases.py and export/pool_gradients.py build with."""

    def op(op_type, inputs, outputs=1, **attr):
        made = ctx.make_node(op_type, inputs, attr=attr, output_count=outputs)
        return made.output[0] if outputs == 1 else list(made.output)

    def const(value):
        return ctx.make_const(_uname(node, "c"), np.asarray(value)).output[0]

    return op, const


def avg_pool_grad(ctx, node, name, args):
    """AvgPoolGrad(x_shape, dy) for stride-1 pools, the kind InceptionV3 uses (3x3, SAME).

    Each output's gradient is spread evenly over the inputs its window counted: TF's SAME average
    excludes the padding from the count, so dy is divided by the per-position count first. The
    adjoint of a stride-1 sum over windows with pads (a, b) is the sum over windows with pads
    (k-1-a, k-1-b); a sum is an AveragePool that counts the padding, times k*k. That k*k cancels
    against the count's, so dy is divided by the real fraction of its window and nothing follows
    the AveragePool (which lets onnxruntime keep its result in its blocked layout).
    """
    kernel, strides, padding, data_format = _pool_attrs(node)
    if strides != [1, 1]:
        raise NotImplementedError(f"AvgPoolGrad {node.name}: strides {strides} are not supported, only stride 1")
    dy = _to_nchw(ctx, node.input[1], data_format)
    fwd = _explicit_pads(padding, kernel)
    if fwd != [0, 0, 0, 0]:
        dy = ctx.make_node("Div", [dy, _window_fractions(ctx, node, dy, kernel, fwd)]).output[0]
    back = [k - 1 - p for k, p in zip(kernel * 2, fwd)]
    dx = ctx.make_node(
        "AveragePool", [dy], attr={"kernel_shape": kernel, "strides": [1, 1], "pads": back, "count_include_pad": 1}
    ).output[0]
    _finish(ctx, node, dx, data_format)


def _window_fractions(ctx, node, dy_nchw, kernel, pads):
    """[1, 1, H, W] map of the fraction of each output window that covered real (unpadded) inputs."""
    hw = phases.spatial_shape(*_builders(ctx, node), dy_nchw)
    ones_hw = ctx.make_node("Concat", [_const(ctx, node, "nc", [1, 1]), hw], attr={"axis": 0}).output[0]
    # The window map for an H x W output, computed on an H x W input padded as the forward pass was:
    # for stride 1 and SAME padding the output and input grids coincide.
    ones = ctx.make_node("ConstantOfShape", [ones_hw], attr={"value": _scalar_tensor(1.0)}).output[0]
    return ctx.make_node(
        "AveragePool", [ones], attr={"kernel_shape": kernel, "strides": [1, 1], "pads": pads, "count_include_pad": 1}
    ).output[0]


def _explicit_pads(padding, kernel):
    """ONNX pads [top, left, bottom, right] of a stride-1 TF pool."""
    if padding == "VALID":
        return [0, 0, 0, 0]
    if padding == "SAME":
        before = [(k - 1) // 2 for k in kernel]
        return before + [k - 1 - b for k, b in zip(kernel, before)]
    raise NotImplementedError(f"pool padding {padding!r} is not supported")


def conv_backprop_input(ctx, node, name, args):
    """Conv2DBackpropInput(sizes, filter, dy) for stride 1 as a plain Conv; other strides as tf2onnx does.

    With stride 1 the input gradient of a convolution is itself a convolution: the kernel flipped
    in space with its in/out channels swapped, and pads (k-1-before, k-1-after). onnxruntime's Conv
    is several times faster than its ConvTranspose, and no output size has to be computed at run
    time, so InceptionV3's many stride-1 convolutions run their backward pass at forward speed.
    """
    data_format = _attr_str(node, "data_format", "NHWC")
    strides = _hw(node.get_attr_value("strides"), data_format)
    dilations = _hw(node.get_attr_value("dilations", [1, 1, 1, 1]), data_format)
    padding = _attr_str(node, "padding", "")
    kernel = _const_value(node.inputs[1])
    if strides != [1, 1] or dilations != [1, 1] or kernel is None or padding not in ("SAME", "VALID"):
        return tf2onnx_nn.ConvTranspose.version_11(ctx, node)
    kh, kw = kernel.shape[:2]
    fwd = _explicit_pads(padding, [kh, kw])
    back = [k - 1 - p for k, p in zip([kh, kw, kh, kw], fwd)]
    flipped = np.ascontiguousarray(kernel[::-1, ::-1].transpose(2, 3, 0, 1))
    weight = ctx.make_const(_uname(node, "backprop_kernel"), flipped).output[0]
    dy = _to_nchw(ctx, node.input[2], data_format)
    dx = ctx.make_node(
        "Conv", [dy, weight], attr={"kernel_shape": [kh, kw], "strides": [1, 1], "pads": back, "dilations": [1, 1]}
    ).output[0]
    _finish(ctx, node, dx, data_format)


def _const_value(tensor_node):
    """Value of a constant, looking through Identity nodes; None if it is not constant."""
    while tensor_node.type == "Identity":
        tensor_node = tensor_node.inputs[0]
    return tensor_node.get_tensor_value(as_list=False) if tensor_node.is_const() else None


def _attr_str(node, name, default):
    value = node.get_attr_value(name, default)
    return value.decode() if isinstance(value, bytes) else value


def shape_n(ctx, node, name, args):
    """ShapeN(x0..xn) -> Shape(x0)..Shape(xn), cast to the requested integer type."""
    out_type = node.get_attr_value("out_type", TensorProto.INT32)
    for inp, out in zip(list(node.input), list(node.output)):
        shape = ctx.make_node("Shape", [inp]).output[0]
        if out_type != TensorProto.INT64:
            shape = ctx.make_node("Cast", [shape], attr={"to": out_type}).output[0]
        ctx.replace_all_inputs(out, shape)
    ctx.remove_node(node.name)


def concat_offset(ctx, node, name, args):
    """ConcatOffset(dim, s0..sn): where each input of a concat starts, for the concat's gradient.

    offset_i is zero except along `dim`, where it is the sum of the earlier inputs' sizes.
    When every size along `dim` is known (InceptionV3's channel counts are), offsets are constants.
    """
    dim_node = node.inputs[0]
    if not dim_node.is_const():
        raise NotImplementedError(f"ConcatOffset {node.name}: the concat axis must be a constant")
    shapes = list(node.input[1:])
    rank = ctx.get_shape(shapes[0])[0]
    dim = int(dim_node.get_tensor_value()) % rank
    dtype = ctx.get_dtype(shapes[0])
    np_dtype = np.int32 if dtype == TensorProto.INT32 else np.int64
    sizes = [_static_dim(ctx, s, dim) for s in shapes]
    outputs = list(node.output)
    if all(s is not None for s in sizes):
        starts = np.cumsum([0] + sizes[:-1])
        for out, start in zip(outputs, starts):
            vec = np.zeros(rank, np_dtype)
            vec[dim] = start
            ctx.replace_all_inputs(out, ctx.make_const(_uname(node, "offset"), vec).output[0])
    else:
        onehot = np.zeros(rank, np_dtype)
        onehot[dim] = 1
        mask = ctx.make_const(_uname(node, "onehot"), onehot).output[0]
        total = ctx.make_const(_uname(node, "zero"), np.zeros(rank, np_dtype)).output[0]
        for out, shape in zip(outputs, shapes):
            ctx.replace_all_inputs(out, total)
            along = ctx.make_node("Mul", [shape, mask]).output[0]
            total = ctx.make_node("Add", [total, along]).output[0]
    ctx.remove_node(node.name)


def _static_dim(ctx, shape_tensor, dim):
    """Size along `dim` of the tensor whose shape `shape_tensor` is, if the graph knows it."""
    producer = ctx.get_node_by_output(shape_tensor)
    while producer is not None and producer.type == "Cast":
        producer = producer.inputs[0]
    if producer is None or producer.type != "Shape":
        return None
    source_shape = ctx.get_shape(producer.input[0])
    if source_shape is None or source_shape[dim] is None or source_shape[dim] < 0:
        return None
    return int(source_shape[dim])


def _uname(node, what):
    return utils.make_name(f"{node.name}__{what}")


def _const(ctx, node, what, values):
    return ctx.make_const(_uname(node, what), np.array(values, np.int64)).output[0]


def _scalar_tensor(value):
    return helper.make_tensor("value", TensorProto.FLOAT, [1], [value])


HANDLERS = {
    "ReluGrad": (relu_grad, []),
    "MaxPoolGrad": (max_pool_grad, []),
    "AvgPoolGrad": (avg_pool_grad, []),
    "Conv2DBackpropInput": (conv_backprop_input, []),
    "ShapeN": (shape_n, []),
    "ConcatOffset": (concat_offset, []),
}
