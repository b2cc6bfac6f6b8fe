"""Real hearts: holdbeat's correction vs neurokit2's Kubios fix, and catch-up calibration.

Prints (not asserted; tests/test_real_hearts.py and tests/test_catchup_real.py assert the
goals):

1. per clean real recording: beats changed and RMSSD, uncorrected / holdbeat / neurokit2;
2. per recording x artifact kind x rate (10 seeds): worst relative error of RMSSD, SDNN
   and HF after correction, artifacts found, clean beats changed - holdbeat and neurokit2
   side by side (neurokit2 has no per-beat output to score "found" on);
3. catch-up on real resting cuts (nothing changes at onset) and with planted changes:
   false and true catch-up rates and median latency, for the defaults and neighbours;
4. the same on the simulator;
5. held-out RR files given as arguments (one RR per line, `index,rr` CSV, or a Polar .hrm;
   read, not kept): beats changed, by kind, and RMSSD raw / holdbeat / neurokit2 Kubios.

    python benchmarks/bench_real_hearts.py [rr.txt ...]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from holdbeat.correct import correct, neurokit_kubios
from holdbeat.sim.artifacts import inject_artifacts
from real_corpus import (
    CLEAN,
    KINDS,
    RATES,
    catchup_on_cut,
    hf_ms2,
    load_real,
    plant,
    read_rr_file,
    resting_cuts,
    rmssd_ms,
    score,
)


def clean_table() -> None:
    print("\n### Clean real recordings (nothing injected)\n")
    print("| recording | beats | changed, holdbeat | RMSSD raw | holdbeat | neurokit2 Kubios |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in CLEAN:
        rr = load_real(name).rr_ms
        s = score(rr, np.full(len(rr), ""), rr)
        ours = rmssd_ms(correct(np.cumsum(rr) / 1000, rr).rr_ms)
        nk = rmssd_ms(neurokit_kubios(rr))
        print(
            f"| {name} | {len(rr)} | {s.changed_share:.2%} | {rmssd_ms(rr):.1f} ms | "
            f"{ours:.1f} ms | {nk:.1f} ms |"
        )


def _nk_errors(inj_rr: np.ndarray, ref: np.ndarray) -> tuple[float, float, float]:
    out = neurokit_kubios(inj_rr)
    return (
        rmssd_ms(out) / rmssd_ms(ref) - 1,
        float(np.std(out, ddof=1) / np.std(ref, ddof=1) - 1),
        hf_ms2(out) / hf_ms2(ref) - 1,
    )


def injected_table(seeds: int = 10) -> None:
    print(f"\n### Injected artifacts, worst of {seeds} draws (holdbeat | neurokit2)\n")
    print("| recording | kind | rate | RMSSD | SDNN | HF | found | clean changed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in CLEAN:
        rr = load_real(name).rr_ms
        for kind, kinds in KINDS.items():
            for rate in RATES:
                ours, theirs = [], []
                for seed in range(seeds):
                    inj = inject_artifacts(rr, rate, seed=seed, kinds=kinds)
                    ours.append(score(inj.rr_ms, inj.kind, rr))
                    theirs.append(_nk_errors(inj.rr_ms, rr))

                def worst(vals: list[float]) -> float:
                    return max(vals, key=abs)

                cells = [
                    f"{worst([getattr(s, f) for s in ours]):+.1%} | "
                    f"{worst([t[i] for t in theirs]):+.1%}"
                    for i, f in enumerate(("rmssd_err", "sdnn_err", "hf_err"))
                ]
                found = np.mean([s.found for s in ours])
                false = max(s.false_share for s in ours)
                print(
                    f"| {name} | {kind} | {rate:.0%} | {' | '.join(cells)} | {found:.0%} | "
                    f"{false:.2%} |"
                )


def catchup_table() -> None:
    cuts = list(resting_cuts())
    print(f"\n### Catch-up on real resting RR ({len(cuts)} cuts: 3-min baseline + 5-min hold)\n")
    print("| k | dwell | metric, direction | false | planted | detected | median latency |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k, dwell in ((2.0, 75.0), (2.0, 60.0), (1.5, 60.0)):
        for metric, direction, sizes in (
            ("ln_rmssd", "up", (0.3, 0.5, 0.7)),
            ("hr", "down", (-3.0, -5.0, -9.0)),
            ("ln_rmssd", "both", (0.3,)),
            ("hr", "both", (-3.0,)),
        ):
            null = [catchup_on_cut(rr, metric, direction, k, dwell) for _, rr, _ in cuts]
            fa = np.mean([c.reached for c in null])
            for size in sizes:
                pl = [
                    catchup_on_cut(plant(rr, 180.0, metric, size), metric, direction, k, dwell)
                    for _, rr, _ in cuts
                ]
                det = np.mean([c.reached for c in pl])
                lats = [c.latency_s for c in pl if c.reached]
                lat = f"{np.median(lats):.0f} s" if lats else "—"
                print(
                    f"| {k:g} | {dwell:g} s | {metric} {direction} | {fa:.0%} | {size:+g} | "
                    f"{det:.0%} | {lat} |"
                )


def simulator_table(n: int = 30) -> None:
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.session import Phase, Protocol
    from holdbeat.sim.body import no_effect_responses
    from holdbeat.sim.sessions import synth_recording

    proto = Protocol(
        "cal",
        (
            Phase("baseline", "baseline", "neutral", 180.0),
            Phase("soft", "hold", "soft", 300.0),
        ),
    )
    print(f"\n### Catch-up on the simulator ({n} sessions each, soft hold of 5 min)\n")
    print("| responses | ln RMSSD caught up | HR caught up | median latency (ln RMSSD) |")
    print("| --- | --- | --- | --- |")
    from holdbeat.sim.body import CLEAR_RESPONSES

    for label, resp in (
        ("none (null)", no_effect_responses()),
        ("defaults (soft -4 bpm, vagal x1.45)", None),
        ("clear (soft -9 bpm, vagal x2.2)", CLEAR_RESPONSES),
    ):
        ln, hr, lat = [], [], []
        for seed in range(n):
            rec = synth_recording(proto, seed=seed, responses=resp)
            rep = build_report(prepare(rec, correction=False), ReportConfig(frequency=False))
            c_ln = rep.holds[0].catchup_of("ln_rmssd").catchup
            c_hr = rep.holds[0].catchup_of("hr").catchup
            ln.append(c_ln.reached)
            hr.append(c_hr.reached)
            if c_ln.reached:
                lat.append(c_ln.latency_s)
        med = f"{np.median(lat):.0f} s" if lat else "—"
        print(f"| {label} | {np.mean(ln):.0%} | {np.mean(hr):.0%} | {med} |")


def held_out_table(paths: list[str]) -> None:
    """Recordings the rules were not calibrated on: what the correction changes, and what
    that does to RMSSD (nothing is injected; a raw RR of 0 or less is left out of the raw
    and neurokit2 columns, as holdbeat drops it)."""
    from holdbeat.quality import changed_inputs

    print("\n### Held-out RR files (nothing injected)\n")
    print("| file | beats | min | median HR | beats changed | events | RMSSD raw | holdbeat "
          "| neurokit2 Kubios |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        rr = read_rr_file(path)
        c = correct(np.cumsum(rr) / 1000, rr)
        changed = changed_inputs(len(rr), c.source, c.kind)
        events = ", ".join(f"{k} {v}" for k, v in c.counts().items() if v) or "none"
        pos = rr[rr > 0]
        print(
            f"| {Path(path).name} | {len(rr)} | {np.sum(rr) / 60000:.1f} | "
            f"{60000 / np.median(pos):.0f} | {int(changed.sum())} ({changed.mean():.2%}) | "
            f"{events} | {rmssd_ms(pos):.1f} ms | {rmssd_ms(c.rr_ms[c.keep]):.1f} ms | "
            f"{rmssd_ms(neurokit_kubios(pos)):.1f} ms |"
        )


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("held_out", nargs="*", help="RR files outside the corpus (read, not kept)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.held_out:
        held_out_table(args.held_out)
    clean_table()
    injected_table()
    catchup_table()
    simulator_table()
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    _ = math.nan


if __name__ == "__main__":
    main()
