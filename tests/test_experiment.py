"""The experiment log (--log FILE.csv) and reproducible runs (--seed with a file source)."""
import csv
import subprocess
import sys

from realtime.run.framelog import COLUMNS


def _run(model, clip, tmp_path, tag):
    log, rec = tmp_path / f"{tag}.csv", tmp_path / f"{tag}.mp4"
    result = subprocess.run([sys.executable, "-m", "realtime.cli", "live", "--source", str(clip), "--model", str(model),
                             "--size", "128x96", "--headless", "--frames", "15", "--seed", "7", "--log", str(log),
                             "--record", str(rec)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with open(log, newline="") as fh:
        return list(csv.DictReader(fh)), rec.read_bytes()


def test_log_rows_and_reproducible_runs(random_model, testdata, tmp_path):
    clip = testdata / "pan_coffee_320x240.mp4"
    rows_a, video_a = _run(random_model, clip, tmp_path, "a")
    rows_b, video_b = _run(random_model, clip, tmp_path, "b")
    assert len(rows_a) == 15 and list(rows_a[0]) == COLUMNS
    assert [r["frame"] for r in rows_a] == [str(i) for i in range(15)]
    assert [r["source_frame"] for r in rows_a] == [str(i) for i in range(15)]  # every frame, in order
    assert all(float(r["loss"]) > 0 and float(r["ms_per_step"]) > 0 for r in rows_a)
    params = [c for c in COLUMNS if c not in ("wall_time", "monotonic", "ms_per_step")]
    assert [[r[c] for c in params] for r in rows_a] == [[r[c] for c in params] for r in rows_b]
    assert video_a == video_b
