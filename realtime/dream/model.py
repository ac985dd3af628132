"""What an exported dream model is, read from the file alone: its tensors, layers and provenance.

`ModelInfo.load(path)` checks that a file is a deepdream-live model (our metadata format, an
`image` input and `loss`/`grad` outputs, a gradient of the image's shape for a small probe image) and
refuses anything else with one line; the engine makes the same check on the session it dreams with
(`from_session`). A model's name is realtime.store's (`name_of`), the same everywhere. Where models are kept, and how a
name finds its file, is realtime.store's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import UserError, reason

if TYPE_CHECKING:
    from realtime.dream.runtime import Session

FORMAT = "deepdream-live/1"
PREFIX = "deepdream."
PROBE = (1, 75, 75, 3)  # the smallest image InceptionV3 takes down to mixed10


class ModelError(UserError):
    pass


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    objective: str
    layers: tuple[str, ...]
    trained: bool
    weights: str
    fused_step: bool
    metadata: dict[str, str]
    mix_layers: tuple[str, ...] = ()  # a mix model: one run-time weight per layer, and a guide

    @property
    def name(self) -> str:
        """The model's one name (realtime.store's): what `models` lists, `--model` takes, logs and pages show."""
        from realtime.store import name_of

        return name_of(self.path)

    @classmethod
    def load(cls, path: Path) -> ModelInfo:
        """A file's contract and provenance, read without dreaming (no graph optimisation: it opens fast)."""
        from realtime.dream.runtime import onnxruntime, session_options
        from realtime.errors import shown
        from realtime.store import is_file

        ort, path = onnxruntime(), Path(path)
        if not is_file(path):
            raise ModelError(f"model not found: {shown(str(path), 200)}")
        options = session_options()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for files that are not ONNX
            raise ModelError(f"cannot load {path} as an ONNX model: {reason(exc)}") from None
        return cls.from_session(path, session)

    @classmethod
    def from_session(cls, path: Path, session: Session) -> ModelInfo:
        meta = {
            k.removeprefix(PREFIX): v
            for k, v in session.get_modelmeta().custom_metadata_map.items()
            if k.startswith(PREFIX)
        }
        if meta.get("format") != FORMAT:
            raise ModelError(
                f"{path} is not a deepdream-live model (no {PREFIX}format={FORMAT} metadata); "
                "make one with `deepdream export`"
            )
        inputs = {i.name: i for i in session.get_inputs()}
        ranks = {o.name: len(o.shape or ()) for o in session.get_outputs()}
        outputs = set(ranks)
        image = inputs.get(meta.get("input", "image"))
        if (
            image is None
            or len(image.shape) != 4
            or image.shape[3] != 3
            or ranks.get("loss") != 1
            or ranks.get("grad") != 4
            or ranks.get("stepped", 4) != 4
        ):
            raise ModelError(f"{path} does not have the image -> loss, grad contract of deepdream-live models")
        _probe(path, session, image.name)
        return cls(
            path=Path(path),
            objective=meta.get("objective", "?"),
            layers=tuple(filter(None, meta.get("layers", "").split(","))),
            # a weights FILE is trained, though earlier exports wrote trained=unknown for it
            trained=meta.get("trained") == "true" or meta.get("weights") == "file",
            weights=meta.get("weights", "?"),
            fused_step="stepped" in outputs,
            metadata=meta,
            mix_layers=tuple(filter(None, meta.get("mix_layers", "").split(","))),
        )

    def describe(self) -> str:
        note = "" if self.trained else " (untrained weights: texture, not eyes and dogs)"
        return f"{self.name}: {self.objective}, {self.weights} weights{note}"


def _probe(path: Path, session: Session, image: str) -> None:
    """One small image through the model: a loss per image, and a gradient of the image's own shape. The graph's
    declared shapes cannot tell (the exporter leaves every dimension unnamed), and a wrong one would fail mid-dream."""
    from realtime.dream.runtime import CUDA, provider_errors

    probe = np.zeros(PROBE, np.float32)
    try:
        loss, grad = session.run(["loss", "grad"], {image: probe})
    except Exception as exc:  # onnxruntime's own types
        if session.get_providers()[0] == CUDA and isinstance(exc, provider_errors()):
            return  # the device failing, not the model: the engine goes on on the CPU at its first step
        raise ModelError(f"{path} does not run as a deepdream-live model: {reason(exc)}") from None
    if np.shape(loss) != PROBE[:1] or np.shape(grad) != PROBE:
        raise ModelError(
            f"{path} gives a gradient of shape {np.shape(grad)} and a loss of shape {np.shape(loss)} "
            f"for an image of shape {PROBE}: a deepdream-live model's gradient has the image's shape"
        )
