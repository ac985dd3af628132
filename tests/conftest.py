"""Shared fixtures: the test data folder (tests/data), and one random-weights InceptionV3 per session (TensorFlow only)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

TESTDATA = Path(__file__).resolve().parent / "data"  # carried in the repository: see data/README.md


@pytest.fixture(scope="session")
def testdata() -> Path:
    return TESTDATA


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


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(random_model, free_port):
    """`deepdream live --serve` on the synthetic source, token s3cret: yields the base URL."""
    import signal
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "live", "--source", "synthetic", "--model",
                             str(random_model), "--size", "128x96", "--headless", "--serve", f"127.0.0.1:{free_port}",
                             "--token", "s3cret"], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{free_port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/status.json?token=s3cret", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    yield base
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
