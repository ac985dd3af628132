"""The TensorFlow side of a dream model: InceptionV3 up to the objective's layers, plus its input gradient.

`dream_function(base, objective)` returns a tf.function of (image [N,H,W,3] in [-1, 1], step_size)
giving `loss` [N], `grad` (d loss / d image, raw) and `stepped` (one ascent step of the classic
recipe: grad / (std + 1e-8) * step_size added, clipped to [-1, 1], std per image).

`mix_function(base, layers, defaults)` is the run-time-objective variant: extra inputs
`layer_weights` (one per layer, mixed0 up to the deepest), `guide` ([M, C] feature vectors at the
deepest layer) and `guide_weight`, and an extra output `features` (that layer's activations).
Loss = sum_l w_l mean(act_l) + guide_weight * mean over positions of <act, best-matching guide row>,
google/deepdream's guide objective.

Two things keep the graph fit for a GPU. Every run-time scalar is computed on the device: a mean is
a ReduceMean, and the spatial count the seeds need is a ReduceSum of ones (`_positions`), never a
Shape cast to float, which onnxruntime's CUDA provider computes on the host and copies up on every
run (and then refuses CUDA graphs; export.placement replays its rule). And the tape is seeded with
loss scaling: d mean / d activation is 1/(C h w), about 4e-6 at 640x360, below float16's smallest
normal, so the seeds are multiplied by R (LOSS_SCALE times the deepest layer's positions) and the
gradient divided by R after the backward pass, where the std and the step are computed: in float32
also in a float16 model (names under TAIL and SCALE stay float32 there, see export.precision).
"""

from __future__ import annotations

import numpy as np

from export.objectives import CHANNELS, LAYERS, Objective

IMAGE = ("image", [None, None, None, 3])
SCALE = "loss_scale"  # name scope of the loss scale and the per-layer seed ratios (scalars)
TAIL = "float32_tail"  # name scope of the unscaled gradient, its std and the step
# Times the positions: the image gradient of a mean objective is ~1e-4 of its seeds (random weights), which
# would sit among float16's subnormals; 64 puts it in the normal range with the backward's largest values
# (~1e-2 of the seeds) still far below float16's 65504. export.precision's check measures both ends.
LOSS_SCALE = 64.0


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


def _ascend(tf, tape, image, step_size, acts, seeds, scale, loss, extra=None):
    """Backpropagate the seeds (d loss / d activation, times `scale`) to the image, unscale, and take one step."""
    # Seeding the tape with d loss / d activation (constant over space for mean objectives) keeps
    # the dynamic-shape Mean gradient (DynamicStitch, Reshape with 0s) out of the graph.
    scaled = tape.gradient(acts, image, output_gradients=seeds)
    with tf.name_scope(TAIL):
        grad = scaled / scale
        std = tf.math.reduce_std(grad, axis=[1, 2, 3], keepdims=True)
        stepped = tf.clip_by_value(image + grad / (std + 1e-8) * step_size, -1.0, 1.0)
    return {"loss": loss, "grad": grad, "stepped": stepped, **(extra or {})}


def _positions(tf, act):
    """The spatial positions of `act`, a float computed on the device (a sum of ones)."""
    return tf.reduce_sum(tf.ones_like(act[:1, :, :, :1]))


def _loss_scale(tf, acts):
    """(R, [R / positions of each layer]): R is LOSS_SCALE times the deepest layer's positions, so the
    ratios stay within LOSS_SCALE times the strides' squares (1/16 .. 1) whatever the image size."""
    with tf.name_scope(SCALE):
        positions = [_positions(tf, a) for a in acts]
        scale = positions[-1] * LOSS_SCALE
        return scale, [scale / p for p in positions]


def dream_function(base, objective: Objective):
    import tensorflow as tf

    names = objective.layers
    sub = _features(base, names)
    coefs = channel_weights(objective)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([], tf.float32, name="step_size"),
        ]
    )
    def dream(image, step_size):
        with tf.GradientTape() as tape:
            tape.watch(image)
            acts = sub(image, training=False)
            acts = acts if isinstance(acts, (list, tuple)) else [acts]
        scale, ratios = _loss_scale(tf, acts)
        loss = tf.add_n([tf.reduce_sum(tf.reduce_mean(a, axis=[1, 2]) * coefs[n], axis=1) for n, a in zip(names, acts)])
        seeds = [tf.ones_like(a) * (coefs[n] * r) for n, a, r in zip(names, acts, ratios)]
        return _ascend(tf, tape, image, step_size, acts, seeds, scale, loss)

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

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([], tf.float32, name="step_size"),
            tf.TensorSpec([len(names)], tf.float32, name="layer_weights"),
            tf.TensorSpec([None, guide_channels], tf.float32, name="guide"),
            tf.TensorSpec([], tf.float32, name="guide_weight"),
        ]
    )
    def dream(image, step_size, layer_weights, guide, guide_weight):
        with tf.GradientTape() as tape:
            tape.watch(image)
            acts = sub(image, training=False)
            acts = acts if isinstance(acts, (list, tuple)) else [acts]
        scale, ratios = _loss_scale(tf, acts)
        seeds, losses = [], []
        for i, (act, ratio) in enumerate(zip(acts, ratios)):
            losses.append(tf.reduce_mean(act, axis=[1, 2, 3]) * layer_weights[i])
            seeds.append(tf.ones_like(act) * (layer_weights[i] * ratio / act.shape[-1]))
        last = acts[-1]
        flat = tf.reshape(last, [tf.shape(last)[0], -1, guide_channels])
        # For each position, the guide feature it best matches (largest dot product).
        best = tf.gather(guide, tf.argmax(tf.matmul(flat, guide, transpose_b=True), axis=2))
        losses.append(tf.reduce_mean(tf.reduce_sum(flat * best, axis=2), axis=1) * guide_weight)
        # d/d last of the mean over positions, times R (LOSS_SCALE times those positions).
        seeds[-1] = seeds[-1] + tf.reshape(best, tf.shape(last)) * (guide_weight * LOSS_SCALE)
        return _ascend(tf, tape, image, step_size, acts, seeds, scale, tf.add_n(losses), {"features": last})

    return dream
