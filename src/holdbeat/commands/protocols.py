"""`holdbeat protocols`: list the built-in protocols, or check a protocol file."""

from __future__ import annotations

import argparse
import sys

from holdbeat.printing import emit, say
from holdbeat.protocols import builtin_names, load_protocol
from holdbeat.session import ProtocolError, format_duration


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("protocols", help="list built-in protocols or check a protocol file")
    p.add_argument(
        "check", nargs="*", metavar="NAME|PATH", help="show the phases of these protocols"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # names, descriptions and beliefs come from files: printed with control characters shown
    if not args.check:
        if getattr(args, "quiet", False):
            return 0
        for name in builtin_names():
            proto = load_protocol(name)
            holds = ", ".join(h.mode for h in proto.holds)
            say(
                f"{name:<18} {format_duration(proto.total_s):>7}  "
                f"holds: {holds:<40} {proto.description}"
            )
        emit("\nshow one: holdbeat protocols NAME|FILE.toml   (format: docs/guide.md#protocols)")
        return 0
    code = 0
    for item in args.check:
        try:
            proto = load_protocol(item)
        except ProtocolError as e:
            say(f"holdbeat: {e}", sys.stderr)
            code = 2
            continue
        if getattr(args, "quiet", False):
            continue  # checked: errors still show, and the exit code tells
        say(f"{proto.name} ({format_duration(proto.total_s)}): {proto.description}")
        for i, ph in enumerate(proto.phases):
            dur = format_duration(ph.duration_s) if ph.duration_s else "open"
            belief = f" — “{ph.belief}” ({ph.target})" if ph.belief else ""
            say(f"  {i}. {ph.name:<16} {ph.kind:<9} {ph.mode:<16} {dur:>6}{belief}")
    return code
