"""The window's header: the mode chip, the phase title, the time left, the belief in large
type and the prompt (or the catch-up summary) under it, tinted in the mode's colour."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.labels import StyleCache, label
from holdbeat.gui.model import ViewModel


class Header(QtWidgets.QFrame):
    """Reads only the model's texts (holdbeat.gui.text); `show_model` after a change."""

    def __init__(self, styles: StyleCache | None = None) -> None:
        super().__init__()
        self.styles = styles or StyleCache()
        self.setObjectName("header")
        lay = QtWidgets.QGridLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        lay.setHorizontalSpacing(16)
        lay.setVerticalSpacing(2)
        self.mode_chip = label(20, bold=True, colour="#FFFFFF")
        self.mode_chip.setContentsMargins(12, 4, 12, 4)
        self.phase_label = label(20, colour=pal.MUTED)
        self.time_left = label(40, bold=True)
        self.time_left.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.time_left.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        self.belief = label(34, bold=True)
        self.belief.setWordWrap(True)
        self.prompt = label(20, colour=pal.MUTED)
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

    def show_model(self, m: ViewModel) -> None:
        mode, title, big, small, when = txt.header_texts(m)
        colour = pal.mode_colour(mode)
        self.mode_chip.setText(mode.upper())
        self.styles.set(
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
        self.styles.set(
            self,
            f"QFrame#header {{ background: rgba({r},{g},{b},40); border-left: 10px solid {colour};"
            " border-radius: 6px; }",
        )
