"""The control page and its HTTP API on a running show: the same checks and hold rules as OSC, the token, no
steering from another origin, every open page kept current; in headless Chromium as a person uses it."""

import csv
import itertools
import json
import urllib.error
import urllib.request

import pytest
from conftest import Running, page_until, wait_until

TOKEN = "s3cret"
PLAYLIST = """crossfade = 0.0
[[scene]]
name = "strokes"
duration = 600
feedback = 0.8
[[scene]]
name = "deep"
duration = 600
feedback = 0.6
zoom = 1.01
"""


@pytest.fixture(scope="module")
def show(tiny_model, tmp_path_factory):
    """`deepdream live --serve` with a playlist, a token and a frame log: (base URL, log path)."""
    folder = tmp_path_factory.mktemp("show")
    (folder / "show.toml").write_text(PLAYLIST)
    log = folder / "frames.csv"
    with Running(
        "live",
        "--source",
        "synthetic",
        "--model",
        tiny_model,
        "--size",
        "96x80",
        "--headless",
        "--serve",
        "127.0.0.1:0",
        "--token",
        TOKEN,
        "--config",
        folder / "show.toml",
        "--log",
        log,
        "--snapshots",
        folder,
    ) as live:
        port = live.wait_for(r"controls at http://127\.0\.0\.1:(\d+)/control").group(1)
        live.wait_for(r"dreaming at")
        yield f"http://127.0.0.1:{port}", log
        code, said = live.interrupt()
    assert code == 0 and "Traceback" not in said, said


def post(base, kind, body, token=TOKEN, origin=None, raw=None, frame=False):
    """(HTTP status, answer); an answer's `frame` (a 200 carries one) is left out unless `frame` asks for it."""
    code, answer = _post(base, kind, body, token, origin, raw)
    if code == 200:
        assert isinstance(answer["frame"], int) and answer["frame"] >= 0, answer
    return (code, answer) if frame else (code, {k: v for k, v in answer.items() if k != "frame"})


def _post(base, kind, body, token, origin, raw):
    headers = {
        "Content-Type": "application/json",
        **({"X-Deepdream-Token": token} if token else {}),
        **({"Origin": origin} if origin else {}),
    }
    request = urllib.request.Request(f"{base}/control/{kind}", data=raw or json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def status(base):
    return json.load(urllib.request.urlopen(f"{base}/status.json?token={TOKEN}", timeout=60))


def answer_names_the_first_frame(base, log, name, value) -> None:
    """A change's answer: the value in force, and the frame log's number of the first frame showing it; the
    figures carry it once they are past that frame."""
    code, answer = post(base, "set", {"name": name, "value": value}, frame=True)
    assert (code, answer["name"], answer["value"]) == (200, name, value)
    now = wait_until(lambda: (s := status(base))[name] == value and s, what="the next shown frame's figures")
    assert now["frame"] > answer["frame"]
    rows = wait_until(
        lambda: [r for r in csv.DictReader(open(log, newline="")) if int(r["frame"]) >= answer["frame"]],
        what="the frame log",
    )
    before = [r for r in csv.DictReader(open(log, newline="")) if int(r["frame"]) == answer["frame"] - 1]
    assert rows[0][name] == str(value) and (answer["frame"] == 0 or before[0][name] != str(value))


@pytest.mark.child
def test_a_change_is_answered_with_the_value_in_force_and_reaches_the_show(show):
    base, log = show
    answer_names_the_first_frame(base, log, "zoom", 1.03)
    assert post(base, "set", {"name": "flow", "value": "off"}) == (200, {"name": "flow", "value": "off"})
    assert post(base, "set", {"name": "flow", "value": "dis"})[0] == 200


@pytest.mark.child
@pytest.mark.parametrize(
    "body, words",
    [
        ({"name": "zoom", "value": 7}, "zoom must be within 0.5..2, got 7"),
        ({"name": "zoom", "value": float("nan")}, "zoom must be a finite number"),
        ({"name": "steps_per_frame", "value": 2.5}, "expects a whole number"),
        ({"name": "volume", "value": 11}, "unknown parameter 'volume'"),
        ({"value": 3}, 'expects {"name": ..., "value": ...}'),
    ],
)
def test_a_bad_value_is_400_with_the_parameters_own_message_and_the_show_unaffected(show, body, words):
    base, _ = show
    before = status(base)
    code, answer = post(base, "set", body)
    assert code == 400 and words in answer["error"]
    after = wait_until(lambda: (s := status(base))["frames"] > before["frames"] and s, what="the show going on")
    assert {k: after[k] for k in ("zoom", "steps_per_frame", "feedback")} == {
        k: before[k] for k in ("zoom", "steps_per_frame", "feedback")
    }


@pytest.mark.child
def test_no_token_a_wrong_one_another_origin_or_not_json_is_refused(show):
    base, _ = show
    assert post(base, "set", {"name": "zoom", "value": 1.5}, token=None)[0] == 403
    assert post(base, "set", {"name": "zoom", "value": 1.5}, token="guess")[0] == 403
    code, answer = post(base, "set", {"name": "zoom", "value": 1.5}, origin="http://evil.example")
    assert code == 403 and "cross-origin" in answer["error"]
    assert post(base, "set", None, raw=b"zoom=1.5")[0] == 400
    shown = status(base)["frames"]
    wait_until(lambda: status(base)["frames"] > shown + 1, what="a frame after the refusals")
    assert status(base)["zoom"] != 1.5
    assert post(base, "set", {"name": "zoom", "value": 1.01}, origin=base)[0] == 200  # the page's own origin


@pytest.mark.child
def test_commands_jump_scenes_and_a_held_value_is_released_by_a_jump(show):
    base, _ = show
    assert post(base, "command", {"name": "scene", "value": "strokes"}) == (200, {"name": "scene", "value": "strokes"})
    assert post(base, "set", {"name": "feedback", "value": 0.3})[1]["value"] == 0.3  # held against the playlist
    wait_until(lambda: status(base)["feedback"] == 0.3, what="the held value shown")
    assert post(base, "command", {"name": "next-scene"}) == (200, {"name": "next-scene", "value": "deep"})
    now = wait_until(lambda: (s := status(base))["scene"] == "deep" and s, what="the jump shown")
    assert now["feedback"] == 0.6  # a jump gives every parameter back
    assert post(base, "command", {"name": "scene", "value": 9})[0] == 400
    code, answer = post(base, "command", {"name": "dance"})
    assert code == 400 and "unknown command 'dance'" in answer["error"]
    assert post(base, "command", {"name": "snapshot"}) == (200, {"name": "snapshot", "value": True})


# What a control page shows, quoted when a wait on one fails: did the events stop, or did it say why?
SHOWN = """JSON.stringify({updates: window.controlPage?.updates, state: document.getElementById('state')?.textContent,
  error: document.getElementById('error')?.textContent, feedback: document.querySelector('input[name=feedback]')?.value,
  scene: window.controlPage?.status.scene})"""


def open_page(browser, base):
    page = browser.new_page(viewport={"width": 390, "height": 900})  # a phone's
    page.goto(f"{base}/control?token={TOKEN}")
    page_until(page, "window.controlPage && window.controlPage.updates > 1")
    return page


def drag(page, name: str, share: float) -> float:
    """Drag a slider's thumb, as a finger does, to `share` of its track; the value the slider then holds."""
    page.locator(f"input[name={name}]").scroll_into_view_if_needed()  # below the picture on a phone
    box = page.locator(f"input[name={name}]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * share, y, steps=8)
    page.mouse.up()
    return float(page.locator(f"input[name={name}]").input_value())


# From the finger's lift on, every position the slider takes (sampled): figures made before the last position
# reached the show must not move it back.
WATCH_AFTER_LIFT = """() => { const input = document.querySelector('input[name=feedback]');
  window.afterLift = []; input.addEventListener('change', () => {
    setInterval(() => window.afterLift.push(input.value), 5); }, {once: true}); }"""


def test_dragging_a_slider_steers_the_show_and_every_open_page_shows_it(browser, show):
    base, log = show
    first, second = open_page(browser, base), open_page(browser, base)
    first.evaluate(WATCH_AFTER_LIFT)
    value = drag(first, "feedback", 0.25)  # feedback slides 0..1 linearly
    assert 0.1 < value < 0.4
    wait_until(lambda: abs(status(base)["feedback"] - value) < 1e-9, what="the dragged value in /status.json")
    wait_until(
        lambda: any(abs(float(r["feedback"]) - value) < 1e-5 for r in csv.DictReader(open(log, newline=""))),
        what="the dragged value in the frame log",
    )
    # the other page follows, through the events
    page_until(
        second, f"Math.abs(Number(document.querySelector('input[name=feedback]').value) - {value}) < 1e-9", tell=SHOWN
    )
    assert set(map(float, first.evaluate("window.afterLift"))) == {value}  # the dragging page stayed put
    first.click("button[data-scene=strokes]")
    wait_until(lambda: status(base)["scene"] == "strokes", what="the scene button's jump")
    page_until(second, "document.querySelector('button[data-scene=strokes]').classList.contains('on')", tell=SHOWN)


@pytest.mark.child
def test_with_sync_too_the_answer_names_the_first_frame_showing_the_change(tiny_model, tmp_path):
    """--sync: the display waits for each dream, on another loop than the module's show; the same answer."""
    log = tmp_path / "frames.csv"
    with Running(
        "live",
        "--source",
        "synthetic",
        "--model",
        tiny_model,
        "--size",
        "96x80",
        "--headless",
        "--sync",
        "--serve",
        "127.0.0.1:0",
        "--token",
        TOKEN,
        "--log",
        log,
    ) as live:
        port = live.wait_for(r"controls at http://127\.0\.0\.1:(\d+)/control").group(1)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: status(base)["frames"] > 1, what="the show's first frames")
        answer_names_the_first_frame(base, log, "zoom", 1.02)
        code, said = live.interrupt()
    assert code == 0 and "Traceback" not in said, said


@pytest.fixture
def scripted():
    """A control page whose show is the test: it publishes the figures, and `answer(value)` answers each request
    (values asked are kept). (base URL, publish(frame, feedback), asked, answer holder)."""
    from realtime.commands.live_controls import param_schema
    from realtime.media.serve import FrameHub, start_server

    hub, asked, answer = FrameHub(), [], {"with": lambda value: (True, {"value": value, "frame": 20})}
    hub.schema = {"params": param_schema(), "commands": [], "scenes": [], "models": [], "sound": []}
    hub.control = lambda kind, name, value: (asked.append(value), answer["with"](value))[1]

    def publish(frame: int, feedback: float) -> None:
        hub.publish_status({"frame": frame, "feedback": feedback, "model_name": "m", "model": 1})

    publish(10, 0.9)
    server = start_server(hub, "127.0.0.1", 0, TOKEN)
    yield f"http://127.0.0.1:{server.server_address[1]}", publish, asked, answer
    server.shutdown()
    hub.close()


def test_figures_made_before_the_answer_do_not_move_a_slider_back(browser, scripted):
    """The show answers a change with the first frame showing it (20 here); figures of an earlier frame, sent
    before the answer and arriving after it, leave the slider where the finger left it; later ones place it."""
    base, publish, asked, answer = scripted
    page = open_page(browser, base)
    slider = "Number(document.querySelector('input[name=feedback]').value)"
    later = itertools.count(21)

    def shows(frame: int, feedback: float) -> float:
        seen = page.evaluate("window.controlPage.updates")
        publish(frame, feedback)
        page_until(page, f"window.controlPage.updates > {seen}")
        return page.evaluate(slider)

    def follows(feedback: float) -> None:  # later figures, until the page has the answer and places the slider
        wait_until(lambda: shows(next(later), feedback) == feedback, what=f"the slider placed at {feedback}")

    value = drag(page, "feedback", 0.25)
    wait_until(lambda: asked and asked[-1] == value, what="the last position asked of the show")
    assert shows(15, 0.9) == value  # from before the change: the old value, not to be shown
    assert shows(20, 0.9) == value  # 20 frames shown, numbers 0..19: still without it
    follows(0.6)  # changed elsewhere after it (another page, OSC): followed
    answer["with"] = lambda value: (False, "feedback refused here")
    refused = drag(page, "feedback", 0.75)
    wait_until(lambda: asked[-1] == refused, what="the refused position asked")
    follows(0.6)  # a refused position goes back to the value in force
    assert page.evaluate("document.getElementById('error').textContent") == "feedback refused here"
    box, asked_before = page.locator("input[name=feedback]").bounding_box(), len(asked)
    point = box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2
    page.mouse.click(*point)  # the thumb jumps there: a position asked
    wait_until(lambda: len(asked) > asked_before, what="the tapped position asked")
    page.mouse.click(*point)  # a tap on the thumb: no change, so no change event
    follows(0.3)  # the finger is off all the same: figures place the slider again
    assert shows(1, 0.7) == 0.7  # a restarted show counts from frame 0: its figures are followed at once


def test_the_page_is_behind_the_token_and_the_viewer_links_to_it(browser, show):
    base, _ = show
    page = browser.new_page()
    assert page.goto(f"{base}/control").status == 403
    assert page.goto(f"{base}/?token={TOKEN}").status == 200
    assert page.get_attribute("#controls", "href") == f"{base}/control?token={TOKEN}"


@pytest.mark.child
def test_json_nested_too_deep_or_an_unknown_method_is_a_json_error_not_a_traceback(show):
    base, _ = show
    code, answer = post(base, "set", None, raw=b"[" * 30000 + b"]" * 30000)
    assert code == 400 and answer["error"].startswith("not JSON")
    request = urllib.request.Request(f"{base}/control/set?token={TOKEN}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 405 and "POST the controls" in json.load(refused.value)["error"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/control/set?token={TOKEN}", timeout=60)
    assert refused.value.code == 405
    assert post(base, "command", {"name": "scene", "value": 2.0})[1] == {"name": "scene", "value": "deep"}  # OSC floats


NAMED_TO_INJECT = '<img src=x onerror="window.injected=1">'


@pytest.fixture
def stand_in():
    """A server on a stand-in show, built per test: `stand_in(token, scenes=[...], models=[...])` -> (base URL,
    publish(figures), asked). Every request is answered with its value."""
    from realtime.commands.live_controls import param_schema
    from realtime.media.serve import FrameHub, start_server

    made = []

    def make(token, scenes=(), models=()):
        hub, asked = FrameHub(), []
        hub.schema = {
            "params": param_schema(list(models), [[] for _ in models]),
            "commands": [],
            "scenes": [{"name": s, "duration": 60} for s in scenes],
            "models": [{"name": m, "mix_layers": []} for m in models],
            "sound": ["bass"],
        }
        hub.control = lambda kind, name, value: (
            asked.append((kind, name, value)),
            (True, {"value": value, "frame": 0}),
        )[1]

        def publish(**figures):
            hub.publish_status({"frame": 1, "model_name": "m", "model": 1, **figures})

        publish()
        server = start_server(hub, "127.0.0.1", 0, token)
        made.append((hub, server))
        return f"http://127.0.0.1:{server.server_address[1]}", publish, asked

    yield make
    for hub, server in made:
        hub.close()
        server.shutdown()
        server.server_close()


def test_names_from_the_show_reach_both_pages_as_text_never_as_html(browser, stand_in):
    """A scene named, or a model file named, like an HTML tag with a script: shown as its letters on the control
    page and the viewer, never made into an element (which would run script where the URL holds the token)."""
    base, publish, _ = stand_in(TOKEN, scenes=[NAMED_TO_INJECT, "calm"], models=[NAMED_TO_INJECT, "other"])
    publish(scene=NAMED_TO_INJECT, model_name=NAMED_TO_INJECT, sound_bass=0.5)
    page = open_page(browser, base)
    page_until(page, "window.controlPage.status.scene !== undefined")
    figures = page.evaluate("document.getElementById('figures').textContent")
    assert figures.count(NAMED_TO_INJECT) == 2  # the scene and the model, as text
    assert (
        page.evaluate("document.querySelector('button[data-scene=\"calm\"]').previousSibling.textContent")
        == NAMED_TO_INJECT
    )
    assert page.locator("#models button").first.text_content() == NAMED_TO_INJECT
    viewer = browser.new_page(viewport={"width": 256, "height": 192})
    viewer.goto(f"{base}/?token={TOKEN}")
    page_until(viewer, "document.getElementById('status').textContent.includes('fps')")
    assert NAMED_TO_INJECT in viewer.evaluate("document.getElementById('status').textContent")
    for shown in (page, viewer):
        assert shown.evaluate("document.querySelectorAll('img:not(#picture)').length") == 0  # the page's picture aside
        assert shown.evaluate("window.injected") is None


def test_a_token_in_any_utf8_steers_from_the_page(browser, stand_in):
    """Fetch refuses a header that is not ISO-8859-1: a token such as this one once failed every button."""
    from urllib.parse import quote

    token = "s\u00e9same-\u263a"
    base, _, asked = stand_in(token)
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{base}/control?token={quote(token)}")
    page_until(page, "window.controlPage && window.controlPage.updates > 0")
    page.click("button[data-command=snapshot]")
    page.click("div[data-name=flow] button[data-value=off]")
    wait_until(lambda: len(asked) == 2, what="both buttons' requests answered")
    assert asked == [("command", "snapshot", None), ("set", "flow", "off")]
    assert page.evaluate("document.getElementById('error').textContent") == ""


def test_release_is_offered_while_anything_is_held_even_without_a_playlist(browser, stand_in):
    """A slider took a parameter from the sound (or MIDI): without scenes there was no way to give it back."""
    base, publish, asked = stand_in(TOKEN)
    page = open_page(browser, base)
    assert page.locator("#release").is_hidden()
    publish(held="feedback zoom")
    page_until(page, "!document.getElementById('release').hidden")
    page.click("#release")
    wait_until(lambda: asked == [("command", "release", None)], what="the release asked of the show")
    publish(held="")
    page_until(page, "document.getElementById('release').hidden")


def test_the_schema_draws_every_steering_row_with_the_loaded_models_bounds():
    """model and mix come from the table like the rest (no code of their own on the page): the models' names
    label the model's values, each model's layers the mix's."""
    from realtime.commands.live_controls import param_schema
    from realtime.dream.params import steering

    rows = {row["name"]: row for row in param_schema(["a", "b"], [["mixed3", "mixed5"], []])}
    assert list(rows) == list(steering())
    assert (rows["model"]["low"], rows["model"]["high"], rows["model"]["names"]) == (1, 2, [["a", "b"]])
    assert rows["mix"]["per_model"] and rows["mix"]["names"] == [["mixed3", "mixed5"], []]
    assert (rows["mix"]["high"], rows["mix"]["choices"]) == (1.0, ["mixed3", "mixed5"])
    assert "bound" not in rows["feedback"]
