"""Shared fixtures: the test data folder (tests/data), the tiny model (tests/tiny.py: no TensorFlow), one
random-weights InceptionV3 per session (TensorFlow only), and the ways tests run and wait for `deepdream`
processes without timing them (no sleeps as hand-offs).

Two tiers (tests/fast_tier.py): a test that exports a model or runs TensorFlow is marked `export`, one that starts
a child process `child`, Ray `ray`, Chromium `browser`, by its fixtures or by hand; `pytest --fast`
(`scripts/test --fast`) runs the rest."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

TESTDATA = Path(__file__).resolve().parent / "data"  # carried in the repository: see data/README.md
pytest_plugins = ["fast_tier"]  # the two tiers: `--fast`, the marks its fixtures give a test, and the guard


@pytest.fixture(scope="session", autouse=True)
def empty_model_store(tmp_path_factory):
    """Every test (and every process it starts) sees an empty model store of its own, not the user's."""
    os.environ["DEEPDREAM_MODELS"] = str(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A model with the exported models' contract (tests/tiny.py) for the tests where InceptionV3 is not the point,
    named as random_model is (the store's default name), so the one stands in for the other."""
    from tiny import write

    return write(tmp_path_factory.mktemp("tiny") / "inception_mixed3_mixed5.onnx")


@pytest.fixture
def tiny_store(tiny_model, tmp_path, monkeypatch) -> Path:
    """A model store (DEEPDREAM_MODELS, for this test and the processes it starts) holding the tiny model under the
    default name: commands find it without --model."""
    for path in (tiny_model, tiny_model.with_suffix(".json")):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setenv("DEEPDREAM_MODELS", str(tmp_path))
    return tmp_path


def deepdream(
    *args, block=(), env=None, timeout: float = 300, text: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """`deepdream ARGS` in a child process (mark the test `child`): what it said (text, unless `text` is False)
    and its exit code. `block`: modules made unimportable there (an installation without them); `env`: added to
    this one's; the rest goes to subprocess.run (cwd, input)."""
    argv = [str(a) for a in args]
    run = (
        ["-m", "realtime.cli", *argv]
        if not block
        else [
            "-c",
            f"import sys; sys.modules.update(dict.fromkeys({list(block)!r})); from realtime.cli import main; "
            f"sys.exit(main({argv!r}))",
        ]
    )
    return subprocess.run(
        [sys.executable, *run],
        capture_output=True,
        text=text,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def cli(*args) -> subprocess.CompletedProcess:
    """`deepdream ARGS` run here (realtime.cli.main) with what it prints captured, as `deepdream(...)` answers:
    for tests whose point is the exit code and the words, not the process around them (the fast tier)."""
    from realtime.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def base_model():
    pytest.importorskip("tensorflow", reason="export tests need TensorFlow: pip install -e '.[export]'")
    from export.weights import load_base

    model, _ = load_base("random", seed=0)
    return model


@pytest.fixture(scope="session")
def converted(base_model):
    """objective string -> (tf dream function, onnxruntime session), converted once per session.

    As `deepdream export` does it: the session runs the BatchNorm-folded network, the TensorFlow
    function is the original one."""
    import onnxruntime as ort

    from export.convert import to_onnx
    from export.fold import fold_batchnorm
    from export.graph import dream_function
    from export.objectives import parse

    cache = {}
    folded = fold_batchnorm(base_model)

    def get(text: str):
        if text not in cache:
            dream = dream_function(base_model, parse(text))
            model = to_onnx(dream_function(folded, parse(text)), {"format": "test"})
            cache[text] = (dream, ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]))
        return cache[text]

    return get


@pytest.fixture(scope="session")
def random_model(tmp_path_factory) -> Path:
    """A model exported through the CLI from random weights (the real path, verification included)."""
    pytest.importorskip("tensorflow", reason="export needs TensorFlow: pip install -e '.[export]'")
    from realtime.cli import main

    path = tmp_path_factory.mktemp("models") / "inception_mixed3_mixed5.onnx"
    assert main(["export", "--weights", "random", "--layers", "mixed3,mixed5", "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def half_model(tmp_path_factory) -> Path:
    """random_model's float16 twin (the same seed's weights), exported through the CLI with its checks."""
    pytest.importorskip("tensorflow", reason="export needs TensorFlow: pip install -e '.[export]'")
    from realtime.cli import main

    path = tmp_path_factory.mktemp("fp16") / "inception_mixed3_mixed5_fp16.onnx"
    assert main(["export", "--weights", "random", "--precision", "fp16", "-o", str(path)]) == 0
    return path


@pytest.fixture
def closed_port() -> int:
    """A port held (bound, not listening) for the test's length: a connection to it is refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def wait_until(predicate, timeout: float = 120.0, what: str = "the condition"):
    """Poll `predicate` until it returns something true (returned), or fail after a generous `timeout`:
    a wait on a condition, not a guess at how long something takes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.02)


def page_until(page, script: str, timeout: float = 120.0, tell: str | None = None):
    """Evaluate `script` in `page` from here until it is true (returned): Playwright's wait_for_function polls
    inside the page on requestAnimationFrame, which a loaded machine's headless Chromium can starve (CI once
    saw a second open page never re-checked in 60 s); Runtime.evaluate needs neither frames nor timers.
    On a timeout the failure quotes `tell`, evaluated then: what the page was showing instead."""
    try:
        return wait_until(lambda: page.evaluate(script), timeout, what=f"the page to say {script}")
    except pytest.fail.Exception:
        if tell is None:
            raise
        pytest.fail(f"waited {timeout:.0f} s for the page to say {script}; it said {page.evaluate(tell)}")


def spawn(argv, **kwargs) -> subprocess.Popen:
    """A child process as a user's shell starts one: Ctrl-C (SIGINT) stops it, even where this test run
    was started with SIGINT ignored (nohup, a background job, a service), which children inherit."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **kwargs.pop("env", {})}
    return subprocess.Popen(
        [str(a) for a in argv],
        env=env,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


PERTURB = (17, 238, 99)  # heap fills for runs that must give the same bytes: each run gets another one


def run_perturbed(argv, perturb: int, timeout: float = 600, python=("-m", "realtime.cli")) -> str:
    """`deepdream ARGV` (or `python PYTHON ARGV`) in a child process whose heap glibc fills with `perturb`
    (MALLOC_PERTURB_), so that runs meant to give the same bytes hold different garbage: a read of
    uninitialised memory shows instead of passing by luck (two runs on a quiet machine often get the
    same heap). Returns what it said."""
    proc = spawn(
        [sys.executable, *python, *argv],
        env={"MALLOC_PERTURB_": str(perturb)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()  # nothing when it ended; a hung one does not outlive the test
    assert proc.returncode == 0, err
    return err


class Running:
    """`deepdream ARGS` in a child process, its stderr read as it comes: `wait_for(pattern)` waits for a line
    (the match), `interrupt()` sends Ctrl-C and returns (exit code, everything it said)."""

    def __init__(self, *args):
        self.proc = spawn([sys.executable, "-m", "realtime.cli", *args], stderr=subprocess.PIPE)
        self.lines, self._cond = [], threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self.lines.append(None)  # the end
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 180.0) -> re.Match:
        with self._cond:
            found = self._cond.wait_for(lambda: self._find(pattern) or None in self.lines, timeout)
            match = self._find(pattern)
        if not match:
            self.proc.kill()
            pytest.fail(
                f"no line matching {pattern!r} ({'it ended' if found else f'{timeout:.0f} s'}):\n"
                + "".join(line for line in self.lines if line)
            )
        return match

    def _find(self, pattern: str):
        return next((m for m in (re.search(pattern, line) for line in self.lines if line) if m), None)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *failed) -> None:
        """A test that failed before its interrupt() leaves no show behind (it would load the rest of the run)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)

    def interrupt(self, timeout: float = 120.0) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self._reader.join(timeout=30)
        return self.proc.returncode, "".join(line for line in self.lines if line)


@pytest.fixture
def served(tiny_model):
    """`deepdream live --serve` on the synthetic source, token s3cret, on a port the server chose: the base URL."""
    live = Running(
        "live",
        "--source",
        "synthetic",
        "--model",
        tiny_model,
        "--size",
        "128x96",
        "--headless",
        "--serve",
        "127.0.0.1:0",
        "--token",
        "s3cret",
    )
    port = live.wait_for(r"viewer at http://127\.0\.0\.1:(\d+)/").group(1)
    base = f"http://127.0.0.1:{port}"
    live.wait_for(r"dreaming at")  # the loop runs
    yield base
    code, said = live.interrupt()
    assert code == 0 and "Traceback" not in said, said


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
]  # WebGL on the CPU (SwiftShader): newer Chromium asks for it by name


@pytest.fixture
def browser():
    """Debian's Chromium (Playwright cannot download its own browser here), headless, driven by Playwright."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


class ListFrames:
    """A source of the given images, one frame each, in order (with a lockstep reader: each waits to be shown)."""

    def __init__(self, images):
        self.images = images

    def frames(self):
        from realtime.media.sources import Frame

        for i, image in enumerate(self.images):
            yield Frame(image, time.monotonic(), i)

    def close(self):
        pass
