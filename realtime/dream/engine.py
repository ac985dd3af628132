"""The dream engine: one object owns an onnxruntime session for an exported model and takes ascent steps.

`Engine(path, provider).step(image, n, step_size, transform)` applies the classic update
n times: g = d loss / d image (through the transforms, if any), image += g / (std(g) + 1e-8) *
step_size, clipped to [-1, 1]. With no transform the update runs inside the model (its `stepped`
output) and the image stays in onnxruntime's memory between steps as OrtValues: on CUDA it
never returns to the host until the last step. Nothing around the engine knows about providers:
if a GPU provider fails at start or mid-run, the engine moves to the CPU, says so, and goes on.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from realtime.errors import UserError
from realtime.dream.model import ModelError, ModelInfo

Gradient = Callable[[np.ndarray], np.ndarray]  # [H, W, 3] image -> [H, W, 3] raw gradient
PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
log = logging.getLogger("deepdream.engine")


def _provider_errors() -> tuple:
    """onnxruntime's error types for a device or driver failing (not for a bad input: that is our bug)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return tuple(getattr(state, n) for n in ("Fail", "RuntimeException", "EPFail", "EngineError") if hasattr(state, n))


def choose_provider(requested: str = "auto") -> str:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if requested == "auto":
        return PROVIDERS["cuda"] if PROVIDERS["cuda"] in available else PROVIDERS["cpu"]
    name = PROVIDERS.get(requested, requested)
    if name not in available:
        hint = " (install onnxruntime-gpu, see README)" if name == PROVIDERS["cuda"] else ""
        raise UserError(f"provider {requested!r} is not available{hint}; available: {', '.join(available)}")
    return name


class Engine:
    def __init__(self, path: str | Path, provider: str = "auto", threads: int = 0, spin_us: int | None = None,
                 exact: bool = False):
        """`exact`: ask for deterministic kernels (cuDNN's non-deterministic convolutions avoided; the CPU's
        are deterministic anyway, and onnxruntime's results do not depend on its thread count), for renders.
        `spin_us`: how long onnxruntime's idle pool threads spin before they sleep (None: its default,
        0: they sleep at once; onnxruntime 1.26 and later, older ones ignore it and spin as they
        like); realtime.commands.live_async.beside_display says why a dream beside the display
        wants a short spin."""
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"model not found: {path} (export one with `deepdream export`)")
        self.path, self.options = path, ort.SessionOptions()
        self.options.log_severity_level = 3  # our step_size default is an overridable initializer: ORT warns
        self.options.use_deterministic_compute = exact
        if threads:
            self.options.intra_op_num_threads = threads
        if spin_us is not None:
            if spin_us < 0:
                raise ValueError(f"spin_us must be 0 or more microseconds, got {spin_us}")
            self.options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_us else "0")
            if spin_us:
                self.options.add_session_config_entry("session.intra_op.spin_duration_us", str(int(spin_us)))
        self.fell_back: str | None = None  # why the engine left its GPU provider, if it did
        self._open(choose_provider(provider))
        self.info = ModelInfo.from_session(path, self.session)
        self.last_loss = float("nan")
        self.extra: dict[str, np.ndarray] = {}  # run-time objective inputs of a mix model

    def _open(self, provider: str) -> None:
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(self.path), self.options, providers=[provider])
        except Exception as exc:  # onnxruntime raises its own types for files that are not ONNX
            raise ModelError(f"cannot load {self.path} as an ONNX model: {str(exc).splitlines()[0][:160]}") from None
        self.provider = self.session.get_providers()[0]
        if self.provider != provider:  # onnxruntime falls back by itself when CUDA cannot start
            self.fell_back = f"{provider} could not start"
            log.warning("%s could not start; running on %s", provider, self.provider)
        self.device = "cuda" if self.provider == PROVIDERS["cuda"] else "cpu"

    def _run(self, work: Callable):
        """Run `work()` (which reads self.session); if the GPU provider fails, reopen on the CPU and redo it."""
        try:
            return work()
        except _provider_errors() as exc:
            if self.provider == PROVIDERS["cpu"]:
                raise
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            log.warning("%s failed (%s): falling back to the CPU", self.provider, reason)
            self.fell_back = f"{self.provider} failed: {reason}"
            self._open(PROVIDERS["cpu"])
            return work()

    def set_inputs(self, **arrays) -> None:
        """Set a mix model's objective inputs (layer_weights, guide, guide_weight) for later steps."""
        if not self.info.mix_layers:
            raise UserError(f"{self.info.name} has fixed layers; export one with --mix to change them at run time")
        for name, value in arrays.items():
            self.extra[name] = np.ascontiguousarray(value, np.float32)

    def mix(self, weights) -> None:
        """One weight per layer of `info.mix_layers` (negative suppresses a layer)."""
        weights = np.asarray(weights, np.float32)
        if weights.shape != (len(self.info.mix_layers),):
            raise UserError(f"expected {len(self.info.mix_layers)} layer weights, got {weights.shape}")
        self.set_inputs(layer_weights=weights)

    def features(self, image: np.ndarray) -> np.ndarray:
        """[H, W, 3] image -> the guide layer's activations [h, w, C] (mix models)."""
        if "features" not in {o.name for o in self.session.get_outputs()}:
            raise UserError(f"{self.info.name} has no guide layer; export one with --mix")
        feeds = {"image": image[None].astype(np.float32), **self.extra}
        return self._run(lambda: self.session.run(["features"], feeds))[0][0]

    def guide(self, guide_image: np.ndarray, weight: float = 1.0, keep_layers: bool = False) -> None:
        """Make the objective the guide's: each position's features pulled toward the guide
        feature they best match (computed once, here)."""
        feats = self.features(guide_image)
        self.set_inputs(guide=feats.reshape(-1, feats.shape[-1]), guide_weight=np.array(weight, np.float32))
        if not keep_layers:
            self.mix(np.zeros(len(self.info.mix_layers)))

    def loss_and_gradient(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[N, H, W, 3] -> (loss [N], raw gradient [N, H, W, 3])."""
        feeds = {"image": np.ascontiguousarray(images, np.float32), **self.extra}
        loss, grad = self._run(lambda: self.session.run(["loss", "grad"], feeds))
        return loss, grad

    def gradient(self, image: np.ndarray) -> np.ndarray:
        """[H, W, 3] -> raw gradient; records the loss."""
        loss, grad = self.loss_and_gradient(image[None])
        self.last_loss = float(loss[0])
        return grad[0]

    def step(self, image: np.ndarray, n: int = 1, step_size: float = 0.01,
             transform: Callable[[Gradient], Gradient] | None = None) -> np.ndarray:
        """n ascent steps on an [H, W, 3] image in [-1, 1]; returns a new array."""
        if n <= 0:
            return image.copy()
        if transform is None and self.info.fused_step:
            return self._run(lambda: self._fused_steps(image, n, step_size))
        grad_fn = transform(self.gradient) if transform else self.gradient
        image = image.astype(np.float32, copy=True)
        for _ in range(n):
            g = grad_fn(image)
            image += g * (step_size / (g.std() + 1e-8))
            np.clip(image, -1.0, 1.0, out=image)
        return image

    def _fused_steps(self, image: np.ndarray, n: int, step_size: float) -> np.ndarray:
        import onnxruntime as ort

        # OrtValues in, OrtValues out: `stepped` is fed back where onnxruntime left it (on the GPU
        # under CUDA), so only the first upload and the last download cross to the host.
        # (IOBinding cannot bind `step_size`: it is an overridable initializer, not a plain input.)
        current = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(image[None], np.float32), self.device, 0)
        feeds = {name: ort.OrtValue.ortvalue_from_numpy(value, self.device, 0) for name, value in self.extra.items()}
        feeds["step_size"] = ort.OrtValue.ortvalue_from_numpy(np.array(step_size, np.float32))
        for _ in range(n):
            feeds["image"] = current
            current, loss = self.session.run_with_ort_values(["stepped", "loss"], feeds)
            self.last_loss = float(loss.numpy()[0])
        return current.numpy()[0]
