"""HRV engine benchmarks: one run, ratios against the obvious alternative.

    python benchmarks/bench_hrv.py [--quick]

1. live per-beat update (LiveWindow) vs neurokit2 `hrv_time` on the trailing window per beat
   (and vs a numpy recomputation of the window per beat);
2. full per-phase HRV of a 20-minute session (correction + table) vs neurokit2's own
   functions (`engine="neurokit"`, and with `full_nonlinear=True`);
3. 24 h of RR (~100 000 beats), cleaned and analysed, in three phase layouts;
4. artifact correction: RMSSD error after holdbeat's correction vs neurokit2's
   `signal_fixpeaks(method="Kubios")`, by artifact type and rate.
Goals (issue 5): live >= 100x faster than neurokit2 and < 1 ms median per beat; 20-min
session < 1 s; 24 h < 2 s. Times are wall clock, best of a few runs; on a shared 2-core
machine they vary with load, the ratios (same run) much less.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings

import numpy as np

from holdbeat.beats import Beat
from holdbeat.correct import correct, neurokit_kubios
from holdbeat.hrv.intervals import nk_input
from holdbeat.hrv.table import hrv_table
from holdbeat.metrics import LiveWindow
from holdbeat.sim.artifacts import beat_times, inject_artifacts
from holdbeat.sim.rr import synthetic_rr

warnings.simplefilter("ignore")


def _series(minutes: float, rate: float, seed: int):
    rr = synthetic_rr(int(minutes * 60 * 65 / 60 * 1.2), seed=seed)
    rr = rr[beat_times(rr) < minutes * 60]
    inj = inject_artifacts(rr, rate, seed=seed)
    return inj.t_s, inj.rr_ms


def _phases(total_s: float, phase_s: float) -> list[tuple[str, float, float]]:
    edges = np.arange(0.0, total_s + phase_s, phase_s)
    return [(f"p{i}", float(a), float(b)) for i, (a, b) in enumerate(itertools.pairwise(edges))]


def bench_live(quick: bool) -> list[tuple[str, str, str]]:
    import neurokit2 as nk

    from holdbeat.clean import LiveFlagger

    t, rr = _series(20, 0.02, 1)
    f = LiveFlagger()
    beats = [f.flag(Beat(float(a), float(b))) for a, b in zip(t, rr, strict=True)]
    w = LiveWindow(60.0)
    per_beat = []
    for b in beats:
        t0 = time.perf_counter()
        w.update(b)
        per_beat.append(time.perf_counter() - t0)
    live_med = statistics.median(per_beat)
    ok = np.array([b.ok for b in beats])
    gap = np.zeros(len(beats), bool)
    idx = range(100, len(beats), 7 if not quick else 40)
    nk_times, np_times = [], []
    for i in idx:
        sel = (t > t[i] - 60.0) & (t <= t[i])
        t0 = time.perf_counter()
        nk.hrv_time(nk_input(t[sel], rr[sel], gap[sel], ok[sel]))
        nk_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sel = np.flatnonzero((t > t[i] - 60.0) & (t <= t[i]))
        r, o = rr[sel], ok[sel]
        d = np.diff(r)[o[1:] & o[:-1]]
        _ = (np.sqrt(np.mean(d**2)), np.std(r[o], ddof=1), 60000 / np.mean(r[o]))
        np_times.append(time.perf_counter() - t0)
    nk_med = statistics.median(nk_times)
    np_med = statistics.median(np_times)
    return [
        ("live update per beat (LiveWindow, 60 s)", f"{live_med * 1e6:8.1f} µs", "1x"),
        (
            "neurokit2 hrv_time on the window per beat",
            f"{nk_med * 1e6:8.1f} µs",
            f"{nk_med / live_med:,.0f}x slower",
        ),
        (
            "numpy recompute of the window per beat",
            f"{np_med * 1e6:8.1f} µs",
            f"{np_med / live_med:,.1f}x slower",
        ),
        ("live update p99 per beat", f"{np.percentile(per_beat, 99) * 1e6:8.1f} µs", ""),
    ]


def _time(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_session(quick: bool) -> list[tuple[str, str, str]]:
    t, rr = _series(20, 0.02, 2)
    phases = _phases(1200.0, 300.0)
    hrv_table(t, rr, phases)  # warm imports
    fast = _time(lambda: hrv_table(t, rr, phases), 3)
    slow = _time(lambda: hrv_table(t, rr, phases, engine="neurokit"))
    rows = [
        ("20-min session, 4 phases: holdbeat (fast)", f"{fast * 1000:8.1f} ms", "1x"),
        (
            "  same with neurokit2 hrv_time + hrv_frequency",
            f"{slow * 1000:8.1f} ms",
            f"{slow / fast:,.1f}x slower",
        ),
    ]
    if not quick:
        full = _time(lambda: hrv_table(t, rr, phases, engine="neurokit", full_nonlinear=True))
        rows.append(
            (
                "  same + neurokit2 hrv_nonlinear (full set)",
                f"{full * 1000:8.1f} ms",
                f"{full / fast:,.0f}x slower",
            )
        )
    return rows


def bench_24h(quick: bool) -> list[tuple[str, str, str]]:
    t, rr = _series(24 * 60, 0.02, 3)
    rows = [("24 h input", f"{len(rr):8d} beats", "")]
    c_time = _time(lambda: correct(t, rr), 3)
    rows.append(("  correction alone (holdbeat)", f"{c_time * 1000:8.1f} ms", ""))
    if not quick:
        k_time = _time(lambda: neurokit_kubios(rr))
        rows.append(
            (
                "  correction alone (neurokit2 signal_fixpeaks)",
                f"{k_time * 1000:8.1f} ms",
                f"{k_time / c_time:,.1f}x",
            )
        )
    for label, phase_s in (("1 phase", 86400.0), ("48 x 30 min", 1800.0), ("288 x 5 min", 300.0)):
        phases = _phases(86400.0, phase_s)
        dt = _time(lambda phases=phases: hrv_table(t, rr, phases), 3)
        rows.append((f"  cleaned + analysed, {label}", f"{dt * 1000:8.1f} ms", "goal < 2000 ms"))
    if not quick:
        phases = _phases(86400.0, 300.0)
        dt_nk = _time(lambda: hrv_table(t, rr, phases, engine="neurokit"))
        dt = _time(lambda: hrv_table(t, rr, phases))
        rows.append(
            (
                "  288 x 5 min with neurokit2 time+frequency",
                f"{dt_nk * 1000:8.1f} ms",
                f"{dt_nk / dt:,.1f}x slower",
            )
        )
    return rows


def bench_correction(quick: bool) -> list[tuple[str, str, str]]:
    rows = []
    seeds = range(2 if quick else 5)
    for kind in ("missed", "extra", "ectopic", "mixed"):
        kinds = ("missed", "extra", "ectopic") if kind == "mixed" else (kind,)
        for rate in (0.01, 0.03, 0.05):
            ours, theirs = [], []
            for seed in seeds:
                rr = synthetic_rr(3000, seed=seed)
                inj = inject_artifacts(rr, rate, seed=seed, kinds=kinds)

                def rmssd(x):
                    return np.sqrt(np.mean(np.diff(x) ** 2))

                c = correct(inj.t_s, inj.rr_ms)
                ours.append(abs(rmssd(c.rr_ms[c.keep]) / rmssd(rr) - 1))
                theirs.append(abs(rmssd(neurokit_kubios(inj.rr_ms)) / rmssd(rr) - 1))
            rows.append(
                (
                    f"{kind:8s} {rate:4.0%}",
                    f"holdbeat {np.mean(ours):6.2%} (max {max(ours):6.2%})",
                    f"neurokit2 {np.mean(theirs):6.2%} (max {max(theirs):6.2%})",
                )
            )
    return rows


def _print(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    w = max(len(r[0]) for r in rows)
    for a, b, c in rows:
        print(f"  {a:<{w}}  {b:>26}  {c}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, skip slow parts")
    args = ap.parse_args(argv)
    _print("1. live metrics per beat (20 min, 2 % artifacts)", bench_live(args.quick))
    _print("2. per-phase HRV, 20-minute session (2 % artifacts)", bench_session(args.quick))
    _print("3. 24 hours of RR (2 % artifacts)", bench_24h(args.quick))
    _print(
        "4. |RMSSD error| after correction vs the clean series (3000 beats)",
        bench_correction(args.quick),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
