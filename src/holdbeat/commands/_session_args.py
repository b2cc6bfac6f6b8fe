"""The flags demo, hold and replay share (the view, the protocol and its beliefs, the
recordings folder, the speed) and the protocol they choose from them, asking if --ask."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from holdbeat.commands._types import parse_speed, positive_float, text
from holdbeat.home import out_arg
from holdbeat.printing import say
from holdbeat.protocols import builtin_names, load_protocol
from holdbeat.safe_text import for_terminal
from holdbeat.session import HOLD_MODES, TARGETS, Protocol, ProtocolError, with_beliefs


def add_view_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help="console view instead of a window")
    p.add_argument(
        "--window",
        type=positive_float,
        default=60.0,
        metavar="S",
        help="live HRV window in seconds (default 60)",
    )
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a PNG of the window when the session ends (with --headless: drawn "
        "offscreen at the end); never replaces a recording or a non-regular file",
    )
    p.add_argument(
        "--view-minutes",
        type=positive_float,
        default=5.0,
        metavar="MIN",
        help="the window follows the last MIN minutes (default 5; zoom out in the window)",
    )


def view_settings(args: argparse.Namespace) -> dict:
    """The session plan's fields set by `add_view_flags` (and --quiet), for SessionPlan(**)."""
    from holdbeat.commands._practice import input_files

    return {
        "headless": args.headless,
        "window_s": args.window,
        "screenshot": args.screenshot,
        "view_minutes": args.view_minutes,
        "quiet": getattr(args, "quiet", False),
        "inputs": tuple(input_files(args)),
    }


def add_speed_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--speed",
        type=parse_speed,
        default=1.0,
        metavar="X|max",
        help="1 = real time (default), 10 = ten times faster, max = as fast as possible",
    )


def add_session_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--protocol",
        default="single",
        metavar="NAME|PATH",
        help=f"built-in ({', '.join(builtin_names())}) or a TOML file (default single)",
    )
    p.add_argument("--mode", choices=HOLD_MODES, help="mode of the hold (single-hold protocols)")
    p.add_argument("--belief", type=text, help="the belief to hold (text)")
    p.add_argument("--target", choices=TARGETS, help="what the belief is about")
    p.add_argument(
        "--ask",
        action="store_true",
        help="ask for the belief and target of each hold before starting",
    )
    p.add_argument(
        "--suggest",
        type=text,
        metavar="WHAT_IS_HAPPENING",
        help="describe what is happening; holdbeat suggests a mode (a default, never a gate)",
    )
    p.add_argument(
        "--out",
        type=out_arg,
        default="",
        metavar="DIR",
        help="recordings folder (default: HOLDBEAT_RECORDINGS, the config file's 'recordings' "
        "or your user data folder; `holdbeat --help` shows which)",
    )
    add_reference_flag(p, "each hold's catch-up band: from the baseline (default), or from the "
                       "rest just before the hold (for protocols with rests between holds); "
                       "recorded, so report, compare and history use the same")  # fmt: skip
    from holdbeat.commands._practice import add_practice_flags

    add_practice_flags(p)


def add_reference_flag(p: argparse.ArgumentParser, help_text: str, default: str | None = None):
    """--reference baseline|rest (holdbeat.analysis.baseline_band.REFERENCES)."""
    p.add_argument(
        "--reference",
        choices=("baseline", "rest"),  # baseline_band.REFERENCES, without importing numpy
        default=default,
        help=help_text,
    )


def reference_setting(args: argparse.Namespace) -> dict:
    """The header setting for the chosen reference (nothing for the default)."""
    ref = getattr(args, "reference", None)
    return {"catchup_reference": ref} if ref and ref != "baseline" else {}


def resolve_protocol(
    args: argparse.Namespace, ask: Callable[[str], str] | None = None, out: TextIO | None = None
) -> Protocol:
    """--protocol plus --mode/--belief/--target/--suggest/--ask -> the protocol to run."""
    from holdbeat.commands._practice import ask_practice, show_suggestion, with_stance

    out = out or sys.stdout
    protocol = load_protocol(args.protocol)
    if getattr(args, "ask", False):
        ask_practice(args, protocol, ask or input, out)  # the situation, note, action
    suggestion, mode = None, args.mode
    if getattr(args, "suggest", None) and mode is None:
        suggestion, mode = show_suggestion(args.suggest, protocol, out)
    protocol = with_beliefs(protocol, mode=mode, belief=args.belief, target=args.target)
    if suggestion is not None and mode is not None:
        protocol = with_stance(protocol, suggestion, belief_given=args.belief is not None)
    if getattr(args, "ask", False):
        protocol = ask_beliefs(protocol, ask or input, out)
    return protocol


def ask_beliefs(protocol: Protocol, ask: Callable[[str], str], out: TextIO) -> Protocol:
    """Ask belief text and target for each hold; Enter keeps the default shown."""
    from dataclasses import replace

    phases = list(protocol.phases)
    for i, p in enumerate(phases):
        if not p.is_hold:
            continue
        say(f"hold {i}: {p.name} [{p.mode}] — {p.prompt}", out)
        belief = ask(f"  belief [{for_terminal(p.belief)}]: ").strip() or p.belief
        while True:
            target = ask(f"  about ({'/'.join(TARGETS)}) [{p.target}]: ").strip() or p.target
            if target in TARGETS:
                break
            print(f"  please answer one of: {', '.join(TARGETS)}", file=out)
        phases[i] = replace(p, belief=belief, target=target)
    return replace(protocol, phases=tuple(phases))


def protocol_or_exit(args: argparse.Namespace) -> Protocol | int:
    try:
        return resolve_protocol(args)
    except ProtocolError as e:
        say(f"holdbeat: {e}", sys.stderr)
        return 2
