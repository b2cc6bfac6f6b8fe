"""`history --png`: the practice week by week, to read from a chair.

Five measures (rows) by mode (left) and by target (right): one faint dot per hold at its
date, a thick line through the weekly means. Large type, few elements, every line labelled
in the legend with a marker shape as well as a colour (colour-blind safe, Okabe–Ito).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from holdbeat.analysis.figures import TARGET_COLOURS, pyplot
from holdbeat.analysis.history import SessionDigest
from holdbeat.analysis.history_trends import BY, TRENDS, groups_in, weekly
from holdbeat.gui import palette as pal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TARGET_STYLE = {
    "self": (TARGET_COLOURS["self"], "o"),
    "future": (TARGET_COLOURS["future"], "s"),
    "relational": (TARGET_COLOURS["relational"], "^"),
    "(none)": (pal.GREY, "D"),
}
MODE_MARKERS = {"fierce": "o", "soft": "s", "loving-kindness": "^"}
ZERO_LINE = ("d_ln_rmssd", "d_belief")


def _style_of(group: str, by: str) -> tuple[str, str]:
    if by == "mode":
        return pal.mode_colour(group), MODE_MARKERS.get(group, "D")
    return TARGET_STYLE.get(group, (pal.GREY, "D"))


def history_figure(digests: Sequence[SessionDigest]) -> Figure:
    import matplotlib.dates as mdates

    plt = pyplot()

    weeks = sorted({d.week for d in digests if d.week is not None})
    days = [d.started_local.date() for d in digests if d.started_local is not None]
    n_holds = sum(len(d.holds) for d in digests)
    fig, axes = plt.subplots(
        len(TRENDS), 2, figsize=(17, 22), dpi=85, sharex=True, facecolor="white", squeeze=False
    )
    fig.subplots_adjust(left=0.08, right=0.985, top=0.895, bottom=0.07, hspace=0.38, wspace=0.16)
    span = f"{min(days):%b %d} – {max(days):%b %d, %Y}" if days else "no dates"
    fig.suptitle(
        f"Your practice, week by week — {len(digests)} sessions, {n_holds} holds, "
        f"{len(weeks)} week{'s' if len(weeks) != 1 else ''} ({span})",
        fontsize=24,
        fontweight="bold",
        y=0.985,
    )
    for col, by in enumerate(BY):
        groups = groups_in(digests, by)
        for row, (metric, (label, unit)) in enumerate(TRENDS.items()):
            ax = axes[row][col]
            trend, points = weekly(digests, metric, by)
            ax.set_facecolor(pal.BACKGROUND)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(True, axis="y", color="#dddddd", lw=0.8)
            ax.tick_params(labelsize=15)
            if metric in ZERO_LINE:
                ax.axhline(0, color=pal.MUTED, lw=1.2)
            for g in groups:
                colour, marker = _style_of(g, by)
                pts = [p for p in points if p.group == g]
                if pts:
                    x = [p.day for p in pts]
                    ax.plot(
                        x,
                        [p.value for p in pts],
                        marker,
                        color=colour,
                        ms=6,
                        alpha=0.35,
                        mec="none",
                        ls="none",
                    )
                tp = [p for p in trend if p.group == g]
                if tp:
                    mid = [p.week + timedelta(days=3.5) for p in tp]
                    ax.plot(
                        mid,
                        [p.mean for p in tp],
                        "-" + marker,
                        color=colour,
                        lw=4,
                        ms=13,
                        mec="white",
                        mew=1.5,
                        label=g,
                    )
            ax.set_title(f"{label}", fontsize=18, loc="left", pad=8)
            ax.set_ylabel(unit, fontsize=15)
            if metric == "latency_s":
                holds = [h for d in digests for h in d.holds]
                caught = sum(h.catchup == "caught up" for h in holds)
                banded = sum(h.catchup not in ("no band", "no data") for h in holds)
                ax.text(
                    0.99,
                    0.95,
                    f"caught up in {caught} of {banded} holds",
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=15,
                    color=pal.FOREGROUND,
                )
            if not points:
                ax.text(
                    0.5,
                    0.5,
                    "no values yet",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=16,
                    color=pal.MUTED,
                )
            if row == 0:
                handles, labels = ax.get_legend_handles_labels()
                if handles:
                    ax.legend(
                        handles,
                        labels,
                        fontsize=16,
                        frameon=False,
                        ncol=len(handles),
                        loc="lower left",
                        bbox_to_anchor=(0.0, 1.16),
                        handlelength=2.5,
                    )
                ax.annotate(
                    f"by {by}",
                    (0.5, 1.42),
                    xycoords="axes fraction",
                    ha="center",
                    fontsize=21,
                    fontweight="bold",
                )
    ax_last = axes[-1][0]
    if weeks:
        lo = weeks[0] - timedelta(days=1)
        hi = weeks[-1] + timedelta(days=8)
        ax_last.set_xlim(lo, hi)
        for ax in axes[-1]:
            ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
            ax.set_xlabel("week starting (Monday)", fontsize=15)
    fig.text(
        0.08,
        0.008,
        "Faint dots: one hold each, on its day. Thick line: the mean of that week's holds.\n"
        "For looking at, not for testing: `holdbeat compare` gives intervals and p-values.",
        fontsize=14,
        color=pal.MUTED,
    )
    return fig
