"""Analysis speed: `report` on a 20-minute session, `compare` over 500 sessions, and how the
cost grows with session length and count. Ratios against the obvious alternative, in one run:

* rolling metrics: one vectorised pass vs feeding LiveWindow beat by beat;
* per-phase HRV: holdbeat.hrv's fast engine vs calling neurokit2 per phase;
* intervals: holdbeat's vectorised bootstrap-t vs scipy.stats.bootstrap (BCa);
* compare: summaries from files (load + correct + summarise) vs in memory.

Goals (issue 8): report < 1 s for 20 min; compare over 500 sessions < 10 s.
Run: python benchmarks/bench_analysis.py [--quick]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from holdbeat.analysis.compare import CompareConfig, compare, summarize
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import ReportConfig, build_report
from holdbeat.analysis.trajectory import rolling_metrics
from holdbeat.beats import Beat
from holdbeat.metrics import LiveWindow
from holdbeat.recording import load
from holdbeat.session import Phase, Protocol
from holdbeat.sim.sessions import synth_recording, write_recording

QUICK = "--quick" in sys.argv


def twenty_minutes(scale: float = 1.0) -> Protocol:
    """baseline 3, fierce 5, rest 2, soft 5, rest 2, recovery 3 min (× scale)."""
    spec = [
        ("baseline", "baseline", "neutral", 3),
        ("fierce hold", "hold", "fierce", 5),
        ("rest 1", "rest", "neutral", 2),
        ("soft hold", "hold", "soft", 5),
        ("rest 2", "rest", "neutral", 2),
        ("recovery", "recovery", "neutral", 3),
    ]
    return Protocol(
        f"twenty-x{scale:g}", tuple(Phase(n, k, m, 60.0 * d * scale) for n, k, m, d in spec)
    )


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def row(name: str, secs: float, ref: float | None = None, note: str = "") -> None:
    ratio = f"{ref / secs:8.1f}x" if ref else " " * 9
    print(f"  {name:<52} {secs * 1000:10.1f} ms {ratio}  {note}")


def main() -> int:
    print(f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (timings are best of 3)")
    tmp = Path(tempfile.mkdtemp(prefix="hb-bench-"))

    # ------------------------------------------------------------ imports (paid once)
    t = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    t_mpl = time.perf_counter() - t
    t = time.perf_counter()
    import neurokit2  # noqa: F401

    t_nk = time.perf_counter() - t
    print("\nimports (once per process; not in the timings below)")
    row("matplotlib", t_mpl)
    row("neurokit2 (the report does not need it: hrv's fast engine)", t_nk)

    # ------------------------------------------------------------ report, 20 min
    print("\nreport on a 20-minute session (1 hold of each of 2 modes)")
    rec0 = synth_recording(twenty_minutes(), seed=1)
    path = write_recording(tmp, rec0, "twenty")
    t_load = best(lambda: load(path))
    rec = load(path)
    t_prep = best(lambda: prepare(rec))
    prep = prepare(rec)
    t_rep = best(lambda: build_report(prep, ReportConfig()))
    rep = build_report(prep, ReportConfig())

    def live_loop() -> None:
        w = LiveWindow(60.0)
        for a, b, g, f in zip(prep.t_s, prep.rr_ms, prep.gap_before, ~prep.usable, strict=True):
            w.update(Beat(float(a), float(b), bool(g), "x" if f else ""))

    t_roll = best(
        lambda: rolling_metrics(prep.t_s, prep.rr_ms, prep.gap_before, ~prep.usable, 60.0)
    )
    t_live = best(live_loop)
    from holdbeat.hrv.table import phase_table

    t_fast = best(lambda: phase_table(rec, corrected=prep.corrected))
    t_nkt = best(lambda: phase_table(rec, corrected=prep.corrected, engine="neurokit"), 1)
    from holdbeat.analysis.figures import save
    from holdbeat.analysis.report_figure import report_figure

    t_fig = best(lambda: save(report_figure(rep, prep), tmp / "r.png"), 2)
    total = t_load + t_prep + t_rep
    row("load the file (re-parse every notification)", t_load)
    row("prepare: offline correction + rolling metrics", t_prep)
    row("build_report: hrv table, bands, catch-ups, fits", t_rep)
    row("= report without the figure", total, note="goal < 1 s")
    row("figure (PNG)", t_fig, note="matplotlib text rendering dominates")
    row("rolling metrics, vectorised (vs LiveWindow per beat)", t_roll, t_live)
    row("per-phase HRV, hrv fast engine (vs neurokit2 per phase)", t_fast, t_nkt)

    # ------------------------------------------------------------ growth with length
    print("\nreport cost vs session length (load + prepare + build_report)")
    base = None
    for scale in (0.5, 1, 2, 4):
        r = synth_recording(twenty_minutes(scale), seed=2)
        p = write_recording(tmp, r, f"len{scale}")

        def whole(p: Path = p) -> None:
            build_report(prepare(load(p)), ReportConfig())

        s = best(whole, 2)
        base = base or s / scale
        row(f"{20 * scale:g} min", s, note=f"{s / (base * scale):.2f} × linear")

    # ------------------------------------------------------------ stats engines
    print("\n95 % CI of a mean difference, 9999 resamples (n = 250 per group)")
    from holdbeat.analysis import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 250), rng.normal(0.2, 1, 250)
    t_bt = best(lambda: stats.boot_t_diff(a, b, np.random.default_rng(1), 9999, 0.95))
    t_bca = best(lambda: stats._ci((a, b), stats._diff_means, np.random.default_rng(1), 9999, 0.95))
    row("bootstrap-t, vectorised (vs scipy BCa)", t_bt, t_bca)

    # ------------------------------------------------------------ compare
    n_sessions = 100 if QUICK else 500
    print(f"\ncompare over {n_sessions} simulated sessions (alternating protocol, 24 min each)")
    recs = [synth_recording("alternating", seed=s) for s in range(n_sessions)]
    cfg = CompareConfig()
    t = time.perf_counter()
    sums_fast = [summarize(prepare(r, correction=False), cfg) for r in recs]
    t_sum_flags = time.perf_counter() - t
    t = time.perf_counter()
    sums = [summarize(prepare(r), cfg) for r in recs]
    t_sum = time.perf_counter() - t
    t_cmp = best(lambda: compare(sums, cfg), 2)
    row("summaries in memory, with offline correction", t_sum)
    row("summaries in memory, live flags only (calibration path)", t_sum_flags)
    row("statistics: CIs, contrasts, permutations, trajectories", t_cmp)
    row("= compare in memory", t_sum + t_cmp, note="goal < 10 s")
    files_dir = tmp / "many"
    t = time.perf_counter()
    files = [write_recording(files_dir, r, f"s{i}") for i, r in enumerate(recs)]
    t_write = time.perf_counter() - t
    from holdbeat.commands.compare import load_summaries

    for jobs in (1, 2):
        t = time.perf_counter()
        got, errs = load_summaries(files, cfg, jobs)
        t_files = time.perf_counter() - t
        assert not errs and len(got) == n_sessions
        row(f"summaries from files, {jobs} process(es) (load dominates)", t_files)
    row(f"(writing the {n_sessions} files, not part of compare)", t_write)

    print("\ncompare cost vs session count (statistics only, summaries ready)")
    per = None
    for n in (50, 100, 200, n_sessions):
        s = best(lambda n=n: compare(sums[:n], cfg), 2)
        per = per or s / n
        row(f"{n} sessions", s, note=f"{s / (per * n):.2f} × linear")
    del sums_fast
    return 0


if __name__ == "__main__":
    sys.exit(main())
