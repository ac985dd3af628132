"""Graph pass: drop initializers that no node reads.

The other passes leave some behind (the 1x1 kernels `fuse_pointwise_backprops` concatenates into
one stay as they were): they only cost file size and make onnxruntime warn on every load. An
initializer named like a graph input is that input's default and stays, read or not. The dream
graph has no subgraphs (If/Loop bodies), so reading the top graph's nodes is enough.
"""

from __future__ import annotations


def drop_unused_initializers(model) -> int:
    """Remove them in place; returns how many went."""
    graph = model.graph
    if any(attr.g.node or attr.graphs for node in graph.node for attr in node.attribute):
        raise ValueError("a graph with subgraphs: initializers read inside them are not seen here")
    read = (
        {name for node in graph.node for name in node.input}
        | {i.name for i in graph.input}
        | {o.name for o in graph.output}
    )
    unused = [init for init in graph.initializer if init.name not in read]
    for init in unused:
        graph.initializer.remove(init)
    return len(unused)
