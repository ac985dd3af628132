"""`deepdream render --ray` on a local Ray with 2 CPUs: the input's frames, the same file whatever
ran it (one worker or two, a worker killed), resume, and Ray missing or unreachable in one line.

Renders compared byte for byte run their drivers in child processes with different heaps (conftest's
run_perturbed), joined to this module's Ray: the driver is where the file is encoded (tasks return lossless
frames), so its heap is the one that matters; the workers are Ray's, started with this process's environment."""

import os
import re
import signal
import sys
import threading
from pathlib import Path

import cv2
import pytest
from conftest import PERTURB, run_perturbed, wait_until

from realtime.cli import main
from realtime.commands import cluster
from realtime.media.clip import Clip

PLAN = ["--chunk-frames", "6", "--warmup-frames", "3", "--blend-frames", "2"]
ONE_WORKER = (  # the reference: one chunk in flight at a time, so one worker dreams them all, in order
    "import sys; from pathlib import Path; from realtime.commands import cluster; "
    "from realtime.commands.render import RenderJob; from realtime.dream.chunks import ChunkPlan; "
    "from realtime.dream.settings import StreamSettings; clip, out, model, address = sys.argv[1:]; "
    "cluster.render_on_ray(RenderJob(input=Path(clip), output=Path(out), model=Path(model)), "
    "lambda s: StreamSettings(size=s), cluster.ClusterOptions(address=address, in_flight=1, "
    "plan=ChunkPlan(chunk_frames=6, warmup_frames=3, blend_frames=2)), 'cpu')"
)
COUNTING = (  # deepdream, saying each chunk it submits
    "import sys; from realtime.cli import main; from realtime.commands import cluster; "
    "submit = cluster._Run._submit; cluster._Run._submit = lambda run, chunk, frames: "
    "print('submitted chunk', chunk.index, file=sys.stderr) or submit(run, chunk, frames); sys.exit(main(sys.argv[1:]))"
)


def _frames(path):
    clip = Clip.open(path)
    return list(clip.frames()), clip.fps


@pytest.mark.ray
def test_ray_missing_or_unreachable_is_one_line(tmp_path, monkeypatch, capsys, tiny_model, testdata, closed_port):
    clip = testdata / "pan_coffee_320x240.mp4"
    for address, expected in (
        (None, "pip install -e '.[cluster]'"),
        (f"127.0.0.1:{closed_port}", "cannot reach"),
        ("127.0.0.1:abc", "the port must be a number 1..65535"),
        (f"[::1]:{closed_port}", "cannot reach the Ray cluster at [::1]"),
        ("::1:6379", "an IPv6 host goes in brackets"),
        ("http://head:1", "not a Ray address"),
    ):
        with monkeypatch.context() as patch:
            if address is None:
                patch.setitem(sys.modules, "ray", None)
            assert (
                main(
                    [
                        "render",
                        str(clip),
                        "-o",
                        str(tmp_path / "o.mp4"),
                        "--model",
                        str(tiny_model),
                        "--ray",
                        *([address] if address else []),
                    ]
                )
                == 2
            )
        assert expected in capsys.readouterr().err.strip().splitlines()[-1]
        assert not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="--ray needs Ray: pip install -e '.[cluster]'")
    # address "local": a Ray of its own, even where another is running (None would join that one)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def clip30(testdata, tmp_path_factory):
    frames = [
        cv2.resize(f, (96, 80), interpolation=cv2.INTER_AREA)
        for f in _frames(testdata / "pan_coffee_320x240.mp4")[0][:30]
    ]
    path = tmp_path_factory.mktemp("clips") / "clip30.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (96, 80))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="module")
def address(ray_session) -> str:
    """Where a driver in another process joins this module's Ray."""
    return ray_session.get_runtime_context().gcs_address


@pytest.fixture(scope="module")
def one_worker(address, tiny_model, clip30, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "one.mp4"
    run_perturbed([clip30, out, tiny_model, address], PERTURB[0], python=("-c", ONE_WORKER))
    return out


def _args(clip, out, model, ray="local"):
    return ["render", str(clip), "-o", str(out), "--model", str(model), "--provider", "cpu", "--ray", ray, *PLAN]


def _render(clip, out, model):
    return main(_args(clip, out, model))


@pytest.mark.exact
def test_two_workers_give_the_one_worker_file(tmp_path, one_worker, address, tiny_model, clip30):
    out = tmp_path / "two.mp4"
    run_perturbed(_args(clip30, out, tiny_model, address), PERTURB[1])
    frames, fps = _frames(out)
    source, source_fps = _frames(clip30)
    assert len(frames) == len(source) == 30 and fps == source_fps and frames[0].shape == source[0].shape
    assert out.read_bytes() == one_worker.read_bytes()
    assert all((a == b).all() for a, b in zip(frames, _frames(one_worker)[0]))


@pytest.mark.exact
def test_a_worker_killed_mid_render(tmp_path, one_worker, address, tiny_model, clip30):
    killed = []

    def kill_one():  # Ray names a worker's process after the task it runs
        while not killed:
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    running = cmdline.read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue  # the process ended meanwhile
                if b"ray::_dream_task" in running:
                    pid = int(cmdline.parent.name)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return

    threading.Thread(target=kill_one, daemon=True).start()
    out = tmp_path / "killed.mp4"
    run_perturbed(_args(clip30, out, tiny_model, address), PERTURB[2])
    assert killed and out.read_bytes() == one_worker.read_bytes()


@pytest.mark.exact
def test_an_interrupted_driver_submits_only_the_missing_chunks(
    tmp_path, monkeypatch, one_worker, address, tiny_model, clip30
):
    saved = []
    write = cluster.write_atomic

    def write_then_stop(path, data):
        write(path, data)
        saved.append(path.name)
        if len([n for n in saved if n.startswith("part-")]) == 2:
            raise KeyboardInterrupt

    out = tmp_path / "resumed.mp4"
    with monkeypatch.context() as patch:
        patch.setattr(cluster, "write_atomic", write_then_stop)
        assert _render(clip30, out, tiny_model) == 130
    assert not out.exists() and len(list((tmp_path / ".resumed.mp4.partial").glob("part-*"))) == 2
    said = run_perturbed(_args(clip30, out, tiny_model, address), PERTURB[1], python=("-c", COUNTING))
    assert said.count("submitted chunk") == 5 - 2 and out.read_bytes() == one_worker.read_bytes()


@pytest.mark.exact
def test_more_cpus_per_task_give_the_same_file_and_leave_no_model_behind(
    tmp_path, one_worker, address, tiny_model, clip30
):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("deepdream-*"))
    out = tmp_path / "two-threads.mp4"
    run_perturbed([*_args(clip30, out, tiny_model, address), "--cpus-per-task", "2"], PERTURB[2])
    assert out.read_bytes() == one_worker.read_bytes()  # onnxruntime's thread count changes no value
    # each task's model file went with it (another render on this machine may hold a folder for a while: wait)
    wait_until(lambda: set(Path(tempfile.gettempdir()).glob("deepdream-*")) <= before, what="the tasks' folders gone")


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--cpus-per-task", "999"], "999 CPUs per task"),
        (["--gpus-per-task", "1"], "1 GPUs per task"),
        (["--provider", "cuda", "--gpus-per-task", "0"], "--provider cuda"),
    ],
)
def test_a_task_the_cluster_can_never_run_is_refused_at_once(
    tmp_path, capsys, ray_session, tiny_model, clip30, flags, words
):
    args = ["render", str(clip30), "-o", str(tmp_path / "o.mp4"), "--model", str(tiny_model), "--ray", *flags]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_waiting_for_a_worker_says_what_for_and_gives_up(ray_session, monkeypatch, capsys):
    from realtime.commands import ray_cluster
    from realtime.errors import UserError

    monkeypatch.setattr(ray_cluster, "SAY_S", 0.2)
    monkeypatch.setattr(ray_cluster, "GIVE_UP_S", 0.5)
    with pytest.raises(UserError, match="gave up after .* waiting for a worker with 64 CPUs"):
        ray_cluster.first_worker(ray_session, 64, 0)  # a cluster that may grow (joined, not started here)
    assert "waiting" in capsys.readouterr().err
    monkeypatch.undo()  # the real patience: a loaded machine may take more than 0.5 s to start a worker
    ray_cluster.first_worker(ray_session, 1, 0)  # one it can run starts


def test_a_task_that_fails_on_a_worker_is_one_line(tmp_path, monkeypatch, capsys, ray_session, tiny_model, clip30):
    def broken(*args):
        raise RuntimeError("CUDA failure 999: unknown error\n  (and a stack of details)")

    monkeypatch.setattr(cluster, "_dream_task", broken)
    out = tmp_path / "o.mp4"
    assert _render(clip30, out, tiny_model) == 2
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(said) == 1 and re.fullmatch(
        r"deepdream render: error: chunk \d+ failed on the Ray cluster: CUDA failure 999: unknown error; the chunks "
        f"finished so far are kept in {re.escape(str(tmp_path / '.o.mp4.partial'))}/ for a rerun",
        said[0],
    ), err
    assert "Traceback" not in err and not out.exists()
