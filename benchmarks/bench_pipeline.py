"""Pipeline speed: parse throughput, simulated demo and replay of 1 h at max speed, and a
24 h recording loaded and reported.

Prints ratios against the obvious reference points in one run: real time (a strap sends
~1 notification/s), a naive parser that re-decodes with int.from_bytes per field, and the
packets parsed, timed and flagged one by one (what `load`'s batch path replaces).
Run: python benchmarks/bench_pipeline.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from holdbeat.events import Device
from holdbeat.hrs import encode_hrm, parse_hrm, parse_hrm_batch
from holdbeat.pipeline import from_iterable, run_session
from holdbeat.recording import load
from holdbeat.recording_writer import new_header
from holdbeat.session import Phase, Protocol, beliefs_of
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.replay import replay_events
from holdbeat.sources.simulator import simulate

HOUR = Protocol(
    "hour",
    (
        Phase("baseline", "baseline", "neutral", 600.0),
        Phase("soft hold", "hold", "soft", 2400.0, belief="b", target="self"),
        Phase("recovery", "recovery", "neutral", 600.0),
    ),
)


def naive_parse(data: bytes) -> tuple[int, list[float]]:
    flags = data[0]
    i = 1
    if flags & 1:
        hr = int.from_bytes(data[1:3], "little")
        i = 3
    else:
        hr = data[1]
        i = 2
    if flags & 8:
        i += 2
    rr = []
    while flags & 16 and i + 1 < len(data):
        rr.append(int.from_bytes(data[i : i + 2], "little") / 1024 * 1000)
        i += 2
    return hr, rr


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> list[tuple[str, str, str]]:
    rows = []
    rng = np.random.default_rng(0)
    packets = [
        encode_hrm(70, list(rng.normal(850, 40, size=int(rng.integers(0, 4)))), contact=True)
        for _ in range(100_000)
    ]
    t_parse = timed(lambda: [parse_hrm(p) for p in packets])
    t_naive = timed(lambda: [naive_parse(p) for p in packets])
    rows.append(
        (
            "parse_hrm (100k packets)",
            f"{len(packets) / t_parse / 1e3:.0f} k packets/s",
            f"{t_naive / t_parse:.2f}x naive int.from_bytes parser; "
            f"{len(packets) / t_parse:.0f}x real time",
        )
    )

    t_batch = timed(lambda: parse_hrm_batch(packets))
    rows.append(
        (
            "parse_hrm_batch (the same, in one numpy batch: load)",
            f"{len(packets) / t_batch / 1e3:.0f} k packets/s",
            f"{t_parse / t_batch:.1f}x parse_hrm per packet",
        )
    )

    with tempfile.TemporaryDirectory() as d:
        header = new_header(
            Device(name="sim", source="simulator"), HOUR.to_dict(), beliefs_of(HOUR)
        )
        t0 = time.perf_counter()
        events = list(simulate(HOUR, SimConfig(seed=1)))
        t_sim = time.perf_counter() - t0
        sink = RecorderSink(Path(d))
        t0 = time.perf_counter()
        asyncio.run(run_session(from_iterable(events), [sink], header, HOUR))
        t_run = time.perf_counter() - t0
        rows.append(
            (
                "demo 1 h, max speed (simulate + pipeline + record)",
                f"{t_sim + t_run:.2f} s",
                f"{3600 / (t_sim + t_run):.0f}x real time",
            )
        )
        t0 = time.perf_counter()
        rec = load(sink.path)
        t_load = time.perf_counter() - t0
        rows.append(
            (
                "load 1 h recording (re-parse raw bytes)",
                f"{t_load:.3f} s",
                f"{3600 / t_load:.0f}x real time",
            )
        )
        ev = replay_events(rec)
        t0 = time.perf_counter()
        asyncio.run(run_session(from_iterable(ev), [], rec.header, None, schedule_phases=False))
        t_replay = time.perf_counter() - t0
        rows.append(
            (
                "replay 1 h, max speed (no recording)",
                f"{t_replay:.3f} s",
                f"{3600 / t_replay:.0f}x real time (goal < 2 s)",
            )
        )
        rows.extend(day_report(Path(d)))
    return rows


def live_rebuild(events: list) -> int:
    """The obvious alternative to `load`'s batch path: every packet parsed, timed and
    flagged one by one as the live Processor does (without its rolling metrics, which
    loading does not need)."""
    from holdbeat.beats import BeatTimer
    from holdbeat.clean import LiveFlagger
    from holdbeat.events import Connection, Hrm
    from holdbeat.hrs import MalformedMeasurement

    timer, flagger = BeatTimer(), LiveFlagger()
    n = 0
    for ev in events:
        if isinstance(ev, Hrm):
            try:
                m = parse_hrm(ev.raw)
            except MalformedMeasurement:
                continue
            n += len([flagger.flag(b) for b in timer.push(ev.t_s, m)])
        elif isinstance(ev, Connection) and ev.state == "lost":
            timer.reset()
    return n


def day_report(directory: Path) -> list[tuple[str, str, str]]:
    """24 h of RR (~100,000 beats) recorded, then load + full report (no figure), in
    process and as the `holdbeat report` command (interpreter and imports included)."""
    import shutil
    import subprocess
    import sys

    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.recording import from_events

    day = Protocol(
        "day",
        (
            Phase("baseline", "baseline", "neutral", 600.0),
            *(
                Phase(
                    f"hold {i}",
                    "hold",
                    ("fierce", "soft")[i % 2],
                    1800.0,
                    belief="b",
                    target="self",
                )
                for i in range(46)
            ),
            Phase("recovery", "recovery", "neutral", 1800.0),
        ),
    )
    header = new_header(Device(name="sim", source="simulator"), day.to_dict(), beliefs_of(day))
    sink = RecorderSink(directory)
    asyncio.run(run_session(from_iterable(simulate(day, SimConfig(seed=2))), [sink], header, day))
    build_report(prepare(load(sink.path)), ReportConfig())  # imports paid once, outside
    t_load = timed(lambda: load(sink.path))
    rec = load(sink.path)
    t_rebuild = timed(lambda: from_events(sink.path, rec.header, rec.events, []))
    t_live = timed(lambda: live_rebuild(rec.events))
    t_prep = timed(lambda: prepare(rec))
    prepared = prepare(rec)
    t_rep = timed(lambda: build_report(prepared, ReportConfig()))
    total = t_load + t_prep + t_rep
    rows = [
        (
            f"24 h recording ({len(rec.rr_ms)} beats, 48 phases): load + full report",
            f"{total:.2f} s",
            f"load {t_load:.2f} + correction {t_prep:.2f} + report {t_rep:.2f} s (goal < 2 s)",
        ),
        (
            "  beats rebuilt from 24 h of packets (batch, in load)",
            f"{t_rebuild:.3f} s",
            f"{t_live / t_rebuild:.1f}x parse + time + flag per packet ({t_live:.2f} s)",
        ),
    ]
    exe = shutil.which("holdbeat", path=str(Path(sys.executable).parent)) or "holdbeat"
    t0 = time.perf_counter()
    subprocess.run([exe, "report", str(sink.path), "--quiet"], check=True, capture_output=True)
    t_cli = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], check=True)
    t_imp = time.perf_counter() - t0
    rows.append(
        (
            "  `holdbeat report` on it, cold (new process)",
            f"{t_cli:.2f} s",
            f"of which {t_imp:.2f} s is starting Python and importing numpy/scipy/pandas",
        )
    )
    return rows


#: what `holdbeat report` imports before it reads a byte
IMPORTS = (
    "import holdbeat.cli, holdbeat.commands.report, holdbeat.analysis.report, "
    "holdbeat.analysis.prep, scipy.interpolate, scipy.ndimage, scipy.optimize"
)


if __name__ == "__main__":
    rows = main()
    w = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"{name:<{w}}  {value:>16}  {ratio}")
