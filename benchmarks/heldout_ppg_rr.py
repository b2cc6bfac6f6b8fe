"""RR for a held-out check from HeartPy's example PPG (`heartpy/data/data3.csv`, 11 min at
~67 Hz, GPL-3.0: read where it is installed or unpacked, never copied into this project).

Peaks by neurokit2's `ppg_process` on the signal resampled to 100 Hz, then neurokit2's Kubios
fix (the recording has a few peak-detection errors; the fixed series is the "truth" the
injected artifacts are scored against), RR outside 300-2000 ms dropped. Writes one RR in ms per
line, ready for `bench_missed_split.py`:

    python benchmarks/heldout_ppg_rr.py path/to/heartpy/data/data3.csv ppg_rr.txt
    python benchmarks/bench_missed_split.py --splits pchip,ar ppg_rr.txt
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", help="HeartPy's data3.csv (columns datetime, hr)")
    ap.add_argument("out", help="RR file to write (one value in ms per line)")
    args = ap.parse_args()

    import neurokit2 as nk

    from holdbeat.correct import neurokit_kubios

    t, sig = [], []
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            t.append(datetime.fromisoformat(row["datetime"]).timestamp())
            sig.append(float(row["hr"]))
    t_s, x = np.asarray(t), np.asarray(sig)
    grid = np.arange(t_s[0], t_s[-1], 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ppg_process(np.interp(grid, t_s, x), sampling_rate=100)
    rr = np.diff(grid[np.asarray(info["PPG_Peaks"])]) * 1000.0
    fixed = neurokit_kubios(rr)
    fixed = fixed[(fixed > 300) & (fixed < 2000)]
    np.savetxt(args.out, fixed, fmt="%.3f")
    rmssd = float(np.sqrt(np.mean(np.diff(fixed) ** 2)))
    print(f"{len(rr)} peaks-to-peaks, {len(fixed)} RR kept; median {np.median(fixed):.0f} ms, "
          f"RMSSD {rmssd:.1f} ms -> {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
