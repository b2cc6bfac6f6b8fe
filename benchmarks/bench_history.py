"""`holdbeat history` over 1,000 recordings: with the digest cache vs without, in one run.

Goal (issue 17): 1,000 recordings in < 1 s with the cache, < 5 s without.

The recordings are real holdbeat/1 files: 12 sessions simulated through the live pipeline
(simulated strap → session runner → recorder: single, loving-kindness, quick,
fierce-then-soft, act-and-savor, boundary-then-held, with markers, ratings, notes and sound
cues), each cloned with its own session id and start date (one a day, ~3 years), so every
file has its own content hash and is digested on its own.

Measured, in process (`load_digests`, what the command calls), best of N:
  * no cache: every file loaded, corrected and digested (process pool, as the command);
  * no cache, one process: the same without extra processes;
  * first run with the cache: the same plus writing the cache;
  * warm cache: every file hashed and found (what each later run costs);
and the whole command in a new process (`holdbeat history DIR --quiet`), warm, which adds
starting Python and importing numpy.

Run: python benchmarks/bench_history.py [--quick]   (--quick: 200 recordings)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from holdbeat.analysis.history import HistoryConfig
from holdbeat.analysis.history_cache import DigestCache
from holdbeat.analysis.history_render import format_history
from holdbeat.commands.history import load_digests
from holdbeat.cues import CueConfig
from holdbeat.events import Device
from holdbeat.pipeline import from_iterable, run_session
from holdbeat.practice import PracticePlan, PracticePlanner
from holdbeat.protocols import load_protocol
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_ACTION_S, beliefs_of, with_beliefs
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.simulator import simulate

QUICK = "--quick" in sys.argv
N = 200 if QUICK else 1000
BASES = [
    ("single", "fierce", "self"),
    ("single", "soft", "future"),
    ("loving-kindness", None, "relational"),
    ("quick", "fierce", "self"),
    ("quick", "loving-kindness", "relational"),
    ("fierce-then-soft", None, "self"),
    ("act-and-savor", None, "self"),
    ("boundary-then-held", None, "relational"),
    ("single", "loving-kindness", "self"),
    ("single", "fierce", "future"),
    ("quick", "soft", "self"),
    ("loving-kindness", None, "relational"),
]


def base_sessions(out: Path) -> list[Path]:
    paths = []
    for seed, (name, mode, target) in enumerate(BASES):
        proto = load_protocol(name)
        single = len(proto.holds) == 1
        proto = with_beliefs(proto, mode=mode if single else None, target=target)
        header = new_header(
            Device(name="sim", address="SIM", source="simulator"),
            protocol=proto.to_dict(),
            beliefs=beliefs_of(proto),
            settings={"window_s": 60.0, "seed": seed},
            practice={"situation": "I feel unlovable after the fight"},
        )
        plan = PracticePlan(note_before="a note before", cues=CueConfig(bell_s=60.0))
        rec = RecorderSink(out)
        asyncio.run(
            run_session(
                from_iterable(simulate(proto, SimConfig(seed=seed))),
                [rec],
                header,
                proto,
                open_phase_s=DEFAULT_ACTION_S,
                planner=PracticePlanner(plan),
            )
        )
        assert rec.path is not None
        paths.append(rec.path)
    return paths


def clone(bases: list[Path], out: Path, n: int) -> list[Path]:
    """n files: the base sessions in turn, each with its own id and date (header only)."""
    texts = [p.read_text("utf-8").split("\n", 1) for p in bases]
    start = datetime(2024, 1, 1, 19, 0, tzinfo=UTC)
    paths = []
    for i in range(n):
        head, rest = texts[i % len(texts)]
        h = json.loads(head)
        when = start + timedelta(days=i)
        h["session_id"] = f"bench-{i:05d}"
        h["started_utc"] = when.isoformat().replace("+00:00", "Z")
        p = out / f"{when:%Y-%m-%d_%H%M%S}_bench-{i:05d}.jsonl"
        p.write_text(json.dumps(h, separators=(",", ":")) + "\n" + rest, "utf-8")
        paths.append(p)
    return paths


def stage_breakdown(files: list[Path], cfg: HistoryConfig) -> dict[str, float]:
    """Where the uncached time goes: reading + rebuilding beats, correction, the digest."""
    from holdbeat.analysis.history import digest
    from holdbeat.analysis.history_cache import file_hash
    from holdbeat.analysis.prep import prepare
    from holdbeat.recording import load

    acc = {"hash": 0.0, "load": 0.0, "correct + rolling": 0.0, "digest": 0.0}
    for f in files:
        t0 = time.perf_counter()
        file_hash(f)
        t1 = time.perf_counter()
        rec = load(f)
        t2 = time.perf_counter()
        prep = prepare(rec, window_s=cfg.window_s)
        t3 = time.perf_counter()
        digest(prep, cfg)
        t4 = time.perf_counter()
        for k, dt in zip(acc, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            acc[k] += dt / len(files)
    return acc


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    cfg = HistoryConfig()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        (tmp_p / "base").mkdir()
        (tmp_p / "recs").mkdir()
        t = time.perf_counter()
        files = clone(base_sessions(tmp_p / "base"), tmp_p / "recs", N)
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        print(
            f"{N} recordings ({size_mb:.0f} MB, 4–16 min sessions) made in "
            f"{time.perf_counter() - t:.1f} s"
        )
        no_cache, res = best(lambda: load_digests(files, cfg, DigestCache(None, cfg.key())), 2)
        assert len(res.digests) == N and not res.errors, res.errors[:3]
        one_proc, _ = best(
            lambda: load_digests(files, cfg, DigestCache(None, cfg.key()), jobs=1), 1
        )
        cache_dir = tmp_p / "cache"

        def first_run():
            import shutil

            shutil.rmtree(cache_dir, ignore_errors=True)
            c = DigestCache(cache_dir, cfg.key())
            r = load_digests(files, cfg, c)
            c.save()
            return r

        cold, _ = best(first_run, 1)

        def warm_run():
            c = DigestCache(cache_dir, cfg.key())
            r = load_digests(files, cfg, c)
            text = format_history(sorted(r.digests, key=lambda d: d.started_utc))
            return r, text

        warm, (res_w, _) = best(warm_run, 5)
        assert res_w.hits == N and res_w.misses == 0
        stages = stage_breakdown(files[:60], cfg)
        cmd = [sys.executable, "-m", "holdbeat", "history", str(tmp_p / "recs")]
        cmd += ["--cache", str(cache_dir), "--quiet"]
        cli, proc = best(lambda: subprocess.run(cmd, capture_output=True, text=True), 3)
        assert proc.returncode == 0, proc.stderr
    print()
    print(f"{'history over ' + str(N) + ' recordings':<52} {'seconds':>8}  goal")
    print(f"{'no cache (load + correct + digest, process pool)':<52} {no_cache:8.2f}  < 5 s")
    print(f"{'no cache, one process':<52} {one_proc:8.2f}")
    print(f"{'first run with the cache (digest + write cache)':<52} {cold:8.2f}")
    print(f"{'warm cache (hash each file, read cache, table)':<52} {warm:8.3f}  < 1 s")
    print(f"{'whole command, new process, warm cache':<52} {cli:8.2f}")
    print()
    print(
        f"cache speed-up: {no_cache / warm:.0f}x over no cache (process pool), "
        f"{one_proc / warm:.0f}x over one process"
    )
    print(
        f"per recording: {1e3 * no_cache / N:.1f} ms without the cache, "
        f"{1e3 * warm / N:.2f} ms with it"
    )
    total = sum(stages.values())
    parts = [f"{k} {1e3 * v:.1f} ms ({100 * v / total:.0f} %)" for k, v in stages.items()]
    print("without the cache, one recording (one process, mean of 60): " + ", ".join(parts))


if __name__ == "__main__":
    main()
