"""argparse value types shared by commands; light (no numpy, no asyncio) so importing a
command for `--help` or a report stays fast."""

from __future__ import annotations

import argparse
from datetime import datetime

from holdbeat.limits import MAX_SESSION_S


def text(value: str) -> str:
    """Text a person gives (a belief, a note): it is written into the recording as UTF-8,
    so bytes in another encoding (which Python keeps as lone surrogates) are refused here,
    not found unwritable once the session has started."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            "not UTF-8 text (the terminal sent bytes in another encoding; set a UTF-8 "
            "locale, e.g. LANG=C.UTF-8)"
        ) from None
    return value


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


def positive_float(value: str) -> float:
    """Seconds (or minutes) a session can hold: > 0 and at most a session's length."""
    x = _number(value)
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be positive and finite: {value!r}")
    if x > MAX_SESSION_S:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SESSION_S:g} ({value!r})")
    return x


def non_negative_float(value: str) -> float:
    x = _number(value)
    if not x >= 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be >= 0 and finite: {value!r}")
    if x > MAX_SESSION_S:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SESSION_S:g} ({value!r})")
    return x


def parse_speed(value: str) -> float | None:
    """'max' -> None (as fast as possible), else a positive factor."""
    if value.strip().lower() in ("max", "inf", "fast"):
        return None
    try:
        x = float(value.rstrip("xX"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"speed must be a number like 1, 10 or 'max', not {value!r}"
        ) from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be positive, got {value!r}")
    return x


def iso_datetime(value: str) -> datetime:
    """'2026-03-02T19:30' (local time) or '…Z' / '…+01:00' -> datetime (argparse type)."""
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date-time: {value!r} (e.g. 2026-03-02T19:30)"
        ) from None


__all__ = ["iso_datetime", "non_negative_float", "parse_speed", "positive_float"]
