"""`holdbeat scan`: list nearby heart-rate straps (any brand), strongest signal first."""

from __future__ import annotations

import argparse
import asyncio
import sys

from holdbeat.commands._types import positive_float
from holdbeat.printing import emit
from holdbeat.safe_text import for_terminal, for_terminal_lines

DEFAULT_TIMEOUT_S = 10.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="list nearby heart-rate straps (any brand) with address and signal",
        description="Scan for devices advertising the Bluetooth Heart Rate Service (0x180D), "
        "whatever their brand, and list name, address and signal strength (RSSI), strongest "
        "first. Pass an address or name to `holdbeat hold --device`. Exit code 3 when no "
        "strap is found or Bluetooth is unavailable.",
    )
    p.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"scan for S seconds (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.add_argument(
        "--adapter",
        metavar="hciN",
        help="Bluetooth adapter to use (Linux; default: the first powered one)",
    )
    p.set_defaults(func=run)


def format_table(found: list) -> str:  # list[FoundStrap]
    lines = [f"{'RSSI':>8}  {'ADDRESS':<17}  NAME"]
    for s in found:
        rssi = "?" if s.rssi_dbm is None else f"{s.rssi_dbm} dBm"
        # names come over the radio from anyone nearby: shown, never obeyed by the terminal
        name = for_terminal(s.name, 60) if s.name else "(no name)"
        lines.append(f"{rssi:>8}  {for_terminal(s.address, 40):<17}  {name}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from holdbeat.sources.scan import scan_straps
    from holdbeat.sources.strap_errors import EXIT_BLUETOOTH, StrapError, no_strap_found

    print(
        f"scanning {args.timeout:g} s for heart-rate straps (Heart Rate Service 0x180D)...",
        file=sys.stderr,
    )
    try:
        found = asyncio.run(scan_straps(args.timeout, adapter=args.adapter))
    except StrapError as e:
        print(f"holdbeat: {for_terminal_lines(e)}", file=sys.stderr)
        return EXIT_BLUETOOTH
    if not found:
        print(f"holdbeat: {no_strap_found(args.timeout)}", file=sys.stderr)
        return EXIT_BLUETOOTH
    if getattr(args, "quiet", False):
        emit("\n".join(for_terminal(s.address, 40) for s in found))  # for scripts: addresses only
        return 0
    emit(format_table(found))
    print(
        f"use one with: holdbeat hold --device {for_terminal(found[0].address, 40)}"
        + ("   (several found: pick yours)" if len(found) > 1 else ""),
        file=sys.stderr,
    )
    return 0
