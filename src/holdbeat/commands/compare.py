"""`holdbeat compare PATHS...`: cross-session, cross-mode statistics, CSV/JSON and a figure."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from holdbeat import log
from holdbeat.analysis.io import output_arg
from holdbeat.commands._files import (
    add_figure_flag,
    add_json_flag,
    refuse_outputs,
    refuse_unreadable,
    write_outputs,
)
from holdbeat.commands._types import non_negative_float
from holdbeat.commands.report import add_catchup_flags

if TYPE_CHECKING:
    from holdbeat.analysis.compare import CompareConfig, SessionSummary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare modes across many recordings (bootstrap CIs, effect sizes, figures)",
        description="Pool the holds of many recordings by mode (fierce, soft, loving-kindness): "
        "per mode n, mean, median and bootstrap 95 % CI of the per-hold change from baseline; "
        "pairwise mode differences with CI, Hedges' g and a permutation p-value; paired "
        "contrasts within sessions that hold several modes; event-locked mean trajectories. "
        "Low-quality (> 5 % corrected beats), too-short and baseline-less holds are excluded "
        "and listed with the reason. Definitions: docs/analysis.md.",
        epilog="exit codes: 0 ok, 1 could not write an output, 2 bad arguments or an "
        "unreadable recording (named; --skip-bad continues without it)",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="recordings or folders, or names/dates in the recordings folder (2026-03 = every "
        "recording of March 2026); default: every recording in the recordings folder",
    )
    p.add_argument(
        "--by",
        choices=("mode", "target", "mode,target"),
        default="mode",
        help="group holds by mode (default), by target (self, future, relational), or both",
    )
    p.add_argument(
        "--metric",
        choices=("dlnrmssd", "dhr", "drmssd", "latency", "dbelief", "dsafety", "lapse_dln"),
        default="dlnrmssd",
        help="what to compare: Δ ln RMSSD (default), Δ HR, Δ RMSSD, catch-up latency, the "
        "belief / felt-safety rating change, or the ln RMSSD change after lapses (rating "
        "change and lapse response are also shown next to any metric)",
    )
    p.add_argument("--csv", type=output_arg, metavar="PATH", help="write one row per hold as CSV")
    add_figure_flag(p)
    add_json_flag(p)
    p.add_argument(
        "--include-low-quality",
        action="store_true",
        help="keep holds/baselines with more than 5 %% corrected beats",
    )
    p.add_argument(
        "--min-hold",
        type=non_negative_float,
        default=60.0,
        metavar="S",
        help="exclude holds shorter than S seconds (default 60)",
    )
    add_catchup_flags(p)
    p.add_argument(
        "--seed", type=int, default=0, help="seed for bootstrap/permutations (default 0)"
    )
    p.add_argument(
        "--resamples",
        type=int,
        default=9999,
        metavar="N",
        help="bootstrap / permutation resamples (default 9999)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes for loading (default: up to 4, by CPU count; 1 = no extra processes)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the summary cache (user cache folder, owner-only; "
        "unchanged recordings are not re-analysed: docs/analysis.md)",
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip unreadable files (listed) instead of stopping with exit code 2",
    )
    p.set_defaults(func=run)


def _summarize_file(job: tuple[Path, CompareConfig, bool]) -> SessionSummary | str:
    """Worker: load + prepare + summarize one file (or take it from the summary cache); an
    error becomes its message. The file is read once: the cache key is the hash of the very
    bytes summarised (a recording still being written grows in between)."""
    import io

    from holdbeat.analysis import cache
    from holdbeat.analysis.compare import SessionSummary, summarize
    from holdbeat.analysis.prep import prepare
    from holdbeat.inputs import open_regular
    from holdbeat.recording import RecordingError, load_stream

    path, cfg, use_cache = job
    k = None
    try:
        with open_regular(Path(path), "holdbeat recording", RecordingError) as f:
            if use_cache:
                try:
                    data = f.read()
                except OSError as e:
                    raise RecordingError(f"{path}: cannot read: {e.strerror or e}") from None
                k = cache.key(path, data, cfg)
                hit = cache.get(k, kind=SessionSummary)
                if hit is not None:
                    log.debug("%s: summary from the cache", path)
                    return hit  # type: ignore[return-value]
                rec = load_stream(Path(path), io.BytesIO(data))
            else:
                rec = load_stream(Path(path), f)
    except RecordingError as e:
        return str(e)
    summary = summarize(prepare(rec, window_s=cfg.window_s), cfg)
    if k is not None:
        cache.put(k, summary)
    return summary


def load_summaries(
    files: list[Path], cfg: CompareConfig, jobs: int, quiet: bool = False, use_cache: bool = False
) -> tuple[list[SessionSummary], list[str]]:
    """Summaries in file order and error messages; a tqdm bar on stderr while it works."""
    from tqdm import tqdm

    jobs_n = jobs or min(4, os.cpu_count() or 1)
    work = [(f, cfg, use_cache) for f in files]
    bar = dict(
        total=len(files),
        desc="loading",
        unit="file",
        file=sys.stderr,
        disable=True if quiet else None,
    )
    if jobs_n > 1 and len(files) >= 8:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs_n) as ex:
            results = list(tqdm(ex.map(_summarize_file, work, chunksize=4), **bar))
    else:
        results = [_summarize_file(w) for w in tqdm(work, **bar)]
    sums = [r for r in results if not isinstance(r, str)]
    errors = [r for r in results if isinstance(r, str)]
    if use_cache:
        from holdbeat.analysis import cache

        gone = cache.prune()
        if gone:
            log.info("%d summaries unused for 90 days removed from the cache", gone)
    return sums, errors


def run(args: argparse.Namespace) -> int:
    from holdbeat.analysis.compare import CompareConfig, compare
    from holdbeat.analysis.compare_render import (
        CSV_COLS,
        comparison_csv_rows,
        comparison_to_dict,
        format_comparison,
    )
    from holdbeat.analysis.io import (
        find_recordings,
        write_csv,
        write_json,
    )
    from holdbeat.safe_text import for_terminal as shown

    if args.resamples < 99:
        print("holdbeat: --resamples must be at least 99", file=sys.stderr)
        return 2
    from holdbeat.home import HomeError, folders_with_recordings, resolve_many

    try:
        if args.paths:
            named, errors = resolve_many(args.paths)
        else:  # every recording in the recordings folder (and an old ./recordings/)
            named, dirs = folders_with_recordings()
            errors = []
            if not named:
                where = " or ".join(shown(d) for d in dirs)
                print(f"holdbeat: no recordings in {where}; give files or folders", file=sys.stderr)
                return 2
    except HomeError as e:
        from holdbeat.safe_text import for_terminal_lines

        print(f"holdbeat: {for_terminal_lines(e)}", file=sys.stderr)
        return 2
    files, missing = find_recordings(named)
    log.info("%d recordings found in %s", len(files), ", ".join(map(str, named)) or "-")
    errors += missing
    if refuse_outputs([args.png, args.json, args.csv], files, figure=args.png):
        return 2  # before any work: nothing is written
    cfg = CompareConfig(
        metric=args.metric,
        include_low_quality=args.include_low_quality,
        min_hold_s=args.min_hold,
        window_s=args.window,
        k=args.k,
        dwell_s=args.dwell,
        n_resamples=args.resamples,
        seed=args.seed,
        by=args.by,
        reference=args.reference,
    )
    sums, bad = load_summaries(
        files, cfg, args.jobs, getattr(args, "quiet", False), not getattr(args, "no_cache", True)
    )
    errors += bad
    if refuse_unreadable(errors, args.skip_bad, shown):
        return 2
    if not sums:
        print("holdbeat: no readable recordings to compare", file=sys.stderr)
        return 2
    log.info(
        "statistics over %d sessions (%d resamples, seed %d)", len(sums), cfg.n_resamples, cfg.seed
    )
    cmp = compare(sums, cfg)
    if not getattr(args, "quiet", False):
        from holdbeat.printing import emit
        from holdbeat.termtable import fit_text

        emit(fit_text(format_comparison(cmp)))
        if errors:
            emit(f"\nSKIPPED FILES ({len(errors)})\n" + "\n".join(f"  {shown(e)}" for e in errors))

    def json_out(path: Path) -> None:
        d = comparison_to_dict(cmp)
        d["skipped_files"] = errors
        write_json(path, d, files)

    def figure_out(path: Path) -> None:
        from holdbeat.analysis.compare_figure import compare_figure
        from holdbeat.analysis.figures import save

        save(compare_figure(cmp), path, files)

    return write_outputs(
        [
            (args.json, json_out),
            (args.csv, lambda path: write_csv(path, CSV_COLS, comparison_csv_rows(cmp), files)),
            (args.png, figure_out),
        ]
    )
