"""Printing that a dead terminal or closed pipe cannot break; light (no asyncio, no numpy)
so `report` and `compare` can use it without importing the session runner."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from holdbeat.safe_text import for_terminal


def emit(text: str, file: TextIO | None = None) -> bool:
    """Print text already made safe (a report's table); a dead stream is not an error, so
    the outputs written after the text (--json, --png) are still written."""
    try:
        print(text, file=file or sys.stdout, flush=True)
    except (OSError, ValueError):
        return False
    return True


def say(text: object, file: TextIO | None = None) -> bool:
    """Print one message line with any control characters in it made visible; a dead
    stream (closed pipe, vanished terminal) is not an error: returns False."""
    try:
        print(for_terminal(text), file=file or sys.stdout, flush=True)
    except (OSError, ValueError):
        return False
    return True


def refuse_unreadable(
    errors: list[str], skip_bad: bool, render: Callable[[str], str] = for_terminal
) -> bool:
    """Name every unreadable input on stderr; True when the command must stop (exit 2)
    because the user did not ask to --skip-bad them. One rule for compare and history."""
    if not errors:
        return False
    for e in errors:
        print(f"holdbeat: {render(e)}", file=sys.stderr)
    if skip_bad:
        return False
    print(
        f"holdbeat: {len(errors)} input(s) unreadable; fix or remove them, or use --skip-bad",
        file=sys.stderr,
    )
    return True


__all__ = ["emit", "refuse_unreadable", "say"]
