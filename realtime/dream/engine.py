"""The dream engine: one object owns an onnxruntime session for an exported model and takes ascent steps.

`Engine(path, provider).step(image, n, step_size, transform)` applies the classic update
n times: g = d loss / d image (through the transforms, if any), image += g / (std(g) + 1e-8) *
step_size, clipped to [-1, 1]. With no transform the update runs inside the model (its `stepped`
output) with every tensor bound in place (realtime.dream.binding): the image crosses to the device
once a call, and on CUDA each step is a captured CUDA graph, replayed. Nothing around the engine
knows about providers: if a GPU provider fails at start or mid-run, the engine moves to the CPU,
says so, and goes on; if CUDA graphs are refused, it says so once and runs plainly on CUDA.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from realtime.dream.binding import BoundRunFailed, BoundSteps, GraphRefused
from realtime.dream.model import ModelError, ModelInfo
from realtime.dream.runtime import (
    CUDA,
    PROVIDERS,
    Session,
    choose_provider,
    onnxruntime,
    provider_errors,
    session_options,
)
from realtime.dream.transforms import Transform
from realtime.errors import UserError, reason, shown
from realtime.store import is_file

T = TypeVar("T")  # what a run gives back
log = logging.getLogger("deepdream.engine")


def cuda_options(exact: bool = False, graphs: bool = False) -> dict[str, str]:
    """The CUDA provider's options. `exact`: no TF32 (its 10-bit mantissa in convolutions and GEMMs, on by
    default) and cuDNN's heuristic algorithm choice instead of its timed search, which may pick another
    algorithm, with other roundings, each run. `graphs`: capture the steps as CUDA graphs."""
    options = {"use_tf32": "0", "cudnn_conv_algo_search": "HEURISTIC"} if exact else {}
    return {**options, "enable_cuda_graph": "1"} if graphs else options


class Engine:
    def __init__(
        self,
        path: str | Path,
        provider: str = "auto",
        threads: int = 0,
        spin_us: int | None = None,
        exact: bool = False,
        graphs: bool = True,
    ) -> None:
        """`exact`: deterministic kernels, for renders (realtime.dream.runtime.session_options; on CUDA also
        no TF32 and no timed algorithm search: cuda_options). `spin_us`: how
        long onnxruntime's idle pool threads spin before they sleep (None: its default, 0: they sleep at
        once; onnxruntime 1.26 and later); realtime.run.live_mode.beside_display says why a dream
        beside the display wants a short spin. `graphs`: on CUDA, capture the steps as CUDA graphs."""
        path = Path(path)
        if not is_file(path):  # a name too long for the system is no file either: one line, not a traceback
            raise ModelError(f"model not found: {shown(str(path), 200)} (export one with `deepdream export`)")
        self.path, self.options, self.graphs = path, session_options(threads, spin_us, exact), graphs
        self.exact = exact
        self.fell_back: str | None = None  # why the engine left its GPU provider, if it did
        self.graphs_refused: str | None = None  # why CUDA graphs were refused, if they were
        self.extra: dict[str, np.ndarray] = {}  # run-time objective inputs of a mix model
        self._step_size: float | None = None
        self._open(choose_provider(provider))
        self.info = ModelInfo.from_session(path, self.session)
        self.last_loss = float("nan")

    def _open(self, provider: str) -> None:
        """The session every run uses, and for the fused steps on CUDA a second one that captures them as CUDA
        graphs: onnxruntime would replay a graph session's captured graph for any of its runs, so the plain
        runs (guides, transforms) must not share it."""
        self.session = self._session(provider)
        self.provider = self.session.get_providers()[0]
        if self.provider != provider:  # onnxruntime falls back by itself when CUDA cannot start
            self.fell_back = f"{provider} could not start"
            log.warning("%s could not start; running on %s", provider, self.provider)
        self.device = "cuda" if self.provider == CUDA else "cpu"
        steps = self.session
        if self._wants_graphs():
            try:
                steps = self._session(self.provider, graphs=True)
            except ModelError as exc:  # CUDA graphs need every node on CUDA
                self._refuse_graphs(exc.__cause__ or exc)
        self.stepper = BoundSteps(steps, self.device, graphs=steps is not self.session)
        self._step_size = None
        for name, value in self.extra.items():
            self.stepper.set_input(name, value)

    def _wants_graphs(self) -> bool:
        return self.graphs and self.provider == CUDA

    def _session(self, provider: str, graphs: bool = False) -> Session:
        options = cuda_options(self.exact, graphs) if provider == CUDA else {}
        try:
            return onnxruntime().InferenceSession(
                str(self.path), self.options, providers=[(provider, options) if options else provider]
            )
        except Exception as exc:  # onnxruntime raises its own types for files that are not ONNX
            raise ModelError(f"cannot load {self.path} as an ONNX model: {reason(exc)}") from exc

    def _refuse_graphs(self, exc: BaseException) -> None:
        log.warning("CUDA graphs refused (%s): steps run without them", reason(exc))
        self.graphs, self.graphs_refused = False, reason(exc)

    def _run(self, work: Callable[[], T]) -> T:
        """Run `work()` (which reads self.session); if the GPU provider fails, reopen on the CPU and redo it."""
        try:
            return work()
        except provider_errors() + (BoundRunFailed,) as exc:
            if self.provider == PROVIDERS["cpu"]:
                raise
            log.warning("%s failed (%s): falling back to the CPU", self.provider, reason(exc))
            self.fell_back = f"{self.provider} failed: {reason(exc)}"
            self._open(PROVIDERS["cpu"])
            return work()

    def set_inputs(self, **arrays: ArrayLike) -> None:
        """Set a mix model's objective inputs (layer_weights, guide, guide_weight) for later steps."""
        if not self.info.mix_layers:
            raise UserError(f"{self.info.name} has fixed layers; export one with --mix to change them at run time")
        for name, value in arrays.items():
            self.extra[name] = np.ascontiguousarray(value, np.float32)
            self.stepper.set_input(name, self.extra[name])

    def mix(self, weights: ArrayLike) -> None:
        """One weight per layer of `info.mix_layers` (negative suppresses a layer)."""
        array = np.asarray(weights, np.float32)
        if array.shape != (len(self.info.mix_layers),):
            raise UserError(f"expected {len(self.info.mix_layers)} layer weights, got {array.shape}")
        self.set_inputs(layer_weights=array)

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

    def step(
        self, image: np.ndarray, n: int = 1, step_size: float = 0.01, transform: Transform | None = None
    ) -> np.ndarray:
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
        if step_size != self._step_size:  # copied into the bound buffer: captured graphs read the new value
            self.stepper.set_input("step_size", np.array(step_size, np.float32))
            self._step_size = step_size
        try:
            out = self.stepper.steps(image, n)
        except GraphRefused as exc:
            self._refuse_graphs(exc)
            self._open(self.provider)
            return self._fused_steps(image, n, step_size)
        self.last_loss = self.stepper.last_loss
        return out
