"""docs/steering.md's curl examples, run as printed (only its port and token put in) against a live show, each
answered 2xx; and, on a show without a playlist, what a release gives back, as the figures tell it."""

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import Running, wait_until

DOC = Path(__file__).resolve().parents[1] / "docs" / "steering.md"
TOKEN = "s3cret"
PLAYLIST = """[[scene]]
name = "strokes"
duration = 600
[[scene]]
name = "eyes"
duration = 600
zoom = 1.01
"""


def curl_examples() -> list[str]:
    """Every curl command in the doc's code blocks, with its continued lines (a backslash ending a line)."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", DOC.read_text(), re.S | re.M)
    return re.findall(r"^curl .*?(?<!\\)$", "\n".join(blocks), re.S | re.M)


def test_the_doc_has_curl_examples_and_every_one_names_a_host():
    examples = curl_examples()
    assert len(examples) >= 2
    for example in examples:  # `...` once stood for the headers, which curl takes for a host
        assert "..." not in example and example.count("http://127.0.0.1:8080/") == 1, example


@pytest.fixture
def live_show(tiny_model, tmp_path):
    """`deepdream live --serve` with a playlist (scenes strokes, eyes) and a token: its base URL."""
    (tmp_path / "show.toml").write_text(PLAYLIST)
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
        tmp_path / "show.toml",
        "--snapshots",
        tmp_path,
    ) as live:
        port = live.wait_for(r"controls at http://127\.0\.0\.1:(\d+)/control").group(1)
        live.wait_for(r"dreaming at")
        yield port
        code, said = live.interrupt()
    assert code == 0 and "Traceback" not in said, said


@pytest.mark.child
def test_every_curl_example_in_the_steering_doc_is_answered_2xx(live_show, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    home = tmp_path / "curl"  # curl's own config, not the user's: adds the status code after the answer
    home.mkdir()
    (home / ".curlrc").write_text('write-out = "\\n%{http_code}"\n')
    for example in curl_examples():
        command = example.replace("8080", live_show).replace("SECRET", TOKEN)
        done = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "CURL_HOME": str(home), "HOME": str(home)},
        )
        answer, _, code = done.stdout.rpartition("\n")
        assert done.returncode == 0 and code.startswith("2"), (example, done.stdout, done.stderr)
        assert "error" not in json.loads(answer), answer


def figures(base: str) -> dict:
    return json.load(urllib.request.urlopen(f"{base}/status.json?token={TOKEN}", timeout=60))


def post(base: str, kind: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{base}/control/{kind}?token={TOKEN}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status


def test_without_a_playlist_the_figures_name_what_is_held_and_release_gives_it_back(served):
    assert post(served, "set", {"name": "step-size", "value": 0.03}) == 200
    assert post(served, "set", {"name": "feedback", "value": 0.4}) == 200
    wait_until(lambda: figures(served)["held"] == "feedback step_size", what="the held parameters in the figures")
    assert post(served, "command", {"name": "release"}) == 200
    wait_until(lambda: figures(served)["held"] == "", what="nothing held after the release")


def _listed() -> str:
    """The doc's parameter list and status keys, between its markers."""
    return re.search(r"<!-- steering: [^>]*-->\n(.*?)<!-- end steering -->", DOC.read_text(), re.S).group(1)


def test_the_doc_lists_exactly_the_parameters_and_status_keys_the_code_takes():
    from realtime.flags import steering_markdown

    assert _listed() == steering_markdown() + "\n", "run python -m realtime.flags --steering and paste it"


def test_a_row_added_to_the_table_and_not_to_the_doc_is_caught(monkeypatch):
    from realtime.dream import params
    from realtime.flags import steering_markdown

    monkeypatch.setattr(
        params, "SHOW", params.SHOW + (params.Param("tint", "float", 0.0, "a new one", 0.0, 1.0, live=True),)
    )
    assert "`tint`" in steering_markdown() and _listed() != steering_markdown() + "\n"
