"""The window's two plots on one time axis: heart rate (per beat, rolling mean, doubtful
beats) above ln RMSSD. Draws the model's numpy columns as they are (no copies), scales the
y axes in round steps so they do not twitch with every beat, and records when each paint
finished (for the latency benchmark)."""

from __future__ import annotations

import math
import time

from PySide6 import QtCore, QtGui  # the binding before pyqtgraph picks one

# isort: split
import numpy as np
import pyqtgraph as pg

from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.labels import font
from holdbeat.gui.model import HR_BEAT, HR_ROLL, LN, T, ViewModel

pg.setConfigOptions(antialias=True, foreground=pal.FOREGROUND, background=pal.BACKGROUND)


class TimeAxis(pg.AxisItem):
    """Session time as m:ss with minute-friendly tick steps."""

    STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        span = max(1e-9, maxVal - minVal)
        target = max(2.0, size / 110.0)  # a label every ~110 px
        major = next((s for s in self.STEPS if span / s <= target), self.STEPS[-1])
        minor = next((s for s in reversed(self.STEPS) if s < major and major % s == 0), major)
        return [(float(major), 0.0), (float(minor), 0.0)]

    def tickStrings(self, values, scale, spacing):
        return [txt.clock(v) if v >= 0 else "" for v in values]


def nice_range(lo: float, hi: float, step: float, min_span: float) -> tuple[float, float]:
    """Round outward to `step` so the axis does not twitch with every beat."""
    if hi - lo < min_span:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - min_span / 2, mid + min_span / 2
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def finite_minmax(*arrays: np.ndarray) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for a in arrays:
        if a.size:
            a_lo, a_hi = float(np.fmin.reduce(a)), float(np.fmax.reduce(a))
            if math.isfinite(a_lo):
                lo, hi = min(lo, a_lo), max(hi, a_hi)
    return None if lo == math.inf else (lo, hi)


def strap_hr_only(m: ViewModel) -> bool:
    """A strap that sends HR but no RR intervals: draw its HR field instead of beats."""
    return m.n_beats == 0 and m.strap_hr.n > 0


def _curve(plot: pg.PlotItem, colour: str, width: float, name: str) -> pg.PlotDataItem:
    # Thick antialiased paths are what costs in Qt's raster engine (a 1 h curve at
    # 3 px: ~35 ms a paint as one path, ~10 ms as segments, 2 points a pixel).
    # One min/max pair per pixel column draws the same envelope as all points.
    thick = width > 1.5
    c = pg.PlotDataItem(pen=pg.mkPen(colour, width=width), connect="finite", name=name)
    c.opts["autoDownsampleFactor"] = 1.0  # no setter; default 5 samples a pixel
    if thick:
        c.curve.setSegmentedLineMode("on")
    plot.addItem(c)
    # after addItem: PlotItem.addItem imposes the plot's own (default: off) modes
    c.setClipToView(True)
    c.setDownsampling(auto=True, method="peak")
    return c


class Plots(pg.GraphicsLayoutWidget):
    """HR above ln RMSSD, x-linked; `paint_times` holds perf_counter at the end of each
    paint (the last 500-1000)."""

    def __init__(self, window_s: float) -> None:
        super().__init__()
        self.paint_times: list[float] = []
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.ci.layout.setSpacing(16)
        label_style = {"color": pal.FOREGROUND, "font-size": "15px"}
        self.hr_plot = self.addPlot(row=0, col=0, axisItems={"bottom": TimeAxis("bottom")})
        self.ln_plot = self.addPlot(row=1, col=0, axisItems={"bottom": TimeAxis("bottom")})
        self.plots = [self.hr_plot, self.ln_plot]
        self.hr_plot.setLabel("left", "heart rate (bpm)", **label_style)
        self.ln_plot.setLabel("left", f"ln RMSSD (rolling {window_s:.0f} s)", **label_style)
        self.ln_plot.setLabel("bottom", "session time (min:s)", **label_style)
        self.ln_plot.setXLink(self.hr_plot)
        self.hr_plot.getAxis("bottom").setStyle(showValues=False)
        for p in self.plots:
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.disableAutoRange()
            # no grid: pyqtgraph's grid is the costliest part of a paint (~half of it
            # with 1 h in view), and the phase shading already structures the time axis
            for ax in ("left", "bottom"):
                p.getAxis(ax).setTickFont(font(14))
                p.getAxis(ax).setTextPen(pal.FOREGROUND)
            p.getAxis("left").setWidth(72)
        self.hr_beat_curve = _curve(self.hr_plot, pal.HR_BEAT, 1.0, "beat-to-beat HR")
        self.hr_roll_curve = _curve(self.hr_plot, pal.HR_TREND, 3.0, "HR, rolling mean")
        self.ln_curve = _curve(self.ln_plot, pal.LN_RMSSD, 3.5, "ln RMSSD")
        self.flag_scatter = pg.ScatterPlotItem(
            symbol="x", size=11, pen=pg.mkPen(pal.FLAGGED, width=2), brush=pg.mkBrush(pal.FLAGGED)
        )
        self.flag_scatter.setZValue(5)
        self.hr_plot.addItem(self.flag_scatter)

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:
        super().paintEvent(ev)
        times = self.paint_times
        times.append(time.perf_counter())
        if len(times) > 1000:
            del times[:500]

    def draw_data(self, m: ViewModel) -> None:
        """The curves from the model's columns (views, not copies)."""
        if strap_hr_only(m):
            self.hr_roll_curve.setData(m.strap_hr.col(0), m.strap_hr.col(1), connect="finite")
            return
        t = m.series(T)
        self.hr_beat_curve.setData(t, m.series(HR_BEAT), connect="finite")
        self.hr_roll_curve.setData(t, m.series(HR_ROLL), connect="finite")
        self.ln_curve.setData(t, m.series(LN), connect="finite")

    def set_x_range(self, x0: float, x1: float) -> None:
        self.hr_plot.setXRange(x0, x1, padding=0)  # the metric plot is linked

    def update_ranges(self, m: ViewModel, x0: float, x1: float) -> None:
        """y ranges from what is visible in [x0, x1] and the baseline bands; the doubtful
        beats shown at their value, pinned to the plot's edge when off scale."""
        t = m.series(T)
        i0 = int(np.searchsorted(t, x0))
        i1 = int(np.searchsorted(t, x1, side="right"))
        hr = finite_minmax(m.series(HR_BEAT)[i0:i1], m.series(HR_ROLL)[i0:i1])
        if strap_hr_only(m):
            st = m.strap_hr.col(0)
            hr = finite_minmax(m.strap_hr.col(1)[np.searchsorted(st, x0) :])
        ln = finite_minmax(m.series(LN)[i0:i1])
        if "hr" in m.bands:
            lo, hi = m.bands["hr"].lo, m.bands["hr"].hi
            hr = (min(lo, hr[0]), max(hi, hr[1])) if hr else (lo, hi)
        if "ln_rmssd" in m.bands:
            lo, hi = m.bands["ln_rmssd"].lo, m.bands["ln_rmssd"].hi
            ln = (min(lo, ln[0]), max(hi, ln[1])) if ln else (lo, hi)
        hr_lo, hr_hi = nice_range(*(hr or (55.0, 85.0)), step=5.0, min_span=20.0)
        ln_lo, ln_hi = nice_range(*(ln or (2.5, 4.0)), step=0.25, min_span=0.75)
        _set_y(self.hr_plot, hr_lo, hr_hi)
        _set_y(self.ln_plot, ln_lo, ln_hi)
        ft, fhr = m.flagged_series()
        j0 = int(np.searchsorted(ft, x0))
        j1 = int(np.searchsorted(ft, x1, side="right"))
        pad = 0.02 * (hr_hi - hr_lo)
        y = np.clip(fhr[j0:j1], hr_lo + pad, hr_hi - pad)
        self.flag_scatter.setData(ft[j0:j1], y)


def _set_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
    vy = plot.viewRange()[1]
    if abs(vy[0] - lo) > 1e-9 or abs(vy[1] - hi) > 1e-9:
        plot.setYRange(lo, hi, padding=0)
