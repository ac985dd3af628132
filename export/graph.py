"""The TensorFlow side of a dream model: InceptionV3 up to the objective's layers, plus its input gradient.

`dream_function(base, objective)` returns a tf.function of (image [N,H,W,3] in [-1, 1], step_size)
giving `loss` [N], `grad` (d loss / d image, raw) and `stepped` (one ascent step of the classic
recipe: grad / (std + 1e-8) * step_size added, clipped to [-1, 1], std per image).
"""
from __future__ import annotations

import numpy as np

from export.objectives import CHANNELS, Objective


def channel_weights(objective: Objective) -> dict[str, np.ndarray]:
    """Per layer, d(sum of the layer's terms) / d(spatial mean of each channel).

    A layer term's mean over C channels gives each channel w / C; a channel term gives its channel w.
    """
    out = {}
    for term in objective.terms:
        vec = out.setdefault(term.layer, np.zeros(CHANNELS[term.layer], np.float32))
        if term.channel is None:
            vec += term.weight / CHANNELS[term.layer]
        else:
            vec[term.channel] += term.weight
    return out


def dream_function(base, objective: Objective):
    import keras
    import tensorflow as tf

    names = objective.layers
    sub = keras.Model(base.input, [base.get_layer(n).output for n in names])
    coefs = channel_weights(objective)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
                                  tf.TensorSpec([], tf.float32, name="step_size")])
    def dream(image, step_size):
        with tf.GradientTape() as tape:
            tape.watch(image)
            acts = sub(image, training=False)
            acts = acts if isinstance(acts, (list, tuple)) else [acts]
        # Seeding the tape with d loss / d activation (a constant per channel over the spatial
        # size) keeps the dynamic-shape Mean gradient (DynamicStitch, Reshape with 0s) out of the graph.
        per_pixel = [coefs[n] / tf.cast(tf.shape(a)[1] * tf.shape(a)[2], tf.float32) for n, a in zip(names, acts)]
        loss = tf.add_n([tf.reduce_sum(tf.reduce_sum(a, axis=[1, 2]) * w, axis=1) for a, w in zip(acts, per_pixel)])
        seeds = [tf.ones_like(a) * w for a, w in zip(acts, per_pixel)]
        grad = tape.gradient(acts, image, output_gradients=seeds)
        std = tf.math.reduce_std(grad, axis=[1, 2, 3], keepdims=True)
        stepped = tf.clip_by_value(image + grad / (std + 1e-8) * step_size, -1.0, 1.0)
        return {"loss": loss, "grad": grad, "stepped": stepped}

    return dream
