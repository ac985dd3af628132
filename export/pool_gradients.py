"""A max pool's input gradient in ONNX ops, as TensorFlow's MaxPoolGrad computes it.

MaxPoolGrad sends each window's gradient to the window's first maximum (scan order) and sums
where windows overlap (InceptionV3: 3x3, stride 2). The plain way, MaxPool's Indices output and
a scatter-add (`with_indices`, kept for padded pools), is exact but slow on onnxruntime's CPU:
its MaxPool with indices is a scalar loop, about 19 times slower than its MaxPool, and the
scatter writes a zeroed copy first.

For unpadded pools (`by_phases`) the same routing is built from whole-tensor ops. With stride s
the input splits into s x s phase planes (export/phases.py: plane (p, q) holds x[s*u + p, s*v + q]),
so the window offset (a, b) of every window is a shifted crop of one plane. Per offset, in scan
order: `hit = crop == y`, `first = hit and no earlier offset hit`, `g = dy * first`. Each g is
padded to its offset's shift in its plane's grid and summed there, and the planes are interleaved
back and cropped to x's size. Same values as TensorFlow's (sums of up to four terms, as with any
implementation), in about a quarter less time than the indices path at InceptionV3's sizes
(benchmarks/maxpool_grad.py); TensorFlow's fused kernel is still 3-4x faster.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from export import phases


def max_pool_grad(op, const, x, y, dy, kernel, strides, padding, channels):
    """dx (NCHW) for y = MaxPool(x) with `kernel`, `strides` and TensorFlow `padding`, given dy.

    `op` and `const` add nodes and constants (see export/phases.py); `channels` is x's channel
    count, None if unknown.
    """
    # The phase split is a depthwise convolution (channels needed); windows must cover the input.
    if padding == "VALID" and (channels or 0) > 0 and all(s <= k for k, s in zip(kernel, strides)):
        return by_phases(op, const, x, y, dy, kernel, strides, channels)
    return with_indices(op, const, x, dy, kernel, strides, padding)


def with_indices(op, const, x, dy, kernel, strides, padding):
    """MaxPool's Indices (first maximum in scan order, as TensorFlow picks it) and ScatterElements
    with reduction="add": an assigning scatter or MaxUnpool would get overlapping windows wrong."""
    if padding not in ("SAME", "VALID"):
        raise NotImplementedError(f"max pool padding {padding!r} is not supported")
    # TF's SAME puts the odd pad at the end, which is ONNX's SAME_UPPER.
    pads = {"auto_pad": "SAME_UPPER"} if padding == "SAME" else {"pads": [0, 0, 0, 0]}
    _, indices = op("MaxPool", [x], kernel_shape=list(kernel), strides=list(strides), outputs=2, **pads)
    flat, x_shape = const(np.array([-1])), op("Shape", [x])
    zeros = op("ConstantOfShape", [x_shape], value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0]))
    summed = op(
        "ScatterElements",
        [op("Reshape", [zeros, flat]), op("Reshape", [indices, flat]), op("Reshape", [dy, flat])],
        axis=0,
        reduction="add",
    )
    return op("Reshape", [summed, x_shape])


def by_phases(op, const, x, y, dy, kernel, strides, channels):
    """The phase-plane construction above: VALID pools with stride <= kernel, channels known."""
    (kh, kw), (sh, sw) = kernel, strides
    extra = (-(-(kh - 1) // sh), -(-(kw - 1) // sw))  # plane grid = window grid + this, so it covers x
    planes = phases.split(op, const, x, strides, channels)
    window_hw = phases.spatial_shape(op, const, y)
    free, sums = None, {}
    for a in range(kh):
        for b in range(kw):
            start = const(np.array([a // sh, b // sw]))
            view = op("Slice", [planes[a % sh, b % sw], start, op("Add", [start, window_hw]), const(np.array([2, 3]))])
            hit = op("Equal", [view, y])
            first = hit if free is None else op("And", [hit, free])
            if a < kh - 1 or b < kw - 1:
                miss = op("Not", [hit])
                free = miss if free is None else op("And", [free, miss])
            g = op("Mul", [dy, op("Cast", [first], to=TensorProto.FLOAT)])
            top, left = a // sh, b // sw
            pads = [0, 0, top, left, 0, 0, extra[0] - top, extra[1] - left]
            shifted = op("Pad", [g, const(np.array(pads))])
            key = (a % sh, b % sw)
            sums[key] = shifted if key not in sums else op("Add", [sums[key], shifted])
    dx = phases.interleave(op, const, sums, strides)
    return phases.crop(op, const, dx, phases.spatial_shape(op, const, x))
