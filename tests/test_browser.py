"""The viewer page in a real browser: headless Chromium (Debian's, driven by Playwright) draws the
stream with WebGL, flat and as a 360-degree sphere that turns the way it is dragged, offers no VR
button without WebXR, and is refused with a wrong token. Skips with the reason where no browser exists."""

import threading

import numpy as np
import pytest
from conftest import page_until

# The canvas read back: the middle row, as RGB, through a 2D canvas (the WebGL one keeps its drawing).
MIDDLE_ROW = """() => { const c = document.getElementById('view'), t = document.createElement('canvas');
  t.width = c.width; t.height = c.height; const x = t.getContext('2d'); x.drawImage(c, 0, 0);
  return Array.from(x.getImageData(0, Math.floor(c.height / 2), c.width, 1).data); }"""
CANVAS = """() => { const c = document.getElementById('view'), t = document.createElement('canvas');
  t.width = c.width; t.height = c.height; const x = t.getContext('2d'); x.drawImage(c, 0, 0);
  return [c.width, c.height, Array.from(x.getImageData(0, 0, c.width, c.height).data)]; }"""


def _canvas(page) -> np.ndarray:
    width, height, data = page.evaluate(CANVAS)
    return np.array(data, dtype=int).reshape(height, width, 4)[..., :3]


def test_flat_view_draws_the_changing_stream_and_refuses_a_wrong_token(browser, served):
    page = browser.new_page(viewport={"width": 256, "height": 192})
    assert page.goto(f"{served}/?token=wrong").status == 403
    assert page.goto(f"{served}/?token=s3cret").status == 200
    page_until(page, "window.viewer && window.viewer.frames > 1")
    first = _canvas(page)
    frames = page.evaluate("window.viewer.frames")
    page_until(page, f"window.viewer.frames > {frames + 5}")  # five new stream frames drawn
    second = _canvas(page)
    assert page.evaluate("window.viewer.mode") == "flat"
    assert first.std() > 5  # a picture, not a blank canvas
    assert np.abs(first - second).mean() > 1  # and it moves
    page_until(page, "document.getElementById('status').textContent.includes('fps')")
    page_until(page, "window.viewer.vrOffered !== null")  # WebXR has answered
    assert page.locator("#vr").is_hidden()  # no WebXR in headless Chromium: no VR button
    page.click("#stereo")
    page_until(page, "window.viewer.stereo")
    frames = page.evaluate("window.viewer.frames")
    page_until(page, f"window.viewer.frames > {frames}")
    both = _canvas(page)
    half = both.shape[1] // 2
    assert both.std() > 5 and np.abs(both[:, :half] - both[:, half : 2 * half]).mean() < 1  # one picture per eye


@pytest.fixture
def served_360():
    """A server (no model needed) streaming an equirectangular test pattern: four 90-degree bands,
    red, green, blue, yellow from longitude -180 to 180, so the view's centre starts between green and blue."""
    import cv2

    from realtime.media.serve import FrameHub, start_server

    hub = FrameHub()
    hub.status.update(projection="equirectangular")
    pattern = np.zeros((128, 256, 3), np.uint8)
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]):
        pattern[:, 64 * i : 64 * (i + 1)] = colour
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(pattern, cv2.COLOR_RGB2BGR))[1].tobytes()
    done = threading.Event()

    def feed():
        while not done.wait(0.1):
            hub.publish(jpeg)

    threading.Thread(target=feed, daemon=True).start()
    server = start_server(hub, "127.0.0.1", 0, "s3cret")  # the port the server takes, held from the start
    yield f"http://127.0.0.1:{server.server_address[1]}"
    done.set()
    hub.close()
    server.shutdown()


def _colour_at(page, x_share: float) -> str:
    """The band colour at a share of the canvas width, on its middle row."""
    row = np.array(page.evaluate(MIDDLE_ROW)).reshape(-1, 4)[:, :3]
    pixel = row[int(x_share * (len(row) - 1))]
    names = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0)}
    return min(names, key=lambda n: np.abs(pixel - names[n]).sum())


def _drag(page, dx: int):
    page.mouse.move(128, 96)
    page.mouse.down()
    page.mouse.move(128 + dx, 96, steps=4)
    page.mouse.up()


def test_360_view_turns_the_way_it_is_dragged(browser, served_360):
    page = browser.new_page(viewport={"width": 256, "height": 192})
    assert page.goto(f"{served_360}/?token=s3cret").status == 200
    page_until(page, "window.viewer && window.viewer.frames > 0")
    assert page.evaluate("window.viewer.mode") == "sphere"
    # Looking at longitude 0: green (-90..0) on the left of the view, blue (0..90) on the right.
    assert (_colour_at(page, 0.25), _colour_at(page, 0.75)) == ("green", "blue")
    _drag(page, 48)  # the scene follows the pointer to the right: the view turns left, into green
    assert [_colour_at(page, s) for s in (0.25, 0.5, 0.75)] == ["green", "green", "blue"]
    _drag(page, -96)  # and back past the start, to the right: into blue
    assert [_colour_at(page, s) for s in (0.25, 0.5, 0.75)] == ["green", "blue", "blue"]
    page_until(page, "window.viewer.vrOffered !== null")
    assert page.locator("#vr").is_hidden()


def test_360_view_follows_a_phone_turned_in_the_hand(browser, served_360):
    """deviceorientation as a phone sends it (held upright: beta 90); the first heading faces the centre."""
    page = browser.new_page(viewport={"width": 256, "height": 192})
    page.goto(f"{served_360}/?token=s3cret")
    page_until(page, "window.viewer && window.viewer.frames > 0")
    turn = "(a) => dispatchEvent(new DeviceOrientationEvent('deviceorientation', {alpha: a, beta: 90, gamma: 0}))"
    page.evaluate(turn, 200)
    assert (_colour_at(page, 0.25), _colour_at(page, 0.75)) == ("green", "blue")
    page.evaluate(turn, 245)  # turned 45 degrees to the left (alpha grows counter-clockwise)
    assert [_colour_at(page, s) for s in (0.25, 0.5, 0.75)] == ["green", "green", "green"]
    page.evaluate(turn, 155)  # 45 degrees to the right of the start
    assert [_colour_at(page, s) for s in (0.25, 0.5, 0.75)] == ["blue", "blue", "blue"]


def test_the_vr_button_shows_only_where_webxr_offers_immersive_vr(browser, served_360):
    for supported in (False, True):
        page = browser.new_page(viewport={"width": 256, "height": 192})
        page.add_init_script(
            f"Object.defineProperty(navigator, 'xr', {{value: {{isSessionSupported: "
            f"async (mode) => mode === 'immersive-vr' && {str(supported).lower()}}}}})"
        )
        page.goto(f"{served_360}/?token=s3cret")
        page_until(page, "window.viewer && window.viewer.vrOffered !== null")  # WebXR has answered
        assert page.locator("#vr").is_visible() == supported
        page.close()
