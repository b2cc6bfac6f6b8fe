"""The live window: two stacked plots (HR, ln RMSSD) on one time axis, the current phase's
belief and time left, big current values, catch-up, markers and a status bar.

It only reads a `ViewModel`; it never blocks the pipeline. Redraws are coalesced to at
most ~30 per second and happen only when the model's versions moved. Keys come from
`holdbeat.keys` (the same table as the console view); what a key means is sent out as a
Control through `on_control`, never acted on here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets  # the binding before pyqtgraph picks one

# isort: split
import numpy as np
import pyqtgraph as pg

from holdbeat.events import Marker, Rating
from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.model import HR_BEAT, HR_ROLL, LN, CatchUpView, PhaseView, T, ViewModel
from holdbeat.gui.practice import PracticeHelper
from holdbeat.gui.rating import RatingDialog
from holdbeat.keys import (
    CONTROL_KEYS,
    MARKER_HELP,
    MARKER_KEYS,
    ControlCmd,
    MarkerCmd,
    parse_command,
    rating_slot,
    to_event,
)
from holdbeat.pipeline import Control, NextPhase, Stop
from holdbeat.practice import rating_scales

FRAME_MS = 33  # ~30 fps at most
#: label heights (fraction of the metric plot, from the bottom) for marker labels, so
#: markers close in time do not print on top of each other
MARKER_ROWS = (0.04, 0.15, 0.26, 0.37)

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


def _font(px: int, bold: bool = False, italic: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    f.setItalic(italic)
    return f


def _label(
    px: int, bold: bool = False, colour: str = pal.FOREGROUND, italic: bool = False
) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel()
    # beliefs, prompts and names come from files: shown as text, never run as markup
    lab.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    lab.setFont(_font(px, bold, italic))
    lab.setStyleSheet(f"color: {colour};")
    lab.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    return lab


def _caption(text: str, colour: str = pal.MUTED) -> QtWidgets.QLabel:
    lab = _label(15, colour=colour)
    lab.setText(text)
    return lab


def _swatch(style: str, size: tuple[int, int] = (22, 14)) -> QtWidgets.QLabel:
    sw = QtWidgets.QLabel()
    sw.setFixedSize(*size)
    sw.setStyleSheet(style)
    return sw


def _nice_range(lo: float, hi: float, step: float, min_span: float) -> tuple[float, float]:
    """Round outward to `step` so the axis does not twitch with every beat."""
    if hi - lo < min_span:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - min_span / 2, mid + min_span / 2
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def _finite_minmax(*arrays: np.ndarray) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for a in arrays:
        if a.size:
            a_lo, a_hi = float(np.fmin.reduce(a)), float(np.fmax.reduce(a))
            if math.isfinite(a_lo):
                lo, hi = min(lo, a_lo), max(hi, a_hi)
    return None if lo == math.inf else (lo, hi)


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
        self.start_line.label.setFont(_font(15, bold=True))
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


class LiveWindow(QtWidgets.QMainWindow):
    """The live window of one session. `closed` fires once the window really closes."""

    closed = QtCore.Signal()

    def __init__(
        self,
        model: ViewModel,
        on_control: Callable[[float, Control], None],
        now_s: Callable[[], float] | None = None,
        view_minutes: float = 5.0,
        ask_ratings: bool = False,
        recording: Callable[[], str] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.on_control = on_control
        self.now_s = now_s or (lambda: model.now_s)
        self.view_s = float(view_minutes) * 60.0
        self.follow = True
        self.ask_ratings = ask_ratings
        self.recording = recording or (lambda: model.status.recording)
        self._drawn = (-1, -1, -1)
        self._x_drawn = (-1.0, -1.0)
        self._styles: dict[int, str] = {}
        self._last_redraw = 0.0
        self._phase_items: list[PhaseItems] = []
        self._marker_lines: list[tuple[Marker, list[pg.InfiniteLine]]] = []
        self._catchup_lines: dict[int, list[pg.InfiniteLine]] = {}
        self._band_items: dict[str, list[pg.GraphicsObject]] = {}
        self._confirm: QtWidgets.QMessageBox | None = None
        self._close_ok = False
        self._ended_seen = False
        self.rating_dialog: RatingDialog | None = None
        self._rated_for: set[tuple[int, str]] = set()
        self.paint_times: list[float] = []  # perf_counter at the end of each plot paint
        self.redraws = 0

        self.setWindowTitle("holdbeat — live")
        self.resize(1440, 900)
        self.setStyleSheet(f"QMainWindow {{ background: {pal.BACKGROUND}; }}")
        central = QtWidgets.QWidget()
        central.setObjectName("central")
        central.setStyleSheet(f"QWidget#central {{ background: {pal.BACKGROUND}; }}")
        self.setCentralWidget(central)
        outer = QtWidgets.QVBoxLayout(central)
        outer.setContentsMargins(16, 10, 16, 6)
        outer.setSpacing(6)
        outer.addWidget(self._build_header())
        body = QtWidgets.QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self._build_plots(), 5)
        body.addWidget(self._build_side(), 0)
        outer.addLayout(body, 1)
        outer.addWidget(self._build_legend())
        self._build_status()
        self.practice = PracticeHelper(self)  # re-hold cue, act-and-savor questions

        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.redraw)
        model.on_change = self.schedule_redraw
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.redraw()

    # ------------------------------------------------------------------ building

    def _build_header(self) -> QtWidgets.QWidget:
        box = QtWidgets.QFrame()
        box.setObjectName("header")
        lay = QtWidgets.QGridLayout(box)
        lay.setContentsMargins(14, 8, 14, 8)
        lay.setHorizontalSpacing(16)
        lay.setVerticalSpacing(2)
        self.mode_chip = _label(20, bold=True, colour="#FFFFFF")
        self.mode_chip.setContentsMargins(12, 4, 12, 4)
        self.phase_label = _label(20, colour=pal.MUTED)
        self.time_left = _label(40, bold=True)
        self.time_left.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.time_left.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        self.belief = _label(34, bold=True)
        self.belief.setWordWrap(True)
        self.prompt = _label(20, colour=pal.MUTED)
        self.prompt.setWordWrap(True)
        top = QtWidgets.QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(self.mode_chip, 0)
        top.addWidget(self.phase_label, 1)
        lay.addLayout(top, 0, 0)
        lay.addWidget(self.time_left, 0, 1, 2, 1)
        lay.addWidget(self.belief, 1, 0)
        lay.addWidget(self.prompt, 2, 0, 1, 2)
        lay.setColumnStretch(0, 1)
        self.header_box = box
        return box

    def _build_plots(self) -> QtWidgets.QWidget:
        self.glw = _PaintTimedLayout(self)
        self.glw.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.glw.ci.layout.setSpacing(16)
        label_style = {"color": pal.FOREGROUND, "font-size": "15px"}
        self.hr_plot = self.glw.addPlot(row=0, col=0, axisItems={"bottom": TimeAxis("bottom")})
        self.ln_plot = self.glw.addPlot(row=1, col=0, axisItems={"bottom": TimeAxis("bottom")})
        self.plots = [self.hr_plot, self.ln_plot]
        self.hr_plot.setLabel("left", "heart rate (bpm)", **label_style)
        self.ln_plot.setLabel(
            "left", f"ln RMSSD (rolling {self.model.window_s:.0f} s)", **label_style
        )
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
                p.getAxis(ax).setTickFont(_font(14))
                p.getAxis(ax).setTextPen(pal.FOREGROUND)
            p.getAxis("left").setWidth(72)

        def curve(plot: pg.PlotItem, colour: str, width: float, name: str) -> pg.PlotDataItem:
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

        self.hr_beat_curve = curve(self.hr_plot, pal.HR_BEAT, 1.0, "beat-to-beat HR")
        self.hr_roll_curve = curve(self.hr_plot, pal.HR_TREND, 3.0, "HR, rolling mean")
        self.ln_curve = curve(self.ln_plot, pal.LN_RMSSD, 3.5, "ln RMSSD")
        self.flag_scatter = pg.ScatterPlotItem(
            symbol="x", size=11, pen=pg.mkPen(pal.FLAGGED, width=2), brush=pg.mkBrush(pal.FLAGGED)
        )
        self.flag_scatter.setZValue(5)
        self.hr_plot.addItem(self.flag_scatter)
        return self.glw

    def _build_side(self) -> QtWidgets.QWidget:
        side = QtWidgets.QFrame()
        side.setFixedWidth(330)
        lay = QtWidgets.QVBoxLayout(side)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(0)
        self.hr_caption = _label(20, colour=pal.MUTED)
        self.hr_caption.setText("heart rate · bpm")
        self.hr_value = _label(110, bold=True, colour=pal.HR_TREND)
        self.hr_value.setFixedHeight(126)
        self.hr_note = _label(15, colour=pal.MUTED)
        self.hr_note.setWordWrap(True)
        self.ln_caption = _label(20, colour=pal.MUTED)
        self.ln_caption.setText(f"ln RMSSD · ln(ms) · {self.model.window_s:.0f} s")
        self.ln_value = _label(110, bold=True, colour=pal.LN_RMSSD)
        self.ln_value.setFixedHeight(126)
        self.ln_note = _label(15, colour=pal.MUTED)
        self.ln_note.setWordWrap(True)
        self.catchup_caption = _label(20, colour=pal.MUTED)
        self.catchup_caption.setText("catch-up")
        self.catchup_head = _label(30, bold=True)
        self.catchup_head.setWordWrap(True)
        self.catchup_detail = _label(15, colour=pal.MUTED)
        self.catchup_detail.setWordWrap(True)
        for w in (self.hr_caption, self.hr_value, self.hr_note):
            lay.addWidget(w)
        lay.addSpacing(14)
        for w in (self.ln_caption, self.ln_value, self.ln_note):
            lay.addWidget(w)
        lay.addSpacing(18)
        for w in (self.catchup_caption, self.catchup_head, self.catchup_detail):
            lay.addWidget(w)
        lay.addStretch(1)
        self.zoom_button = QtWidgets.QPushButton()
        self.zoom_button.setFont(_font(16))
        self.zoom_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.zoom_button.clicked.connect(self.toggle_zoom)
        lay.addWidget(self.zoom_button)
        return side

    def _build_legend(self) -> QtWidgets.QWidget:
        box = QtWidgets.QFrame()
        rows = QtWidgets.QVBoxLayout(box)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(8)
        rows.addLayout(row)
        row.addWidget(_caption("phases:"))
        for mode in pal.MODE_ORDER:
            r, g, b, _ = pal.rgba(pal.mode_colour(mode), 255)
            row.addWidget(
                _swatch(f"background: rgba({r},{g},{b},150); border: 1px solid rgb({r},{g},{b});")
            )
            row.addWidget(_caption(mode, pal.FOREGROUND))
            row.addSpacing(4)
        row.addSpacing(14)
        row.addWidget(_caption("lines:"))
        w = self.model.window_s
        for style, size, what in (
            (f"background: {pal.HR_TREND};", (22, 4), f"HR ({w:.0f} s mean)"),
            (f"background: {pal.HR_BEAT};", (22, 1), "HR per beat"),
            (f"background: {pal.LN_RMSSD};", (22, 4), "ln RMSSD"),
            (
                f"background: rgba(86,180,233,70); border: 1px dashed {pal.BLUE};",
                (22, 12),
                "baseline band",
            ),
            (f"background: {pal.CATCHUP};", (4, 16), "caught up"),
        ):
            row.addWidget(_swatch(style, size))
            row.addWidget(_caption(what, pal.FOREGROUND))
            row.addSpacing(4)
        flag = _caption("✖", pal.FLAGGED)
        flag.setFont(_font(16, bold=True))
        row.addWidget(flag)
        row.addWidget(_caption("doubtful beat", pal.FOREGROUND))
        row.addStretch(1)
        lay = QtWidgets.QHBoxLayout()
        rows.addLayout(lay)
        keys = []
        for key, kind in MARKER_KEYS.items():
            keys.append(
                f"<b>{key}</b> <span style='color:{pal.MARKER_COLOURS[kind]}'>{kind}</span>"
            )
        keys += [f"<b>{k}</b> {'next phase' if k == 'a' else 'end'}" for k in CONTROL_KEYS]
        keys += [f"<b>{k}</b> zoom" for k in pal.VIEW_KEYS]
        self.key_legend = _label(17)
        self.key_legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key_legend.setText("keys: " + " &nbsp;·&nbsp; ".join(keys))
        self.key_legend.setToolTip(
            "\n".join(f"{k}: {kind} — {MARKER_HELP[kind]}" for k, kind in MARKER_KEYS.items())
        )
        lay.addWidget(self.key_legend)
        lay.addStretch(1)
        return box

    def _build_status(self) -> None:
        bar = self.statusBar()
        bar.setStyleSheet(
            f"QStatusBar {{ background: #EFEDE8; color: {pal.FOREGROUND}; }}"
            " QLabel { padding: 0 10px; }"
        )
        self.st_device = _label(14)
        self.st_battery = _label(14)
        self.st_contact = _label(14)
        self.st_connection = _label(14, bold=True)
        self.st_quality = _label(14)
        self.st_recording = _label(14, colour=pal.MUTED)
        for w in (
            self.st_device,
            self.st_battery,
            self.st_contact,
            self.st_connection,
            self.st_quality,
        ):
            bar.addWidget(w)
        bar.addPermanentWidget(self.st_recording)

    # ------------------------------------------------------------------ drawing

    def schedule_redraw(self) -> None:
        """Called by the model on every change: at most one redraw per frame, none in between."""
        if self._timer.isActive():
            return
        since_ms = (time.perf_counter() - self._last_redraw) * 1000.0
        self._timer.start(int(max(0.0, FRAME_MS - since_ms)))

    def redraw(self) -> None:
        m = self.model
        versions = (m.data_version, m.layout_version, m.status_version)
        if versions == self._drawn:
            return
        self._last_redraw = time.perf_counter()
        data_changed = versions[0] != self._drawn[0]
        layout_changed = versions[1] != self._drawn[1]
        self._drawn = versions
        self.redraws += 1
        if m.end is not None and not self._ended_seen:
            self._ended_seen = True
            self.follow = False  # the session is over: show all of it
        if data_changed:
            self._draw_data()
        if layout_changed:
            self._sync_layout()
        # Time alone (ticks) changes only the texts; the plots repaint when data, layout
        # or the (quantised) visible range change.
        xr = self.x_range()
        range_changed = xr != self._x_drawn
        if range_changed:
            self._x_drawn = xr
            self.hr_plot.setXRange(*xr, padding=0)
        if layout_changed or range_changed:
            self._draw_current_phase_span()
            self._layout_marker_labels()
            self._place_catchup_labels()
        if data_changed or layout_changed or range_changed:
            self._update_ranges()
        self._update_texts()
        if layout_changed:
            self._maybe_ask_rating()
        self.practice.sync()

    @property
    def strap_hr_only(self) -> bool:
        """A strap that sends HR but no RR intervals: draw its HR field instead of beats."""
        return self.model.n_beats == 0 and self.model.strap_hr.n > 0

    def _draw_data(self) -> None:
        m = self.model
        if self.strap_hr_only:
            self.hr_roll_curve.setData(m.strap_hr.col(0), m.strap_hr.col(1), connect="finite")
            return
        t = m.series(T)
        self.hr_beat_curve.setData(t, m.series(HR_BEAT), connect="finite")
        self.hr_roll_curve.setData(t, m.series(HR_ROLL), connect="finite")
        self.ln_curve.setData(t, m.series(LN), connect="finite")

    def _sync_layout(self) -> None:
        m = self.model
        # phases: add new, fix spans of closed ones
        for ph in m.phases[len(self._phase_items) :]:
            self._phase_items.append(PhaseItems(ph, self.plots))
        for ph, items in zip(m.phases, self._phase_items, strict=False):
            if ph.end_s is not None:
                items.set_span(ph.start_s, ph.end_s)
        # markers
        for mk in m.markers[len(self._marker_lines) :]:
            self._marker_lines.append((mk, self._add_marker(mk)))
        # baseline bands
        for metric, band in m.bands.items():
            if metric not in self._band_items:
                self._band_items[metric] = self._add_band(metric, band.lo, band.mean, band.hi)
        # catch-up lines: ln RMSSD across both plots, HR in the HR plot
        for key, cu in m.catchups.items():
            if cu.t_caught_s is not None and key not in self._catchup_lines:
                self._catchup_lines[key] = self._add_catchup_line(cu)

    def _add_marker(self, mk: Marker) -> list[pg.InfiniteLine]:
        colour = pal.MARKER_COLOURS.get(mk.kind, pal.MUTED)
        style = {
            "dash": QtCore.Qt.PenStyle.DashLine,
            "solid": QtCore.Qt.PenStyle.SolidLine,
            "dot": QtCore.Qt.PenStyle.DotLine,
            "dashdot": QtCore.Qt.PenStyle.DashDotLine,
        }[pal.MARKER_DASH.get(mk.kind, "dash")]
        pen = pg.mkPen(colour, width=2, style=style)
        text = mk.kind if not mk.text else f"{mk.kind}: {mk.text[:24]}"
        lines = []
        for i, plot in enumerate(self.plots):
            line = pg.InfiniteLine(
                pos=mk.t_s,
                angle=90,
                pen=pen,
                label=text if i == 1 else None,
                labelOpts={
                    "position": MARKER_ROWS[0],
                    "color": colour,
                    "anchors": [(0, 1), (0, 1)],
                },
            )
            if getattr(line, "label", None) is not None:
                line.label.setFont(_font(14, bold=True))
            line.setZValue(2)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        return lines

    def _layout_marker_labels(self) -> None:
        """Greedy rows: a label goes to the lowest row where it does not overlap the last."""
        x0, x1 = self._x_drawn
        px_per_s = max(1.0, self.ln_plot.vb.width()) / max(1e-9, x1 - x0)
        ends = [-math.inf] * len(MARKER_ROWS)
        for mk, lines in sorted(self._marker_lines, key=lambda ml: ml[0].t_s):
            label = getattr(lines[1], "label", None)
            if label is None:
                continue
            x = (mk.t_s - x0) * px_per_s
            free = [r for r, end in enumerate(ends) if end <= x]
            row = free[0] if free else min(range(len(ends)), key=ends.__getitem__)
            ends[row] = x + label.boundingRect().width() + 6
            if label.orthoPos != MARKER_ROWS[row]:
                label.setPosition(MARKER_ROWS[row])

    def _add_band(self, metric: str, lo: float, mean: float, hi: float) -> list[pg.GraphicsObject]:
        plot = self.ln_plot if metric == "ln_rmssd" else self.hr_plot
        reg = pg.LinearRegionItem(
            values=(lo, hi),
            orientation="horizontal",
            movable=False,
            brush=pg.mkBrush(pal.rgba(pal.BAND, 55)),
            pen=pg.mkPen(pal.rgba(pal.BLUE, 110), width=1, style=QtCore.Qt.PenStyle.DashLine),
        )
        reg.setZValue(-15)
        mean_line = pg.InfiniteLine(
            pos=mean,
            angle=0,
            pen=pg.mkPen(pal.rgba(pal.BLUE, 130), width=1, style=QtCore.Qt.PenStyle.DotLine),
            label="baseline band",
            labelOpts={
                "position": 0.02,
                "color": pal.BLUE,
                "anchors": [(0, 1), (0, 1)],
                "fill": (255, 255, 255, 170),
            },
        )
        mean_line.label.setFont(_font(13))
        mean_line.setZValue(-14)
        plot.addItem(reg, ignoreBounds=True)
        plot.addItem(mean_line, ignoreBounds=True)
        return [reg, mean_line]

    def _add_catchup_line(self, cu: CatchUpView) -> list[pg.InfiniteLine]:
        lines = []
        plots = self.plots if cu.metric == "ln_rmssd" else [self.hr_plot]
        pos = LABEL_LEVELS[cu.metric][0]  # _place_catchup_labels moves it when crowded
        arrow = txt.ARROWS.get(cu.direction, "")
        name = txt.METRIC_NAMES.get(cu.metric, cu.metric)
        for plot in plots:
            labelled = plot is (self.ln_plot if cu.metric == "ln_rmssd" else self.hr_plot)
            line = pg.InfiniteLine(
                pos=cu.t_caught_s,
                angle=90,
                pen=pg.mkPen(pal.CATCHUP, width=3.5 if cu.metric == "ln_rmssd" else 2.0),
                label=f"{name} {arrow} caught up {txt.clock(cu.latency_s or 0.0)}"
                if labelled
                else None,
                labelOpts={
                    "position": pos,
                    "color": pal.CATCHUP,
                    "anchors": [(0, 0), (0, 0)] if cu.metric == "ln_rmssd" else [(0, 1), (0, 1)],
                    "fill": (255, 255, 255, 210),
                },
            )
            if getattr(line, "label", None) is not None:
                line.label.setFont(_font(15, bold=True))
            line.setZValue(3)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        return lines

    def _place_catchup_labels(self) -> None:
        """Catch-up labels never overlap and are never cut off: each goes right of its line,
        or left of it near the view's right edge, at the first height (of three) where it
        clears the labels before it. Zoomed out to a whole session, two holds' catch-ups a
        few minutes apart would otherwise sit on top of each other."""
        x0, x1 = self._x_drawn
        span = max(x1 - x0, 1e-9)
        for plot, metric in ((self.ln_plot, "ln_rmssd"), (self.hr_plot, "hr")):
            width_px = plot.getViewBox().sceneBoundingRect().width() or 1.0
            px_per_s = width_px / span
            labelled = [
                line
                for (_, m), lines in self._catchup_lines.items()
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

    def _draw_current_phase_span(self) -> None:
        """The running phase is shaded to its planned end (open-ended: to the view's edge)."""
        ph = self.model.current_phase
        if ph is not None and self._phase_items:
            end = ph.start_s + ph.planned_s if ph.planned_s is not None else self._x_drawn[1]
            self._phase_items[-1].set_span(ph.start_s, max(ph.start_s, end))

    @property
    def follow_step_s(self) -> float:
        return max(1.0, self.view_s / 60.0)

    @property
    def view_width_s(self) -> float:
        return self.view_s + 2.0 * self.follow_step_s

    def x_range(self) -> tuple[float, float]:
        """Visible time range, moved in steps (not every tick) so the plots repaint rarely."""
        now = self.model.now_s
        if self.follow:
            step = self.follow_step_s
            x1 = math.ceil((max(now, self.view_s) + step) / step) * step
            return max(0.0, x1 - self.view_width_s), float(x1)
        step = 10.0 if now < 600 else 60.0 if now < 7200 else 300.0
        return 0.0, float(math.ceil((now * 1.02 + 1.0) / step) * step)

    def _update_ranges(self) -> None:
        x0, x1 = self._x_drawn
        m = self.model
        t = m.series(T)
        i0 = int(np.searchsorted(t, x0))
        i1 = int(np.searchsorted(t, x1, side="right"))
        hr = _finite_minmax(m.series(HR_BEAT)[i0:i1], m.series(HR_ROLL)[i0:i1])
        if self.strap_hr_only:
            st = m.strap_hr.col(0)
            hr = _finite_minmax(m.strap_hr.col(1)[np.searchsorted(st, x0) :])
        ln = _finite_minmax(m.series(LN)[i0:i1])
        if "hr" in m.bands:
            lo, hi = m.bands["hr"].lo, m.bands["hr"].hi
            hr = (min(lo, hr[0]), max(hi, hr[1])) if hr else (lo, hi)
        if "ln_rmssd" in m.bands:
            lo, hi = m.bands["ln_rmssd"].lo, m.bands["ln_rmssd"].hi
            ln = (min(lo, ln[0]), max(hi, ln[1])) if ln else (lo, hi)
        hr_lo, hr_hi = _nice_range(*(hr or (55.0, 85.0)), step=5.0, min_span=20.0)
        ln_lo, ln_hi = _nice_range(*(ln or (2.5, 4.0)), step=0.25, min_span=0.75)
        self._set_y(self.hr_plot, hr_lo, hr_hi)
        self._set_y(self.ln_plot, ln_lo, ln_hi)
        # doubtful beats: shown at their value, pinned to the plot's edge when off scale
        ft, fhr = m.flagged_series()
        j0 = int(np.searchsorted(ft, x0))
        j1 = int(np.searchsorted(ft, x1, side="right"))
        pad = 0.02 * (hr_hi - hr_lo)
        y = np.clip(fhr[j0:j1], hr_lo + pad, hr_hi - pad)
        self.flag_scatter.setData(ft[j0:j1], y)

    @staticmethod
    def _set_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
        vy = plot.viewRange()[1]
        if abs(vy[0] - lo) > 1e-9 or abs(vy[1] - hi) > 1e-9:
            plot.setYRange(lo, hi, padding=0)

    def _update_texts(self) -> None:
        m = self.model
        mode, title, big, small, when = txt.header_texts(m)
        colour = pal.mode_colour(mode)
        self.mode_chip.setText(mode.upper())
        self._style(
            self.mode_chip,
            f"color: white; background: {colour}; border-radius: 6px; padding: 3px 12px;",
        )
        self.phase_label.setText(title)
        first, _, second = when.partition("\n")
        self.time_left.setText(
            f"<div style='font-size:40px; font-weight:bold'>{first}</div>"
            f"<div style='font-size:20px; color:{pal.MUTED}'>{second}</div>"
        )
        self.belief.setText(big)
        self.prompt.setText(small)
        self.prompt.setVisible(bool(small))
        r, g, b, _ = pal.rgba(colour, 255)
        self._style(
            self.header_box,
            f"QFrame#header {{ background: rgba({r},{g},{b},40); border-left: 10px solid {colour};"
            " border-radius: 6px; }",
        )
        hr, hr_note = txt.hr_text(m)
        ln, ln_note = txt.ln_rmssd_text(m)
        for lab, value, colour in (
            (self.hr_value, hr, pal.HR_TREND),
            (self.ln_value, ln, pal.LN_RMSSD),
        ):
            lab.setText(value)
            if self._style(lab, f"color: {pal.MUTED if value == txt.DASH else colour};"):
                lab.setFont(_font(60 if value == txt.DASH else 110, bold=value != txt.DASH))
        self.hr_note.setText(hr_note)
        self.ln_note.setText(ln_note)
        head, detail = txt.catchup_text(m)
        self.catchup_head.setText(head)
        self._style(
            self.catchup_head,
            f"color: {_catchup_colour(head)};",
        )
        self.catchup_detail.setText(detail)
        st = m.status
        self.st_device.setText(f"strap: {st.device or '?'}")
        self.st_battery.setText(txt.battery_text(st))
        low = st.battery_percent is not None and st.battery_percent <= 15
        self._style(self.st_battery, f"color: {pal.WARN if low else pal.FOREGROUND};")
        self.st_contact.setText(txt.contact_text(st))
        self._style(
            self.st_contact, f"color: {pal.WARN if st.contact is False else pal.FOREGROUND};"
        )
        self.st_connection.setText(
            txt.connection_text(st) if m.end is None else f"ended: {m.end.reason}"
        )
        self._style(
            self.st_connection, f"color: {pal.WARN if st.reconnecting else pal.FOREGROUND};"
        )
        self.st_quality.setText(txt.quality_text(m))
        self._style(self.st_quality, f"color: {pal.FOREGROUND if txt.quality_ok(m) else pal.WARN};")
        rec = self.recording()
        self.st_recording.setText(f"recording: {rec}" if rec else "not recording")
        self.zoom_button.setText(
            "z · whole session" if self.follow else f"z · follow last {self.view_s / 60:g} min"
        )

    def _style(self, widget: QtWidgets.QWidget, css: str) -> bool:
        """setStyleSheet only when it changes (each call re-polishes the widget)."""
        if self._styles.get(id(widget)) == css:
            return False
        self._styles[id(widget)] = css
        widget.setStyleSheet(css)
        return True

    # ------------------------------------------------------------------ keys and controls

    def toggle_zoom(self) -> None:
        self.follow = not self.follow
        self._drawn = (self._drawn[0], self._drawn[1], -1)
        self.redraw()

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:
        key = ev.text().lower()
        if self.handle_key(key):
            ev.accept()
        else:
            super().keyPressEvent(ev)

    def handle_key(self, key: str) -> bool:
        """One key from the shared table -> a control. Returns whether the key was ours."""
        if key in pal.VIEW_KEYS:
            self.toggle_zoom()
            return True
        dialog = self.rating_dialog
        if dialog is not None and dialog.isVisible() and dialog.take_key(key):
            return True  # a rating typed without looking
        if not key or (key not in MARKER_KEYS and key not in CONTROL_KEYS):
            return False
        if self.model.end is not None:
            return True
        cmd = parse_command(key)
        t = self.now_s()
        if isinstance(cmd, MarkerCmd):
            ev = to_event(cmd, t, None)
            if ev is not None:
                self.on_control(t, ev)
        elif isinstance(cmd, ControlCmd):
            if cmd.what == "stop":
                self.request_stop("ended by user")
            else:
                self.on_control(t, NextPhase())
        return True

    def send_rating(self, slot: tuple[int, str], scale: str, value: int) -> None:
        t = self.now_s()
        self.on_control(t, Rating(t, slot[0], slot[1], scale, value))

    def _maybe_ask_rating(self) -> None:
        """Before each hold ('pre') and after it ('post'), a small non-modal rating dialog."""
        m = self.model
        if not self.ask_ratings or m.end is not None:
            return
        ph = m.current_phase
        if ph is None:
            return
        slot = rating_slot(m.holds_seen, ph.index, ph.kind == "hold")
        if slot is None or slot in self._rated_for:
            if self.rating_dialog is not None and self.rating_dialog.slot != slot:
                self.rating_dialog.close()
            return
        self._rated_for.add(slot)
        if self.rating_dialog is not None:
            self.rating_dialog.close()
        hold = next((p for p in m.phases if p.index == slot[0]), None)
        self.rating_dialog = RatingDialog(
            self,
            slot,
            hold.name if hold else "",
            self.send_rating,
            self.handle_key,
            scales=rating_scales(m.protocol, slot),
        )
        self.rating_dialog.show_beside(self)

    def _in_hold(self) -> bool:
        ph = self.model.current_phase
        return self.model.end is None and ph is not None and ph.kind == "hold"

    def request_stop(self, reason: str) -> None:
        """End the session; during a hold, ask first (no nested event loop: data keeps flowing)."""
        if self._in_hold():
            self._ask(reason)
        else:
            self._send_stop(reason)

    def _ask(self, reason: str) -> None:
        if self._confirm is not None and self._confirm.isVisible():
            return
        ph = self.model.current_phase
        buttons = QtWidgets.QMessageBox.StandardButton
        box = QtWidgets.QMessageBox(self)
        box.setWindowTitle("End the session?")
        box.setText(f"You are in a hold ({ph.name if ph else ''}). End the session now?")
        box.setInformativeText("Everything so far is already saved in the recording.")
        box.setStandardButtons(buttons.Yes | buttons.No)
        box.setDefaultButton(buttons.No)
        box.finished.connect(lambda res, r=reason: self._confirmed(res, r))
        self._confirm = box
        box.open()  # window-modal, returns at once

    def _confirmed(self, result: int, reason: str) -> None:
        if result != QtWidgets.QMessageBox.StandardButton.Yes:
            return
        self._send_stop(reason)
        if reason == "window closed":
            self._close_ok = True
            self.close()

    def _send_stop(self, reason: str) -> None:
        if self.model.end is None:
            t = self.now_s()
            self.on_control(t, Stop(reason))

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        if not self._close_ok and self._in_hold():
            ev.ignore()
            self._ask("window closed")
            return
        self._send_stop("window closed")  # no-op once the session has ended
        if self.rating_dialog is not None:
            self.rating_dialog.close()
        self.practice.close()
        if self._confirm is not None:
            self._confirm.close()
        self._timer.stop()
        ev.accept()
        self.closed.emit()

    def allow_close(self) -> None:
        """The session is over (or a screenshot run ends): close without asking."""
        self._close_ok = True


class _PaintTimedLayout(pg.GraphicsLayoutWidget):
    """Records when each paint of the plots finished (notification-to-pixels latency)."""

    def __init__(self, owner: LiveWindow) -> None:
        super().__init__()
        self._owner = owner

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:
        super().paintEvent(ev)
        times = self._owner.paint_times
        times.append(time.perf_counter())
        if len(times) > 1000:
            del times[:500]


#: heights (fraction of the line from the bottom) that catch-up labels may take, per plot
LABEL_LEVELS = {"ln_rmssd": (0.88, 0.66, 0.44), "hr": (0.12, 0.34, 0.56)}


def _catchup_colour(head: str) -> str:
    """caught up: green; carried over from before the hold: muted (not a success);
    catching up / not yet / not reached / no baseline: the text colour."""
    if head.startswith("caught up"):
        return pal.CATCHUP
    if head.startswith("out of band at onset") or head.startswith("no baseline"):
        return pal.MUTED
    return pal.FOREGROUND
