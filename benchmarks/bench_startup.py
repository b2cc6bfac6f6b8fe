"""Start-up and end-to-end command costs, as ratios measured in one run (issue 18's goals).

* `holdbeat --help`                 vs `python -c pass`                  (goal <= 6x)
* `holdbeat report` on 20 minutes   vs `python -c "import numpy"`        (goal <= 6x)
* `holdbeat import` of 24 h of RR   vs `holdbeat report` of that day     (goal <= 1x)
* `holdbeat compare` of 500 files, one process (--jobs 1): this code, cold (an empty summary
  cache), warm, and without the cache, vs the code at BASELINE (default: where this work
  started), run from a `git archive` of it, old and new alternating `--repeat` times
  (medians and minima: wall-clock here varies 10-20 % run to run)      (goal <= 0.5x)
* report time vs the length of one long phase: must grow, never jump down (SampEn switches
  to its segment estimate above 20,000 beats)

Every command is a real process (interpreter start and imports included); the fast ones are
the best of 5 runs. Wall-clock: run it on a quiet machine. Run:
    python benchmarks/bench_startup.py [--quick] [--baseline REV]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE = "9655f601e1dab0fb1990eb87094c32eddb32a2fe"  # main when issue 18 work began


def run(argv: list[str], env: dict | None = None, check: bool = True) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if check and r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{r.stderr[-2000:]}")
    return dt


def best(argv: list[str], n: int = 5, env: dict | None = None) -> float:
    return min(run(argv, env) for _ in range(n))


def row(name: str, value: str, note: str = "") -> None:
    print(f"  {name:<58} {value:>12}  {note}")


def holdbeat() -> list[str]:
    return [sys.executable, "-m", "holdbeat"]


def twenty_minutes(d: Path) -> Path:
    from holdbeat.session import Phase, Protocol
    from holdbeat.sim.sessions import synth_recording, write_recording

    spec = [
        ("baseline", "baseline", "neutral", 3),
        ("fierce hold", "hold", "fierce", 5),
        ("rest 1", "rest", "neutral", 2),
        ("soft hold", "hold", "soft", 5),
        ("rest 2", "rest", "neutral", 2),
        ("recovery", "recovery", "neutral", 3),
    ]
    p = Protocol("twenty", tuple(Phase(n, k, m, 60.0 * x) for n, k, m, x in spec))
    return write_recording(d, synth_recording(p, seed=1), "twenty")


def long_phase(d: Path, hours: float) -> Path:
    from holdbeat.session import Phase, Protocol
    from holdbeat.sim.sessions import synth_recording, write_recording

    p = Protocol(
        f"long{hours:g}",
        (
            Phase("baseline", "baseline", "neutral", 600.0),
            Phase("hold", "hold", "soft", hours * 3600.0),
        ),
    )
    return write_recording(d, synth_recording(p, seed=3, artifact_rate=0.005), f"long{hours:g}")


def day(d: Path) -> Path:
    from holdbeat.session import Phase, Protocol
    from holdbeat.sim.sessions import synth_recording, write_recording

    p = Protocol(
        "day",
        (
            Phase("baseline", "baseline", "neutral", 600.0),
            *(Phase(f"hold {i}", "hold", ("fierce", "soft")[i % 2], 1800.0) for i in range(46)),
            Phase("recovery", "recovery", "neutral", 1800.0),
        ),
    )
    return write_recording(d, synth_recording(p, seed=2), "day")


def baseline_tree(rev: str, into: Path) -> Path | None:
    """`src/` of REV, for running the old code (PYTHONPATH) against the same files."""
    try:
        data = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100 files for compare, shorter phases")
    ap.add_argument("--baseline", default=BASELINE, help="git revision to compare against")
    ap.add_argument("--repeat", type=int, default=3, help="compare runs of each kind (default 3)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hb-start-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"), "HOLDBEAT_RECORDINGS": str(tmp)}
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; wall-clock seconds")
    try:
        # ------------------------------------------------------------ start-up
        print("\nstart-up (best of 5)")
        t_pass = best([sys.executable, "-c", "pass"])
        t_help = best([*holdbeat(), "--help"], env=env)
        row("python -c pass", f"{t_pass:.3f} s")
        row("holdbeat --help", f"{t_help:.3f} s", f"{t_help / t_pass:.1f}x python (goal <= 6x)")
        rec20 = twenty_minutes(tmp / "r20")
        t_np = best([sys.executable, "-c", "import numpy"])
        t_rep = best([*holdbeat(), "report", str(rec20), "-q"], env=env)
        row('python -c "import numpy"', f"{t_np:.3f} s")
        row(
            "holdbeat report, 20-minute recording",
            f"{t_rep:.3f} s",
            f"{t_rep / t_np:.1f}x import numpy (goal <= 6x)",
        )

        # ------------------------------------------------------------ import vs report, 24 h
        print("\n24 hours of RR (one process each)")
        dayrec = day(tmp / "day")
        run([*holdbeat(), "export", str(dayrec), "--to", "kubios", "-o", str(tmp / "day.txt")])
        t_drep = min(run([*holdbeat(), "report", str(dayrec), "-q"], env) for _ in range(2))
        t_imp = min(
            run(
                [*holdbeat(), "import", str(tmp / "day.txt"), "--from", "rr-txt", "--mode",
                 "soft", "-o", str(tmp / f"imported{i}") + "/", "-q"],
                env,
            )
            for i in range(2)
        )  # fmt: skip
        row("holdbeat report, 24 h", f"{t_drep:.2f} s")
        row(
            "holdbeat import, the same 24 h as RR text",
            f"{t_imp:.2f} s",
            f"{t_imp / t_drep:.2f}x report (goal <= 1x)",
        )

        # ------------------------------------------------------------ compare, one process
        n = 100 if args.quick else 500
        print(f"\ncompare of {n} recordings, one process (--jobs 1, 999 resamples)")
        from holdbeat.sim.sessions import synth_recording, write_recording

        many = tmp / "many"
        for s in range(n):
            write_recording(many, synth_recording("alternating", seed=s), f"s{s}")
        argv = ["compare", str(many), "--jobs", "1", "--quiet", "--resamples", "999"]
        old = baseline_tree(args.baseline, tmp / "baseline")
        # wall-clock on a shared machine varies by 10-20 % run to run: old and new alternate,
        # `--repeat` times, and the ratio is taken of the medians (and of the minima)
        t_old: list[float] = []
        t_cold: list[float] = []
        t_warm: list[float] = []
        t_nocache: list[float] = []
        for r in range(args.repeat):
            if old is not None:
                t_old.append(run([sys.executable, "-m", "holdbeat", *argv],
                                 {**env, "PYTHONPATH": str(old)}))  # fmt: skip
            cache_env = {**env, "XDG_CACHE_HOME": str(tmp / f"cache-{r}")}  # empty: cold
            t_cold.append(run([*holdbeat(), *argv], cache_env))
            t_warm.append(run([*holdbeat(), *argv], cache_env))
            t_nocache.append(run([*holdbeat(), *argv, "--no-cache"], env))
        if not t_old:
            row("baseline", "—", "git archive unavailable (not a git clone?)")
        else:
            row(f"baseline {args.baseline[:9]} (median; min)", f"{median(t_old):.2f} s",
                f"{min(t_old):.2f} s")  # fmt: skip
        for name, ts in (
            ("this code, cache cold (first run)", t_cold),
            ("this code, cache warm (files unchanged)", t_warm),
            ("this code, --no-cache", t_nocache),
        ):
            note = ""
            if t_old:
                note = (f"{median(ts) / median(t_old):.2f}x baseline (min {min(ts):.2f} s: "
                        f"{min(ts) / min(t_old):.2f}x) (goal <= 0.5x)")  # fmt: skip
            row(name, f"{median(ts):.2f} s", note)

        # ------------------------------------------------------------ report vs phase length
        print("\nreport (in process) vs the length of one long hold phase")
        from holdbeat.analysis.prep import prepare
        from holdbeat.analysis.report import ReportConfig, build_report
        from holdbeat.recording import load

        build_report(prepare(load(rec20)), ReportConfig())  # lazy imports paid here, once
        hours = (1, 2, 4) if args.quick else (1, 2, 4, 5, 6, 8, 12)
        last = 0.0
        for h in hours:
            rec = load(long_phase(tmp / "long", h))
            t = time.perf_counter()
            build_report(prepare(rec), ReportConfig())
            dt = time.perf_counter() - t
            beats = len(rec.rr_ms)
            mono = "" if dt >= last * 0.9 else "  <- faster than a shorter one"
            row(f"{h:g} h hold ({beats} beats)", f"{dt:.2f} s", mono)
            last = dt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
