"""Shared by the benchmark scripts: timing (one warm-up call, then ms per call), the table + JSON report,
and the --model/--clip arguments of the render benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def times_ms(fn, repeats: int) -> list[float]:
    fn()  # warm-up: first runs allocate and plan
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def report(title: str, columns: list[tuple[str, str, str]], rows: list[dict], json_path: str | None, **extra) -> None:
    """Print a table (columns: key, heading, format), the rows as JSON, and write them to json_path."""
    print(title)
    widths = [max([len(h)] + [len(format(r[k], f)) for r in rows]) for k, h, f in columns]
    print(" ".join(f"{h:>{w}}" for (_, h, _), w in zip(columns, widths)))
    for r in rows:
        print(" ".join(f"{r[k]:>{w}{f}}" for (k, _, f), w in zip(columns, widths)))
    print(json.dumps(rows))
    if json_path:
        with open(json_path, "w") as fh:
            json.dump({**extra, "rows": rows}, fh, indent=2)


MODEL_HELP = "a name in the model store or a .onnx path (default: mixed3_mixed5)"


def model_or_exit(text: str | None) -> Path:
    """--model's value (a name, a path, or None: the default model) -> its file, or exit with the store's line."""
    from realtime.errors import UserError
    from realtime.store import find

    try:
        return find(text)
    except UserError as exc:
        raise SystemExit(f"{Path(sys.argv[0]).name}: {exc}") from None


def clip_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with --model (a name in the model store or a path; resolve it with `model_or_exit`), --clip
    (the test clip the repository carries) and --size."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument(
        "--clip", type=Path, default=Path(__file__).resolve().parents[1] / "tests/data/pan_coffee_320x240.mp4"
    )
    ap.add_argument("--size", default="160x120", help="processing size WxH")
    return ap
