"""The control page as a show is run from it on a phone (390x844, touch) and a desktop, in headless Chromium: the
picture on the page, each row's range, unit and help as text, log sliders, +/- of one table step, typed values,
held and driven marks, the scene's time left, touch targets of 44 px, the viewer in a new tab. The show is a
stand-in that checks each request by the parameter table and publishes what it holds, as a show does. Then
(no browser) the schema's and the status's fields the page reads."""

import json
import math
import threading
import urllib.request
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import page_until, wait_until

TOKEN = "s3cret"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# Every control on the page that shows, with its height: a finger needs 44 px.
TARGETS = """() => [...document.querySelectorAll('button, input, select, textarea, a')]
  .filter((e) => e.getClientRects().length > 0)
  .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])"""


@pytest.fixture
def stand_in():
    """A server whose show is this fixture: frames and figures published every 0.1 s; a set is checked by the
    table's rule and held, a release gives one name back. (base URL, figures, asked)."""
    import cv2

    from realtime.commands.live_controls import param_schema
    from realtime.dream.params import steering
    from realtime.media.serve import FrameHub, start_server

    hub, asked, lock, done, rows = FrameHub(), [], threading.Lock(), threading.Event(), steering()
    figures = {"frame": 1, "fps": 10.0, "model_name": "m", "model": 1, "steps_per_frame": 1, "step_size": 0.02}
    figures.update(feedback=0.9, zoom=1.0, flow="dis", scene="strokes", scene_left=125.0, held=set())
    figures.update(driven_zoom="midi cc21", driven_feedback="sound bass")
    hub.schema = {"params": param_schema(), "commands": [], "scenes": [{"name": "strokes", "duration": 600}]}
    hub.schema.update(models=[], sound=[])
    picture = np.zeros((96, 128, 3), np.uint8)
    picture[:, 64:] = (40, 200, 90)
    jpeg = cv2.imencode(".jpg", picture)[1].tobytes()

    def publish():
        with lock:
            figures["frame"] += 1
            hub.publish_status({**figures, "held": " ".join(sorted(figures["held"]))})

    def control(kind, name, value):
        asked.append((kind, name, value))
        with lock:
            try:
                if kind == "set":
                    figures[name] = rows[name].check(value)
                    figures["held"].add(name)
                elif name == "release":
                    figures["held"].discard(value)
            except ValueError as exc:
                return False, str(exc)
            return True, {"value": figures.get(name), "frame": figures["frame"] + 1}

    def feed():
        while not done.wait(0.1):
            hub.publish(jpeg)
            publish()

    publish()
    threading.Thread(target=feed, daemon=True).start()
    hub.control = control
    server = start_server(hub, "127.0.0.1", 0, TOKEN)
    yield f"http://127.0.0.1:{server.server_address[1]}", figures, asked
    done.set()
    hub.close()
    server.shutdown()
    server.server_close()


def status(base):
    return json.load(urllib.request.urlopen(f"{base}/status.json?token={TOKEN}", timeout=60))


def open_page(browser, base, size):
    page = browser.new_page(**size)
    page.goto(f"{base}/control?token={TOKEN}")
    page_until(page, "window.controlPage && window.controlPage.updates > 1")
    return page


def row_text(page, name: str) -> str:
    return page.evaluate(f"document.querySelector('input[name={name}]').closest('.row').innerText")


def saved_screenshot(page, path, width: int, height: int) -> None:
    """A screenshot of what shows, as a PNG of the viewport's size with a picture in it (not blank)."""
    import cv2

    page.screenshot(path=str(path))
    image = cv2.imread(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.shape[:2] == (height, width)
    assert image.std() > 5


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_page_shows_the_picture_ranges_help_and_marks_with_44_px_targets(browser, stand_in, tmp_path, size):
    base, _, _ = stand_in
    page = open_page(browser, base, size)
    page_until(page, "document.getElementById('picture').naturalWidth > 0")  # frames of the stream
    assert page.evaluate("window.picture.mode") == "stream"
    width, height = size["viewport"]["width"], size["viewport"]["height"]
    saved_screenshot(page, tmp_path / f"control-{width}x{height}.png", width, height)
    small = [(html, h) for html, h in page.evaluate(TARGETS) if h < 44]
    assert not small
    zoom = row_text(page, "zoom")
    assert "zoom into the feedback per frame" in zoom and "0.5 x to 2 x, log scale" in zoom
    assert "driven by midi cc21" in zoom
    assert "driven by sound bass" in row_text(page, "feedback")
    assert "0 steps to 100 steps" in row_text(page, "steps_per_frame")
    page_until(page, "document.getElementById('scene-left').textContent === 'strokes: 2:05 left'")
    viewer = page.locator("#viewer")
    assert (viewer.get_attribute("target"), viewer.get_attribute("rel")) == ("_blank", "noopener")


@pytest.mark.browser
def test_a_tap_on_a_nudge_moves_one_table_step_and_marks_the_row_held_until_released(browser, stand_in):
    base, _, asked = stand_in
    page = open_page(browser, base, PHONE)
    assert page.locator("button[data-release=feedback]").is_hidden()
    page.tap("button[data-nudge='feedback+']")
    wait_until(lambda: status(base)["feedback"] == 0.91, what="feedback one step (0.01) up")
    page.tap("button[data-nudge='zoom-']")  # a log row's step is a factor
    wait_until(lambda: status(base)["zoom"] == round(1 / 1.005, 6), what="zoom one step (/1.005) down")
    page.tap("button[data-nudge='steps_per_frame-']")
    wait_until(lambda: status(base)["steps_per_frame"] == 0, what="steps one step down")
    page.tap("button[data-nudge='steps_per_frame-']")  # at the low end: kept there, nothing refused
    page_until(page, "!document.querySelector('button[data-release=feedback]').hidden")
    assert "held" in row_text(page, "feedback") and "paused while held" in row_text(page, "feedback")
    page.tap("button[data-release=feedback]")
    wait_until(lambda: ("command", "release", "feedback") in asked, what="feedback's release asked")
    page_until(page, "document.querySelector('button[data-release=feedback]').hidden")
    assert not page.locator("button[data-release=zoom]").is_hidden()  # zoom is still held
    assert page.evaluate("document.getElementById('error').textContent") == ""


@pytest.mark.browser
def test_a_typed_value_is_set_and_a_refused_one_says_why_in_its_row(browser, stand_in):
    base, figures, _ = stand_in
    page = open_page(browser, base, PHONE)
    page.fill("input[name=typed-zoom]", "1.02")
    page.tap("input[name=typed-zoom] + button")
    wait_until(lambda: status(base)["zoom"] == 1.02, what="the typed zoom")
    page.fill("input[name=typed-zoom]", "7")
    page.press("input[name=typed-zoom]", "Enter")
    said = "zoom must be within 0.5..2, got 7"
    page_until(page, f"document.querySelector('input[name=zoom]').closest('.row').innerText.includes('{said}')")
    assert status(base)["zoom"] == 1.02


@pytest.mark.browser
def test_a_log_sliders_middle_is_the_geometric_middle_and_its_ends_exact(browser, stand_in):
    base, _, asked = stand_in
    page = open_page(browser, base, DESKTOP)
    slide = """([name, x]) => { const input = document.querySelector(`input[name=${name}]`);
      input.value = x; input.dispatchEvent(new Event('input')); input.dispatchEvent(new Event('change')); }"""
    # `input` and `change` each send, one after the other (one request in flight per control): wait for both,
    # so that the second cannot arrive during the next slide's wait
    for name, x, expected in [("zoom", 500, 1.0), ("step_size", 500, math.sqrt(1e-5)), ("zoom", 0, 0.5)]:
        mark = len(asked)
        page.evaluate(slide, [name, x])

        def values(name=name, mark=mark):
            return [value for _, asked_name, value in asked[mark:] if asked_name == name]

        wait_until(lambda: len(values()) >= 2, what=f"{name} asked twice")  # noqa: B023 (used at once)
        assert values() == pytest.approx([expected, expected], rel=1e-12)
    page.evaluate(slide, ["step_size", 1000])
    wait_until(lambda: asked[-1][1:] == ("step_size", 1.0), what="the top end exactly")


@pytest.mark.browser
def test_the_picture_falls_back_to_stills_and_the_viewers_buttons_take_a_finger(browser, stand_in):
    base, _, _ = stand_in
    page = open_page(browser, base, PHONE)
    page_until(page, "document.getElementById('picture').naturalWidth > 0")
    page.tap("#picture-mode")
    page_until(page, "document.getElementById('picture').src.includes('frame.jpg')")
    page_until(page, "document.getElementById('picture').complete && document.getElementById('picture').naturalWidth")
    assert page.evaluate("window.picture.mode") == "still"
    viewer = browser.new_page(**PHONE)
    viewer.goto(f"{base}/?token={TOKEN}")
    page_until(viewer, "document.getElementById('status').textContent.includes('fps')")
    heights = {b: viewer.locator(b).bounding_box()["height"] for b in ("#stereo", "#controls")}
    assert min(heights.values()) >= 44, heights


def test_the_schema_gives_each_number_row_its_scale_and_step():
    from realtime.commands.live_controls import param_schema
    from realtime.dream.parameter import Param

    rows = {row["name"]: row for row in param_schema(["a", "b"], [["mixed3", "mixed5"], []])}
    assert (rows["zoom"]["scale"], rows["zoom"]["step"]) == ("log", 1.005)
    assert (rows["step_size"]["scale"], rows["step_size"]["step"]) == ("log", 1.25)
    assert (rows["feedback"]["scale"], rows["feedback"]["step"]) == ("linear", 0.01)
    assert rows["steps_per_frame"]["step"] == 1 and rows["mix"]["step"] == 1  # a whole number, a layer
    assert "step" not in rows["flow"]
    assert Param("x", "float", 1.0, "", 0.0, 2.0).nudge == pytest.approx(0.02)  # a hundredth of the range
    assert Param("x", "float", 1.0, "", 0.01, 100.0, scale="log").nudge ** 100 == pytest.approx(1e4)


def test_the_status_says_what_midi_and_the_sound_drive_and_the_scenes_time_left():
    from realtime.commands.live_controls import wire_page
    from realtime.steer.controls import Controls
    from realtime.steer.midi import parse_mapping
    from realtime.steer.modulate import Row
    from realtime.steer.playlist import Playlist, parse_scenes
    from realtime.steer.show import Show

    midi = SimpleNamespace(mapping=parse_mapping({"cc21": ["zoom", 0.9, 1.1], "note36": "snapshot"}, "t"))
    sound = SimpleNamespace(modulation=SimpleNamespace(rows=[Row("feedback", "bass", 0.5, 0.9)]))
    stream = SimpleNamespace(set=lambda name, value: None)
    stream.figures = lambda: SimpleNamespace(settings=SimpleNamespace(flow="dis"), values={}, model_paths=())
    scenes = parse_scenes([{"duration": 10, "name": "a"}, {"duration": 20, "name": "b"}], "t")
    now = iter([0.0, 4.0, 13.0, 31.5]).__next__  # the start, then three looks at the clock
    show = Show(stream, Playlist(scenes, 0.0, {}), clock=now)
    wire_page(None, show, Controls(midi=midi, sound=sound))  # type: ignore[arg-type]
    assert show.driven == {"zoom": "midi cc21", "feedback": "sound bass"}
    assert [show.scene_left() for _ in range(3)] == [6.0, 17.0, 8.5]
    assert Show(stream).scene_left() is None
    show.held.update({"zoom", "feedback"})
    show.release("zoom")
    assert show.held == {"feedback"}
