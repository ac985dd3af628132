"""`live --watchdog N`: the loop runs in a child process that a small supervisor restarts when no
frame has been shown for N seconds (a hung camera driver, GPU or output) or when it dies.

The child touches a heartbeat file (at most twice a second) once every sink has taken a frame;
the supervisor watches the file's age. Beside the display (the asynchronous mode) frames keep
coming while the dream runs on its own thread, so there the file is stamped no later than
DREAM_GRACE_S after the start of the dream in flight: a dream stuck in onnxruntime (a hung GPU)
stops the heartbeat too, while a merely slow one (the engine fell back to the CPU, more steps
asked live) has a minute more than a frame would. A hung thread cannot be stopped from inside Python, so the
whole process is killed and started again. The first frame is allowed max(N, 60) seconds (models
load, cameras wake up). A loop that ends by itself (frames done, quit key, Ctrl-C) ends the
watchdog too, as does a setup error before any frame (restarting would not fix a bad flag).

Run by systemd as a `Type=notify` service (`deepdream service install`), the loop's heartbeat also
tells systemd READY=1 at the first frame and WATCHDOG=1 with each beat while the loop is alive
(realtime.run.notify), and the supervisor says why it restarts a loop in STATUS=. `quiet_at_most(N)`
is the longest a loop supervised here goes without a beat while this watchdog still does its job:
the service's WatchdogSec, so systemd steps in only where this one could not.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.run.notify import Notifier

if TYPE_CHECKING:
    import numpy as np

    from realtime.run.worker import DreamWorker

log = logging.getLogger("deepdream.watchdog")
FIRST_FRAME_S = 60.0
DREAM_GRACE_S = 60.0  # a dream may run the watchdog's seconds plus this; the first, plus FIRST_FRAME_S more
RESTART_WAIT_MAX_S = 60.0  # a crash loop's longest wait before the next run
SLACK_S = 15.0  # a process start, the beat's half-second spacing, the supervisor's polling


def quiet_at_most(seconds: float) -> float:
    """How long a loop supervised with `--watchdog SECONDS` may go without a beat while the watchdog is still
    at work: a hang noticed after SECONDS, the wait before the next run, and that run's first frame."""
    return seconds + RESTART_WAIT_MAX_S + max(seconds, FIRST_FRAME_S) + SLACK_S


class Heartbeat:
    """A sink that marks the heartbeat file; put it last, so a frame counts once every sink has it."""

    def __init__(self, path: Path, every_s: float = 0.5) -> None:
        self.path, self.every_s, self._last = Path(path), every_s, 0.0
        self._dream: DreamWorker | None = None
        self._systemd, self._ready = Notifier.from_environment(), False

    def watch(self, dream: DreamWorker) -> None:
        """Also hold the beat to a dream worker's (realtime.run.worker.DreamWorker: `updates`,
        `dreaming_since()`): a dream may run DREAM_GRACE_S longer than a frame may take, the first
        (onnxruntime warming up) FIRST_FRAME_S more."""
        self._dream = dream

    def write(self, frame: np.ndarray) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s:
            alive = self._alive(now)
            stamp = time.time() - (now - alive)
            os.utime(self.path, (stamp, stamp))
            self._last = now
            if self._systemd is not None:
                self._tell_systemd(self._systemd, alive >= now)

    def _tell_systemd(self, systemd: Notifier, alive: bool) -> None:
        """READY=1 at the first frame; WATCHDOG=1 only while no dream is stuck, as the file's stamp says."""
        if not self._ready:
            systemd.send("READY=1")
            self._ready = True
        if alive:
            systemd.send("WATCHDOG=1")

    def _alive(self, now: float) -> float:
        """The monotonic time the loop last showed it is alive: now, or when a dream still running began."""
        dream = self._dream
        since = None if dream is None else dream.dreaming_since()
        if dream is None or since is None:
            return now
        return min(now, since + DREAM_GRACE_S + (0.0 if dream.updates else FIRST_FRAME_S))

    def close(self) -> None:
        if self._systemd is not None:
            self._systemd.close()


def supervise(argv: list[str], seconds: float) -> int:
    """Run `deepdream live ARGV` in a child process, restarting it as described above."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop ends the loop too
    systemd = Notifier.from_environment()  # its loops have NOTIFY_SOCKET too: they send READY=1 and WATCHDOG=1
    with tempfile.TemporaryDirectory(prefix="deepdream-watchdog-") as folder:
        beat = Path(folder) / "heartbeat"
        run, wait = 0, 1.0
        while True:
            run += 1
            beat.write_bytes(b"")
            started = time.time()
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "realtime.cli",
                    "live",
                    *argv,
                    "--watchdog",
                    "0",
                    "--heartbeat",
                    str(beat),
                    "--run",
                    str(run),
                ]
            )
            log.info("watchdog: loop running as pid %d (run %d)", child.pid, run)
            try:
                why = _watch(child, beat, seconds, started)
            except KeyboardInterrupt:  # Ctrl-C, or SIGTERM from a service manager: the loop finishes its files
                if child.poll() is None:
                    child.terminate()  # the loop takes SIGTERM as Ctrl-C (SIGINT may be ignored in background)
                _stop(child, 10.0)
                raise
            shown = beat.stat().st_mtime > started
            if why is None:
                if child.returncode in (0, 130) or (child.returncode == 2 and not shown):
                    return child.returncode
                why = f"the loop exited with status {child.returncode}"
            else:
                _stop(child, 0.0)
            wait = 1.0 if time.time() - started > 60 else min(wait * 2, RESTART_WAIT_MAX_S)  # a crash loop backs off
            log.warning("watchdog: %s; restarting in %.0f s (run %d)", why, wait, run + 1)
            if systemd is not None:
                systemd.send(f"STATUS=run {run + 1} in {wait:.0f} s: {why}")
            time.sleep(wait)


def _watch(child: subprocess.Popen[bytes], beat: Path, seconds: float, started: float) -> str | None:
    """Wait until the child exits (None) or stops showing frames (the reason)."""
    while child.poll() is None:
        time.sleep(0.25)
        last = beat.stat().st_mtime
        limit = seconds if last > started else max(seconds, FIRST_FRAME_S)
        if time.time() - last > limit:
            return f"no frame shown (or a dream stuck) for {limit:.0f} s"
    return None


def _stop(child: subprocess.Popen[bytes], grace: float) -> None:
    if child.poll() is None and grace > 0:
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    if child.poll() is None:
        child.kill()
        child.wait()


def numbered(path: Path | None, run: int) -> Path | None:
    """A restarted loop's output: show.mp4 -> show-run2.mp4, so no run overwrites another's."""
    if path is None or run <= 1:
        return path
    return path.with_name(f"{path.stem}-run{run}{path.suffix}")
