"""onnxruntime as the dream reaches it: one import, one message where it is missing, CUDA found by itself.

The CPU and GPU builds are two wheels (`onnxruntime`, `onnxruntime-gpu`) that install the same
package, so the project depends on neither and its `cpu` and `gpu` extras choose one (scripts/setup
asks `nvidia-smi`). `onnxruntime()` returns the module, or says in one line which to install. Where
it is the GPU build, realtime.dream.cuda_libs loads the CUDA and cuDNN libraries that
`onnxruntime-gpu[cuda,cudnn]` brought from the package registry (wherever pip put them), so they are
found without LD_LIBRARY_PATH; if they are missing after all, the CUDA session says so and the engine goes on on
the CPU (realtime.dream.engine).
"""

from __future__ import annotations

import logging
from functools import cache
from types import ModuleType
from typing import Any, TypeAlias

from realtime.errors import UserError
from realtime.install import pip_install

log = logging.getLogger("deepdream.engine")
CUDA = "CUDAExecutionProvider"
# onnxruntime ships no type information (no stubs, no py.typed marker), so its objects are Any to a type
# checker; these names say which object is meant.
Session: TypeAlias = Any  # an onnxruntime.InferenceSession
SessionOptions: TypeAlias = Any  # an onnxruntime.SessionOptions
OrtValue: TypeAlias = Any  # an onnxruntime.OrtValue, a tensor on a device
IOBinding: TypeAlias = Any  # an onnxruntime.IOBinding


def missing() -> str:
    """Which extra brings onnxruntime, said the way that installs it here (realtime.install)."""
    return (
        f"onnxruntime is not installed: {pip_install('cpu')}, or {pip_install('gpu')} on a machine with an "
        "NVIDIA GPU (scripts/setup chooses for you)"
    )


@cache
def onnxruntime() -> ModuleType:
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError(missing()) from None
    if CUDA in ort.get_available_providers() and hasattr(ort, "preload_dlls"):
        from realtime.dream.cuda_libs import preload

        preload(ort)  # from every nvidia/*/lib folder on sys.path; says in one line what it loaded
    return ort


def build() -> str:
    """Which onnxruntime is installed: 'onnxruntime-gpu 1.31.1', 'onnxruntime 1.32.0' (doctor, reports)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in ("onnxruntime-gpu", "onnxruntime"):
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return f"onnxruntime {onnxruntime().__version__}"


PROVIDERS = {"cuda": CUDA, "cpu": "CPUExecutionProvider"}
PROVIDER_CHOICES = ("auto", *sorted(PROVIDERS))  # what --provider takes (auto, cpu, cuda); auto: CUDA where it runs


def choose_provider(requested: str = "auto") -> str:
    available = onnxruntime().get_available_providers()
    if requested == "auto":
        return CUDA if CUDA in available else PROVIDERS["cpu"]
    name = PROVIDERS.get(requested, requested)
    if name not in available:
        hint = (
            (
                " (this is the CPU build of onnxruntime: scripts/setup --gpu, or "
                f"{pip_install('gpu')} after pip uninstall onnxruntime)"
            )
            if name == CUDA
            else ""
        )
        raise UserError(f"provider {requested!r} is not available{hint}; available: {', '.join(available)}")
    return name


def provider_errors() -> tuple[type[Exception], ...]:
    """onnxruntime's error types for a device or driver failing (not for a bad input: that is our bug)."""
    onnxruntime()
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return tuple(getattr(state, n) for n in ("Fail", "RuntimeException", "EPFail", "EngineError") if hasattr(state, n))


def session_options(threads: int = 0, spin_us: int | None = None, exact: bool = False) -> SessionOptions:
    """SessionOptions: `threads` (0: onnxruntime's own choice), how long idle pool threads spin (None: its
    default), `exact`: deterministic kernels asked for (cuDNN's non-deterministic convolutions avoided)."""
    options = onnxruntime().SessionOptions()
    options.log_severity_level = 3  # our step_size default is an overridable initializer: onnxruntime warns
    options.use_deterministic_compute = exact
    if threads:
        options.intra_op_num_threads = threads
    if spin_us is not None:
        if spin_us < 0:
            raise ValueError(f"spin_us must be 0 or more microseconds, got {spin_us}")
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_us else "0")
        if spin_us:
            options.add_session_config_entry("session.intra_op.spin_duration_us", str(int(spin_us)))
    return options
