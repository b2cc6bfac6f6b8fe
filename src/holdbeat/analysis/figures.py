"""PNG figures for `report` and `compare` (matplotlib, Agg: no display needed).

Colours are the live window's (holdbeat.gui.palette, Okabe–Ito, colour-blind safe), and
every coloured thing is also labelled, so colour is never the only cue. The compare
figure leads with one sentence per mode pair saying in words whether they differ and
how sure that is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from holdbeat.analysis.compare import METRIC_TEXT, Comparison, verdict
from holdbeat.analysis.groups import group_colour_key, session_values
from holdbeat.analysis.report import METRIC_LABELS, SessionReport
from holdbeat.gui import palette as pal
from holdbeat.session import format_duration

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from holdbeat.analysis.prep import Prepared


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _style(ax: Axes) -> None:
    ax.set_facecolor(pal.BACKGROUND)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.tick_params(labelsize=9)


#: a figure is read by a person: past these counts, one phase or hold is a sliver and a
#: label a smudge, and drawing each as its own artist took minutes for 10,000 phases
MAX_LABELLED_PHASES = 40
MAX_TABLE_ROWS = 10
MAX_ANNOTATED_HOLDS = 40


def _plain(text: object) -> str:
    """File text for matplotlib: '$' would start mathtext (and a bad formula raises)."""
    return str(text).replace("$", r"\$")


def _spans(ax: Axes, spans: list[tuple[float, float]], **style: object) -> None:
    """Vertical bands [lo, hi] (minutes) over the whole height, as one artist."""
    from matplotlib.collections import PolyCollection

    if spans:
        polys = [[(lo, 0.0), (hi, 0.0), (hi, 1.0), (lo, 1.0)] for lo, hi in spans]
        ax.add_collection(PolyCollection(polys, transform=ax.get_xaxis_transform(), **style))


def _shade_phases(ax: Axes, rep: SessionReport, labels: bool) -> None:
    by_style: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for r in rep.phases:
        colour = pal.mode_colour(r.mode if r.kind == "hold" else "neutral")
        alpha = pal.phase_alpha(r.kind) / 255
        by_style.setdefault((colour, alpha), []).append((r.start_s / 60, r.end_s / 60))
    for (colour, alpha), spans in by_style.items():
        _spans(ax, spans, facecolors=colour, alpha=alpha, linewidths=0)
    if not labels:
        return
    if len(rep.phases) > MAX_LABELLED_PHASES:
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
    for r in rep.phases:
        text = _plain(r.name if r.kind != "hold" else f"{r.name}\n[{r.mode}]")
        if r.low_quality:
            text += "\nLOW QUALITY"
        ax.text(
            (r.start_s + r.end_s) / 120,
            1.01,
            text,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=pal.FOREGROUND,
        )


def _markers(ax: Axes, prep: Prepared, legend: dict) -> None:
    styles = {"lapse": "--", "rehold": "-", "felt": ":", "note": "-."}
    times: dict[str, list[float]] = {}
    for m in prep.rec.markers:
        times.setdefault(m.kind, []).append(m.t_s / 60)
    for kind, xs in times.items():  # one artist per kind, however many markers
        colour = pal.MARKER_COLOURS.get(kind, pal.MUTED)
        lines = ax.vlines(
            xs,
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors=colour,
            linestyles=styles.get(kind, "-"),
            linewidths=1.1,
        )
        legend.setdefault(f"marker: {_plain(kind)}", lines)


def report_figure(rep: SessionReport, prep: Prepared) -> Figure:
    """HR and ln RMSSD over the session with phases, bands, catch-ups, markers; the table."""
    plt = _plt()
    fig = plt.figure(figsize=(14, 11), dpi=100, facecolor="white")
    grid = fig.add_gridspec(
        4,
        1,
        height_ratios=[3, 3, 2.3, 0.5],
        hspace=0.3,
        left=0.06,
        right=0.98,
        top=0.87,
        bottom=0.01,
    )
    roll = prep.rolling
    t_min = roll.t_s / 60
    panels = [("hr", "HR (bpm)", pal.HR_TREND), ("ln_rmssd", "ln RMSSD (ln ms)", pal.LN_RMSSD)]
    legend: dict = {}
    ax0 = None
    for row, (metric, ylabel, colour) in enumerate(panels):
        ax = fig.add_subplot(grid[row], sharex=ax0)
        ax0 = ax0 or ax
        _style(ax)
        _shade_phases(ax, rep, labels=row == 0)
        if metric == "hr" and prep.rr_ms.size:
            with np.errstate(divide="ignore"):
                beat_hr = np.where(prep.usable, 60000.0 / prep.rr_ms, np.nan)
            h = ax.plot(prep.t_s / 60, beat_hr, color=pal.HR_BEAT, lw=0.5, alpha=0.8)[0]
            legend.setdefault("HR beat by beat", h)
        line = ax.plot(t_min, roll.metric(metric), color=colour, lw=2.0)[0]
        legend.setdefault(f"rolling {rep.config.window_s:g} s (HR, ln RMSSD)", line)
        band = rep.bands.get(metric)
        if band is not None and band.valid:
            span = ax.axhspan(band.lo, band.hi, color=pal.BAND, alpha=0.25, lw=0)
            ax.axhline(band.mean, color=pal.BAND, lw=0.8, ls="--")
            legend.setdefault(f"baseline band (mean ± {band.k:g} SD)", span)
        lapsed = [(lo / 60, hi / 60) for h in rep.holds for lo, hi in h.lapse_spans]
        _spans(ax, lapsed, facecolors="none", hatch="///", edgecolors=pal.MUTED, linewidths=0)
        for h in rep.holds[:MAX_ANNOTATED_HOLDS]:
            c = h.catchup_of(metric)
            if c is not None and c.catchup.reached:
                cu = c.catchup
                y = np.interp(cu.t_left_s, roll.t_s, np.nan_to_num(roll.metric(metric)))
                pt = ax.plot(
                    cu.t_left_s / 60,
                    y,
                    marker="v" if cu.direction == "down" else "^",
                    ms=11,
                    color=pal.CATCHUP,
                    mec="black",
                    mew=0.8,
                    ls="none",
                )[0]
                legend.setdefault("catch-up (left the band for good)", pt)
                ax.annotate(
                    f"{cu.latency_s:.0f} s",
                    (cu.t_left_s / 60, y),
                    textcoords="offset points",
                    xytext=(0, 12 if cu.direction != "down" else -18),
                    ha="center",
                    fontsize=8.5,
                    fontweight="bold",
                )
        _markers(ax, prep, legend)
        ax.set_ylabel(ylabel)
        if row == 1:
            ax.set_xlabel("session time (min)")
    assert ax0 is not None
    ax0.set_xlim(0, max(rep.duration_s, 1.0) / 60)
    hatch = plt.Rectangle((0, 0), 1, 1, facecolor="none", hatch="///", edgecolor=pal.MUTED)
    legend["lapsed (lapse → rehold)"] = hatch
    fig.legend(
        list(legend.values()),
        list(legend.keys()),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.96),
        ncol=4,
        fontsize=8.5,
        frameon=False,
    )
    title = f"holdbeat report — {Path(rep.file).name} · {rep.protocol} · {rep.started_utc}"
    fig.suptitle(
        _plain(f"{title} · {format_duration(rep.duration_s)}"),
        fontsize=12,
        y=0.995,
    )
    _report_table(fig.add_subplot(grid[2]), rep)
    _caveat_text(fig.add_subplot(grid[3]), rep)
    return fig


def _report_table(ax: Axes, rep: SessionReport) -> None:
    ax.axis("off")
    cols = ["phase", "mode", "dur", "corr %", "HR", "ln RMSSD", "ΔHR", "Δln RMSSD"]
    cols += [f"{METRIC_LABELS[m]} catch-up" for m in rep.config.metrics] + ["τ ln RMSSD", "lapses"]
    cols += ["belief (Δ)", "safety (Δ)"]  # ratings before → after the hold
    rated = {r.index: r for r in (rep.practice.ratings if rep.practice else ())}
    holds = {h.index: h for h in rep.holds}
    cells = []
    colours = []
    phases = rep.phases
    if len(phases) > MAX_TABLE_ROWS:  # the first rows; --csv / --json / the text have all
        phases = phases[: MAX_TABLE_ROWS - 1]
    for r in phases:
        h = holds.get(r.index)

        def f(x: float, spec: str) -> str:
            return "—" if not math.isfinite(x) else format(x, spec)

        row = [
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
            row += [""] * (len(rep.config.metrics) + 4)
        else:
            for c in h.catchups:
                row.append(c.catchup.label)
            lnc = h.catchup_of("ln_rmssd")
            row.append(
                f"{lnc.fit.tau_s:.0f} s (R² {lnc.fit.r2:.2f})" if lnc and lnc.fit.ok else "—"
            )
            row.append(str(h.lapses))
            row += _rating_cells(rated.get(r.index))
        cells.append(row)
        base = pal.mode_colour(r.mode if r.kind == "hold" else "neutral")
        colours.append([_tint(base, 0.22 if r.kind == "hold" else 0.1)] * len(cols))
    if len(phases) < len(rep.phases):
        more = len(rep.phases) - len(phases)
        cells.append([f"… {more} more phases", *[""] * (len(cols) - 1)])
        colours.append([(1.0, 1.0, 1.0)] * len(cols))
    table = ax.table(
        cellText=cells, colLabels=cols, cellColours=colours, loc="upper center", cellLoc="center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.auto_set_column_width(list(range(len(cols))))
    table.scale(1.0, 1.3)


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


def _caveat_text(ax: Axes, rep: SessionReport) -> None:
    import textwrap

    ax.axis("off")
    notes = [c for c in rep.caveats if "rolling metrics" not in c]
    if not notes:
        return
    shown = notes[:4] + (
        [f"… and {len(notes) - 4} more (see the text report)"] if len(notes) > 4 else []
    )
    text = "\n".join(textwrap.fill("• " + c, 170) for c in shown)
    ax.text(
        0.0,
        1.0,
        "Caveats\n" + _plain(text),
        transform=ax.transAxes,
        fontsize=8.5,
        color=pal.WARN,
        va="top",
    )


def _tint(hex_colour: str, amount: float) -> tuple[float, float, float]:
    r, g, b, _ = pal.rgba(hex_colour, 255)
    return tuple(1 - amount + amount * c / 255 for c in (r, g, b))  # type: ignore[return-value]


# ---------------------------------------------------------------- compare


def compare_figure(cmp: Comparison) -> Figure:
    plt = _plt()
    cfg = cmp.config
    label, unit = METRIC_TEXT[cfg.metric]
    fig = plt.figure(figsize=(14, 11.5), dpi=100, facecolor="white")
    grid = fig.add_gridspec(
        3, 1, height_ratios=[1.1, 3, 2.6], hspace=0.32, left=0.07, right=0.98, top=0.94, bottom=0.06
    )
    mid = grid[1].subgridspec(1, 2, width_ratios=[1, 2.1], wspace=0.62)
    low = grid[2].subgridspec(1, 3, wspace=0.25)
    # -- the answer in words
    import textwrap

    ax_t = fig.add_subplot(grid[0])
    ax_t.axis("off")
    big = textwrap.fill(_answer(cmp), 95)
    ax_t.text(0, 1.05, big, va="top", ha="left", fontsize=14, fontweight="bold")
    lines = [textwrap.fill(x, 160, subsequent_indent="   ") for x in _headline(cmp)]
    ax_t.text(
        0, 1.05 - 0.2 * (big.count("\n") + 1), "\n".join(lines), va="top", ha="left", fontsize=9.5
    )
    # -- per mode: every session's value, mean and 95 % CI
    ax = fig.add_subplot(mid[0])
    _style(ax)
    per = session_values(cmp.units, cfg.metric, cfg.by)
    rng = np.random.default_rng(0)
    ticks = []
    groups = [g.mode for g in cmp.modes]  # modes, targets or 'mode · target'
    for i, m in enumerate(groups):
        vals = np.array(list(per.get(m, {}).values()))
        est = cmp.modes[i].estimate
        ticks.append(f"{m.replace(' · ', chr(10))}\nn = {est.n}")
        if vals.size:
            ax.plot(
                i + rng.uniform(-0.18, 0.18, vals.size),
                vals,
                "o",
                ms=4,
                alpha=0.55,
                color=_group_colour(m, i),
                mec="none",
            )
        if est.ok:
            ax.errorbar(
                i + 0.32,
                est.mean,
                yerr=[[est.mean - est.ci_lo], [est.ci_hi - est.mean]],
                fmt="D",
                color="black",
                ms=6,
                capsize=5,
                lw=1.6,
            )
    ax.axhline(0, color=pal.MUTED, lw=0.8)
    ax.set_xticks(range(len(groups)), ticks, fontsize=8 if len(groups) > 4 else 9)
    ax.set_xlim(-0.5, len(groups) - 0.3)
    ax.set_ylabel(f"{label} ({unit}), hold − baseline")
    ax.set_title("each dot: one session; ◆ mean with 95 % CI", fontsize=9.5)
    # -- differences between modes
    ax = fig.add_subplot(mid[1])
    _style(ax)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    rows = list(cmp.pairwise) + list(cmp.paired)
    names = []
    for y, c in enumerate(rows):
        names.append(f"{c.a} − {c.b}" + ("\n(same sessions)" if c.paired else ""))
        if c.ok:
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
        else:
            ax.text(
                0.5,
                y,
                "can't say: " + c.reason,
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                fontsize=8.5,
                color=pal.MUTED,
            )
    ax.axvline(0, color="black", lw=0.9)
    ax.set_yticks(range(len(rows)), names, fontsize=9)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel(
        f"difference in {label} ({unit}); bar = 95 % CI; a bar crossing 0 = maybe no difference"
    )
    what = {"mode": "modes", "target": "targets"}.get(cfg.by, "groups")
    ax.set_title(f"differences between {what} (first minus second)", fontsize=9.5)
    # -- event-locked trajectories
    tm = METRIC_LABELS.get(cfg.traj_metric, cfg.traj_metric)
    for col, ev in enumerate(("onset", "lapse", "rehold")):
        ax = fig.add_subplot(low[col])
        _style(ax)
        any_line = False
        for tr in (t for t in cmp.trajectories if t.event == ev):
            colour = pal.mode_colour(tr.mode)
            ax.plot(
                tr.offsets_s, tr.mean, color=colour, lw=2, label=f"{tr.mode} (n = {tr.n_sessions})"
            )
            ax.fill_between(tr.offsets_s, tr.lo, tr.hi, color=colour, alpha=0.2, lw=0)
            any_line = True
        ax.axvline(0, color="black", lw=0.9)
        ax.axhline(0, color=pal.MUTED, lw=0.8)
        ax.set_xlabel(f"seconds from {ev if ev != 'onset' else 'hold onset'}")
        ax.set_title(f"around {'hold onset' if ev == 'onset' else ev + ' markers'}", fontsize=9.5)
        if col == 0:
            ax.set_ylabel(f"{tm} minus baseline mean")
        if any_line:
            ax.legend(fontsize=8, frameon=False)
        else:
            ax.text(
                0.5, 0.5, f"no {ev} events", transform=ax.transAxes, ha="center", color=pal.MUTED
            )
    fig.suptitle(
        f"holdbeat compare — {cmp.n_sessions} sessions, {len(cmp.units)} holds used, "
        f"{len(cmp.excluded)} excluded",
        fontsize=12,
        y=0.995,
    )
    return fig


#: targets have no colour in the live window; these stay clear of the mode colours
TARGET_COLOURS = {"self": pal.BLUE, "future": pal.VERMILLION, "relational": "#7A3E9D"}


def _group_colour(label: str, i: int) -> str:
    """A mode's colour, a target's, else the palette in order."""
    key = group_colour_key(label)
    if key in pal.MODE_COLOURS:
        return pal.mode_colour(key)
    return TARGET_COLOURS.get(key, (pal.BLUE, pal.VERMILLION, pal.SKY_BLUE, pal.GREY)[i % 4])


def _answer(cmp: Comparison) -> str:
    """The one question most people ask, answered in words: do fierce and soft differ?"""
    label, unit = METRIC_TEXT[cmp.config.metric]
    if not cmp.pairwise:
        return "Only one group has usable holds: nothing to compare."
    if cmp.config.by != "mode":
        return _answer_groups(cmp)
    unp, par = cmp.pairwise[0], cmp.paired[0]
    c = par if par.ok else unp
    if not c.ok:
        return f"Fierce vs soft: not enough usable sessions to say ({c.reason})."
    if c.excludes_zero:
        hi, lo = ("fierce", "soft") if c.diff > 0 else ("soft", "fierce")
        sure = "very sure" if c.p < 0.001 else "fairly sure" if c.p < 0.01 else "somewhat sure"
        return (
            f"Fierce vs soft: YES, they differ — {label} rose more in {hi} than in {lo} "
            f"by {abs(c.diff):.2g} {unit} ({sure}: p = {c.p:.2g})."
        )
    return (
        f"Fierce vs soft: NO clear difference in {label} — the 95 % interval "
        f"({c.ci_lo:+.2g} to {c.ci_hi:+.2g} {unit}) includes zero; more sessions could still "
        "show a small one."
    )


def _answer_groups(cmp: Comparison) -> str:
    """By target (or mode and target): the clearest contrast, in words."""
    label, unit = METRIC_TEXT[cmp.config.metric]
    cs = [par if par.ok else unp for unp, par in zip(cmp.pairwise, cmp.paired, strict=True)]
    ok = [c for c in cs if c.ok]
    if not ok:
        return f"Not enough usable sessions in two {cmp.config.by}s to compare {label}."
    best = min(ok, key=lambda c: c.p)
    if best.excludes_zero:
        hi, lo = (best.a, best.b) if best.diff > 0 else (best.b, best.a)
        return (
            f"{label} was higher for {hi} than for {lo} by {abs(best.diff):.2g} {unit} "
            f"(p = {best.p:.2g}); the other contrasts are below."
        )
    return (
        f"No clear difference in {label} between the {cmp.config.by.replace(',', ' and ')} "
        "groups: every 95 % interval includes zero."
    )


def _headline(cmp: Comparison) -> list[str]:
    """The answer in words: the paired contrast where there is one, else the unpaired."""
    cfg = cmp.config
    out = []
    for unp, par in zip(cmp.pairwise, cmp.paired, strict=True):
        c = par if par.ok else unp
        if not c.ok and not unp.ok and (unp.n_a == 0 or unp.n_b == 0):
            continue
        out.append("• " + verdict(c, cfg.metric))
    if not out:
        out.append("• Not enough usable holds in two or more modes to compare anything.")
    ex = len(cmp.excluded)
    out.append(
        f"({ex} hold(s) excluded: see the text output or --json for each reason.)"
        if ex
        else "(no holds excluded)"
    )
    return out


def save(fig: Figure, path: Path, inputs: Sequence[Path] = ()) -> None:
    """Write the figure as PNG through the one output writer (0600, atomic, never over a
    recording or a non-regular file); report/compare replace an existing regular file."""
    from holdbeat.output import write_file

    try:
        write_file(
            Path(path),
            lambda f: fig.savefig(f, format="png", facecolor=fig.get_facecolor()),
            force=True,
            inputs=inputs,
        )
    finally:
        _plt().close(fig)
