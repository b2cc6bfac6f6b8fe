"""`holdbeat demo`: a full session on the built-in simulated strap — no hardware needed."""

from __future__ import annotations

import argparse
import sys

from holdbeat.commands._practice import audio_sinks, planner_for, practice_header
from holdbeat.commands._run_plan import run_plan_cli
from holdbeat.commands._session_args import (
    add_session_flags,
    add_speed_flag,
    add_view_flags,
    protocol_or_exit,
    reference_setting,
    view_settings,
)
from holdbeat.commands._types import iso_datetime
from holdbeat.events import Device
from holdbeat.output import OutputError
from holdbeat.pipeline import SessionClock, paced
from holdbeat.recording_writer import new_header
from holdbeat.runner import SessionPlan
from holdbeat.safe_text import for_terminal
from holdbeat.session import DEFAULT_ACTION_S, beliefs_of
from holdbeat.sim.body import CLEAR_RESPONSES, SimConfig
from holdbeat.sources.simulator import simulate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run a session on the simulated strap (no hardware)",
        description="Run a protocol on the built-in simulated strap and record it. "
        "The simulated body "
        "responds to each hold's mode with a lag, so you can see catch-up without a strap.",
    )
    add_session_flags(p)
    add_view_flags(p)
    add_speed_flag(p)
    p.add_argument("--seed", type=int, default=0, help="simulator seed (same seed, same session)")
    p.add_argument(
        "--artifacts",
        type=float,
        default=0.01,
        metavar="RATE",
        help="artifact rate per beat (default 0.01)",
    )
    p.add_argument(
        "--no-markers", action="store_true", help="the simulated person presses no marker keys"
    )
    p.add_argument(
        "--start",
        type=iso_datetime,
        metavar="ISO",
        help="when the simulated session started, e.g. 2026-03-02T19:30 (local) or …Z (UTC); "
        "default now. Spreads simulated sessions over days and weeks for `history`",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    protocol = protocol_or_exit(args)
    if isinstance(protocol, int):
        return protocol
    if not 0 <= args.artifacts <= 0.5:
        print("holdbeat: --artifacts must be between 0 and 0.5", file=sys.stderr)
        return 2
    try:
        planner = planner_for(args)
    except ValueError as e:
        print(f"holdbeat: {e}", file=sys.stderr)
        return 2
    # The demo's body responds clearly (CLEAR_RESPONSES): the band is calibrated on real
    # resting hearts, and the modest default effects would rarely show a catch-up.
    cfg = SimConfig(
        seed=args.seed,
        artifact_rate=args.artifacts,
        markers=not args.no_markers,
        action_plan=not args.action,  # the action given on the command line is the plan
        responses=dict(CLEAR_RESPONSES),
    )
    header = new_header(
        Device(
            name="holdbeat simulated strap",
            address="SIM-0001",
            source="simulator",
            body_location="chest",
            battery_percent=cfg.battery_percent,
            manufacturer="holdbeat",
            model="simulator",
        ),
        protocol=protocol.to_dict(),
        beliefs=beliefs_of(protocol),
        settings={
            "window_s": args.window,
            "seed": args.seed,
            "artifact_rate": args.artifacts,
            "speed": "max" if args.speed is None else args.speed,
            **reference_setting(args),
        },
        started=args.start,
        practice=practice_header(args, protocol),
    )
    clock = None if args.speed is None else SessionClock(args.speed)
    try:
        sounds = audio_sinks(args)
    except OutputError as e:  # --cues-wav aimed at a recording, a device...
        print(f"holdbeat: --cues-wav: {for_terminal(e)}", file=sys.stderr)
        return 2
    plan = SessionPlan(
        make_source=lambda: paced(simulate(protocol, cfg), clock),
        header=header,
        protocol=protocol,
        out_dir=args.out,
        clock=clock,
        **view_settings(args),
        open_phase_s=DEFAULT_ACTION_S,
        planner=planner,
        extra_sinks=sounds,
    )
    return run_plan_cli(plan)
