"""Fused ascent steps with every tensor bound in place: the image crosses to the device once a call.

`BoundSteps(session, device, graphs)` keeps, per image size, two image buffers on the session's
device and two IOBindings between them (step k reads one and writes `stepped` into the other, step
k+1 the other way round), the loss, `step_size` and a mix model's objective inputs bound as device
buffers too, so N steps are N runs with no host copy between them: the image goes up once and
comes back once. On CUDA with `graphs` each (size, direction) is captured as a CUDA graph the first
time (the run option `gpu_graph_id`; onnxruntime's `enable_cuda_graph`) and replayed after: the
addresses never change, and a new step size or layer mix is copied into the same buffers. A
refused capture raises `GraphRefused`; the engine then reopens the session without graphs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from realtime.dream.runtime import IOBinding, OrtValue, Session, onnxruntime
from realtime.errors import reason


class GraphRefused(RuntimeError):
    """onnxruntime could not capture or replay a CUDA graph for this model (the reason is the message)."""


class BoundRunFailed(RuntimeError):
    """A bound run failed: onnxruntime's run_with_iobinding raises a plain RuntimeError where session.run
    raises its provider errors, so the engine catches this as one of those (and falls back to the CPU)."""


@dataclass
class _Buffers:
    images: tuple[OrtValue, OrtValue]  # [1, H, W, 3] each: the steps go back and forth between them
    loss: OrtValue
    bindings: tuple[IOBinding, IOBinding]  # bindings[k]: images[k] -> images[1 - k]
    graph_ids: tuple[int, int]  # one per direction; -1: no graph


class BoundSteps:
    def __init__(self, session: Session, device: str, graphs: bool = False) -> None:
        self.session, self.device, self.graphs = session, device, graphs
        self._sizes: dict[tuple[int, int], _Buffers] = {}
        self._inputs: dict[str, OrtValue] = {}  # name -> OrtValue on the device (step_size, mix inputs)
        self._ids = itertools.count(1)  # CUDA graph ids: each captured once, never reused
        self.last_loss = float("nan")

    def set_input(self, name: str, value: np.ndarray) -> None:
        """An objective input (or step_size) for the next runs: copied into its buffer where the shape is
        the same (captured graphs stay valid), else a new buffer (and new graphs)."""
        ort = onnxruntime()

        value = np.ascontiguousarray(value, np.float32)
        held = self._inputs.get(name)
        if held is not None and tuple(held.shape()) == value.shape:
            held.update_inplace(value)
            return
        self._inputs[name] = ort.OrtValue.ortvalue_from_numpy(value, self.device, 0)
        self._sizes.clear()  # the bindings held the old buffer

    def steps(self, image: np.ndarray, n: int) -> np.ndarray:
        """n steps of an [H, W, 3] float32 image; returns the result (the loss of the last step in last_loss)."""
        buffers = self._buffers(image.shape[:2])
        buffers.images[0].update_inplace(np.ascontiguousarray(image[None], np.float32))
        for k in range(n):
            self._run(buffers, k % 2)
        self.last_loss = float(buffers.loss.numpy()[0])
        return self._read(buffers.images[n % 2])

    def _read(self, value: OrtValue) -> np.ndarray:
        """The [H, W, 3] result, the caller's own: on the CPU numpy() is a view of the bound buffer (which the
        next call overwrites), so it is copied; from CUDA numpy() is already a fresh host copy."""
        out = value.numpy()[0]
        return out.copy() if self.device == "cpu" else out

    def _run(self, buffers: _Buffers, direction: int) -> None:
        ort = onnxruntime()

        options = ort.RunOptions()
        graph = buffers.graph_ids[direction]
        if graph != -1:
            options.add_run_config_entry("gpu_graph_id", str(graph))
        try:
            self.session.run_with_iobinding(buffers.bindings[direction], options)
        except Exception as exc:  # run_with_iobinding's plain RuntimeError, or onnxruntime's own types
            if graph != -1:  # a capture refused mid-run
                raise GraphRefused(reason(exc, 200)) from None
            if type(exc) is RuntimeError:
                raise BoundRunFailed(reason(exc, 200)) from exc
            raise

    def _buffers(self, size: tuple[int, int]) -> _Buffers:
        ort = onnxruntime()

        if size not in self._sizes:
            shape = (1, *size, 3)
            images = tuple(
                ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, self.device, 0) for _ in range(2)
            )
            loss = ort.OrtValue.ortvalue_from_shape_and_type((1,), np.float32, self.device, 0)
            bindings = tuple(self._bind(images[k], images[1 - k], loss) for k in range(2))
            ids = (next(self._ids), next(self._ids)) if self.graphs else (-1, -1)
            self._sizes[size] = _Buffers(images, loss, bindings, ids)
        return self._sizes[size]

    def _bind(self, image: OrtValue, stepped: OrtValue, loss: OrtValue) -> IOBinding:
        binding = self.session.io_binding()
        binding.bind_ortvalue_input("image", image)
        for name, value in self._inputs.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_ortvalue_output("stepped", stepped)
        binding.bind_ortvalue_output("loss", loss)
        return binding
