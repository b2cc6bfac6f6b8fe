"""`holdbeat report FILE`: per-phase HRV and quality, per-hold catch-up, a PNG figure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from holdbeat import log
from holdbeat.analysis.baseline_band import DEFAULT_K
from holdbeat.analysis.catchup import DEFAULT_DWELL_S, DIRECTIONS
from holdbeat.analysis.io import output_arg
from holdbeat.commands._files import add_figure_flag, add_json_flag, refuse_outputs, write_outputs
from holdbeat.commands._types import non_negative_float, positive_float
from holdbeat.home import RECORDING_HELP, recording_arg

DIRECTION_HELP = "METRIC:MODE=up|down|both"


def direction(value: str) -> tuple[str, str, str]:
    """'ln_rmssd:fierce=up' -> ('ln_rmssd', 'fierce', 'up')."""
    from holdbeat.analysis.report import METRIC_LABELS
    from holdbeat.session import MODES

    try:
        left, d = value.split("=", 1)
        metric, mode = left.split(":", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {DIRECTION_HELP}, e.g. hr:fierce=up; got {value!r}"
        ) from None
    if metric not in METRIC_LABELS:
        raise argparse.ArgumentTypeError(f"metric must be one of {', '.join(METRIC_LABELS)}")
    if mode not in MODES:
        raise argparse.ArgumentTypeError(f"mode must be one of {', '.join(MODES)}")
    if d not in DIRECTIONS:
        raise argparse.ArgumentTypeError(f"direction must be one of {', '.join(DIRECTIONS)}")
    return metric, mode, d


def add_catchup_flags(p: argparse.ArgumentParser, reference: bool = True) -> None:
    p.add_argument(
        "--k",
        type=positive_float,
        default=DEFAULT_K,
        help=f"baseline band = mean ± k·SD (default {DEFAULT_K:g})",
    )
    p.add_argument(
        "--dwell",
        type=non_negative_float,
        default=DEFAULT_DWELL_S,
        metavar="S",
        help=f"seconds the metric must stay out of the band (default {DEFAULT_DWELL_S:g})",
    )
    p.add_argument(
        "--window",
        type=positive_float,
        default=60.0,
        metavar="S",
        help="rolling window for HR / ln RMSSD trajectories in seconds (default 60, as live)",
    )
    if reference:  # (history follows what each session used live)
        from holdbeat.commands._session_args import add_reference_flag

        add_reference_flag(p, "each hold's band: from the baseline, or the rest just before "
                           "the hold (default: what the session used live)")  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="per-phase HRV, catch-up latencies, quality and a PNG figure for one recording",
        description="Report one recording: per phase duration, beats, corrected share and "
        "quality, HR, RMSSD, ln RMSSD, SDNN, HF/LF power and deltas from baseline; per hold the "
        "catch-up latency (leaves the baseline band in the expected direction and stays out), a "
        "time constant with its fit quality, lapses and the body-before-emotion lead. Every "
        "number is defined in docs/analysis.md.",
        epilog="exit codes: 0 ok, 1 could not write an output, 2 bad arguments or unreadable "
        "recording",
    )
    p.add_argument("file", type=recording_arg, help=RECORDING_HELP)
    add_figure_flag(p)
    add_json_flag(p)
    p.add_argument("--csv", type=output_arg, metavar="PATH", help="write the phase table as CSV")
    p.add_argument(
        "--metric",
        choices=("ln_rmssd", "hr", "rmssd", "sdnn"),
        default="ln_rmssd",
        help="primary catch-up metric (default ln_rmssd; HR is always reported too)",
    )
    p.add_argument(
        "--direction",
        type=direction,
        action="append",
        default=[],
        metavar=DIRECTION_HELP,
        help="override an expected direction, e.g. hr:fierce=up (repeatable)",
    )
    add_catchup_flags(p)
    p.add_argument(
        "--no-frequency",
        action="store_true",
        help="skip HF/LF power (RR resampling and a Welch spectrum per phase)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="add neurokit2's complete HRV index set per phase (hrv_time, hrv_frequency, "
        "hrv_nonlinear on the same corrected beats, with neurokit2's version) to --json and "
        "--csv; slow: seconds per phase",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holdbeat.analysis.io import write_csv, write_json
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.analysis.report_render import format_text, report_csv_rows, report_to_dict
    from holdbeat.recording import RecordingError, load
    from holdbeat.safe_text import for_terminal as shown

    if refuse_outputs([args.png, args.json, args.csv], [args.file], figure=args.png):
        return 2  # before any work: nothing is written
    try:
        log.info("loading %s", args.file)
        rec = load(args.file)
    except RecordingError as e:
        print(f"holdbeat: {shown(e)}", file=sys.stderr)
        return 2

    overrides: dict[str, dict[str, str]] = {}
    for metric, mode, d in args.direction:
        overrides.setdefault(metric, {})[mode] = d
    metrics = (args.metric, *(m for m in ("ln_rmssd", "hr") if m != args.metric))
    cfg = ReportConfig(
        metrics=metrics,
        k=args.k,
        dwell_s=args.dwell,
        window_s=args.window,
        directions=overrides or None,
        frequency=not args.no_frequency,
        reference=args.reference,
    )
    log.info(
        "%d beats, %d phases; correcting artifacts and computing rolling %g s metrics",
        len(rec.rr_ms),
        len(rec.phases),
        args.window,
    )
    prep = prepare(rec, window_s=args.window)
    log.info("per-phase HRV, baseline bands, catch-ups (k %g, dwell %g s)", args.k, args.dwell)
    rep = build_report(prep, cfg)
    if not getattr(args, "quiet", False):
        from holdbeat.printing import emit
        from holdbeat.termtable import fit_text

        emit(fit_text(format_text(rep)))
    full = None
    if args.full:
        from holdbeat.analysis.nkfull import full_indices

        log.info("neurokit2: hrv_time, hrv_frequency, hrv_nonlinear for %d phases", len(rec.phases))
        full = full_indices(prep)
        if not getattr(args, "quiet", False):
            n = len(full.columns())
            where = " and ".join(shown(x) for x in (args.json, args.csv) if x) or "nowhere"
            emit(f"\nneurokit2 {full.version}: {n} indices per phase, written to {where}")
            if not (args.json or args.csv):
                emit("  (give --json and/or --csv to keep them)")
    inputs = [args.file]

    def json_out(path: Path) -> None:
        d = report_to_dict(rep)
        if full is not None:
            from holdbeat.analysis.nkfull import to_dict

            d["neurokit2"] = to_dict(full)
        log.info("writing %s", path)
        write_json(path, d, inputs)

    def csv_out(path: Path) -> None:
        cols, rows = report_csv_rows(rep)
        if full is not None:
            from holdbeat.analysis.nkfull import csv_columns

            extra, by_index = csv_columns(full)
            cols = cols + extra
            blank = [""] * len(extra)
            rows = [
                r + by_index.get(ph.index, blank) for r, ph in zip(rows, rep.phases, strict=True)
            ]
        log.info("writing %s", path)
        write_csv(path, cols, rows, inputs=inputs)

    def figure_out(path: Path) -> None:
        from holdbeat.analysis.figures import save
        from holdbeat.analysis.report_figure import report_figure

        log.info("drawing the figure into %s", path)
        save(report_figure(rep, prep), path, inputs)

    return write_outputs([(args.json, json_out), (args.csv, csv_out), (args.png, figure_out)])
