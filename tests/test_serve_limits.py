"""The HTTP server under hostile and odd input: connections dripping a byte at a time, every stream slot taken,
addresses that cannot be read. None of it locks the token holder out or prints a traceback. A server on a
stand-in show (no model) with small limits, on loopback only; every socket is closed."""

import json
import logging
import select
import socket
import urllib.error
import urllib.request

import pytest
from conftest import wait_until

from realtime.media.serve import FrameHub, start_server
from realtime.media.slots import Limits

TOKEN = "s3cret"
SMALL = Limits(head_s=5.0, heads=8, streams=4, requests=4)  # 5 s: a loaded machine still opens all drips first


@pytest.fixture
def small():
    """A server whose requests must arrive within 5 s, with 4 stream slots: (server, (host, port))."""
    hub = FrameHub()
    hub.control = lambda kind, name, value: (True, {"value": value, "frame": 0})
    server = start_server(hub, "127.0.0.1", 0, TOKEN, SMALL)
    yield server, ("127.0.0.1", server.server_address[1])
    hub.close()
    server.shutdown()
    server.server_close()


def url(address, path: str, token: str | None = TOKEN) -> str:
    return f"http://{address[0]}:{address[1]}{path}" + (f"?token={token}" if token else "")


def command(address) -> int:
    request = urllib.request.Request(
        url(address, "/control/set"),
        data=b'{"name": "zoom", "value": 1.1}',
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status


def refused(address, path: str, token: str | None = TOKEN) -> int:
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(url(address, path, token), timeout=60).close()
    answer.value.close()
    return answer.value.code


def said_nothing(drip: socket.socket) -> bool:
    """A connection the server closed without a word: its end of file. A reset (a byte sent after the close
    was refused) drops whatever was unread with it, so it cannot tell and counts as closed."""
    try:
        return drip.recv(100) == b""
    except ConnectionResetError:
        return True


def test_connections_dripping_a_byte_at_a_time_lock_nobody_out_and_are_closed_at_the_deadline(small):
    """As many connections as there are stream slots, each sending a byte at a time well within any per-read
    timeout: the token holder is answered meanwhile, and the drips are closed once the request's time is up."""
    server, address = small
    drips = [socket.create_connection(address, timeout=60) for _ in range(SMALL.streams)]
    try:
        for drip in drips:
            drip.sendall(b"G")
        wait_until(lambda: server.open_connections() == len(drips), what="the drips being read")
        with urllib.request.urlopen(url(address, "/stream.mjpg"), timeout=60) as stream:
            assert stream.status == 200
        assert command(address) == 200
        dripping = list(drips)
        for _ in range(2000):  # bounded: a byte to each open one a round, until the server has closed them all
            closed, _, _ = select.select(dripping, [], [], 0.05)
            for drip in closed:
                assert said_nothing(drip), "the server answered a half request instead of closing it"
                dripping.remove(drip)
            if not dripping:
                break
            for drip in dripping:
                try:
                    drip.sendall(b"E")
                except (BrokenPipeError, ConnectionResetError):  # closed since the select: the next one sees it
                    pass
        assert not dripping, "a connection sending a byte at a time was never closed"
    finally:
        for drip in drips:
            drip.close()


def test_streams_take_slots_after_the_token_and_commands_never_wait_behind_them(small):
    """Every stream slot held by open control pages: a command and the figures are still answered; a stream more
    is a 503; a request without the token is a 403 and never takes a slot."""
    server, address = small
    for _ in range(SMALL.streams + 2):
        assert refused(address, "/control/events", token=None) == 403
    streams = [urllib.request.urlopen(url(address, "/control/events"), timeout=60) for _ in range(SMALL.streams)]
    try:
        assert all(stream.status == 200 for stream in streams)
        assert refused(address, "/stream.mjpg") == 503
        for _ in range(SMALL.requests + 2):
            assert command(address) == 200
        with urllib.request.urlopen(url(address, "/status.json"), timeout=60) as figures:
            assert "frames" in json.load(figures)
    finally:
        for stream in streams:
            stream.close()


UNREADABLE = [
    b"GET /status.json?token=s3cret HTTP/1.1\r\nHost: [::1\r\n\r\n",
    b"GET /status.json?token=s3cret HTTP/1.1\r\nHost: a]b[\r\n\r\n",
    b"POST /control/set?token=s3cret HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://[::1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"GET http://[::1/status.json?token=s3cret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
]


@pytest.mark.parametrize("token", [TOKEN, None])
@pytest.mark.parametrize("request_bytes", UNREADABLE, ids=["host", "host-brackets", "origin", "url"])
def test_an_unreadable_host_origin_or_url_is_a_400_and_one_line(request_bytes, token, caplog):
    hub = FrameHub()
    server = start_server(hub, "127.0.0.1", 0, token)
    caplog.set_level(logging.DEBUG, logger="deepdream.serve")
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=60) as client:
            client.sendall(request_bytes)
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
        assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer
        wait_until(lambda: server.open_connections() == 0, what="the connection done")
    finally:
        hub.close()
        server.shutdown()
        server.server_close()
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "answered 400" in said[0].getMessage(), caplog.text
    assert not any(r.exc_info for r in caplog.records), caplog.text
