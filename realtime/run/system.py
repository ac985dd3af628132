"""What the live loop asks of the operating system: the display before the dream, and no page faults per frame.

A CPU dream wants every core, and the display path must run on time every frame. onnxruntime
splits each operator evenly over its threads, so a dream kept off one core loses much of its rate; a
dream on all of them (onnxruntime's default: one thread per physical core) at a lower priority
(`lowered`, `lower_this_thread`) gives the display a core at once when it wakes and takes it back
in between (the figures: docs/benchmarks/live.md, "The dream below the display's priority"). Linux
sets the niceness per thread and a new thread inherits its creator's, so the engines are built on a
lowered thread (onnxruntime starts its pool then) and the dream worker lowers itself. Where that is
not possible the dream keeps one core fewer (realtime.run.live_mode.beside_display).

`keep_freed_memory`: glibc hands every freed buffer of over ~128 KiB back to the kernel, so each
frame's arrays fault their pages in again and each hand-back interrupts the other cores (TLB
shootdowns) in the middle of the dream's operators; kept, the same memory is reused frame after frame.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

NICENESS = 10  # above the display's: CFS then gives the display most of a contested core (docs/benchmarks/live.md)
KEEP_BELOW = 32 << 20  # glibc's ceiling for M_MMAP_THRESHOLD: a 1080p float frame (25 MB) stays in the heap
TRIM_ABOVE = 256 << 20  # free memory the heap may keep before it is given back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)

T = TypeVar("T")


def can_lower() -> bool:
    """Whether a single thread's priority can be lowered here (Linux: niceness is per thread)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def lower_this_thread() -> bool:
    """Raise the calling thread's niceness by NICENESS (at most 19); whether it now runs lower than before."""
    if not can_lower():
        return False
    tid = threading.get_native_id()
    try:
        was = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, was + NICENESS))
    except OSError:  # a sandbox may forbid it: the dream then simply competes at the same priority
        return False
    return was < 19


def lowered(make: Callable[[bool], T]) -> T:
    """`make(below)` run on a lowered thread, so the threads it starts (onnxruntime's pool) are lowered
    too; `below` says whether lowering took (not at niceness 19 already, not forbidden). Returns what
    `make` returned or raises what it raised. OpenCV's pool is started first, on the caller's thread:
    its threads inherit their starter's priority and must stay at the display's."""
    _start_opencv_threads()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = make(lower_this_thread())
        except BaseException as exc:  # re-raised on the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=run, name="lowered", daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:  # let onnxruntime finish loading rather than exit under it
        thread.join(timeout=30.0)
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def _start_opencv_threads() -> None:
    import cv2
    import numpy as np

    cv2.resize(np.zeros((64, 2048), np.uint8), (2048, 256))  # 8 stripes: every pool thread is started


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed buffers for reuse (see the module docstring: each malloc arena may then
    hold up to TRIM_ABOVE of free memory); whether both settings took (False off glibc)."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        kept = libc.mallopt(_M_MMAP_THRESHOLD, KEEP_BELOW)  # refused on 32-bit glibc (ceiling 16 MiB)
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_ABOVE)) and bool(kept)
    except (OSError, AttributeError):
        return False
