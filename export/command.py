"""`deepdream export`: build, convert, verify, and only then write the model and its metadata.

Both outputs' places are checked before any work, and the pair is written so that a failure leaves the
old pair as it was. The default name is the store's (realtime.store) for the objective: its layers,
and its weights where they are not all 1.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.objectives import CHANNELS, Objective
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.install import pip_install
from realtime.store import file_for, name_of

NEEDS = ("tensorflow", "keras", "tf2onnx", "onnx")  # the export extra's packages

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
    mix: bool = False
    precision: str = "fp32"  # or fp16: weights and arithmetic in half precision, inputs and outputs float32

    @property
    def path(self) -> Path:
        return self.output or default_model_path(self.objective, self.mix, self.precision)


def default_model_path(objective: Objective, mix: bool = False, precision: str = "fp32") -> Path:
    """In the model store (realtime.store), named after the layers: mixed3_mixed5, mix_mixed10, mixed3_mixed5_fp16."""
    name = f"mix_{objective.layers[-1]}" if mix else objective_name(objective)
    return file_for(name if precision == "fp32" else f"{name}_{precision}")


def objective_name(objective: Objective) -> str:
    """The layers (mixed3_mixed5), and the weights where one is not 1 (mixed3_mixed5_w1-0.5): a differently
    weighted objective dreams differently, so it must not replace the default model of the same layers."""
    weights = [term.weight for term in objective.terms]
    if all(w == 1.0 for w in weights):
        return objective.slug()
    return f"{objective.slug()}_w{'-'.join(f'{w:g}' for w in weights)}"


def require() -> None:
    """The export extra, imported first: an install without it is told in one line which extra to add."""
    for name in NEEDS:
        try:
            importlib.import_module(name)
        except ImportError:
            raise UserError(
                f"export needs TensorFlow, Keras, tf2onnx and onnx ({name} is missing here): {pip_install('export')}"
            ) from None


def run(settings: ExportSettings, progress=print) -> Path:
    path = settings.path
    if path.suffix != ".onnx":  # the metadata goes to PATH.json: a .json model would be overwritten by it
        raise UserError(f"-o {path}: a model file name ends in .onnx (its metadata goes beside it as .json)")
    require()
    check_writable(path, make_parent=True)  # before minutes of work, not after
    check_writable(path.with_suffix(".json"))  # its metadata's place too: a folder there is refused now
    _keep_trained(settings, path)
    progress(f"loading InceptionV3 ({settings.weights} weights)")
    from export.convert import base_metadata, stamp, to_onnx
    from export.fold import batchnorms, fold_batchnorm
    from export.graph import dream_function, mix_defaults, mix_function, mix_layers
    from export.weights import load_base

    base, provenance = load_base(settings.weights, settings.seed)
    folded = fold_batchnorm(base)  # converted; `base`, unfolded, is what the self-check compares with
    if provenance.get("trained") == "false":
        progress("note: random weights are untrained: dreams show noise-like texture, not eyes and dogs")
    meta = base_metadata(settings.objective, provenance)
    meta["graph"] = f"{batchnorms(base) - batchnorms(folded)} batch norms folded into the convolutions"
    defaults = {}
    if settings.mix:
        try:
            weights = mix_defaults(settings.objective)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        names = mix_layers(settings.objective)
        build = mix_function
        defaults = {
            "layer_weights": weights,
            "guide": np.zeros((1, CHANNELS[names[-1]]), np.float32),
            "guide_weight": np.array(0.0, np.float32),
        }
        meta.update({"mix_layers": ",".join(names), "guide_layer": names[-1], "outputs": "loss,grad,stepped,features"})
    else:
        build = dream_function
    progress(f"converting {settings.objective}{' (mix)' if settings.mix else ''} to ONNX")
    model = to_onnx(build(folded, settings.objective), meta, defaults)
    if settings.verify:
        from export.verify import reference, verify

        progress(f"verifying against TensorFlow at {', '.join('x'.join(map(str, s)) for s in VERIFY_SHAPES)}")
        unfolded = build(base, settings.objective)
        checks = verify(
            reference(unfolded, *defaults.values()), model.SerializeToString(), VERIFY_SHAPES, seed=settings.seed
        )
        meta["verified"] = json.dumps(
            [
                {"shape": list(c.shape), "grad_error": c.grad_error, "loss_error": c.loss_error, "draws": c.draws}
                for c in checks
            ]
        )
        stamp(model, meta)
    if settings.precision == "fp16":
        model = _half(model, meta, settings, progress)
    _write_both(path, model.SerializeToString(), (json.dumps(meta, indent=2) + "\n").encode())
    return path


def _write_both(path: Path, model: bytes, meta: bytes) -> None:
    """The metadata, then the model, each atomically; if the model cannot be written, the old metadata is put
    back, so the pair on disk is always the old one or the new one."""
    sidecar = path.with_suffix(".json")
    old = sidecar.read_bytes() if sidecar.is_file() else None
    write_atomic(sidecar, meta)
    try:
        write_atomic(path, model)
    except BaseException:
        if old is None:
            sidecar.unlink(missing_ok=True)
        else:
            write_atomic(sidecar, old)
        raise


def _half(model, meta: dict, settings: ExportSettings, progress):
    """The float16 model, checked against the float32 one (verified above) on the CPU where it runs there."""
    from export.convert import stamp
    from export.precision import agreement, half

    progress("converting to float16 (inputs and outputs stay float32)")
    fp32 = model.SerializeToString()
    converted = half(model)
    meta["precision"] = "fp16"
    if settings.verify:
        progress("checking the float16 gradient against float32's on the CPU")
        meta["fp16_check"] = agreement(fp32, converted.SerializeToString(), VERIFY_SHAPES, settings.seed)
        if not json.loads(meta["fp16_check"])["checked"]:
            progress(
                "note: onnxruntime's CPU cannot run this float16 model, so it was not checked here: "
                "benchmarks/gpu.py checks it on the GPU"
            )
    stamp(converted, meta)
    return converted


def _keep_trained(settings: ExportSettings, path: Path) -> None:
    """An untrained export must not quietly replace a trained model of the same name in the store."""
    if settings.output is not None or settings.weights != "random" or not path.is_file():
        return
    from realtime.dream.model import ModelError, ModelInfo

    try:
        trained = ModelInfo.load(path).trained
    except ModelError:
        return  # not a model of ours: replacing it is what `replacing existing` says
    if trained:
        raise UserError(
            f"the store's {name_of(path)} has trained weights; an export with "
            f"random weights would replace it: give -o to write it elsewhere"
        )
