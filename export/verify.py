"""Check an exported model against TensorFlow's own gradient before it is written.

The error measure: max |onnx - tf| / max |tf| over the gradient (and the loss).
One subtlety decides how images are drawn. A max pool's gradient goes to each window's largest
input, so where two inputs of a window are within float32 rounding of each other, TensorFlow's
own gradient jumps when the image moves by a single ulp (measured: up to 1e-2 at 480x640 with
random weights); two correct float32 implementations then legitimately disagree. Such an image
tells nothing about the conversion, so a check draws random images until one matches, up to
`draws` of them. A systematic conversion error (wrong padding, lost overlaps) misses on every draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.errors import UserError

TOLERANCE = 1e-4


class VerificationError(UserError):
    pass


@dataclass(frozen=True)
class Check:
    shape: tuple[int, int, int]
    grad_error: float
    loss_error: float
    draws: int

    @property
    def ok(self) -> bool:
        return self.grad_error <= TOLERANCE and self.loss_error <= TOLERANCE


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = float(np.abs(want).max())
    return float(np.abs(got - want).max()) / (scale if scale > 0 else 1.0)


def compare(reference, session, shape, rng, draws: int = 8) -> Check:
    """Best agreement of onnxruntime with TensorFlow over up to `draws` random images of `shape`.

    `reference(image)` is TensorFlow's {"loss", "grad"} for an image (a tf.function of ours with
    its other inputs at their defaults).
    """
    best = None
    for attempt in range(1, draws + 1):
        image = rng.uniform(-1.0, 1.0, (*shape, 3)).astype(np.float32)
        want = reference(image)
        loss, grad = session.run(["loss", "grad"], {"image": image})
        check = Check(
            shape, relative_error(grad, want["grad"].numpy()), relative_error(loss, want["loss"].numpy()), attempt
        )
        if best is None or check.grad_error < best.grad_error:
            best = check
        if check.ok:
            return check
    return best


def verify(reference, model_bytes: bytes, shapes, seed: int = 0, draws: int = 8) -> list[Check]:
    from realtime.dream.runtime import onnxruntime, session_options

    ort, options = onnxruntime(), session_options()
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    checks = [compare(reference, session, shape, rng, draws) for shape in shapes]
    bad = [c for c in checks if not c.ok]
    if bad:
        c = bad[0]
        raise VerificationError(
            f"exported model disagrees with TensorFlow at {c.shape}: gradient error {c.grad_error:.2e}, "
            f"loss error {c.loss_error:.2e} (limit {TOLERANCE:g}) over {c.draws} images; no file written"
        )
    return checks


def reference(dream, *defaults):
    """TensorFlow's outputs for an image, the function's other inputs at the model's defaults."""
    import tensorflow as tf

    args = [tf.constant(0.01, tf.float32)] + [tf.constant(d) for d in defaults]
    return lambda image: dream(tf.constant(image), *args)
