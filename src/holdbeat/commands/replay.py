"""`holdbeat replay FILE`: feed a recording's raw bytes through the live pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from holdbeat import log
from holdbeat.commands._run_plan import run_plan_cli
from holdbeat.commands._session_args import add_speed_flag, add_view_flags, view_settings
from holdbeat.home import RECORDING_HELP, recording_arg
from holdbeat.pipeline import SessionClock, paced
from holdbeat.printing import say
from holdbeat.recording import RecordingError, load
from holdbeat.recording_writer import new_header
from holdbeat.runner import SessionPlan
from holdbeat.session import protocol_from_dict
from holdbeat.sources.replay import replay_events


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recording through the live pipeline",
        description="Replay a recording: its raw notifications go through the same parser, beat "
        "timing, artifact flags and metrics as a live strap. Nothing is recorded unless --record.",
    )
    p.add_argument("file", type=recording_arg, help=RECORDING_HELP)
    add_speed_flag(p)
    p.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="also write the replayed session to a new file in DIR",
    )
    add_view_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        log.info("loading %s", args.file)
        rec = load(args.file)
    except RecordingError as e:
        say(f"holdbeat: {e}", sys.stderr)
        return 2
    for w in rec.warnings:
        say(f"warning: {args.file}: {w}", sys.stderr)
    protocol = (
        protocol_from_dict(rec.header.protocol) if rec.header.protocol.get("phases") else None
    )
    header = new_header(
        rec.header.device,
        protocol=rec.header.protocol,
        beliefs=rec.header.beliefs,
        settings={
            **rec.header.settings,
            "replay_of": rec.header.session_id,
            "window_s": args.window,
        },
    )
    clock = None if args.speed is None else SessionClock(args.speed)
    events = replay_events(rec)
    plan = SessionPlan(
        make_source=lambda: paced(events, clock),
        header=header,
        protocol=protocol,
        out_dir=args.record,
        clock=clock,
        **view_settings(args),
        schedule_phases=False,
        interactive=False,
        label="replay",
        source_end=rec.end,
    )
    return run_plan_cli(plan)
