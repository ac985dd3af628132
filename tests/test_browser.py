"""The viewer page in a real browser: headless Chromium (Debian's, driven by Playwright) sees frames
arrive and change, and is refused with a wrong token. Skips with the reason where no browser exists."""
import shutil
import time

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_viewer_shows_changing_frames_and_refuses_a_wrong_token(browser, served, tmp_path):
    from PIL import Image

    page = browser.new_page(viewport={"width": 256, "height": 192})
    assert page.goto(f"{served}/?token=wrong").status == 403
    assert page.goto(f"{served}/?token=s3cret").status == 200
    page.wait_for_function("document.getElementById('left').naturalWidth > 0", timeout=60000)
    shots = []
    for i in range(2):
        path = tmp_path / f"shot{i}.png"
        page.screenshot(path=str(path))
        shots.append(np.asarray(Image.open(path).convert("RGB")).astype(int))
        time.sleep(1.0)
    assert shots[0].std() > 5  # a picture, not a blank page
    assert np.abs(shots[0] - shots[1]).mean() > 1  # and it moves
    page.wait_for_function("document.getElementById('status').textContent.includes('fps')", timeout=30000)
    page.click("#stereo")
    assert page.locator("#view img").count() == 2
