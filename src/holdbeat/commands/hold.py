"""`holdbeat hold`: run a protocol on your strap — live view, recording, markers by key.

The same session as `demo` (same flags, same pipeline and sinks) with the Bluetooth
strap as the source. The strap connects inside the session's event loop (the plan's
`prepare` step), so its details go into the recording header. If the link drops the
session keeps its clock, records the gap and reconnects; when the strap does not come
back within --reconnect-deadline the session ends, saved, with exit code 3.
"""

from __future__ import annotations

import argparse
import sys

from holdbeat.commands._practice import audio_sinks, cue_config, planner_for, practice_header
from holdbeat.commands._run_plan import run_plan_cli
from holdbeat.commands._session_args import (
    add_session_flags,
    add_view_flags,
    protocol_or_exit,
    reference_setting,
    view_settings,
)
from holdbeat.commands._types import positive_float
from holdbeat.events import Device, End
from holdbeat.output import OutputError
from holdbeat.pipeline import SessionClock
from holdbeat.printing import say, say_lines
from holdbeat.recording_writer import new_header
from holdbeat.runner import SessionPlan
from holdbeat.session import Protocol, beliefs_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hold",
        help="run a protocol on your heart-rate strap: live view, recording, markers by key",
        description="Connect to a Bluetooth LE heart-rate strap (any standard strap: the "
        "Heart Rate Service 0x180D) and run a protocol: live HR/HRV, every notification "
        "recorded. Without --device the only strap in range is used. If the link drops, the "
        "gap is recorded and holdbeat reconnects. Exit code 3: no strap or a Bluetooth "
        "problem (the message says what to do); 130: interrupted (Ctrl-C).",
    )
    add_session_flags(p)
    add_view_flags(p)
    g = p.add_argument_group("strap")
    g.add_argument(
        "--device",
        metavar="ADDRESS|NAME",
        help="the strap to use (see `holdbeat scan`); default: the only strap in range",
    )
    g.add_argument(
        "--scan-timeout",
        type=positive_float,
        default=10.0,
        metavar="S",
        help="look for the strap for S seconds (default 10)",
    )
    g.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=20.0,
        metavar="S",
        help="give up connecting after S seconds (default 20)",
    )
    g.add_argument(
        "--reconnect-deadline",
        type=positive_float,
        default=300.0,
        metavar="S",
        help="end the session when a lost strap is not back within S seconds (default 300)",
    )
    g.add_argument(
        "--adapter", metavar="hciN", help="Bluetooth adapter (Linux; default: first powered)"
    )
    p.set_defaults(func=run)


class EndWatch:
    """A sink that keeps the session's End, to choose the exit code."""

    def __init__(self) -> None:
        self.end: End | None = None

    def start(self, header, protocol) -> None:
        pass

    def handle(self, ev, processed) -> None:
        pass

    def finish(self, end: End) -> None:
        self.end = end


def strap_config(args: argparse.Namespace):  # -> StrapConfig
    from holdbeat.sources.strap_policy import StrapConfig

    return StrapConfig(
        device=args.device,
        scan_s=args.scan_timeout,
        connect_timeout_s=args.connect_timeout,
        reconnect_deadline_s=args.reconnect_deadline,
        adapter=args.adapter,
    )


def build_plan(args: argparse.Namespace, protocol: Protocol, source) -> SessionPlan:
    """The session plan; `prepare` connects `source` (a StrapSource) and fills the header."""
    from holdbeat.sources.strap_errors import describe

    settings = {
        "window_s": args.window,
        "reconnect_deadline_s": args.reconnect_deadline,
        **reference_setting(args),
    }

    async def prepare(plan: SessionPlan) -> None:
        want = f" {args.device!r}" if args.device else ""
        say(f"looking for your strap{want} (up to {args.scan_timeout:g} s)...", sys.stderr)
        device = await source.connect()
        try:
            extras = [
                f"battery {device.battery_percent}%" if device.battery_percent is not None else "",
                f"worn on the {device.body_location}" if device.body_location else "",
            ]
            extra = ", ".join(x for x in extras if x)
            say(  # the name comes from the strap's advertisement: shown, never obeyed
                f"connected: {describe(device.name, device.address)}"
                + (f" ({extra})" if extra else ""),
                sys.stderr,
            )
            plan.header = new_header(
                device,
                protocol=protocol.to_dict(),
                beliefs=beliefs_of(protocol),
                settings=settings,
                practice=practice_header(args, protocol),
            )
            clock = SessionClock()  # t = 0: the session starts now, after connecting
            plan.clock = clock
            source.clock = clock.now_s
        except BaseException:  # e.g. the window closed right now: don't leave it connected
            await source.aclose()
            raise

    return SessionPlan(
        make_source=lambda: source,
        header=new_header(Device(source="strap"), protocol=protocol.to_dict()),  # replaced
        protocol=protocol,
        out_dir=args.out,
        clock=None,  # set by prepare
        **view_settings(args),
        prepare=prepare,
        extra_sinks=[EndWatch(), *audio_sinks(args)],
        planner=planner_for(args),
    )


def run(args: argparse.Namespace) -> int:
    from holdbeat.sources.strap import StrapSource
    from holdbeat.sources.strap_errors import EXIT_BLUETOOTH, StrapError

    protocol = protocol_or_exit(args)
    if isinstance(protocol, int):
        return protocol
    try:
        cue_config(args)
        source = StrapSource(strap_config(args))
    except ValueError as e:
        say(f"holdbeat: {e}", sys.stderr)
        return 2
    try:
        plan = build_plan(args, protocol, source)
    except OutputError as e:  # --cues-wav aimed at a recording, a device...
        say(f"holdbeat: --cues-wav: {e}", sys.stderr)
        return 2
    try:
        code = run_plan_cli(plan)
    except StrapError as e:
        say_lines(f"holdbeat: {e}", sys.stderr)  # its hint on a line of its own
        return EXIT_BLUETOOTH
    watch = next((s for s in plan.extra_sinks if isinstance(s, EndWatch)), None)
    end = watch.end if watch is not None else None
    if end is not None and end.reason.startswith("strap lost"):
        say(
            f"holdbeat: the session ended early: {end.reason}. Everything up to then is saved.",
            sys.stderr,
        )
        say(
            "  Check the strap (worn, electrodes moist, battery) and start a new session.",
            sys.stderr,
        )
        return EXIT_BLUETOOTH
    return code
