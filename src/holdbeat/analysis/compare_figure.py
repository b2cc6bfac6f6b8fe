"""The `compare` figure: one plain sentence, the sessions per mode, the mode differences, and
the event-locked trajectories. Only what could be computed is drawn; the rest is named.

Reading rules kept here: the headline is one sentence with at most one parenthesis, no
shouting, and says when the sessions are too few to be more than a hint; Hedges' g always
carries the sign of the contrast as written ("fierce − soft"), in text and table alike; the
mean ± 95 % CI is a black diamond with a bar, explained in a legend; overlapping session dots
are spread sideways deterministically.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from holdbeat.analysis.compare import Comparison
from holdbeat.analysis.compare_render import METRIC_TEXT, verdict
from holdbeat.analysis.figures import TARGET_COLOURS, pyplot, style_axes
from holdbeat.analysis.groups import group_colour_key, session_values
from holdbeat.analysis.report import METRIC_LABELS
from holdbeat.gui import palette as pal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from holdbeat.analysis.stats import Contrast

FEW_SESSIONS = 10  # fewer than this: the headline calls a difference a first hint
EVENTS = ("onset", "lapse", "rehold")


def group_colour(label: str, i: int) -> str:
    """A mode's colour, a target's, else the palette in order."""
    key = group_colour_key(label)
    if key in pal.MODE_COLOURS:
        return pal.mode_colour(key)
    return TARGET_COLOURS.get(key, (pal.BLUE, pal.VERMILLION, pal.SKY_BLUE, pal.GREY)[i % 4])


def _sessions(c: Contrast) -> str:
    if c.paired:
        return f"{c.n_a} sessions that held both"
    return f"{c.n_a} {c.a} and {c.n_b} {c.b} sessions"


def headline(cmp: Comparison) -> str:
    """The one question most people ask, in one plain sentence: fierce vs soft (by mode), or
    the clearest contrast between targets or mode · target groups."""
    label, unit = METRIC_TEXT[cmp.config.metric]
    unit = unit.replace("ln(ms)", "ln ms")  # one parenthesis in the sentence, not two
    if not cmp.pairwise:
        return "Only one group has usable holds: nothing to compare."
    pairs = [par if par.ok else unp for unp, par in zip(cmp.pairwise, cmp.paired, strict=True)]
    if cmp.config.by == "mode":
        c = pairs[0]
        if not c.ok:
            return f"Fierce and soft holds cannot be compared yet: {c.reason}."
    else:
        ok = [x for x in pairs if x.ok]
        if not ok:
            what = cmp.config.by.replace(",", " and ")
            return f"No two {what} groups have enough usable sessions to compare {label}."
        c = min(ok, key=lambda x: x.p)
    n = c.n_a if c.paired else min(c.n_a, c.n_b)
    if c.excludes_zero:
        hi, lo, d, a, b = (
            (c.a, c.b, c.diff, c.ci_lo, c.ci_hi)
            if c.diff > 0
            else (c.b, c.a, -c.diff, -c.ci_hi, -c.ci_lo)
        )
        tail = f"; with only {n} sessions, take it as a first hint." if n < FEW_SESSIONS else "."
        return (
            f"In {_sessions(c)}, {label} was {d:.2g} {unit} higher in {hi} holds than in {lo} "
            f"holds (95 % CI {a:.2g} to {b:.2g}){tail}"
        )
    tail = f"; {n} sessions can miss a small difference." if n < FEW_SESSIONS else "."
    return (
        f"In {_sessions(c)}, {c.a} and {c.b} holds did not clearly differ in {label} (95 % CI "
        f"of the difference {c.ci_lo:+.2g} to {c.ci_hi:+.2g} {unit}){tail}"
    )


def swarm_offsets(values: np.ndarray, width: float = 0.3, close: float | None = None) -> np.ndarray:
    """Sideways offsets so dots with nearly the same value do not hide each other:
    0, +d, −d, +2d, … within each run of close values (deterministic)."""
    v = np.asarray(values, dtype=float)
    out = np.zeros(len(v))
    if len(v) < 2:
        return out
    span = float(np.ptp(v)) or 1.0
    close = close if close is not None else span / 40
    order = np.argsort(v, kind="stable")
    step = width / 6
    run_start = 0
    for k in range(1, len(order) + 1):
        if k == len(order) or v[order[k]] - v[order[k - 1]] > close:
            for j, idx in enumerate(order[run_start:k]):
                out[idx] = step * ((j + 1) // 2) * (1 if j % 2 else -1) if j else 0.0
            run_start = k
    return np.clip(out, -width, width)


def _modes_panel(ax: Axes, cmp: Comparison, modes: list[str]) -> None:
    cfg = cmp.config
    label, unit = METRIC_TEXT[cfg.metric]
    per = session_values(cmp.units, cfg.metric, cfg.by)
    every = [v for m in modes for v in per.get(m, {}).values()]
    every += [x for e in cmp.modes if e.estimate.ok for x in (e.estimate.ci_lo, e.estimate.ci_hi)]
    close = (max(every) - min(every)) / 30 if every else None  # about a dot's height
    ticks = []
    diamond = None
    for i, m in enumerate(modes):
        vals = np.array(list(per.get(m, {}).values()))
        k = next(j for j, x in enumerate(cmp.modes) if x.mode == m)
        est = cmp.modes[k].estimate
        ticks.append(f"{m.replace(' · ', chr(10))}\nn = {est.n}")
        if vals.size:
            ax.plot(
                i + swarm_offsets(vals, close=close),
                vals,
                "o",
                ms=5,
                alpha=0.7,
                color=group_colour(m, k),
                mec="white",
                mew=0.5,
                label="one session" if i == 0 else None,
            )
        if est.ok:
            diamond = ax.errorbar(
                i + 0.42,
                est.mean,
                yerr=[[est.mean - est.ci_lo], [est.ci_hi - est.mean]],
                fmt="D",
                color="black",
                ms=7,
                capsize=5,
                lw=1.6,
            )
    ax.axhline(0, color=pal.MUTED, lw=0.8)
    ax.set_xticks(range(len(modes)), ticks, fontsize=8 if len(modes) > 4 else 9)
    ax.set_xlim(-0.6, len(modes) - 0.35)
    ax.set_ylabel(f"{label} ({unit}), hold − baseline")
    handles = [
        ax.plot([], [], "o", color=pal.MUTED, ms=5, label="one session")[0],
    ]
    names = ["one session (spread sideways)"]
    if diamond is not None:
        handles.append(diamond)
        names.append("mean, bar = 95 % CI")
    ax.legend(handles, names, fontsize=8, frameon=False, loc="best")
    ax.set_title(f"per {cfg.by.replace(',', ' · ')}", fontsize=10)


def _contrasts_panel(ax: Axes, cmp: Comparison, rows: list[Contrast]) -> None:
    label, unit = METRIC_TEXT[cmp.config.metric]
    names = []
    for y, c in enumerate(rows):
        names.append(f"{c.a} − {c.b}" + ("\n(same sessions)" if c.paired else ""))
        colour = pal.OK if c.excludes_zero else pal.MUTED
        ax.errorbar(
            c.diff,
            y,
            xerr=[[c.diff - c.ci_lo], [c.ci_hi - c.diff]],
            fmt="o",
            color=colour,
            capsize=4,
            lw=2,
        )
        word = "differ" if c.excludes_zero else "no clear difference"
        n = f"n = {c.n_a}" + ("" if c.paired else f" / {c.n_b}")
        ax.annotate(
            f"{word}: p = {c.p:.2g}, g = {c.g:+.2f}, {n}",
            (c.diff, y),
            xytext=(0, -13),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8.5,
        )
    ax.axvline(0, color="black", lw=0.9)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.set_yticks(range(len(rows)), names, fontsize=9)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel(f"difference in {label} ({unit}); bar = 95 % CI; crossing 0 = maybe none")
    what = {"mode": "modes", "target": "targets"}.get(cmp.config.by, "groups")
    ax.set_title(f"differences between {what} (first minus second)", fontsize=10)


def _trajectory_panel(ax: Axes, cmp: Comparison, ev: str, first: bool) -> None:
    tm = METRIC_LABELS.get(cmp.config.traj_metric, cmp.config.traj_metric)
    for i, tr in enumerate(t for t in cmp.trajectories if t.event == ev):
        colour = group_colour(tr.mode, i)
        ax.plot(tr.offsets_s, tr.mean, color=colour, lw=2, label=f"{tr.mode} (n = {tr.n_sessions})")
        ax.fill_between(tr.offsets_s, tr.lo, tr.hi, color=colour, alpha=0.2, lw=0)
    ax.axvline(0, color="black", lw=0.9)
    ax.axhline(0, color=pal.MUTED, lw=0.8)
    ax.set_xlabel(f"seconds from {'hold onset' if ev == 'onset' else ev}")
    ax.set_title(f"around {'hold onset' if ev == 'onset' else ev + ' markers'}", fontsize=10)
    if first:
        ax.set_ylabel(f"{tm} minus baseline mean")
    ax.legend(fontsize=8, frameon=False)


def compare_figure(cmp: Comparison) -> Figure:
    plt = pyplot()
    modes = [m.mode for m in cmp.modes if m.estimate.n > 0]  # modes, targets or both
    contrasts = [c for c in (*cmp.pairwise, *cmp.paired) if c.ok]
    not_drawn = [c for c in (*cmp.pairwise, *cmp.paired) if not c.ok and (c.n_a or c.n_b)]
    events = [ev for ev in EVENTS if any(t.event == ev for t in cmp.trajectories)]
    big = textwrap.fill(headline(cmp), 100)
    lines = [textwrap.fill(f"• {verdict(c, cmp.config.metric)}", 150) for c in contrasts]
    lines += [
        textwrap.fill(
            f"• not drawn, {c.a} − {c.b}"
            + (" (same sessions)" if c.paired else "")
            + f": {c.reason}",
            150,
        )
        for c in not_drawn
    ]
    ex = len(cmp.excluded)
    lines.append(
        f"{ex} hold(s) excluded: see the text output or --json for each reason."
        if ex
        else "No holds excluded."
    )
    small = "\n".join(lines)
    text_in = 0.35 + 0.26 * (big.count("\n") + 1) + 0.17 * (small.count("\n") + 1)
    mid_in = 4.2 if (modes or contrasts) else 0.0
    low_in = 3.4 if events else 0.0
    height = 0.5 + text_in + mid_in + low_in
    fig = plt.figure(figsize=(14, height), dpi=100, facecolor="white")
    fig.suptitle(
        f"holdbeat compare — {cmp.n_sessions} sessions, {len(cmp.units)} holds used, {ex} excluded",
        fontsize=12,
        y=1 - 0.12 / height,
    )
    top = 1 - 0.45 / height
    fig.text(0.05, top, big, va="top", ha="left", fontsize=13, fontweight="bold")
    fig.text(
        0.05, top - (0.26 * (big.count("\n") + 1) + 0.12) / height, small, va="top", fontsize=9
    )
    y = 1 - (0.5 + text_in) / height
    if mid_in:
        h = (mid_in - 0.85) / height
        bottom = y - h - 0.25 / height
        if modes:
            ax = fig.add_axes((0.07, bottom, 0.27, h))
            style_axes(ax)
            _modes_panel(ax, cmp, modes)
        if contrasts:
            ax = fig.add_axes((0.5, bottom, 0.47, h))
            style_axes(ax)
            _contrasts_panel(ax, cmp, contrasts)
        y -= mid_in / height
    if low_in:
        h = (low_in - 0.8) / height
        bottom = y - h - 0.2 / height
        w = 0.9 / len(events)
        for i, ev in enumerate(events):
            ax = fig.add_axes((0.07 + i * w, bottom, w - 0.05, h))
            style_axes(ax)
            _trajectory_panel(ax, cmp, ev, i == 0)
    return fig
