"""What the live loop asks of the OS (realtime.run.system): the dream's threads below the display's."""

import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import wait_until

from realtime.dream.engine import Engine, ModelError
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.run.system import NICENESS, can_lower, keep_freed_memory, lowered
from realtime.run.worker import DreamWorker, StreamProxy


def niceness(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


# Lowering shows only where there is room below this process (a runner at niceness 10+ has none).
lowerable = pytest.mark.skipif(
    not can_lower() or niceness(0) > 19 - NICENESS,
    reason="per-thread niceness is Linux's, and needs room below this process",
)


def tasks() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def nice_of_live(tids) -> dict[int, int]:
    """Niceness of those threads still alive (one that ends meanwhile is left out)."""
    out = {}
    for tid in tids:
        try:
            out[tid] = niceness(tid)
        except OSError:
            pass
    return out


@lowerable
def test_threads_started_inside_lowered_run_below_the_caller():
    mine = niceness(threading.get_native_id())
    started = []

    def make(below):
        t = threading.Thread(target=lambda: started.append(niceness(threading.get_native_id())))
        t.start()
        t.join()
        return below, niceness(threading.get_native_id())

    assert lowered(make) == (True, mine + NICENESS) and started == [mine + NICENESS]
    assert niceness(threading.get_native_id()) == mine  # the caller keeps its priority


@lowerable
def test_onnxruntime_threads_of_an_engine_built_lowered_are_lowered(tiny_model):
    lowered(lambda below: None)  # OpenCV's pool, started at the caller's priority, is not what this counts
    mine, before, builders = niceness(threading.get_native_id()), tasks(), []

    def build(below):
        builders.append(threading.get_native_id())  # the lowered thread itself: it ends, but may linger a moment
        return Engine(tiny_model, "cpu", threads=2, spin_us=0)

    engine = lowered(build)
    pool = nice_of_live(tasks() - before - set(builders))  # onnxruntime's pool: a thread beside this one
    assert pool and set(pool.values()) == {mine + NICENESS}
    assert engine.step(np.zeros((75, 75, 3), np.float32), 1, 0.01).shape == (75, 75, 3)  # the lowered pool dreams


@pytest.mark.child
@lowerable
def test_opencvs_threads_keep_the_callers_priority_though_a_lowered_thread_uses_opencv_first():
    # A fresh process: OpenCV starts its pool on first use, and its threads inherit the starter's niceness.
    code = (
        "import os, cv2, numpy as np\n"
        "from realtime.run.system import lowered\n"
        "import threading\n"
        "before, builder = set(os.listdir('/proc/self/task')), []\n"
        "lowered(lambda below: builder.append(str(threading.get_native_id())) or\n"
        "        cv2.resize(np.zeros((64, 2048), np.uint8), (2048, 256)))\n"
        "new = set(os.listdir('/proc/self/task')) - before - set(builder)  # the lowered thread may linger\n"
        "alive = [t for t in new if os.path.exists(f'/proc/self/task/{t}')]\n"
        "print(sorted({os.getpriority(os.PRIO_PROCESS, int(t)) for t in alive}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() in ("[]", f"[{niceness(0)}]")  # none started lowered (a 1-core runner starts none)


def test_what_make_raises_reaches_the_caller():
    with pytest.raises(ModelError, match="model not found"):
        lowered(lambda below: Engine("/nonexistent/model.onnx", "cpu"))


class Idle:
    """An engine stand-in that never dreams (the worker waits for frames)."""

    info = type("Info", (), {"mix_layers": (), "name": "idle", "path": "idle.onnx"})()
    provider, fell_back, last_loss = "CPUExecutionProvider", None, 0.0


@lowerable
def test_the_dream_worker_lowers_its_own_thread():
    stream = DreamStream([Idle()], StreamSettings(size=(96, 80)))
    worker = DreamWorker(stream, StreamProxy(stream))
    mine = niceness(threading.get_native_id())
    try:
        wait_until(lambda: niceness(worker._thread.native_id) != mine, what="the worker lowering itself")
        assert niceness(worker._thread.native_id) == mine + NICENESS
    finally:
        worker.close()


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc" and sys.maxsize > 2**32),
    reason="64-bit glibc",
)
def test_glibc_takes_the_settings_that_keep_freed_memory():
    assert keep_freed_memory() is True


def test_the_dream_beside_the_display_spins_briefly_set_on_its_session_options(tiny_model):
    from realtime.run.live_mode import SPIN_US, beside_display

    assert beside_display(True)["spin_us"] == SPIN_US > 0 and beside_display(False)["spin_us"] == SPIN_US

    def entry(engine, key):
        return engine.options.get_session_config_entry(f"session.intra_op.{key}")

    brief = Engine(tiny_model, "cpu", threads=2, spin_us=SPIN_US)
    assert entry(brief, "allow_spinning") == "1" and entry(brief, "spin_duration_us") == str(SPIN_US)
    assert entry(Engine(tiny_model, "cpu", threads=2, spin_us=0), "allow_spinning") == "0"
    default = Engine(tiny_model, "cpu", threads=2)  # --sync and render: onnxruntime's own choice
    with pytest.raises(RuntimeError, match="does not have configuration"):
        entry(default, "allow_spinning")
    with pytest.raises(ValueError, match="spin_us"):
        Engine(tiny_model, "cpu", spin_us=-5)
