"""Where onnxruntime's CUDA provider would run each node of a model, replayed without a GPU.

CUDA graphs need every node on CUDA, except CPU nodes that need no copy between host and device
(onnxruntime refuses graph capture where its Memcpy nodes would be inserted). Which nodes go to
the CPU follows onnxruntime's `GetCpuPreferredNodes` (core/framework/fallback_cpu_capability.cc):
starting from the outputs CUDA kernels leave in host memory (Shape, Size), a node goes to the CPU
when each of its inputs is such a host tensor (not one the CUDA kernel reads from the host
itself), a small initializer (at most 100 values) or a graph input, and no input is float16.
Its copies follow `TransformerMemcpyImpl` (core/optimizer/transformer_memcpy.cc): one per host
tensor a CUDA kernel reads from device memory, one per device tensor a CPU node (or a host-side
input of a CUDA kernel) reads, one per graph input read on both sides.

`memcpy(model)` lists those copies; `shape_floats(model)` the float values computed from a Shape
that reach arithmetic outside the shape computation (the usual cause: a mean's count as a float).
"""

from __future__ import annotations

import heapq
import math

HOST_OUTPUTS = {"Shape": {0}, "Size": {0}}
# Inputs the CUDA kernels read from host memory (their InputMemoryType(OrtMemTypeCPUInput, i)).
HOST_INPUTS = {
    "Reshape": {1},
    "Slice": {1, 2, 3, 4},
    "Pad": {1, 2, 3},
    "ConstantOfShape": {0},
    "Unsqueeze": {1},
    "Squeeze": {1},
    "Split": {1},
    "Expand": {1},
    "Tile": {1},
    "Range": {0, 1, 2},
    "TopK": {1},
    "Resize": {1, 2, 3},
    "Upsample": {1},
    "OneHot": {1},
    "ReduceSum": {1},
    "ReduceMean": {1},
    "ReduceMax": {1},
    "ReduceMin": {1},
    "ReduceProd": {1},
    "ReduceL2": {1},
    "ReduceSumSquare": {1},
}
SMALL_INITIALIZER = 100
FLOATS = {1, 10, 11, 16}  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16


def _types(model) -> dict[str, int]:
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(model)
    graph = inferred.graph
    return {v.name: v.type.tensor_type.elem_type for v in [*graph.value_info, *graph.input, *graph.output]} | {
        i.name: i.data_type for i in graph.initializer
    }


def _consumers(graph) -> dict[str, list[int]]:
    readers: dict[str, list[int]] = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            readers.setdefault(name, []).append(index)
    return readers


def cpu_nodes(model, types: dict[str, int] | None = None) -> set[int]:
    """Indices of the nodes onnxruntime would run on the CPU beside CUDA (the graph is in topological order)."""
    graph, types = model.graph, types if types is not None else _types(model)
    readers = _consumers(graph)
    small = {i.name for i in graph.initializer if math.prod(i.dims) <= SMALL_INITIALIZER}
    inputs = {i.name for i in graph.input} - {i.name for i in graph.initializer}
    host = {node.output[k] for node in graph.node for k in HOST_OUTPUTS.get(node.op_type, ())}
    queue = sorted({r for name in host for r in readers.get(name, [])})
    placed, seen = set(), set()
    while queue:
        index = heapq.heappop(queue)
        if index in seen:
            continue
        seen.add(index)
        node = graph.node[index]
        if all(_host_side(node, k, name, host, small, inputs, types) for k, name in enumerate(node.input) if name):
            placed.add(index)
            host.update(node.output)
            for name in node.output:
                for r in readers.get(name, []):
                    heapq.heappush(queue, r)
    return placed


def _host_side(node, k, name, host, small, inputs, types) -> bool:
    if types.get(name) in (10, 16):  # float16, bfloat16: onnxruntime keeps such nodes on the device
        return False
    if name in small or name in inputs:
        return True
    return name in host and k not in HOST_INPUTS.get(node.op_type, ())


def memcpy(model) -> list[str]:
    """The tensors onnxruntime would copy between host and device on CUDA, each once: [] lets CUDA graphs capture."""
    graph, types = model.graph, _types(model)
    on_cpu = cpu_nodes(model, types)
    initializers = {i.name for i in graph.initializer}
    host_made, device_made, host_read, device_read = set(), set(), set(), set()
    for index, node in enumerate(graph.node):
        cpu = index in on_cpu
        for k, name in enumerate(node.output):
            (host_made if cpu or k in HOST_OUTPUTS.get(node.op_type, ()) else device_made).add(name)
        for k, name in enumerate(node.input):
            if name and name not in initializers:  # initializers are duplicated per side, not copied
                (host_read if cpu or k in HOST_INPUTS.get(node.op_type, ()) else device_read).add(name)
    inputs = {i.name for i in graph.input} - initializers
    return sorted((host_made & device_read) | (device_made & host_read) | (inputs & host_read & device_read))


def shape_floats(model) -> list[str]:
    """Float tensors computed from a Shape (with constants and graph inputs) that a node outside that
    computation reads: each one a host value the device needs."""
    graph, types = model.graph, _types(model)
    constants = {i.name for i in graph.initializer} | {i.name for i in graph.input}
    derived = set()
    for node in graph.node:  # topological order: a node's inputs are settled before it
        host_read = HOST_INPUTS.get(node.op_type, ())  # a shape read there makes a device value, as meant
        read = [x for k, x in enumerate(node.input) if x and k not in host_read]
        if node.op_type in HOST_OUTPUTS or (
            any(x in derived for x in read) and all(x in derived or x in constants for x in read)
        ):
            derived.update(node.output)
    outside = {x for node in graph.node if not set(node.output) <= derived for x in node.input}
    outside.update(o.name for o in graph.output)
    return sorted(x for x in derived if types.get(x) in FLOATS and x in outside)
