"""`/metrics` (Prometheus) and `/health` of a served hub, scraped over HTTP as a monitor would."""

import json
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from realtime.media import metrics
from realtime.media.serve import FrameHub, start_server
from realtime.run import watchdog

TOKEN = "s3cret"
SCENE = 'a "quoted"\nscene \\ <script>alert(1)</script>'


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hub_at():
    """A hub on its own clock, served in this process with a token: (hub, clock, base URL)."""
    clock = Clock()
    hub = FrameHub(clock=clock)
    server = start_server(hub, "127.0.0.1", 0, TOKEN)
    yield hub, clock, f"http://127.0.0.1:{server.server_address[1]}"
    hub.close()
    server.shutdown()
    server.server_close()


def get(url: str, **headers: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, the token in a header."""
    request = urllib.request.Request(url, headers={"X-Deepdream-Token": TOKEN, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def scrape(base: str) -> dict[str, float]:
    """Every sample as {name: value}, the info metric's labels as {"deepdream_show_info": labels}."""
    code, kind, text = get(f"{base}/metrics")
    assert code == 200 and kind.startswith("text/plain"), (code, kind)
    samples: dict = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name] = sample.labels if sample.name == "deepdream_show_info" else sample.value
    return samples


def status(**figures) -> dict:
    return {"model_name": "tiny.onnx", "model": 1, "scene": "dawn", "provider": "CPUExecutionProvider", **figures}


def test_metrics_follow_the_published_figures(hub_at):
    hub, clock, base = hub_at
    hub.publish(b"frame")
    hub.publish_status(status(fps=12.5, latency_ms=80.0, dream_hz=3.0, dream_age_ms=250.0, ms_per_step=40.0))
    clock.now += 7.0
    got = scrape(base)
    assert got["deepdream_frames_shown_total"] == 1
    assert got["deepdream_shown_frames_per_second"] == 12.5
    assert got["deepdream_dreams_per_second"] == 3.0
    assert got["deepdream_latency_seconds"] == pytest.approx(0.08)
    assert got["deepdream_dream_age_seconds"] == pytest.approx(0.25)
    assert got["deepdream_step_seconds"] == pytest.approx(0.04)
    assert got["deepdream_frame_age_seconds"] == 7.0 and got["deepdream_uptime_seconds"] == 7.0
    assert got["deepdream_show_info"] == {"scene": "dawn", "model": "tiny.onnx", "provider": "CPUExecutionProvider"}
    assert "deepdream_restarts_total" not in got and "deepdream_dropped_frames_total" not in got
    if sys.platform == "linux":  # the process' own figures come from /proc
        assert got["process_resident_memory_bytes"] > 0

    hub.publish(b"frame")
    hub.publish_status(status(fps=9.0, latency_ms=120.0, dream_hz=4.0, scene="night", run=3, dropped_frames=4))
    got = scrape(base)
    assert got["deepdream_frames_shown_total"] == 2 and got["deepdream_frame_age_seconds"] == 0.0
    assert got["deepdream_shown_frames_per_second"] == 9.0
    assert got["deepdream_dreams_per_second"] == 4.0
    assert got["deepdream_latency_seconds"] == pytest.approx(0.12)
    assert got["deepdream_restarts_total"] == 2 and got["deepdream_dropped_frames_total"] == 4
    assert got["deepdream_show_info"]["scene"] == "night"


def test_the_scene_is_escaped_as_the_format_asks_and_reads_back_the_same(hub_at):
    hub, _, base = hub_at
    hub.publish_status(status(scene=SCENE))
    assert scrape(base)["deepdream_show_info"]["scene"] == SCENE
    code, kind, text = get(f"{base}/metrics", Accept="application/openmetrics-text; version=1.0.0")
    assert code == 200 and kind.startswith("application/openmetrics-text")
    show = next(f for f in openmetrics_families(text) if f.name == "deepdream_show")
    assert show.samples[0].labels["scene"] == SCENE


def test_health_is_200_while_frames_come_and_503_when_the_watchdog_would_act(hub_at):
    hub, clock, base = hub_at
    clock.now += metrics.FIRST_FRAME_S - 1
    assert get(f"{base}/health")[0] == 200  # loading: the first frame has a minute, as under the watchdog
    clock.now += 2
    code, kind, body = get(f"{base}/health")
    assert code == 503 and kind == "application/json" and "no frame" in json.loads(body)["why"]
    hub.publish(b"frame")
    code, _, body = get(f"{base}/health")
    assert code == 200 and json.loads(body) == {"ok": True, "frames": 1, "frame_age_s": 0.0}
    clock.now += metrics.STALE_S + 0.5
    code, _, body = get(f"{base}/health")
    assert code == 503 and json.loads(body)["why"] == f"no frame for {metrics.STALE_S + 0.5:.0f} s"
    hub.publish(b"frame")
    assert get(f"{base}/health")[0] == 200
    stuck_ms = (metrics.STALE_S + metrics.DREAM_GRACE_S + 1) * 1e3  # frames come, but the dream shown is old
    hub.publish_status(status(dream_age_ms=stuck_ms))
    code, _, body = get(f"{base}/health")
    assert code == 503 and "a dream is stuck" in json.loads(body)["why"]
    hub.publish_status(status(dream_age_ms=stuck_ms, paused=True))  # held on purpose: the dream shown ages
    assert get(f"{base}/health")[0] == 200
    hub.publish_status(status(dream_age_ms=500.0, paused=False))
    assert get(f"{base}/health")[0] == 200
    hub.close()
    assert get(f"{base}/health")[0] == 503


def test_both_need_the_token(hub_at):
    _, _, base = hub_at
    for path in ("/metrics", "/health", "/metrics?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + path, timeout=30)
        assert err.value.code == 403
    assert get(f"{base}/metrics")[0] == 200
    with urllib.request.urlopen(f"{base}/health?token={TOKEN}", timeout=30) as reply:
        assert reply.status == 200


def test_each_server_has_its_own_registry():
    first, second = FrameHub(), FrameHub()
    first.publish(b"frame")
    second.publish_status(status(fps=5.0))
    samples = []
    for hub in (first, second):
        text = metrics.exposition(metrics.registry(hub), None)[1].decode()
        samples.append({s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples})
    assert [s["deepdream_frames_shown_total"] for s in samples] == [1, 0]
    assert samples[1]["deepdream_dreams_per_second"] == 5.0  # inline: every frame shown is a dream


def test_the_rule_is_the_watchdogs():
    assert (metrics.FIRST_FRAME_S, metrics.DREAM_GRACE_S) == (watchdog.FIRST_FRAME_S, watchdog.DREAM_GRACE_S)


class FakeNvml:
    """NVML as nvidia-ml-py gives it, for two GPUs (no GPU here): what each holds in use, or a failing driver."""

    class NVMLError(Exception):
        pass

    def __init__(self, used: list[int], broken: bool = False) -> None:
        self.used, self.broken, self.open = used, broken, 0

    def nvmlInit(self) -> None:
        if self.broken:
            raise self.NVMLError("Driver Not Loaded")
        self.open += 1

    def nvmlShutdown(self) -> None:
        self.open -= 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.used)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int):
        return type("Memory", (), {"used": self.used[handle]})()


def test_gpu_memory_is_read_from_nvml_only_where_the_show_dreams_with_cuda(hub_at, monkeypatch):
    hub, _, base = hub_at
    nvml = FakeNvml([3 << 30, 512 << 20])
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    hub.publish(b"frame")
    hub.publish_status(status(fps=30.0))
    assert "deepdream_gpu_memory_used_bytes" not in get(f"{base}/metrics")[2]  # on the CPU: no figure
    hub.publish_status(status(fps=30.0, provider="CUDAExecutionProvider"))
    text = get(f"{base}/metrics")[2]
    used = {
        s.labels["gpu"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "deepdream_gpu_memory_used_bytes"
    }
    assert used == {"0": float(3 << 30), "1": float(512 << 20)} and nvml.open == 0  # each init shut down
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], broken=True))
    code, _, text = get(f"{base}/metrics")
    assert code == 200 and "deepdream_gpu_memory_used_bytes" not in text and "deepdream_frames_shown" in text
