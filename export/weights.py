"""Where InceptionV3's weights come from: Keras' ImageNet download, a seeded random init, or a file.

`load_base(spec, seed)` returns the Keras model and a provenance dict for the ONNX metadata: a file's
weights count as trained (someone trained them); only `random` is untrained. Every
failure is a `WeightsError` with one line a user can act on; nothing falls back silently.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from realtime.errors import UserError, reason

NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
NOTOP_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + NOTOP_FILE


class WeightsError(UserError):
    """Weights that cannot be had or do not fit InceptionV3."""


def keras_cache_path() -> Path:
    """Where Keras looks for (and downloads) the ImageNet file."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "models" / NOTOP_FILE


def load_base(spec: str, seed: int = 0):
    """(keras InceptionV3 without its top, provenance) for `imagenet`, `random` or a weights file."""
    import keras

    keras.utils.set_random_seed(seed)
    if spec == "random":
        model = keras.applications.InceptionV3(include_top=False, weights=None)
        return model, {"weights": "random", "seed": str(seed), "trained": "false"}
    if spec == "imagenet":
        return _imagenet(keras), {
            "weights": "imagenet",
            "trained": "true",
            "weights_sha256": _sha256(keras_cache_path()),
        }
    return _from_file(keras, Path(spec)), {
        "weights": "file",
        "weights_file": Path(spec).name,
        "weights_sha256": _sha256(Path(spec)),
        "trained": "true",
    }


def _imagenet(keras):
    try:
        return keras.applications.InceptionV3(include_top=False, weights="imagenet")
    except Exception as exc:  # Keras raises bare Exception for failed downloads
        raise WeightsError(
            f"cannot get the ImageNet weights ({reason(exc, 200)}); place {NOTOP_FILE} (from {NOTOP_URL}) "
            f"at {keras_cache_path()}, or pass --weights FILE (or --weights random for an untrained net)"
        ) from None


def _from_file(keras, path: Path):
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise WeightsError(f"cannot read weights file {path}: {exc.strerror}") from None
    errors = []
    # A file saved from the full classifier carries the top too; both fit the layers we use.
    for include_top in (False, True):
        try:
            return keras.applications.InceptionV3(include_top=include_top, weights=str(path))
        except Exception as exc:  # h5py/keras raise many types for a wrong file
            errors.append(reason(exc, 200))
    raise WeightsError(f"{path} is not an InceptionV3 weights file Keras can load ({errors[0]})")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
