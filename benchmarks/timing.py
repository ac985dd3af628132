"""Shared by the benchmark scripts: timing (one warm-up call, then ms per call), the table + JSON report,
and the --model/--clip arguments of the render benchmarks."""
from __future__ import annotations

import argparse
import json
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


def clip_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with --model (the default model), --clip (the test clip the repository carries) and --size."""
    from realtime.dream.model import DEFAULT_MODEL

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--clip", type=Path,
                    default=Path(__file__).resolve().parents[1] / "tests/data/pan_coffee_320x240.mp4")
    ap.add_argument("--size", default="160x120", help="processing size WxH")
    return ap
