"""Batch normalisation folded into the convolutions before conversion.

InceptionV3 follows every convolution with a BatchNormalization (no scale: gamma = 1) that, in
inference, is an affine map per channel: y = x * s + (beta - mean * s), s = 1 / sqrt(var + eps).
onnxruntime fuses that into the convolution for the forward pass, but the input gradient still
pays a full-size multiply per convolution on the way back. Folding s into the kernel and the rest
into a bias makes the backward pass a plain transposed convolution. Same function, same layer
names (the objectives find `mixed3` etc. as before); verified against the unfolded network.
"""

from __future__ import annotations

import numpy as np


def fold_batchnorm(base):
    """A copy of `base` whose Conv2D layers carry their BatchNormalization (which become identities)."""
    import keras

    class Folded(keras.layers.Layer):  # where a BatchNormalization was; takes its call's arguments
        def call(self, x, training=None, mask=None):
            return x

    pairs = _conv_bn_pairs(base)  # bn name -> conv layer
    convs = {conv.name for conv in pairs.values()}

    def clone(layer):
        if isinstance(layer, keras.layers.BatchNormalization) and layer.name in pairs:
            return Folded(name=layer.name)
        if isinstance(layer, keras.layers.Conv2D) and layer.name in convs:
            return keras.layers.Conv2D.from_config({**layer.get_config(), "use_bias": True})
        return layer.__class__.from_config(layer.get_config())

    folded = keras.models.clone_model(base, clone_function=clone)
    for layer in base.layers:
        if layer.weights and layer.name not in pairs and layer.name not in convs:
            folded.get_layer(layer.name).set_weights(layer.get_weights())
    for bn_name, conv in pairs.items():
        folded.get_layer(conv.name).set_weights(_fold(conv, base.get_layer(bn_name)))
    return folded


def batchnorms(model) -> int:
    """How many BatchNormalization layers `model` has (fewer after folding: what was folded)."""
    import keras

    return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)


def _fold(conv, bn) -> list[np.ndarray]:
    kernel = conv.get_weights()[0]
    bias = conv.get_weights()[1] if conv.use_bias else np.zeros(kernel.shape[-1], np.float32)
    channels = kernel.shape[-1]
    gamma = bn.gamma.numpy() if bn.scale else np.ones(channels, np.float32)
    beta = bn.beta.numpy() if bn.center else np.zeros(channels, np.float32)
    s = gamma / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
    return [(kernel * s).astype(np.float32), ((bias - bn.moving_mean.numpy()) * s + beta).astype(np.float32)]


def _conv_bn_pairs(model) -> dict:
    """BatchNormalization name -> the Conv2D that alone feeds it (and feeds nothing else)."""
    import keras

    readers: dict[str, int] = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                readers[source.name] = readers.get(source.name, 0) + 1
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or len(layer._inbound_nodes) != 1:
            continue
        inputs = layer._inbound_nodes[0].input_tensors
        source = inputs[0]._keras_history.operation if len(inputs) == 1 else None
        if (
            isinstance(source, keras.layers.Conv2D)
            and readers.get(source.name) == 1
            and len(source._inbound_nodes) == 1
        ):
            pairs[layer.name] = source
    return pairs
