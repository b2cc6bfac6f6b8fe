"""Grouping holds for `compare --by mode|target|mode,target`, and the statistics of a group
set (the same for every metric: physiology, rating change, lapse response).

"It feels like the exact same thing, except what I'm choosing to believe is different":
grouping by target (self, future, relational) tests whether the body answers a belief about
the self-model differently from one about the future or a relationship; `mode,target`
crosses both. Statistics are holdbeat.analysis.stats' — one value per session and group,
bootstrap-t CI, Hedges' g, permutation p — whatever the grouping and the metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations, product

import numpy as np

from holdbeat.analysis import stats
from holdbeat.safe_text import for_terminal
from holdbeat.session import HOLD_MODES, TARGETS

BY_CHOICES = ("mode", "target", "mode,target")
NO_TARGET = "(none)"


def group_key(by: str) -> Callable[[object], str]:
    """unit -> its group label for a grouping (mode, target or 'mode · target'). A target
    comes from the file as written: its control characters are shown as escapes, so the
    label reads the same in every output (a figure has no glyph for them, and matplotlib's
    missing-glyph warning would print the raw character to the terminal)."""
    if by == "mode":
        return lambda u: u.mode  # type: ignore[attr-defined]
    if by == "target":
        return lambda u: for_terminal(u.target or NO_TARGET)  # type: ignore[attr-defined]
    if by == "mode,target":
        return lambda u: f"{u.mode} · {for_terminal(u.target or NO_TARGET)}"  # type: ignore[attr-defined]
    raise ValueError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")


def group_order(units: Iterable[object], by: str) -> list[str]:
    """The groups to show: every mode for --by mode (as always); for targets and crossings
    the ones present, in the protocol's order."""
    key = group_key(by)
    present = {key(u) for u in units}
    if by == "mode":
        return list(HOLD_MODES)
    if by == "target":
        known = [*TARGETS, NO_TARGET]
    else:
        known = [f"{m} · {t}" for m, t in product(HOLD_MODES, [*TARGETS, NO_TARGET])]
    return [g for g in known if g in present] + sorted(present - set(known))


def group_colour_key(label: str) -> str:
    """The mode part of a label (for colours): 'soft · future' -> 'soft'."""
    return label.split(" · ")[0]


@dataclass(frozen=True)
class GroupSummary:
    mode: str  # the group's label (a mode, a target, or 'mode · target')
    n_holds: int
    n_sessions: int
    estimate: stats.Estimate  # over session-level values
    reached: int  # holds whose catch-up was reached
    band_ok: int  # holds whose baseline band allowed a catch-up at all
    latency_median_s: float  # over reached holds
    carried_over: int = 0  # holds out of band at onset (carried over), counted apart


@dataclass(frozen=True)
class GroupStats:
    """One metric over one grouping: per group estimates, unpaired and paired contrasts."""

    metric: str
    by: str
    groups: tuple[GroupSummary, ...]
    pairwise: tuple[stats.Contrast, ...]
    paired: tuple[stats.Contrast, ...]


def session_values(
    units: Iterable[object], metric: str, by: str = "mode"
) -> dict[str, dict[str, float]]:
    """group -> session -> mean of that session's holds in that group (NaN values dropped)."""
    key = group_key(by)
    acc: dict[str, dict[str, list[float]]] = {}
    for u in units:
        v = u.value(metric)  # type: ignore[attr-defined]
        if math.isfinite(v):
            acc.setdefault(key(u), {}).setdefault(u.session, []).append(v)  # type: ignore[attr-defined]
    return {m: {s: float(np.mean(v)) for s, v in d.items()} for m, d in acc.items()}


def group_stats(
    units: Sequence[object],
    metric: str,
    by: str,
    streams: Iterator[np.random.Generator],
    n_resamples: int,
    min_n: int,
) -> GroupStats:
    key = group_key(by)
    order = group_order(units, by)
    per = session_values(units, metric, by)
    groups = []
    for g in order:
        gu = [u for u in units if key(u) == g]
        vals = list(per.get(g, {}).values())
        lat = [u.latency for u in gu if u.reached]  # type: ignore[attr-defined]
        groups.append(
            GroupSummary(
                mode=g,
                n_holds=len(gu),
                n_sessions=len({u.session for u in gu}),  # type: ignore[attr-defined]
                estimate=stats.estimate(vals, next(streams), n_resamples, min_n=min_n),
                reached=sum(u.reached for u in gu),  # type: ignore[attr-defined]
                band_ok=sum(u.band_ok for u in gu),  # type: ignore[attr-defined]
                latency_median_s=float(np.median(lat)) if lat else math.nan,
                carried_over=sum(getattr(u, "carried_over", False) for u in gu),
            )
        )
    pairwise, paired = [], []
    for a, b in combinations(order, 2):
        va, vb = per.get(a, {}), per.get(b, {})
        pairwise.append(
            stats.contrast(
                list(va.values()),
                list(vb.values()),
                next(streams),
                (a, b),
                n_resamples,
                min_n=min_n,
            )
        )
        both = sorted(set(va) & set(vb))
        d = [va[s] - vb[s] for s in both]
        paired.append(stats.paired_contrast(d, next(streams), (a, b), n_resamples, min_n=min_n))
    return GroupStats(metric, by, tuple(groups), tuple(pairwise), tuple(paired))
