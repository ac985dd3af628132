"""The fast tier's own footing: the tiny model (tests/tiny.py) keeps the exported models' contract and its `grad` is
the true gradient of its `loss`; the fast tier's guard (tests/fast_tier.py) fails an unmarked test that starts a
process or imports a heavy module."""

import subprocess
import sys
import threading

import fast_tier
import numpy as np
import onnxruntime as ort
import pytest

from realtime.dream.engine import Engine
from realtime.dream.model import ModelInfo


@pytest.fixture(scope="module")
def session(tiny_model):
    return ort.InferenceSession(str(tiny_model), providers=["CPUExecutionProvider"])


def test_the_tiny_model_has_the_contract_of_an_exported_one(tiny_model, session):
    info = ModelInfo.load(tiny_model)
    assert info.fused_step and info.metadata["format"] == "deepdream-live/1" and info.layers == ("tiny",)
    assert [(i.name, i.type) for i in session.get_inputs()] == [("image", "tensor(float)")]
    assert [i.name for i in session.get_overridable_initializers()] == ["step_size"]  # an input with a default
    assert all(isinstance(d, str) or d is None for d in session.get_inputs()[0].shape[:3])  # N, H, W dynamic
    for shape in [(1, 75, 75, 3), (2, 40, 57, 3)]:
        loss, grad, stepped = session.run(["loss", "grad", "stepped"], {"image": np.zeros(shape, np.float32)})
        assert loss.shape == shape[:1] and grad.shape == stepped.shape == shape


def test_grad_is_the_gradient_of_loss_by_central_differences(session):
    rng = np.random.default_rng(3)
    image = rng.uniform(-1, 1, (2, 9, 11, 3))
    grad = session.run(["grad"], {"image": image.astype(np.float32)})[0]
    eps = 1e-2  # the loss is quadratic: a central difference is exact up to float32's rounding
    for n, y, x, c in [(0, 0, 0, 0), (0, 4, 5, 1), (1, 8, 10, 2), (1, 3, 0, 0), (0, 8, 4, 2)]:
        up, down = image.copy(), image.copy()
        up[n, y, x, c] += eps
        down[n, y, x, c] -= eps
        loss_up, loss_down = (session.run(["loss"], {"image": i.astype(np.float32)})[0][n] for i in (up, down))
        assert grad[n, y, x, c] == pytest.approx((loss_up - loss_down) / (2 * eps), rel=2e-2, abs=1e-6)


def test_ascent_raises_the_loss_and_the_fused_step_is_the_classic_one(tiny_model):
    engine = Engine(tiny_model, "cpu")
    image = np.random.default_rng(4).uniform(-0.5, 0.5, (48, 64, 3)).astype(np.float32)
    fused = engine.step(image, 3, 0.05)
    plain = engine.step(image, 3, 0.05, transform=lambda gradient: gradient)  # the same steps, in numpy
    np.testing.assert_allclose(fused, plain, atol=1e-5)
    before, after = (engine.loss_and_gradient(i[None])[0][0] for i in (image, fused))
    assert after > before


@pytest.fixture
def guard(monkeypatch):
    """A guard of this test's own (on top of the session's one under --fast), with `colorsys` counted heavy: a
    module that is surely installed and that nothing here has imported."""
    monkeypatch.setitem(fast_tier.HEAVY_MODULES, "colorsys", "export")
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    guard = fast_tier.Guard()
    guard.install()
    guard.collecting = False  # as pytest_collection_finish sets it
    yield guard
    guard.remove()


def test_the_guard_fails_an_unmarked_process_or_heavy_import_saying_the_mark(guard):
    with pytest.raises(pytest.fail.Exception, match="starts no process.*mark the test `child`"):
        subprocess.run(["true"])
    with pytest.raises(pytest.fail.Exception, match="imports no colorsys: mark the test `export`"):
        import colorsys  # noqa: F401
    assert guard.caught == []  # raised where the test runs: it fails there


def test_the_guard_keeps_a_start_refused_in_a_thread_for_the_test_to_fail_after(guard):
    def swallowing():
        try:
            subprocess.run(["true"])
        except BaseException:  # what a worker thread's catch-all might do
            pass

    thread = threading.Thread(target=swallowing)
    thread.start()
    thread.join()
    assert len(guard.caught) == 1 and "`child`" in guard.caught[0]
    guard.caught.clear()  # this test's own guard: the session's one (under --fast) saw nothing of it
