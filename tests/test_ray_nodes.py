"""`render --ray` joining a cluster of two Ray nodes on this machine (loopback only) gives the file a one-node
Ray gives, and a cluster that refuses us for want of its token is one line that says so, Ray's own lines kept
out of the terminal."""

import os

import cv2
import pytest

from realtime.cli import main

PLAN = ["--provider", "cpu", "--chunk-frames", "4", "--warmup-frames", "2", "--blend-frames", "1"]


@pytest.fixture(scope="module")
def clip12(testdata, tmp_path_factory):
    """12 frames at 100x76: three chunks, so two nodes share them."""
    from realtime.media.clip import Clip

    path = tmp_path_factory.mktemp("clips") / "clip12.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (100, 76))
    for frame, _ in zip(Clip.open(testdata / "pan_coffee_320x240.mp4").frames(), range(12)):
        writer.write(cv2.cvtColor(cv2.resize(frame, (100, 76), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _render(clip, out, model, *ray):
    return main(["render", str(clip), "-o", str(out), "--model", str(model), *PLAN, "--ray", *ray])


@pytest.mark.slow
def test_two_nodes_give_the_one_node_file(tmp_path, monkeypatch, tiny_model, clip12):
    ray = pytest.importorskip("ray", reason="--ray needs Ray: pip install -e '.[cluster]'")
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    # Every node, and the driver, on 127.0.0.1: Ray's switch for a one-machine cluster (read by the nodes'
    # processes from the environment, by this one's Ray from its constant), else it takes the LAN address.
    monkeypatch.setenv(ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR, "0")
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
    assert not ray.is_initialized()
    try:
        assert _render(clip12, tmp_path / "one.mp4", tiny_model) == 0  # Ray started here: one node
    finally:
        ray.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        assert _render(clip12, tmp_path / "two.mp4", tiny_model, nodes.address) == 0  # joined, as --ray HOST:PORT
        assert sorted(n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]) == ["127.0.0.1"] * 2
    finally:
        ray.shutdown()
        nodes.shutdown()
    assert (tmp_path / "two.mp4").read_bytes() == (tmp_path / "one.mp4").read_bytes()


@pytest.mark.ray
def test_a_cluster_that_wants_a_token_is_one_line_naming_it(tmp_path, monkeypatch, capfd, tiny_model, clip12):
    ray = pytest.importorskip("ray", reason="--ray needs Ray: pip install -e '.[cluster]'")

    def refused(**kwargs):  # what Ray 2.60 does against a head started with RAY_AUTH_MODE=token
        os.write(2, b"[W gcs_client.cc:210] Failed to get cluster ID from GCS server: Unauthenticated\n" * 20)
        try:
            try:
                raise ray.exceptions.AuthenticationError("RPC error: InvalidAuthToken: token is missing or incorrect")
            except ray.exceptions.AuthenticationError as exc:
                raise RuntimeError("Failed to connect to GCS.") from exc
        except RuntimeError as exc:
            raise ConnectionError("Failed to connect to Ray cluster at 127.0.0.1:6390") from exc

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refused)
    assert _render(clip12, tmp_path / "o.mp4", tiny_model, "auto") == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "cannot reach the Ray cluster at auto: Failed to connect to Ray cluster at 127.0.0.1:6390" in err
    assert "token authentication" in err and "RAY_AUTH_MODE=token" in err
    assert not list(tmp_path.iterdir())
