"""How a missed beat's long RR is cut: equal parts (the paper) vs parts along the line or the
cubic through the clean neighbours vs the run's own AR rhythm model (`holdbeat.missed_split`),
on real RR with injected artifacts.

Prints per recording x kind x rate (10 seeds): worst and median relative error of HF, RMSSD
and SDNN for each split, and whether every draw meets the goal (5 % at 1-2 %, 10 % at 5 %).
Recordings: the corpus' clean ones, and held-out cuts (each half of the 60-min and 26-min
recordings judged on its own; every 5-min cut of them). Extra RR files (one RR in ms per
line, `index,rr` CSV with a header, or a Polar .hrm) given as arguments are added as
held-out recordings.

    python benchmarks/bench_missed_split.py [--splits pchip,ar] [rr.txt ...]
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from holdbeat.detect import KubiosConfig
from holdbeat.sim.artifacts import inject_artifacts
from real_corpus import CLEAN, KINDS, RATES, load_real, read_rr_file, score

SPLITS = ["equal", "linear", "pchip", "ar"]  # the paper first (--splits picks)


def recordings(extra_files: list[str]) -> list[tuple[str, str, np.ndarray]]:
    """(group, name, rr): the corpus, then held-out cuts and files."""
    out = [("corpus", n, load_real(n).rr_ms) for n in CLEAN]
    for n in ("nsr_60min", "ecg_healthy_26min"):
        rr = load_real(n).rr_ms
        h = len(rr) // 2
        out += [("half", f"{n}[:{h}]", rr[:h]), ("half", f"{n}[{h}:]", rr[h:])]
        t = np.cumsum(rr) / 1000.0
        for a in np.arange(0.0, t[-1] - 299.0, 300.0):
            m = (t >= a) & (t < a + 300.0)
            out.append(("5min", f"{n}@{a / 60:.0f}min", rr[m]))
    out += [("file", Path(f).name, read_rr_file(f)) for f in extra_files]
    return out


def cell(args: tuple) -> tuple:
    group, name, rr, kind, rate, seeds = args
    res = {}
    for how in SPLITS:
        cfg = KubiosConfig(missed_split=how)
        res[how] = []
        for seed in range(seeds):
            inj = inject_artifacts(rr, rate, seed=seed, kinds=KINDS[kind])
            res[how].append(score(inj.rr_ms, inj.kind, rr, cfg))
    return group, name, kind, rate, res


def summarise(rows: list[tuple]) -> None:
    print("| group | recording | kind | rate | split | HF worst / median | RMSSD worst / median "
          "| SDNN worst / median | found | clean changed | all draws in goal |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    tally: dict[tuple[str, str], list[int]] = {}
    for group, name, kind, rate, res in rows:
        limit = 0.05 if rate <= 0.02 else 0.10
        for how in SPLITS:
            s = res[how]
            cols = []
            ok = True
            for f in ("hf_err", "rmssd_err", "sdnn_err"):
                v = np.array([getattr(x, f) for x in s])
                cols.append(f"{v[np.argmax(np.abs(v))]:+.1%} / {np.median(v):+.1%}")
                ok &= bool(np.all(np.abs(v) <= limit))
            found = np.mean([x.found for x in s])
            false = max(x.false_share for x in s)
            ok &= found >= 0.95 and false <= 0.005
            t = tally.setdefault((group, how), [0, 0])
            t[0] += ok
            t[1] += 1
            print(f"| {group} | {name} | {kind} | {rate:.0%} | {how} | {' | '.join(cols)} | "
                  f"{found:.0%} | {false:.2%} | {'yes' if ok else 'NO'} |")  # fmt: skip
    print("\n| group | split | cells meeting every goal |")
    print("| --- | --- | --- |")
    for (group, how), (ok, n) in tally.items():
        print(f"| {group} | {how} | {ok} / {n} |")
    # per group (missed and mixed cells): mean over cells of the worst |error| and of the
    # median error, and in how many cells the worst |error| is smaller / larger than equal's
    print("\n| group | split | cells | HF worst, mean / median, mean / vs equal (better-worse) "
          "| RMSSD | SDNN |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    sel = [r for r in rows if r[2] in ("missed", "mixed")]
    for group in dict.fromkeys(r[0] for r in sel):
        g = [r for r in sel if r[0] == group]
        for how in SPLITS:
            cols = []
            for f in ("hf_err", "rmssd_err", "sdnn_err"):
                worst = np.array([max(abs(getattr(x, f)) for x in r[4][how]) for r in g])
                ref = np.array([max(abs(getattr(x, f)) for x in r[4]["equal"]) for r in g])
                med = np.mean([np.median([getattr(x, f) for x in r[4][how]]) for r in g])
                better = int(np.sum(worst < ref - 1e-12))
                worse = int(np.sum(worst > ref + 1e-12))
                cols.append(f"{worst.mean():.2%} / {med:+.2%} / {better}-{worse}")
            print(f"| {group} | {how} | {len(g)} | {' | '.join(cols)} |")


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("held_out", nargs="*", help="RR files outside the corpus (read, not kept)")
    ap.add_argument(
        "--splits",
        default=",".join(SPLITS),
        help="comma-separated splits to run, equal always included (default: all)",
    )
    args = ap.parse_args()
    chosen = ["equal", *(s for s in args.splits.split(",") if s and s != "equal")]
    bad = [s for s in chosen if s not in SPLITS]
    if bad:
        ap.error(f"unknown split(s) {', '.join(bad)}; choose from {', '.join(SPLITS)}")
    SPLITS[:] = chosen
    seeds = 10
    jobs = []
    for group, name, rr in recordings(args.held_out):
        kinds = KINDS if group == "corpus" else ("missed", "mixed")
        jobs += [(group, name, rr, k, r, seeds) for k in kinds for r in RATES]
    with ProcessPoolExecutor(2) as ex:
        rows = list(ex.map(cell, jobs, chunksize=4))
    summarise(rows)


if __name__ == "__main__":
    main()
