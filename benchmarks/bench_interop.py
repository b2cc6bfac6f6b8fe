"""Interop speed and precision on a 1 h and an 8 h session, in one run.

Ratios against the obvious reference: `load()` of the same recording (re-parsing every
notification), i.e. what any command pays before it can export; and real time. Also
prints the RR rounding and the beat-time drift an import introduces.
Run: python benchmarks/bench_interop.py
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from holdbeat.interop.batch_lines import recording_bytes
from holdbeat.interop.edf import export_edf
from holdbeat.interop.export_csv import export_csv
from holdbeat.interop.imported_session import build_recording
from holdbeat.interop.importers import parse_rr_txt
from holdbeat.interop.kubios import export_kubios
from holdbeat.recording import load


def rr_series(hours: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / 0.8)
    k = np.arange(n)
    return (
        800
        + 40 * np.sin(2 * np.pi * k / 4.7)
        + 20 * np.sin(2 * np.pi * k / 12)
        + rng.normal(0, 10, n)
    )


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    print(
        f"{'session':>8} {'beats':>7} {'step':<22} {'seconds':>8} {'x load()':>9} "
        f"{'x real time':>12}"
    )
    for hours in (1.0, 8.0):
        text = "\n".join(f"{x:.3f}" for x in rr_series(hours))
        rr = np.array([float(x) for x in text.split()])  # the values the file holds
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "imp.jsonl"

            def do_import(text: str = text) -> bytes:
                imp = parse_rr_txt(text, "bench.txt")
                built = build_recording(imp, started=datetime(2026, 1, 1, tzinfo=UTC))
                return recording_bytes(built.header, built.events)

            data, t_import = timed(do_import)
            path.write_bytes(data)
            rec, t_load = timed(lambda: load(path))  # noqa: B023
            rows = [("import rr-txt", t_import), ("load() (reference)", t_load)]
            for name, fn in (
                ("export csv", export_csv),
                ("export kubios", export_kubios),
                ("export edf", export_edf),
            ):
                _, t = timed(lambda fn=fn: fn(rec))  # noqa: B023
                rows.append((name, t))
            for name, t in rows:
                print(
                    f"{hours:>7.0f}h {len(rr):>7} {name:<22} {t:>8.3f} {t / t_load:>9.2f} "
                    f"{hours * 3600 / t:>12.0f}"
                )
            delta = np.abs(rec.rr_ms - rr)
            drift = np.abs(rec.beat_t_s - np.cumsum(rr) / 1000)
            print(
                f"{'':>8} {'':>7} RR |Δ| max {delta.max():.4f} ms (bound 0.4883), beat-time drift "
                f"max {drift.max() * 1000:.1f} ms, end {drift[-1] * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
