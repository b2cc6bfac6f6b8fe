"""`report --png`: one session's figure (matplotlib, Agg: no display needed).

The rolling metrics over the session with the phases shaded by mode, the baseline band,
lapses and markers, and a table of the phases; drawn from the report's numbers
(holdbeat.analysis.report) and the prepared beats.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from holdbeat.analysis.figures import pyplot, style_axes
from holdbeat.analysis.report import METRIC_LABELS, SessionReport
from holdbeat.gui import palette as pal
from holdbeat.safe_text import for_terminal
from holdbeat.session import format_duration

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from holdbeat.analysis.prep import Prepared


#: a figure is read by a person: past these counts a label is a smudge and a table a wall;
#: and drawing each phase or marker as its own artist took minutes for 10,000 phases
MAX_TABLE_ROWS = 60  # a day of 30-minute holds fits; --csv / --json / the text have all
FIG_W_IN = 14.0
AX_LEFT, AX_RIGHT = 0.06, 0.98
LABEL_PT = 7.5


def _plain(text: object) -> str:
    """File text for matplotlib: control characters shown as escapes, as on a terminal (a
    font has no glyph for them, and matplotlib's missing-glyph warning would print the raw
    character to the terminal). '$' is plain text: figures.pyplot turns mathtext off."""
    return for_terminal(text)


def _spans(ax: Axes, spans: list[tuple[float, float]], **style: object) -> None:
    """Vertical bands [lo, hi] (x units) over the whole height, as one artist."""
    from matplotlib.collections import PolyCollection

    if spans:
        polys = [[(lo, 0.0), (hi, 0.0), (hi, 1.0), (lo, 1.0)] for lo, hi in spans]
        ax.add_collection(PolyCollection(polys, transform=ax.get_xaxis_transform(), **style))


def time_unit(duration_s: float) -> tuple[float, str]:
    """Seconds per x unit and its name: minutes up to 3 h, hours beyond."""
    return (60.0, "min") if duration_s <= 3 * 3600 else (3600.0, "h")


def phase_labels(rep: SessionReport, axes_width_in: float) -> list[tuple[float, str]]:
    """(centre in minutes, text) for each phase whose label fits its width: the name (and
    [mode] for holds), else its number in the table, else nothing (a 24 h session has narrow
    phases). Text width is estimated at ~0.55 em per character."""
    total = max(rep.duration_s, 1.0)
    unit, _ = time_unit(rep.duration_s)
    out = []
    for k, r in enumerate(rep.phases, start=1):
        width_in = (r.end_s - r.start_s) / total * axes_width_in
        lines = [_plain(r.name)] + ([f"[{_plain(r.mode)}]"] if r.kind == "hold" else [])
        if r.low_quality:
            lines.append("LOW QUALITY")
        need_in = max(len(x) for x in lines) * LABEL_PT * 0.55 / 72 + 0.06
        if need_in <= width_in:
            out.append(((r.start_s + r.end_s) / 2 / unit, "\n".join(lines)))
        elif len(str(k)) * LABEL_PT * 0.55 / 72 + 0.04 <= width_in:
            out.append(((r.start_s + r.end_s) / 2 / unit, str(k)))
    return out


def _shade_phases(ax: Axes, rep: SessionReport, labels: list[tuple[float, str]] | None) -> None:
    """Phases shaded by mode, one artist per colour; labels where they fit, else a note."""
    unit, _ = time_unit(rep.duration_s)
    by_style: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for r in rep.phases:
        colour = pal.mode_colour(r.mode if r.kind == "hold" else "neutral")
        alpha = pal.phase_alpha(r.kind) / 255
        by_style.setdefault((colour, alpha), []).append((r.start_s / unit, r.end_s / unit))
    for (colour, alpha), spans in by_style.items():
        _spans(ax, spans, facecolors=colour, alpha=alpha, linewidths=0)
    if labels is not None and not labels and len(rep.phases) > 1:
        ax.text(
            0.0,
            1.01,
            f"{len(rep.phases)} phases: too many to label (the table and --csv list them)",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=8,
            color=pal.FOREGROUND,
        )
        return
    for x, text in labels or ():
        ax.text(
            x,
            1.01,
            text,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=LABEL_PT,
            color=pal.FOREGROUND,
        )


def _markers(ax: Axes, prep: Prepared, legend: dict, unit: float, dense: bool) -> None:
    styles = {"lapse": "--", "rehold": "-", "felt": ":", "note": "-."}
    lw, alpha = (0.5, 0.5) if dense else (1.1, 1.0)
    times: dict[str, list[float]] = {}
    for m in prep.rec.markers:
        times.setdefault(m.kind, []).append(m.t_s / unit)
    for kind, xs in times.items():  # one artist per kind, however many markers
        colour = pal.MARKER_COLOURS.get(kind, pal.MUTED)
        lines = ax.vlines(
            xs,
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors=colour,
            linestyles=styles.get(kind, "-"),
            linewidths=lw,
            alpha=alpha,
        )
        legend.setdefault(f"marker: {_plain(kind)}", lines)


def _panel(
    ax: Axes, rep: SessionReport, prep: Prepared, metric: str, legend: dict, width_in: float
) -> None:
    roll = prep.rolling
    unit, _ = time_unit(rep.duration_s)
    per_in = max(rep.duration_s, 1.0) / width_in  # seconds per inch of axis
    window = f"rolling {rep.config.window_s:g} s"
    if metric == "hr":
        if prep.rr_ms.size:
            with np.errstate(divide="ignore"):
                beat_hr = np.where(prep.usable, 60000.0 / prep.rr_ms, np.nan)
            h = ax.plot(prep.t_s / unit, beat_hr, color=pal.HR_BEAT, lw=0.5, alpha=0.8)[0]
            legend.setdefault("HR, beat by beat", h)
        line = ax.plot(roll.t_s / unit, roll.metric(metric), color=pal.HR_TREND, lw=2.0)[0]
        legend.setdefault(f"HR, {window}", line)
    else:
        line = ax.plot(roll.t_s / unit, roll.metric(metric), color=pal.LN_RMSSD, lw=2.0)[0]
        legend.setdefault(f"ln RMSSD, {window}", line)
    band = rep.bands.get(metric)
    if band is not None and band.valid:
        span = ax.axhspan(band.lo, band.hi, color=pal.BAND, alpha=0.25, lw=0)
        ax.axhline(band.mean, color=pal.BAND, lw=0.8, ls="--")
        legend.setdefault(f"baseline band (k = {band.k:g}; docs/analysis.md)", span)
    lapsed = [(lo / unit, hi / unit) for h in rep.holds for lo, hi in h.lapse_spans]
    _spans(ax, lapsed, facecolors="none", hatch="///", edgecolors=pal.MUTED, linewidths=0)
    points: dict[str, tuple[list[float], list[float]]] = {"^": ([], []), "v": ([], [])}
    for h in rep.holds:
        c = h.catchup_of(metric)
        if c is None or not c.catchup.reached:
            continue
        cu = c.catchup
        y = float(np.interp(cu.t_left_s, roll.t_s, np.nan_to_num(roll.metric(metric))))
        xs, ys = points["v" if cu.direction == "down" else "^"]
        xs.append(cu.t_left_s / unit)
        ys.append(y)
        if h.duration_s / per_in < 0.6:
            continue  # too narrow to write in (a day of holds): the table has it
        ax.annotate(
            f"{cu.latency_s:.0f} s",
            (cu.t_left_s / unit, y),
            textcoords="offset points",
            xytext=(0, 12 if cu.direction != "down" else -18),
            ha="center",
            fontsize=8.5,
            fontweight="bold",
        )
    for marker, (xs, ys) in points.items():  # one artist per direction, however many holds
        if xs:
            pt = ax.plot(
                xs, ys, marker=marker, ms=11, color=pal.CATCHUP, mec="black", mew=0.8, ls="none"
            )[0]
            legend.setdefault("catch-up (left the band for good)", pt)
    _markers(ax, prep, legend, unit, dense=len(prep.rec.markers) > 40)


def _rating_cells(r) -> list[str]:
    """'4 → 8 (+4)' for belief and safety; '—' where a rating is missing."""
    if r is None:
        return ["—", "—"]

    def cell(pre: float, post: float) -> str:
        if not (math.isfinite(pre) and math.isfinite(post)):
            v = [("—" if not math.isfinite(x) else f"{x:.0f}") for x in (pre, post)]
            return f"{v[0]} → {v[1]}"
        return f"{pre:.0f} → {post:.0f} ({post - pre:+.0f})"

    return [cell(r.belief_pre, r.belief_post), cell(r.safety_pre, r.safety_post)]


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


BELIEF_CHARS = 42


def report_figure(rep: SessionReport, prep: Prepared) -> Figure:
    """HR and ln RMSSD over the session with phases, bands, catch-ups and markers, then the
    phase table (with each hold's belief and ratings) and the caveats. The figure is as tall
    as its content: no empty band, a 24 h table included."""
    import textwrap

    plt = pyplot()
    beliefs = _beliefs(rep)
    notes = [c for c in rep.caveats if "rolling metrics" not in c]
    shown = notes[:4] + (
        [f"… and {len(notes) - 4} more (see the text report)"] if len(notes) > 4 else []
    )
    note_lines = [textwrap.fill(f"• {_plain(c)}", 170) for c in shown]
    long_beliefs = [
        textwrap.fill(f"“{_plain(b)}” — {_plain(', '.join(names))}", 170)
        for b, names in beliefs.items()
        if len(b) > BELIEF_CHARS - 2
    ]
    head_in, plot_in, gap_in = 1.15, 2.9, 0.55
    table_in = 0.26 * (min(len(rep.phases), MAX_TABLE_ROWS) + 1)
    text_parts = []
    if long_beliefs:
        text_parts.append("Beliefs held\n" + "\n".join(long_beliefs))
    if note_lines:
        text_parts.append("Caveats\n" + "\n".join(note_lines))
    text = "\n\n".join(text_parts)
    text_in = 0.16 * (text.count("\n") + 1) + 0.15 if text else 0.0
    height = head_in + 2 * plot_in + gap_in + 0.55 + table_in + text_in + 0.15
    fig = plt.figure(figsize=(FIG_W_IN, height), dpi=100, facecolor="white")
    width = AX_RIGHT - AX_LEFT
    labels = phase_labels(rep, width * FIG_W_IN)
    legend: dict = {}
    y_top = 1 - head_in / height
    ax0 = None
    for row, (metric, ylabel) in enumerate((("hr", "HR (bpm)"), ("ln_rmssd", "ln RMSSD (ln ms)"))):
        bottom = y_top - (row + 1) * plot_in / height - row * gap_in / height
        ax = fig.add_axes((AX_LEFT, bottom, width, (plot_in - 0.1) / height), sharex=ax0)
        ax0 = ax0 or ax
        style_axes(ax)
        _shade_phases(ax, rep, labels if row == 0 else None)
        _panel(ax, rep, prep, metric, legend, width * FIG_W_IN)
        ax.set_ylabel(ylabel)
        if row == 1:
            ax.set_xlabel(f"session time ({time_unit(rep.duration_s)[1]})")
    assert ax0 is not None
    ax0.set_xlim(0, max(rep.duration_s, 1.0) / time_unit(rep.duration_s)[0])
    if any(r.lapse_spans for r in rep.holds):
        legend["lapsed (lapse → rehold)"] = plt.Rectangle(
            (0, 0), 1, 1, facecolor="none", hatch="///", edgecolor=pal.MUTED
        )
    fig.legend(
        list(legend.values()),
        list(legend.keys()),
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.38 / height),
        ncol=5,
        fontsize=8.5,
        frameon=False,
    )
    fig.suptitle(
        _plain(
            f"holdbeat report — {Path(rep.file).name} · {rep.protocol} · {rep.started_utc} · "
            f"{format_duration(rep.duration_s)}"
        ),
        fontsize=12,
        y=1 - 0.1 / height,
    )
    table_top = y_top - (2 * plot_in + gap_in + 0.55) / height
    ax_t = fig.add_axes((0.01, table_top - table_in / height, 0.98, table_in / height))
    _report_table(ax_t, rep)
    if text:
        fig.text(
            AX_LEFT,
            table_top - (table_in + 0.1) / height,
            text,
            va="top",
            fontsize=8.5,
            color=pal.FOREGROUND,
        )
    return fig


def _beliefs(rep: SessionReport) -> dict[str, list[str]]:
    """belief text -> the holds that held it (a day of holds repeats a few beliefs)."""
    out: dict[str, list[str]] = {}
    for h in rep.holds:
        if h.belief:
            out.setdefault(h.belief, []).append(h.name)
    return out


def _report_table(ax: Axes, rep: SessionReport) -> None:
    ax.axis("off")
    cols = ["#", "phase", "mode", "dur", "corr %", "HR", "ln RMSSD", "ΔHR", "Δln RMSSD"]
    cols += [f"{METRIC_LABELS[m]} catch-up" for m in rep.config.metrics]
    cols += ["τ ln RMSSD", "lapses", "belief", "belief (Δ)", "safety (Δ)"]  # ratings pre → post
    rated = {r.index: r for r in (rep.practice.ratings if rep.practice else ())}
    holds = {h.index: h for h in rep.holds}
    cells = []
    colours = []

    def f(x: float, spec: str) -> str:
        return "—" if not math.isfinite(x) else format(x, spec)

    phases = rep.phases
    if len(phases) > MAX_TABLE_ROWS:  # the first rows; --csv / --json / the text have all
        phases = phases[: MAX_TABLE_ROWS - 1]
    for k, r in enumerate(phases, start=1):
        h = holds.get(r.index)
        row = [
            str(k),
            _plain(r.name),
            _plain(r.mode),
            format_duration(r.duration_s),
            f(r.corrected_pct, ".1f") + (" LOW" if r.low_quality else ""),
            f(r.hr_bpm, ".1f"),
            f(r.ln_rmssd, ".2f"),
            f(r.d_hr_bpm, "+.1f"),
            f(r.d_ln_rmssd, "+.2f"),
        ]
        if h is None:
            row += [""] * (len(rep.config.metrics) + 5)
        else:
            for c in h.catchups:
                row.append(c.catchup.label)
            lnc = h.catchup_of("ln_rmssd")
            row.append(
                f"{lnc.fit.tau_s:.0f} s (R² {lnc.fit.r2:.2f})" if lnc and lnc.fit.ok else "—"
            )
            row.append(str(h.lapses))
            row.append(f"“{_plain(_clip(h.belief, BELIEF_CHARS))}”" if h.belief else "")
            row += _rating_cells(rated.get(r.index))
        cells.append(row)
        base = pal.mode_colour(r.mode if r.kind == "hold" else "neutral")
        colours.append([_tint(base, 0.22 if r.kind == "hold" else 0.1)] * len(cols))
    if len(phases) < len(rep.phases):
        more = len(rep.phases) - len(phases)
        cells.append([f"… {more} more phases", *[""] * (len(cols) - 1)])
        colours.append([(1.0, 1.0, 1.0)] * len(cols))
    table = ax.table(
        cellText=cells,
        colLabels=cols,
        cellColours=colours,
        bbox=(0, 0, 1, 1),
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.auto_set_column_width(list(range(len(cols))))


def _tint(hex_colour: str, amount: float) -> tuple[float, float, float]:
    r, g, b, _ = pal.rgba(hex_colour, 255)
    return tuple(1 - amount + amount * c / 255 for c in (r, g, b))  # type: ignore[return-value]
