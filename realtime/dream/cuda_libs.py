"""The CUDA and cuDNN libraries of the GPU build: loaded before the first CUDA session, and said in one line.

`onnxruntime-gpu[cuda,cudnn]` brings them as wheels (nvidia/*/lib folders). onnxruntime's own
`preload_dlls()` looks for them beside its package only, which misses them where pip put them
apart (`pip install --target`, a user site): `preload(ort)` asks it there first, then for each
nvidia/*/lib folder on sys.path (its `directory` argument), and reports from /proc/self/maps which
libraries this process really has. A library still missing makes the CUDA session fail to start;
the engine then goes on on the CPU (realtime.dream.engine), and this line says why.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

log = logging.getLogger("deepdream.engine")
LIBRARIES = ("libcudart", "libcublasLt", "libcublas", "libcudnn")  # what a CUDA session cannot start without


def lib_folders(paths: Iterable[str] | None = None) -> list[Path]:
    """Every nvidia/*/lib folder under the entries of `paths` (sys.path by default)."""
    roots = (Path(entry) / "nvidia" for entry in (sys.path if paths is None else paths) if entry)
    return sorted({lib for root in roots if root.is_dir() for lib in root.glob("*/lib") if lib.is_dir()})


def preload(ort: ModuleType, paths: Iterable[str] | None = None) -> str:
    """Load the libraries with `ort.preload_dlls`; return the one line saying which are loaded (also logged:
    a warning where some are missing)."""
    folders = lib_folders(paths)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints each library it could not load: said below
        # Twice over the folders: a library whose dependency lies in a later folder loads the second time.
        for folder in (None, *folders, *folders):
            try:
                ort.preload_dlls() if folder is None else ort.preload_dlls(directory=str(folder))
            except Exception as exc:  # an odd folder or an older onnxruntime: the next folder may still do
                log.debug("preloading the CUDA libraries from %s: %s", folder or "onnxruntime's places", exc)
    found = loaded()
    line = summary(found)
    (log.warning if len(found) < len(LIBRARIES) else log.info)(line)
    return line


def loaded(maps: str | None = None) -> dict[str, str]:
    """{library: path} of LIBRARIES mapped into this process (`maps`: /proc/self/maps' text)."""
    if maps is None:
        path = Path("/proc/self/maps")
        maps = path.read_text() if path.exists() else ""
    found: dict[str, str] = {}
    for line in maps.splitlines():
        file = line.split()[-1] if len(line.split()) >= 6 else ""
        name = Path(file).name.split(".so")[0]
        if name in LIBRARIES:
            found.setdefault(name, file)
    return found


def summary(found: dict[str, str]) -> str:
    """'CUDA libraries: libcudart.so.12 (/x/nvidia/cuda_runtime/lib), ...; not loaded: libcudnn (...)'."""
    names = [f"{Path(found[lib]).name} ({Path(found[lib]).parent})" for lib in LIBRARIES if lib in found]
    missing = [lib for lib in LIBRARIES if lib not in found]
    text = "CUDA libraries: " + (", ".join(names) or "none loaded")
    if missing:
        text += f"; not loaded: {', '.join(missing)} (the gpu extra brings them: onnxruntime-gpu[cuda,cudnn])"
    return text
