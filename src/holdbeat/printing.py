"""Printing that a dead terminal or closed pipe cannot break; light (no asyncio, no numpy),
for the commands and for what runs a session (the runner, the console keys, the window)."""

from __future__ import annotations

import sys
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


def say_lines(text: object, file: TextIO | None = None) -> bool:
    """`say` for a message of several lines holdbeat wrote (a Bluetooth error and its
    hint): its line breaks kept, every other control character made visible."""
    from holdbeat.safe_text import for_terminal_lines

    return emit(for_terminal_lines(text), file)


__all__ = ["emit", "say", "say_lines"]
