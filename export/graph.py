"""The TensorFlow side of a dream model: InceptionV3 up to the objective's layers, plus its input gradient.

`dream_function(base, objective)` returns a tf.function of (image [N,H,W,3] in [-1, 1], step_size)
giving `loss` [N], `grad` (d loss / d image, raw) and `stepped` (one ascent step of the classic
recipe: grad / (std + 1e-8) * step_size added, clipped to [-1, 1], std per image).

`mix_function(base, layers, defaults)` is the run-time-objective variant: extra inputs
`layer_weights` (one per layer, mixed0 up to the deepest), `guide` ([M, C] feature vectors at the
deepest layer) and `guide_weight`, and an extra output `features` (that layer's activations).
Loss = sum_l w_l mean(act_l) + guide_weight * mean over positions of <act, best-matching guide row>,
google/deepdream's guide objective.
"""
from __future__ import annotations

import numpy as np

from export.objectives import CHANNELS, LAYERS, Objective

IMAGE = ("image", [None, None, None, 3])


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


def _features(base, names):
    import keras

    return keras.Model(base.input, [base.get_layer(n).output for n in names])


def _ascend(tf, tape, image, step_size, acts, seeds, loss, extra=None):
    """Backpropagate the seeds (d loss / d activation) to the image, and take one step."""
    # Seeding the tape with d loss / d activation (constant over space for mean objectives) keeps
    # the dynamic-shape Mean gradient (DynamicStitch, Reshape with 0s) out of the graph.
    grad = tape.gradient(acts, image, output_gradients=seeds)
    std = tf.math.reduce_std(grad, axis=[1, 2, 3], keepdims=True)
    stepped = tf.clip_by_value(image + grad / (std + 1e-8) * step_size, -1.0, 1.0)
    return {"loss": loss, "grad": grad, "stepped": stepped, **(extra or {})}


def _spatial_count(tf, act):
    return tf.cast(tf.shape(act)[1] * tf.shape(act)[2], tf.float32)


def dream_function(base, objective: Objective):
    import tensorflow as tf

    names = objective.layers
    sub = _features(base, names)
    coefs = channel_weights(objective)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
                                  tf.TensorSpec([], tf.float32, name="step_size")])
    def dream(image, step_size):
        with tf.GradientTape() as tape:
            tape.watch(image)
            acts = sub(image, training=False)
            acts = acts if isinstance(acts, (list, tuple)) else [acts]
        per_pixel = [coefs[n] / _spatial_count(tf, a) for n, a in zip(names, acts)]
        loss = tf.add_n([tf.reduce_sum(tf.reduce_sum(a, axis=[1, 2]) * w, axis=1) for a, w in zip(acts, per_pixel)])
        return _ascend(tf, tape, image, step_size, acts, [tf.ones_like(a) * w for a, w in zip(acts, per_pixel)], loss)

    return dream


def mix_layers(objective: Objective) -> tuple[str, ...]:
    """mixed0 .. the objective's deepest layer."""
    return LAYERS[: LAYERS.index(objective.layers[-1]) + 1]


def mix_defaults(objective: Objective) -> np.ndarray:
    names = mix_layers(objective)
    weights = np.zeros(len(names), np.float32)
    for term in objective.terms:
        if term.channel is not None:
            raise ValueError("a mix model weights whole layers; drop the /CHANNEL part")
        weights[names.index(term.layer)] += term.weight
    return weights


def mix_function(base, objective: Objective):
    import tensorflow as tf

    names = mix_layers(objective)
    sub = _features(base, names)
    guide_channels = CHANNELS[names[-1]]

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
                                  tf.TensorSpec([], tf.float32, name="step_size"),
                                  tf.TensorSpec([len(names)], tf.float32, name="layer_weights"),
                                  tf.TensorSpec([None, guide_channels], tf.float32, name="guide"),
                                  tf.TensorSpec([], tf.float32, name="guide_weight")])
    def dream(image, step_size, layer_weights, guide, guide_weight):
        with tf.GradientTape() as tape:
            tape.watch(image)
            acts = sub(image, training=False)
            acts = acts if isinstance(acts, (list, tuple)) else [acts]
        seeds, losses = [], []
        for i, act in enumerate(acts):
            w = layer_weights[i] / (_spatial_count(tf, act) * act.shape[-1])
            losses.append(tf.reduce_sum(act, axis=[1, 2, 3]) * w)
            seeds.append(tf.ones_like(act) * w)
        last = acts[-1]
        flat = tf.reshape(last, [tf.shape(last)[0], -1, guide_channels])
        # For each position, the guide feature it best matches (largest dot product).
        best = tf.gather(guide, tf.argmax(tf.matmul(flat, guide, transpose_b=True), axis=2))
        scale = guide_weight / _spatial_count(tf, last)
        losses.append(tf.reduce_sum(flat * best, axis=[1, 2]) * scale)
        seeds[-1] = seeds[-1] + tf.reshape(best, tf.shape(last)) * scale
        return _ascend(tf, tape, image, step_size, acts, seeds, tf.add_n(losses), {"features": last})

    return dream
