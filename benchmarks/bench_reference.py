"""Which reference for the second hold of a multi-hold session: the baseline, or the rest
just before the hold? Measured on real resting hearts (issue 15's per-hold reference).

Sessions cut from the real corpus (tests/data/real; every minute): baseline 3 min, hold 1
5 min, rest 2 min, hold 2 5 min. For hold 2 the live rule (k 2, dwell 75 s, live flags,
60-s windows) runs with its band from the baseline or from the 2-min rest, in three cases:
  * nothing changes (false catch-ups; "out at onset" = carried over);
  * a change planted at hold 2's onset (what a per-hold reference must still catch);
  * a change planted at hold 1's onset that persists (hold 2 adds nothing: a catch-up
    declared for hold 2 is hold 1's effect leaking into it).
Prints the shares of holds; nothing is asserted. Run: python benchmarks/bench_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from holdbeat.analysis.baseline_band import DEFAULT_K, baseline_band
from holdbeat.analysis.catchup import DEFAULT_DWELL_S, catch_up
from holdbeat.analysis.trajectory import rolling_metrics
from holdbeat.clean import LiveFlagger
from real_corpus import plant, resting_cuts

BASE_S, HOLD1_S, REST_S, HOLD2_S = 180.0, 300.0, 120.0, 300.0
ONSET2_S = BASE_S + HOLD1_S + REST_S


def hold2(rr: np.ndarray, metric: str, direction: str, reference: str):
    t = np.cumsum(rr) / 1000.0
    flagger = LiveFlagger()
    art = np.array([flagger.judge(x) != "" for x in rr])
    roll = rolling_metrics(t, rr, np.zeros(len(rr), bool), art, 60.0)
    v = roll.metric(metric)
    ref = t < BASE_S if reference == "baseline" else (t >= BASE_S + HOLD1_S) & (t < ONSET2_S)
    band = baseline_band(v[ref], DEFAULT_K, metric, t_s=t[ref])
    return catch_up(t, v, band, ONSET2_S, direction, DEFAULT_DWELL_S, ONSET2_S + HOLD2_S)


def main() -> None:
    cuts = [rr for _, rr, _ in resting_cuts(base_s=BASE_S, hold_s=HOLD1_S + REST_S + HOLD2_S)]
    print(f"{len(cuts)} real cuts: baseline 3 min, hold 5 min, rest 2 min, hold 5 min\n")
    print("| metric | planted | reference | nothing: caught / out at onset | at hold 2: caught "
          "| from hold 1 on: caught / out at onset |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for metric, direction, size in (
        ("ln_rmssd", "up", 0.3),
        ("ln_rmssd", "up", 0.6),
        ("hr", "down", -3.0),
        ("hr", "down", -6.0),
    ):
        for reference in ("baseline", "rest"):
            null = [hold2(rr, metric, direction, reference) for rr in cuts]
            new = [hold2(plant(rr, ONSET2_S, metric, size), metric, direction, reference)
                   for rr in cuts]  # fmt: skip
            old = [hold2(plant(rr, BASE_S, metric, size), metric, direction, reference)
                   for rr in cuts]  # fmt: skip

            def share(xs, what):
                return f"{np.mean([getattr(c, what) for c in xs]):.0%}"

            print(
                f"| {metric} {direction} | {size:+g} | {reference} | {share(null, 'reached')} / "
                f"{share(null, 'carried_over')} | {share(new, 'reached')} | "
                f"{share(old, 'reached')} / {share(old, 'carried_over')} |"
            )


if __name__ == "__main__":
    main()
