"""A small non-modal dialog: belief strength and felt safety, 0-10, before/after a hold
(and satisfaction after the soft hold of act-and-savor).

Each click is sent at once (as a Rating, via the window's controls); the dialog never
blocks the event loop and never takes the session keys away (they are forwarded). With
eyes closed, type the value instead: digits, then Enter, for the first unanswered row
(holdbeat.keys.DigitEntry); the sound cues answer with a tone of the value.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from holdbeat.keys import DigitEntry

QUESTIONS = {
    "belief": "How strongly do you hold the belief?",
    "safety": "How safe do you feel?",
    "satisfaction": "How satisfying is what you did? Let it land.",
}


class RatingDialog(QtWidgets.QDialog):
    def __init__(
        self,
        parent: QtWidgets.QWidget,
        slot: tuple[int, str],
        hold_name: str,
        send: Callable[[tuple[int, str], str, int], None],
        forward_key: Callable[[str], bool],
        scales: tuple[str, ...] = ("belief", "safety"),
    ) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Tool)
        self.slot = slot
        self.send = send
        self.forward_key = forward_key
        self.answered: dict[str, int] = {}
        self.entry = DigitEntry()
        self.setModal(False)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        when = "before" if slot[1] == "pre" else "after"
        self.setWindowTitle(f"Rate {when} the hold")
        self.setStyleSheet(
            "QLabel, QPushButton { font-size: 15px; }"
            " QPushButton:checked { background: #0072B2; color: white; border-radius: 3px; }"
        )
        lay = QtWidgets.QVBoxLayout(self)
        title = QtWidgets.QLabel(
            f"<b>{when.capitalize()} the hold</b> {html.escape(hold_name)} — 0 = not at all, "
            "10 = fully"
        )
        title.setStyleSheet("font-size: 16px;")
        lay.addWidget(title)
        self.groups: dict[str, QtWidgets.QButtonGroup] = {}
        for scale in scales:
            lay.addWidget(QtWidgets.QLabel(QUESTIONS[scale]))
            row = QtWidgets.QHBoxLayout()
            row.setSpacing(3)
            group = QtWidgets.QButtonGroup(self)
            group.setExclusive(True)
            for v in range(11):
                b = QtWidgets.QPushButton(str(v))
                b.setCheckable(True)
                b.setFixedSize(38, 34)
                b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
                group.addButton(b, v)
                row.addWidget(b)
            group.idClicked.connect(lambda v, s=scale: self._answer(s, v))
            self.groups[scale] = group
            lay.addLayout(row)
        close = QtWidgets.QPushButton("later / skip")
        close.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close)
        lay.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignRight)

    def _answer(self, scale: str, value: int) -> None:
        self.answered[scale] = value
        self.send(self.slot, scale, value)
        if len(self.answered) == len(self.groups):
            QtCore.QTimer.singleShot(600, self.close)

    def take_key(self, key: str) -> bool:
        """A key typed while the dialog is up: rate the first unanswered row by digits."""
        pending = [s for s in self.groups if s not in self.answered]
        if not pending:
            return False
        got = self.entry.feed(key)
        if got is None:
            return False
        what, value = got
        group = self.groups[pending[0]]
        if what == "confirm" and value is not None:
            self.click(pending[0], value)
        else:  # show the value being typed without sending it
            group.setExclusive(False)
            for b in group.buttons():
                b.setChecked(group.id(b) == value)
            group.setExclusive(True)
        return True

    def click(self, scale: str, value: int) -> None:
        """What a mouse click on `value` in the `scale` row does (tests, accessibility)."""
        self.groups[scale].button(value).click()

    def show_beside(self, window: QtWidgets.QWidget) -> None:
        self.adjustSize()
        geo = window.frameGeometry()
        self.move(geo.right() - self.width() - 24, geo.top() + 150)
        self.show()

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:
        if ev.key() == QtCore.Qt.Key.Key_Escape:
            self.close()
        elif not self.forward_key(ev.text().lower()):
            super().keyPressEvent(ev)
