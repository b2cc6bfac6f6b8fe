"""The live window: the header, the two plots with what is drawn over them, the side
panel's readouts, the legend and the status bar, each its own widget fed by the pure
`ViewModel`; this module puts them together and owns the redraw clock and the keys.

It only reads a `ViewModel`; it never blocks the pipeline. Redraws are coalesced to at
most ~30 per second and happen only when the model's versions moved, and each part is
touched only when what it shows may have changed. Keys come from `holdbeat.keys` (the same
table as the console view); what a key means is sent out as a Control through
`on_control`, never acted on here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from holdbeat.events import Rating
from holdbeat.gui import palette as pal
from holdbeat.gui.header import Header
from holdbeat.gui.labels import StyleCache
from holdbeat.gui.legend import Legend
from holdbeat.gui.model import ViewModel
from holdbeat.gui.overlays import Overlays
from holdbeat.gui.plots import Plots
from holdbeat.gui.practice import PracticeHelper
from holdbeat.gui.rating import RatingDialog
from holdbeat.gui.readouts import Readouts
from holdbeat.gui.status_line import StatusLine
from holdbeat.keys import (
    CONTROL_KEYS,
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
        self._last_redraw = 0.0
        self._confirm: QtWidgets.QMessageBox | None = None
        self._close_ok = False
        self._ended_seen = False
        self.rating_dialog: RatingDialog | None = None
        self._rated_for: set[tuple[int, str]] = set()
        self.redraws = 0

        self.setWindowTitle("holdbeat — live")
        self.resize(1440, 900)
        self.setStyleSheet(f"QMainWindow {{ background: {pal.BACKGROUND}; }}")
        central = QtWidgets.QWidget()
        central.setObjectName("central")
        central.setStyleSheet(f"QWidget#central {{ background: {pal.BACKGROUND}; }}")
        self.setCentralWidget(central)
        styles = StyleCache()
        self.header = Header(styles)
        self.glw = Plots(model.window_s)
        self.overlays = Overlays(self.glw.hr_plot, self.glw.ln_plot)
        self.readouts = Readouts(model.window_s, styles)
        self.readouts.zoom_button.clicked.connect(self.toggle_zoom)
        self.legend = Legend(model.window_s)
        self.status_line = StatusLine(styles)
        self.setStatusBar(self.status_line)
        outer = QtWidgets.QVBoxLayout(central)
        outer.setContentsMargins(16, 10, 16, 6)
        outer.setSpacing(6)
        outer.addWidget(self.header)
        body = QtWidgets.QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.glw, 5)
        body.addWidget(self.readouts, 0)
        outer.addLayout(body, 1)
        outer.addWidget(self.legend)
        self.practice = PracticeHelper(self)  # re-hold cue, act-and-savor questions
        self._name_parts()

        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.redraw)
        model.on_change = self.schedule_redraw
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.redraw()

    def _name_parts(self) -> None:
        """The parts' items by the names the window's tests and benchmark look them up by."""
        g, o, h, r, s = self.glw, self.overlays, self.header, self.readouts, self.status_line
        self.hr_plot, self.ln_plot, self.plots = g.hr_plot, g.ln_plot, g.plots
        self.hr_beat_curve, self.hr_roll_curve, self.ln_curve = (
            g.hr_beat_curve,
            g.hr_roll_curve,
            g.ln_curve,
        )
        self.flag_scatter, self.paint_times = g.flag_scatter, g.paint_times
        self._phase_items, self._marker_lines = o.phase_items, o.marker_lines
        self._catchup_lines, self._band_items = o.catchup_lines, o.band_items
        self.mode_chip, self.phase_label, self.time_left = h.mode_chip, h.phase_label, h.time_left
        self.belief, self.prompt = h.belief, h.prompt
        self.hr_value, self.hr_note, self.ln_value, self.ln_note = (
            r.hr_value,
            r.hr_note,
            r.ln_value,
            r.ln_note,
        )
        self.catchup_head, self.zoom_button = r.catchup_head, r.zoom_button
        self.st_device, self.st_battery, self.st_contact = s.st_device, s.st_battery, s.st_contact
        self.st_connection, self.st_quality, self.st_recording = (
            s.st_connection,
            s.st_quality,
            s.st_recording,
        )

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
            self.glw.draw_data(m)
        if layout_changed:
            self.overlays.sync(m)
        # Time alone (ticks) changes only the texts; the plots repaint when data, layout
        # or the (quantised) visible range change.
        xr = self.x_range()
        range_changed = xr != self._x_drawn
        if range_changed:
            self._x_drawn = xr
            self.glw.set_x_range(*xr)
        if layout_changed or range_changed:
            self.overlays.place(m, *xr)
        if data_changed or layout_changed or range_changed:
            self.glw.update_ranges(m, *xr)
        self.header.show_model(m)
        self.readouts.show_model(m, self.follow, self.view_s)
        self.status_line.show_model(m, self.recording)
        if layout_changed:
            self._maybe_ask_rating()
        self.practice.sync()

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
