"""The input gradient of a VALID max pool in ONNX ops onnxruntime runs fast: no indices, no scatter.

TensorFlow's MaxPoolGrad sends each window's gradient to the window's first maximum (scan order)
and sums where windows overlap (InceptionV3: 3x3, stride 2). The plain way, MaxPool's Indices
output and a scatter-add, is exact but slow on onnxruntime's CPU: its MaxPool with indices is a
scalar loop, about 19 times slower than its MaxPool, and the scatter writes a zeroed copy first.

Here the same routing is built from whole-tensor ops. With stride s the input splits into s x s
phase planes (plane (p, q) holds x[s*u + p, s*v + q]; a one-hot depthwise convolution each), so
the window offset (a, b) of every window is a shifted crop of one plane. Per offset, in scan
order: `hit = crop == y`, `first = hit and no earlier offset hit`, `g = dy * first`. Each g is
padded to its offset's shift in its plane's grid and summed there, and the planes are interleaved
back (Concat + Reshape) and cropped to x's size. Same values as TensorFlow's (sums of up to four
terms, as with any implementation), in about a quarter less time than the indices path at
InceptionV3's sizes (benchmarks/maxpool_grad.py); TensorFlow's fused kernel is still 3-4x faster.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from export import phases


def applies(kernel, strides, padding, channels) -> bool:
    """Whether `build` handles this pool: no padding, windows that cover the input (stride <= kernel),
    and a known channel count (the phase split is a depthwise convolution)."""
    return padding == "VALID" and bool(channels) and all(s <= k for k, s in zip(kernel, strides))


def build(op, const, x, y, dy, kernel, strides, channels):
    """dx (NCHW) for y = MaxPool(x) with `kernel`, `strides`, no padding, given dy.

    `op(type, inputs, **attrs) -> name` adds a node; `const(array) -> name` adds a constant.
    """
    (kh, kw), (sh, sw) = kernel, strides
    extra = (-(-(kh - 1) // sh), -(-(kw - 1) // sw))  # plane grid = window grid + this, so it covers x
    planes = phases.split(op, const, x, strides, channels)
    window_hw = op("Slice", [op("Shape", [y]), const(np.array([2])), const(np.array([4]))])
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
    x_hw = op("Slice", [op("Shape", [x]), const(np.array([2])), const(np.array([4]))])
    return phases.crop(op, const, phases.interleave(op, const, sums, strides), x_hw)
