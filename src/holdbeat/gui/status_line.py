"""The window's status bar: strap, battery, skin contact, connection, signal quality and the
recording's path; a problem (low battery, no contact, reconnecting, many doubtful beats) is
shown in the warning colour."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtWidgets

from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.labels import StyleCache, label
from holdbeat.gui.model import ViewModel

#: at or below this battery level the percentage is shown in the warning colour
LOW_BATTERY_PERCENT = 15


class StatusLine(QtWidgets.QStatusBar):
    """Reads only the model's status; `recording` gives the recording's path ('' = none)."""

    def __init__(self, styles: StyleCache | None = None) -> None:
        super().__init__()
        self.styles = styles or StyleCache()
        # as QMainWindow.statusBar() makes its own: a long recording path is cut off at the
        # window's edge instead of widening the window
        Policy = QtWidgets.QSizePolicy.Policy
        self.setSizePolicy(Policy.Ignored, Policy.Fixed)
        self.setStyleSheet(
            f"QStatusBar {{ background: #EFEDE8; color: {pal.FOREGROUND}; }}"
            " QLabel { padding: 0 10px; }"
        )
        self.st_device = label(14)
        self.st_battery = label(14)
        self.st_contact = label(14)
        self.st_connection = label(14, bold=True)
        self.st_quality = label(14)
        self.st_recording = label(14, colour=pal.MUTED)
        for w in (
            self.st_device,
            self.st_battery,
            self.st_contact,
            self.st_connection,
            self.st_quality,
        ):
            self.addWidget(w)
        self.addPermanentWidget(self.st_recording)

    def show_model(self, m: ViewModel, recording: Callable[[], str]) -> None:
        st = m.status
        warn = self._warn  # the text colour, or the warning colour when `bad`
        self.st_device.setText(f"strap: {st.device or '?'}")
        self.st_battery.setText(txt.battery_text(st))
        low = st.battery_percent is not None and st.battery_percent <= LOW_BATTERY_PERCENT
        warn(self.st_battery, low)
        self.st_contact.setText(txt.contact_text(st))
        warn(self.st_contact, st.contact is False)
        self.st_connection.setText(
            txt.connection_text(st) if m.end is None else f"ended: {m.end.reason}"
        )
        warn(self.st_connection, st.reconnecting)
        self.st_quality.setText(txt.quality_text(m))
        warn(self.st_quality, not txt.quality_ok(m))
        rec = recording()
        self.st_recording.setText(f"recording: {rec}" if rec else "not recording")

    def _warn(self, lab: QtWidgets.QLabel, bad: bool) -> None:
        self.styles.set(lab, f"color: {pal.WARN if bad else pal.FOREGROUND};")
