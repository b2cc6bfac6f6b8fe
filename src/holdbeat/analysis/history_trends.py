"""Trends over weeks for `history`: per week and group (mode or target), the mean of each
practice measure over that week's holds. Pure.

| measure            | per hold                                                    |
| ------------------ | ----------------------------------------------------------- |
| `d_ln_rmssd`       | Δ ln RMSSD, hold − the session's baseline (quality holds)   |
| `latency_s`        | catch-up latency, over holds that caught up                 |
| `held_pct`         | share of the hold spent holding (not lapsed), %             |
| `lapses_per_10min` | lapses marked, per 10 minutes of hold                       |
| `d_belief`         | belief rating after − before the hold                       |

Weeks start on Monday in local time. A week's point is a plain mean with its n: a trend
over weeks is something to look at, not a test (use `compare` for that).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from holdbeat.analysis.history import HoldDigest, SessionDigest
from holdbeat.safe_text import for_terminal
from holdbeat.session import HOLD_MODES, TARGETS

TRENDS = {
    "d_ln_rmssd": ("Δ ln RMSSD (hold − baseline)", "ln ms"),
    "latency_s": ("catch-up latency (holds that caught up)", "s"),
    "held_pct": ("share of the hold actually held", "%"),
    "lapses_per_10min": ("lapses per 10 minutes of hold", "per 10 min"),
    "d_belief": ("belief rating: after − before", "points"),
}
BY = ("mode", "target")


def hold_value(h: HoldDigest, metric: str) -> float:
    """One hold's value of a trend measure (NaN when it has none)."""
    if metric == "d_ln_rmssd":
        return math.nan if h.low_quality else h.d_ln_rmssd
    if metric == "latency_s":
        return h.latency_s if h.catchup == "caught up" else math.nan
    if metric == "held_pct":
        return 100.0 * h.held_share
    if metric == "lapses_per_10min":
        return h.lapses_per_10min
    if metric == "d_belief":
        return h.d_belief
    raise ValueError(f"unknown trend measure {metric!r} (one of {', '.join(TRENDS)})")


def group_of(h: HoldDigest, by: str) -> str:
    """A hold's group label; mode and target come from the file as written, so control
    characters are shown as escapes, as in compare's labels (`groups.group_key`)."""
    if by == "mode":
        return for_terminal(h.mode)
    if by == "target":
        return for_terminal(h.target or "(none)")
    raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")


def groups_in(digests: Iterable[SessionDigest], by: str) -> list[str]:
    present = {group_of(h, by) for d in digests for h in d.holds}
    order = list(HOLD_MODES) if by == "mode" else [*TARGETS, "(none)"]
    return [g for g in order if g in present] + sorted(present - set(order))


@dataclass(frozen=True)
class TrendPoint:
    week: date  # Monday
    group: str
    n: int  # holds with a value
    mean: float


@dataclass(frozen=True)
class HoldPoint:
    """One hold's value at its session's local date (the dots behind the weekly line)."""

    day: date
    group: str
    value: float


def weekly(
    digests: Iterable[SessionDigest], metric: str, by: str
) -> tuple[list[TrendPoint], list[HoldPoint]]:
    acc: dict[tuple[date, str], list[float]] = {}
    points: list[HoldPoint] = []
    for d in digests:
        t, week = d.started_local, d.week
        if t is None or week is None:
            continue
        for h in d.holds:
            v = hold_value(h, metric)
            if not math.isfinite(v):
                continue
            g = group_of(h, by)
            acc.setdefault((week, g), []).append(v)
            points.append(HoldPoint(t.date(), g, v))
    trend = [TrendPoint(w, g, len(v), float(np.mean(v))) for (w, g), v in sorted(acc.items())]
    return trend, points


def first_last(trend: list[TrendPoint], group: str) -> tuple[TrendPoint, TrendPoint] | None:
    """The first and last week of a group (for a sentence like 'from 0.05 to 0.21')."""
    pts = [p for p in trend if p.group == group]
    return (pts[0], pts[-1]) if len(pts) >= 2 else None
