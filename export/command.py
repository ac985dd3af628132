"""`deepdream export`: build, convert, verify, and only then write the model and its metadata."""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from export.objectives import Objective
from realtime.errors import UserError
from realtime.files import write_atomic

# (N, H, W) of the self-check: odd, non-square, and a batch; small enough to rarely land on a
# max-pool near-tie (see export.verify) and to keep the export at a few seconds.
VERIFY_SHAPES = ((1, 97, 130), (2, 75, 75))


@dataclass(frozen=True)
class ExportSettings:
    objective: Objective
    weights: str = "random"
    seed: int = 0
    output: Path | None = None
    verify: bool = True

    @property
    def path(self) -> Path:
        return self.output or default_model_path(self.objective)


def default_model_path(objective: Objective) -> Path:
    return Path("models") / f"inception_{objective.slug()}.onnx"


def run(settings: ExportSettings, progress=print) -> Path:
    path = settings.path
    _check_writable(path)
    progress(f"loading InceptionV3 ({settings.weights} weights)")
    from export.convert import base_metadata, stamp, to_onnx
    from export.graph import dream_function
    from export.weights import load_base

    base, provenance = load_base(settings.weights, settings.seed)
    if provenance.get("trained") == "false":
        progress("note: random weights are untrained: dreams show noise-like texture, not eyes and dogs")
    dream = dream_function(base, settings.objective)
    progress(f"converting {settings.objective} to ONNX")
    meta = base_metadata(settings.objective, provenance)
    model = to_onnx(dream, meta)
    if settings.verify:
        from export.verify import verify

        progress(f"verifying against TensorFlow at {', '.join('x'.join(map(str, s)) for s in VERIFY_SHAPES)}")
        checks = verify(dream, model.SerializeToString(), VERIFY_SHAPES, seed=settings.seed)
        meta["verified"] = json.dumps([{"shape": list(c.shape), "grad_error": c.grad_error,
                                        "loss_error": c.loss_error, "draws": c.draws} for c in checks])
        stamp(model, meta)
    write_atomic(path, model.SerializeToString())
    write_atomic(path.with_suffix(".json"), (json.dumps(meta, indent=2) + "\n").encode())
    return path


def _check_writable(path: Path) -> None:
    """Fail before minutes of work, not after, if the model cannot be written."""
    if path.is_dir():
        raise UserError(f"output {path} is a directory; give a file name such as {path / 'model.onnx'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".probe-"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
