"""Scale limits (issue 16, item 12), measured on real `holdbeat` processes:

1. peak memory (RSS) of `holdbeat import` on plain RR files of growing length, and on a
   10-million-line file (longer than a session: refused where it passes 7 days);
2. `holdbeat report --png` on a 10,000-phase recording against the same report without
   the figure (the figure's cost as a ratio).

Run against another checkout with PYTHONPATH=that/src to get its numbers ("before").
`--quick` skips the 10 M file and the 10,000-phase report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit code) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "holdbeat", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss / 1024, proc.returncode


def rr_file(path: Path, n: int) -> Path:
    with open(path, "w") as f:
        block = "800\n810\n790\n805\n" * 2500  # 10,000 lines
        for _ in range(n // 10_000):
            f.write(block)
    return path


def phases_file(path: Path, n: int, total_s: float) -> Path:
    d = total_s / n
    rows = ["name,kind,mode,start_s,end_s"]
    for i in range(n):
        kind, mode = (
            ("baseline", "neutral")
            if i == 0
            else (("hold", "soft") if i % 2 else ("rest", "neutral"))
        )
        rows.append(f"p{i},{kind},{mode},{i * d:.3f},{(i + 1) * d:.3f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        print("holdbeat import: peak memory by file length (RR of ~0.8 s, plain text)")
        print(f"{'RR lines':>12} {'session':>9} {'wall s':>8} {'peak MB':>8}  exit")
        sizes = [100_000, 300_000, 700_000] + ([] if quick else [10_000_000])
        for n in sizes:
            src = rr_file(d / f"rr{n}.txt", n)
            out = d / f"out{n}"
            wall, mb, code = run(["import", str(src), "-o", str(out) + "/"])
            days = n * 0.801 / 86400
            note = "refused: longer than 7 days" if code == 2 else ""
            print(f"{n:>12,} {days:>7.2f} d {wall:>8.1f} {mb:>8.0f}  {code} {note}")
        if quick:
            return
        print("\nholdbeat report on a 10,000-phase recording (100,000 beats, 22 h)")
        src = rr_file(d / "rr100k.txt", 100_000)
        ph = phases_file(d / "phases.csv", 10_000, 100_000 * 0.8)
        out = d / "big"
        assert run(["import", str(src), "--phases", str(ph), "-o", str(out) + "/"])[2] == 0
        (rec,) = out.glob("*.jsonl")
        base, base_mb, _ = run(["report", str(rec), "--quiet", "--no-frequency"])
        fig, fig_mb, code = run(
            ["report", str(rec), "--quiet", "--no-frequency", "--png", str(d / "f.png")]
        )
        print(f"  without the figure: {base:6.1f} s, peak {base_mb:5.0f} MB")
        print(f"  with --png:         {fig:6.1f} s, peak {fig_mb:5.0f} MB (exit {code})")
        print(f"  the figure costs {fig - base:.1f} s: {fig / base:.2f}x the report without it")


if __name__ == "__main__":
    main()
