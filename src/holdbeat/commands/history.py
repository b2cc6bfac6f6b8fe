"""`holdbeat history [PATH …]`: every session, one row each, and trends over weeks."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from holdbeat.analysis.io import output_arg
from holdbeat.commands._files import refuse_unreadable
from holdbeat.printing import emit

if TYPE_CHECKING:
    from holdbeat.analysis.history import HistoryConfig, SessionDigest
    from holdbeat.analysis.history_cache import DigestCache


def register(sub: argparse._SubParsersAction) -> None:
    from holdbeat.commands.report import add_catchup_flags

    p = sub.add_parser(
        "history",
        help="every session, one row each, and trends over weeks (table, CSV, JSON, PNG)",
        description="The practice over weeks: one row per recording (date, protocol, modes, "
        "targets, per-hold Δ ln RMSSD and Δ HR, catch-up, time held vs lapsed, lapses, "
        "ratings, the situation, notes and action) and weekly trends per mode and per target. "
        "Each recording is summarised once and cached by its content, so years of sessions "
        "stay fast. Definitions: docs/history.md.",
        epilog="exit codes: 0 ok, 1 could not write an output, 2 bad arguments or an "
        "unreadable recording (named; --skip-bad continues without it)",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="recordings or folders (default: the recordings folder)",
    )
    p.add_argument("--csv", type=output_arg, metavar="PATH", help="one row per hold as CSV")
    p.add_argument(
        "--json", type=output_arg, metavar="PATH", help="every session and trend as JSON"
    )
    from holdbeat.commands._files import add_figure_flag

    add_figure_flag(p)  # trends over weeks; PNG, SVG or PDF by the extension, checked first
    p.add_argument("--trends", action="store_true", help="also print the weekly trend tables")
    p.add_argument(
        "--brief", action="store_true", help="the table only, without situations and notes"
    )
    p.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="where the per-recording summaries are kept (default: your cache folder)",
    )
    p.add_argument("--no-cache", action="store_true", help="summarise every recording afresh")
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes for recordings not in the cache (default: up to 4; 1 = none extra)",
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip unreadable files (listed) instead of stopping with exit code 2",
    )
    add_catchup_flags(p, reference=False)
    p.add_argument("--quiet", action="store_true", help="no table on the terminal")
    p.set_defaults(func=run)


@dataclass
class Loaded:
    digests: list[SessionDigest]
    errors: list[str]
    hits: int = 0
    misses: int = 0
    notes: list[str] = field(default_factory=list)


def _digest_file(job: tuple[Path, HistoryConfig]) -> dict | str:
    """Worker: load + prepare + digest one file -> its dict, or the error message."""
    from holdbeat.analysis.history import digest, digest_to_dict
    from holdbeat.analysis.prep import prepare
    from holdbeat.recording import RecordingError, load

    path, cfg = job
    try:
        rec = load(path)
    except RecordingError as e:
        return str(e)
    return digest_to_dict(digest(prepare(rec, window_s=cfg.window_s), cfg))


def load_digests(
    files: list[Path], cfg: HistoryConfig, cache: DigestCache, jobs: int = 0
) -> Loaded:
    """Digests in file order: from the cache by content hash, else computed (and cached)."""
    from holdbeat.analysis.history import digest_from_dict
    from holdbeat.analysis.history_cache import file_hash
    from holdbeat.recording import RecordingError

    out: list[dict | str | None] = [None] * len(files)
    todo: list[tuple[int, str]] = []
    res = Loaded([], [])
    for i, f in enumerate(files):
        try:
            h = file_hash(f)
        except RecordingError as e:
            out[i] = str(e)
            continue
        except OSError as e:
            out[i] = f"{f}: cannot read: {e.strerror or e}"
            continue
        hit = cache.get(h)
        if hit is not None and hit.get("file") == str(f):
            out[i] = hit
            res.hits += 1
        elif hit is not None:  # the same content under another name: moved or copied
            out[i] = {**hit, "file": str(f)}
            res.hits += 1
        else:
            todo.append((i, h))
    res.misses = len(todo)
    if todo:
        work = [(files[i], cfg) for i, _ in todo]
        jobs_n = jobs or min(4, os.cpu_count() or 1)
        if jobs_n > 1 and len(work) >= 8:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(jobs_n) as ex:
                done = list(ex.map(_digest_file, work, chunksize=8))
        else:
            done = [_digest_file(w) for w in work]
        for (i, h), d in zip(todo, done, strict=True):
            out[i] = d
            if isinstance(d, dict):
                cache.put(h, d)
    for i, d in enumerate(out):
        if isinstance(d, str):
            res.errors.append(d)
            continue
        try:
            res.digests.append(digest_from_dict(d))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, AttributeError):  # damaged entry: recompute
            fresh = _digest_file((files[i], cfg))
            if isinstance(fresh, str):
                res.errors.append(fresh)
            else:
                res.digests.append(digest_from_dict(fresh))
    return res


def run(args: argparse.Namespace) -> int:
    from holdbeat.analysis.history import HistoryConfig
    from holdbeat.analysis.history_cache import DigestCache, default_cache_dir
    from holdbeat.analysis.history_render import (
        CSV_COLS,
        format_history,
        format_trends,
        history_csv_rows,
        history_to_dict,
    )
    from holdbeat.analysis.io import (
        find_recordings,
        write_csv,
        write_json,
    )
    from holdbeat.commands._files import refuse_outputs, write_outputs
    from holdbeat.home import folders_with_recordings
    from holdbeat.textout import clean

    # the recordings folder, and ./recordings/ where older versions wrote (holdbeat.home)
    paths = args.paths
    if not paths:
        paths, looked = folders_with_recordings()
        if not paths:
            where = " or ".join(f"{clean(str(d))}/" for d in looked)
            print(
                f"holdbeat: no recordings yet in {where} — record a session with "
                "`holdbeat demo` or `holdbeat hold`, or give the folder: holdbeat history PATH",
                file=sys.stderr,
            )
            return 2
    files, errors = find_recordings(paths)
    if refuse_outputs([args.png, args.json, args.csv], files, figure=args.png, render=clean):
        return 2
    if args.jobs < 0:
        print("holdbeat: --jobs must be 0 (automatic) or more", file=sys.stderr)
        return 2
    cfg = HistoryConfig(window_s=args.window, k=args.k, dwell_s=args.dwell)
    cache_dir = None if args.no_cache else (args.cache or default_cache_dir())
    cache = DigestCache(cache_dir, cfg.key())
    loaded = load_digests(files, cfg, cache, args.jobs)
    cache.save()
    for note in (cache.note, *loaded.notes):
        if note:
            print(f"holdbeat: {clean(note)}", file=sys.stderr)
    errors += loaded.errors
    if refuse_unreadable(errors, args.skip_bad, clean):
        return 2
    digests = sorted(loaded.digests, key=lambda d: (d.started_utc, d.file))
    if not digests:
        print("holdbeat: no readable recordings", file=sys.stderr)
        return 2
    if not args.quiet:
        emit(format_history(digests, details=not args.brief))  # a dead stdout: files still
        if args.trends:  # written
            emit(format_trends(digests))

    def figure_out(path: Path) -> None:
        from holdbeat.analysis.figures import save
        from holdbeat.analysis.history_figure import history_figure

        save(history_figure(digests), path)

    return write_outputs(
        [
            (args.json, lambda path: write_json(path, history_to_dict(digests, errors))),
            (args.csv, lambda path: write_csv(path, CSV_COLS, history_csv_rows(digests))),
            (args.png, figure_out),
        ],
        render=clean,
    )
