"""What the window draws over the curves: phases (shading and a labelled start line),
marker lines, the baseline bands and the catch-up lines, with their labels laid out so
they neither overlap nor get cut off at the view's edge.

Items are only added for what is new in the model (`sync`), and labels only move when the
visible range or the layout changed (`place_labels`): each added or moved item repaints."""

from __future__ import annotations

import math

from PySide6 import QtCore  # the binding before pyqtgraph picks one

# isort: split
import pyqtgraph as pg

from holdbeat.analysis.baseline_band import Band
from holdbeat.events import Marker
from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.labels import font
from holdbeat.gui.model import CatchUpView, PhaseView, ViewModel

#: label heights (fraction of the metric plot, from the bottom) for marker labels, so
#: markers close in time do not print on top of each other
MARKER_ROWS = (0.04, 0.15, 0.26, 0.37)
#: heights (fraction of the line from the bottom) that catch-up labels may take, per plot
LABEL_LEVELS = {"ln_rmssd": (0.88, 0.66, 0.44), "hr": (0.12, 0.34, 0.56)}
_DASHES = {
    "dash": QtCore.Qt.PenStyle.DashLine,
    "solid": QtCore.Qt.PenStyle.SolidLine,
    "dot": QtCore.Qt.PenStyle.DotLine,
    "dashdot": QtCore.Qt.PenStyle.DashDotLine,
}


class PhaseItems:
    """One phase drawn: a shaded region in each plot and a labelled start line."""

    def __init__(self, ph: PhaseView, plots: list[pg.PlotItem]) -> None:
        colour = pal.mode_colour(ph.mode)
        brush = pg.mkBrush(pal.rgba(colour, pal.phase_alpha(ph.kind)))
        self.mode = ph.mode
        self.kind = ph.kind
        self.index = ph.index
        self.brush_rgba = pal.rgba(colour, pal.phase_alpha(ph.kind))
        self.regions: list[pg.LinearRegionItem] = []
        for plot in plots:
            reg = pg.LinearRegionItem(
                values=(ph.start_s, ph.end_s if ph.end_s is not None else ph.start_s),
                movable=False,
                brush=brush,
                pen=pg.mkPen(None),
            )
            reg.setZValue(-20)
            for line in reg.lines:  # drag handles: invisible, and not worth a paint
                line.hide()
            plot.addItem(reg, ignoreBounds=True)
            self.regions.append(reg)
        self.start_line = pg.InfiniteLine(
            pos=ph.start_s,
            angle=90,
            pen=pg.mkPen(colour, width=1.5),
            label=ph.name,
            labelOpts={"position": 0.96, "color": pal.FOREGROUND, "anchors": [(0, 0), (0, 0)]},
        )
        self.start_line.label.setFont(font(15, bold=True))
        self.start_line.setZValue(-10)
        plots[0].addItem(self.start_line, ignoreBounds=True)
        self.line2 = pg.InfiniteLine(pos=ph.start_s, angle=90, pen=pg.mkPen(colour, width=1.5))
        self.line2.setZValue(-10)
        plots[1].addItem(self.line2, ignoreBounds=True)

    def set_span(self, start_s: float, end_s: float) -> None:
        for reg in self.regions:
            if tuple(reg.getRegion()) != (start_s, end_s):
                reg.setRegion((start_s, end_s))

    @property
    def span(self) -> tuple[float, float]:
        lo, hi = self.regions[0].getRegion()
        return float(lo), float(hi)


def _vline(
    plot: pg.PlotItem, t_s: float, pen, z: float, text: str | None, bold_px: int, opts: dict
) -> pg.InfiniteLine:
    """A vertical line at t_s in `plot`, labelled with `text` (bold, `bold_px` high) or not."""
    line = pg.InfiniteLine(pos=t_s, angle=90, pen=pen, label=text, labelOpts=opts)
    if getattr(line, "label", None) is not None:
        line.label.setFont(font(bold_px, bold=True))
    line.setZValue(z)
    plot.addItem(line, ignoreBounds=True)
    return line


class Overlays:
    """The items over the two plots (HR first, ln RMSSD second), kept in step with the model."""

    def __init__(self, hr_plot: pg.PlotItem, ln_plot: pg.PlotItem) -> None:
        self.hr_plot = hr_plot
        self.ln_plot = ln_plot
        self.plots = [hr_plot, ln_plot]
        self.phase_items: list[PhaseItems] = []
        self.marker_lines: list[tuple[Marker, list[pg.InfiniteLine]]] = []
        self.catchup_lines: dict[tuple[int, str], list[pg.InfiniteLine]] = {}
        self.band_items: dict[str, list[pg.GraphicsObject]] = {}
        self._band_of: dict[str, object] = {}  # the band each metric's items show

    def sync(self, m: ViewModel) -> None:
        """Add what is new in the model's layout; fix the spans of phases that closed."""
        for ph in m.phases[len(self.phase_items) :]:
            self.phase_items.append(PhaseItems(ph, self.plots))
        for ph, items in zip(m.phases, self.phase_items, strict=False):
            if ph.end_s is not None:
                items.set_span(ph.start_s, ph.end_s)
        for mk in m.markers[len(self.marker_lines) :]:
            self.marker_lines.append((mk, self._add_marker(mk)))
        for metric, band in m.bands.items():
            items = self.band_items.get(metric)
            if items is None:
                label = "baseline band" if m.reference == "baseline" else "band (rest before)"
                self.band_items[metric] = self._add_band(metric, band, label)
            elif self._band_of.get(metric) is not band:  # reference "rest": a new rest's band
                items[0].setRegion((band.lo, band.hi))
                items[1].setValue(band.mean)
            self._band_of[metric] = band
        for metric, items in self.band_items.items():  # a rest too short for a band
            for item in items:
                item.setVisible(metric in m.bands)
        # catch-up lines: ln RMSSD across both plots, HR in the HR plot
        for key, cu in m.catchups.items():
            if cu.t_caught_s is not None and key not in self.catchup_lines:
                self.catchup_lines[key] = self._add_catchup_line(cu)

    def place(self, m: ViewModel, x0: float, x1: float) -> None:
        """After the visible range [x0, x1] or the layout changed."""
        self._current_phase_span(m, x1)
        self._layout_marker_labels(x0, x1)
        self._place_catchup_labels(x0, x1)

    def _current_phase_span(self, m: ViewModel, x1: float) -> None:
        """The running phase is shaded to its planned end (open-ended: to the view's edge)."""
        ph = m.current_phase
        if ph is not None and self.phase_items:
            end = ph.start_s + ph.planned_s if ph.planned_s is not None else x1
            self.phase_items[-1].set_span(ph.start_s, max(ph.start_s, end))

    def _add_marker(self, mk: Marker) -> list[pg.InfiniteLine]:
        colour = pal.MARKER_COLOURS.get(mk.kind, pal.MUTED)
        pen = pg.mkPen(colour, width=2, style=_DASHES[pal.MARKER_DASH.get(mk.kind, "dash")])
        text = mk.kind if not mk.text else f"{mk.kind}: {mk.text[:24]}"
        opts = {"position": MARKER_ROWS[0], "color": colour, "anchors": [(0, 1), (0, 1)]}
        return [
            _vline(plot, mk.t_s, pen, 2, text if i == 1 else None, 14, opts)
            for i, plot in enumerate(self.plots)
        ]

    def _layout_marker_labels(self, x0: float, x1: float) -> None:
        """Greedy rows: a label goes to the lowest row where it does not overlap the last."""
        px_per_s = max(1.0, self.ln_plot.vb.width()) / max(1e-9, x1 - x0)
        ends = [-math.inf] * len(MARKER_ROWS)
        for mk, lines in sorted(self.marker_lines, key=lambda ml: ml[0].t_s):
            label = getattr(lines[1], "label", None)
            if label is None:
                continue
            x = (mk.t_s - x0) * px_per_s
            free = [r for r, end in enumerate(ends) if end <= x]
            row = free[0] if free else min(range(len(ends)), key=ends.__getitem__)
            ends[row] = x + label.boundingRect().width() + 6
            if label.orthoPos != MARKER_ROWS[row]:
                label.setPosition(MARKER_ROWS[row])

    def _add_band(self, metric: str, band: Band, label: str) -> list[pg.GraphicsObject]:
        plot = self.ln_plot if metric == "ln_rmssd" else self.hr_plot
        reg = pg.LinearRegionItem(
            values=(band.lo, band.hi),
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(pal.rgba(pal.BAND, 55)),
            pen=pg.mkPen(pal.rgba(pal.BLUE, 110), width=1, style=QtCore.Qt.PenStyle.DashLine),
        )
        reg.setZValue(-15)
        mean_line = pg.InfiniteLine(
            pos=band.mean,
            angle=0,
            pen=pg.mkPen(pal.rgba(pal.BLUE, 130), width=1, style=QtCore.Qt.PenStyle.DotLine),
            label=label,
            labelOpts={
                "position": 0.02,
                "color": pal.BLUE,
                "anchors": [(0, 1), (0, 1)],
                "fill": (255, 255, 255, 170),
            },
        )
        mean_line.label.setFont(font(13))
        mean_line.setZValue(-14)
        plot.addItem(reg, ignoreBounds=True)
        plot.addItem(mean_line, ignoreBounds=True)
        return [reg, mean_line]

    def _add_catchup_line(self, cu: CatchUpView) -> list[pg.InfiniteLine]:
        ln = cu.metric == "ln_rmssd"
        plots = self.plots if ln else [self.hr_plot]
        arrow = txt.ARROWS.get(cu.direction, "")
        name = txt.METRIC_NAMES.get(cu.metric, cu.metric)
        text = f"{name} {arrow} caught up {txt.clock(cu.latency_s or 0.0)}"
        pen = pg.mkPen(pal.CATCHUP, width=3.5 if ln else 2.0)
        opts = {
            "position": LABEL_LEVELS[cu.metric][0],  # _place_catchup_labels moves it if crowded
            "color": pal.CATCHUP,
            "anchors": [(0, 0), (0, 0)] if ln else [(0, 1), (0, 1)],
            "fill": (255, 255, 255, 210),
        }
        labelled = self.ln_plot if ln else self.hr_plot
        return [
            _vline(plot, cu.t_caught_s, pen, 3, text if plot is labelled else None, 15, opts)
            for plot in plots
        ]

    def _place_catchup_labels(self, x0: float, x1: float) -> None:
        """Catch-up labels never overlap and are never cut off: each goes right of its line,
        or left of it near the view's right edge, at the first height (of three) where it
        clears the labels before it. Zoomed out to a whole session, two holds' catch-ups a
        few minutes apart would otherwise sit on top of each other."""
        span = max(x1 - x0, 1e-9)
        for plot, metric in ((self.ln_plot, "ln_rmssd"), (self.hr_plot, "hr")):
            width_px = plot.getViewBox().sceneBoundingRect().width() or 1.0
            px_per_s = width_px / span
            labelled = [
                line
                for (_, m), lines in self.catchup_lines.items()
                if m == metric
                for line in lines
                if getattr(line, "label", None) is not None
            ]
            taken: dict[float, list[tuple[float, float]]] = {lv: [] for lv in LABEL_LEVELS[metric]}
            for line in sorted(labelled, key=lambda ln: ln.value()):
                lab = line.label
                w_s = (lab.boundingRect().width() + 6.0) / px_per_s
                x = float(line.value())
                right = x + w_s <= x1
                extent = (x, x + w_s) if right else (x - w_s, x)
                level = next(
                    (
                        lv
                        for lv, spans in taken.items()
                        if all(extent[1] <= a or extent[0] >= b for a, b in spans)
                    ),
                    LABEL_LEVELS[metric][-1],
                )
                taken[level].append(extent)
                ay = lab.anchors[0][1]
                ax = 0.0 if right else 1.0
                if lab.anchors != [(ax, ay), (ax, ay)] or lab.orthoPos != level:
                    lab.anchors = [(ax, ay), (ax, ay)]
                    lab.setPosition(level)
