"""Phase planes: an s-strided grid split into s x s interleaved planes, and put back together.

Plane (p, q) of a tensor holds its elements [s*u + p, s*v + q]. What a strided op spreads over
a grid (a stride-2 max pool's input gradient) is, per plane, plain stride-1 work; `split` and
`interleave` (Concat + Reshape: no scatter, no DepthToSpace, both slow on onnxruntime's CPU)
move between the two. Builders take `op(type, inputs, outputs=1, **attrs)` (a node's output
name, or a list of them) and `const(array) -> name`, so they work in a tf2onnx handler and in a
plain ONNX graph alike.
"""

from __future__ import annotations

import numpy as np


def split(op, const, x, strides, channels):
    """{(p, q): plane (p, q) of x}, each ceil(H / s) x ceil(W / s) (zeros past the edge): a one-hot
    depthwise convolution each, which onnxruntime runs in its blocked layout."""
    sh, sw = strides
    planes = {}
    for p in range(sh):
        for q in range(sw):
            onehot = np.zeros((channels, 1, sh, sw), np.float32)
            onehot[:, 0, p, q] = 1.0
            planes[p, q] = op(
                "Conv",
                [x, const(onehot)],
                group=channels,
                kernel_shape=[sh, sw],
                strides=[sh, sw],
                pads=[0, 0, sh - 1, sw - 1],
            )
    return planes


def interleave(op, const, planes, strides):
    """out[:, :, s*u + p, s*v + q] = planes[p, q][:, :, u, v]; all planes the same size."""
    sh, sw = strides
    last = const(np.array([4]))
    rows = []
    for p in range(sh):
        stacked = op("Concat", [op("Unsqueeze", [planes[p, q], last]) for q in range(sw)], axis=4)
        rows.append(op("Reshape", [stacked, const(np.array([0, 0, 0, -1]))]))
    width = _dims(op, const, rows[0], 3, 4)
    shape = op("Concat", [const(np.array([0, 0, -1])), width], axis=0)  # [N, C, s * rows, width]
    return op("Reshape", [op("Concat", rows, axis=3), shape])


def crop(op, const, x, hw):
    """x[:, :, :h, :w] for the int64 pair `hw`."""
    return op("Slice", [x, const(np.array([0, 0])), hw, const(np.array([2, 3]))])


def spatial_shape(op, const, x):
    """x's (h, w) as an int64 pair, at run time."""
    return _dims(op, const, x, 2, 4)


def _dims(op, const, x, start, end):
    return op("Slice", [op("Shape", [x]), const(np.array([start])), const(np.array([end]))])
