"""The window's side panel: heart rate and ln RMSSD in large numbers with a note under each,
the catch-up state of the running hold, and the zoom button."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.labels import StyleCache, font, label
from holdbeat.gui.model import ViewModel


class Readouts(QtWidgets.QFrame):
    """Reads only the model's texts (holdbeat.gui.text); the zoom button's click is the
    window's to connect (`zoom_button.clicked`)."""

    def __init__(self, window_s: float, styles: StyleCache | None = None) -> None:
        super().__init__()
        self.styles = styles or StyleCache()
        self.setFixedWidth(330)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(0)
        self.hr_caption = label(20, colour=pal.MUTED)
        self.hr_caption.setText("heart rate · bpm")
        self.hr_value = label(110, bold=True, colour=pal.HR_TREND)
        self.hr_value.setFixedHeight(126)
        self.hr_note = label(15, colour=pal.MUTED)
        self.hr_note.setWordWrap(True)
        self.ln_caption = label(20, colour=pal.MUTED)
        self.ln_caption.setText(f"ln RMSSD · ln(ms) · {window_s:.0f} s")
        self.ln_value = label(110, bold=True, colour=pal.LN_RMSSD)
        self.ln_value.setFixedHeight(126)
        self.ln_note = label(15, colour=pal.MUTED)
        self.ln_note.setWordWrap(True)
        self.catchup_caption = label(20, colour=pal.MUTED)
        self.catchup_caption.setText("catch-up")
        self.catchup_head = label(30, bold=True)
        self.catchup_head.setWordWrap(True)
        self.catchup_detail = label(15, colour=pal.MUTED)
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
        self.zoom_button.setFont(font(16))
        self.zoom_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.zoom_button)

    def show_model(self, m: ViewModel, follow: bool, view_s: float) -> None:
        hr, hr_note = txt.hr_text(m)
        ln, ln_note = txt.ln_rmssd_text(m)
        for lab, value, colour in (
            (self.hr_value, hr, pal.HR_TREND),
            (self.ln_value, ln, pal.LN_RMSSD),
        ):
            lab.setText(value)
            if self.styles.set(lab, f"color: {pal.MUTED if value == txt.DASH else colour};"):
                lab.setFont(font(60 if value == txt.DASH else 110, bold=value != txt.DASH))
        self.hr_note.setText(hr_note)
        self.ln_note.setText(ln_note)
        head, detail = txt.catchup_text(m)
        self.catchup_head.setText(head)
        self.styles.set(self.catchup_head, f"color: {catchup_colour(head)};")
        self.catchup_detail.setText(detail)
        self.zoom_button.setText(
            "z · whole session" if follow else f"z · follow last {view_s / 60:g} min"
        )


def catchup_colour(head: str) -> str:
    """caught up: green; carried over from before the hold: muted (not a success);
    catching up / not yet / not reached / no baseline: the text colour."""
    if head.startswith("caught up"):
        return pal.CATCHUP
    if head.startswith("out of band at onset") or head.startswith("no baseline"):
        return pal.MUTED
    return pal.FOREGROUND
