"""The control page's HTTP API, for the page and for any program (a Stream Deck through Companion, a lab's script).

`POST /control/set` with `{"name": "feedback", "value": 0.5}` and `POST /control/command` with
`{"name": "snapshot"}` (optionally a "value": a scene, on/off) hand the change to the show
(`hub.control`, which applies it between frames through the same check and hold rules as OSC) and
answer 200 with the value now in force and the number of the first frame showing it (the frame log's
`frame`; the figures' `frame` is past it once they carry the change), or 400 with the parameter's own
message. A POST whose `Origin` is not the server's own (a page elsewhere, trying to steer the show) is
refused with 403, as is one that is not JSON. `state` is what the page is built from (the schema:
parameters from the table, commands, scenes, models, layers; and the figures); `events` sends the
figures as server-sent events whenever they change, at most EVENTS_HZ a second, to every open page.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

from realtime.errors import reason


class NoAnswer(str):
    """Why `hub.control` gave no answer: the show did not take the request in time (busy, not wrong): 503."""


MAX_BODY = 64 * 1024  # a request's JSON: a name and a value
EVENTS_HZ = 15.0  # figures to each page, at most: the display changes them every frame
KEEPALIVE_S = 15.0  # a comment line this often when nothing changes, so proxies keep the stream open


def state(hub) -> bytes:
    return json.dumps({"schema": hub.schema, "status": json.loads(hub.status_json())}).encode()


def events(handler, hub) -> None:
    """The figures as server-sent events (`data: {...}`), until the client or the show goes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    seen, last = -1, 0.0
    try:
        while not hub.closed:
            wait = last + 1.0 / EVENTS_HZ - time.monotonic()
            if wait > 0:
                hub.wait_closed(wait)  # the rate's limit, not a hand-off: returns at once if the show ends
            item = hub.next_status_after(seen, KEEPALIVE_S)  # then the newest figures, however many came
            last = time.monotonic()
            if item is None:
                handler.wfile.write(b": still here\n\n")
            else:
                seen, body = item
                handler.wfile.write(b"data: " + body + b"\n\n")
            handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        return


def post(handler, hub, kind: str) -> None:
    """`kind` is "set" or "command"; the answer is JSON: the value in force, or the error."""
    if not _same_origin(handler):
        return _answer(handler, 403, {"error": "cross-origin requests may not steer the show"})
    request = _body(handler)
    if isinstance(request, str):
        return _answer(handler, 400, {"error": request})
    if hub.control is None:
        return _answer(handler, 503, {"error": "this show takes no control requests"})
    ok, result = hub.control(kind, request["name"], request.get("value"))
    if ok:
        return _answer(handler, 200, {"name": request["name"], **result})
    return _answer(handler, 503 if isinstance(result, NoAnswer) else 400, {"error": result})


def _same_origin(handler) -> bool:
    """No Origin (curl, a script) or the server's own: a browser says where a page came from."""
    origin = handler.headers.get("Origin")
    if origin is None:
        return True
    return urlparse(origin).netloc.lower() == (handler.headers.get("Host") or "").lower()


def _body(handler) -> dict | str:
    """The request's JSON object with a string `name`, or why not."""
    if (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
        return "send JSON (Content-Type: application/json)"
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        return "a bad Content-Length"
    if not 0 < length <= MAX_BODY:
        return f"a body of 1..{MAX_BODY} bytes, please"
    try:
        request = json.loads(handler.rfile.read(length))  # NaN and Infinity parse: the table refuses them
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: arrays nested 30000 deep
        return f"not JSON: {reason(exc, 120)}"
    if not isinstance(request, dict) or not isinstance(request.get("name"), str):
        return 'expects {"name": ..., "value": ...}'
    return request


def _answer(handler, code: int, body: dict) -> None:
    handler.send_body(code, "application/json", (json.dumps(body) + "\n").encode())
