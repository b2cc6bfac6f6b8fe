"""The window's practice parts, kept out of the window module: the re-hold cue shown on a
lapse, and the act-and-savor questions (what the action is, whether it was done).

`PracticeHelper.sync()` runs after each redraw; it only shows or hides widgets and opens
small non-modal dialogs, whose answers go out as events through the window's controls (so
they are recorded like a key press). The rules are holdbeat.practice's (pure).
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6 import QtCore, QtWidgets

from holdbeat.events import ActionDone, ActionPlan, SessionEvent
from holdbeat.gui import palette as pal
from holdbeat.practice import open_lapse, phase_rehold_cue


class ReholdBanner(QtWidgets.QFrame):
    """One large line under the header while a lapse is open: the mode's way back."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("rehold")
        r, g, b, _ = pal.rgba(pal.MARKER_COLOURS["lapse"], 255)
        self.setStyleSheet(
            f"QFrame#rehold {{ background: rgba({r},{g},{b},28); border-left: 10px solid "
            f"{pal.MARKER_COLOURS['lapse']}; border-radius: 6px; }}"
        )
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(14, 6, 14, 6)
        lay.setSpacing(0)
        self.cue = QtWidgets.QLabel()
        self.cue.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # the protocol's text: never markup
        self.cue.setWordWrap(True)
        self.cue.setStyleSheet(f"font-size: 30px; font-weight: bold; color: {pal.FOREGROUND};")
        self.hint = QtWidgets.QLabel()
        self.hint.setStyleSheet(f"font-size: 18px; color: {pal.MUTED};")
        lay.addWidget(self.cue)
        lay.addWidget(self.hint)
        self.hide()

    def show_cue(self, text: str, since_s: float, now_s: float) -> None:
        self.cue.setText(text)
        ago = max(0, int(now_s - since_s))
        self.hint.setText(f"lapse marked {ago} s ago · press r when you are holding it again")
        self.show()


class _Question(QtWidgets.QDialog):
    """A small non-modal question next to the window."""

    def __init__(self, parent: QtWidgets.QWidget, title: str, question: str) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Tool)
        self.setModal(False)  # kept (not deleted on close): the window owns and ends it
        self.setWindowTitle(title)
        self.setStyleSheet("QLabel, QPushButton, QLineEdit { font-size: 16px; }")
        self.lay = QtWidgets.QVBoxLayout(self)
        label = QtWidgets.QLabel()
        label.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # may quote a belief or an action
        label.setText(question)
        label.setWordWrap(True)
        self.lay.addWidget(label)

    def add_save_button(self, text: str, save: Callable[[], None]) -> None:
        """The dialog's last row: one button at the right that saves the answer."""
        ok = QtWidgets.QPushButton(text)
        ok.clicked.connect(save)
        self.lay.addWidget(ok, 0, QtCore.Qt.AlignmentFlag.AlignRight)

    def show_beside(self, window: QtWidgets.QWidget) -> None:
        self.adjustSize()
        geo = window.frameGeometry()
        self.move(geo.right() - self.width() - 24, geo.top() + 150)
        self.show()


class ActionDialog(_Question):
    """What is the action? (text; it takes the keyboard while open, so typing an 'l' is a
    letter, not a lapse)."""

    def __init__(self, parent: QtWidgets.QWidget, send: Callable[[str], None]) -> None:
        super().__init__(parent, "The action", "What is the small thing you will do now?")
        self.send = send
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText("e.g. send the email I have been putting off")
        self.edit.returnPressed.connect(self.save)
        self.lay.addWidget(self.edit)
        self.add_save_button("save", self.save)

    def save(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.send(text)
        self.close()


class DoneDialog(_Question):
    def __init__(self, parent: QtWidgets.QWidget, send: Callable[[bool], None]) -> None:
        super().__init__(parent, "The action", "Did you do it?")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.send = send
        row = QtWidgets.QHBoxLayout()
        for text, done in (("yes, I did it", True), ("not this time", False)):
            b = QtWidgets.QPushButton(text)
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, d=done: self.answer(d))
            row.addWidget(b)
        self.lay.addLayout(row)

    def answer(self, done: bool) -> None:
        self.send(done)
        self.close()


class NoteDialog(_Question):
    """After the session: how did it go? Saved as the recording's 'after' note."""

    def __init__(self, parent: QtWidgets.QWidget, send: Callable[[str], str]) -> None:
        super().__init__(parent, "A note", "How did it go? A note for later (optional).")
        self.send = send
        self.edit = QtWidgets.QPlainTextEdit()
        self.edit.setFixedHeight(90)
        self.lay.addWidget(self.edit)
        self.status = QtWidgets.QLabel("")
        self.status.setStyleSheet(f"color: {pal.MUTED};")
        self.lay.addWidget(self.status)
        self.add_save_button("save the note", self.save)

    def save(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text:
            self.close()
            return
        err = self.send(text)
        if err:
            self.status.setText(err)
        else:
            self.close()


class PracticeHelper:
    """Owned by the window: the banner, the act-and-savor questions."""

    def __init__(self, window) -> None:
        self.win = window
        self.banner = ReholdBanner()
        layout = window.centralWidget().layout()
        layout.insertWidget(1, self.banner)  # right under the header
        self.planned: set[int] = set()
        self.done: set[int] = set()
        self.asked: set[tuple[str, int]] = set()
        self.dialog: _Question | None = None

    def observe(self, ev: SessionEvent) -> None:
        """Every event the window's sink sees (action answers may come from the console,
        the command line or a simulated person)."""
        if isinstance(ev, ActionPlan):
            self.planned.add(ev.phase_index)
        elif isinstance(ev, ActionDone):
            self.done.add(ev.phase_index)

    def sync(self) -> None:
        m = self.win.model
        ph = m.current_phase
        lapsed = None
        if ph is not None and ph.kind == "hold" and m.end is None:
            lapsed = open_lapse(m.markers, ph.start_s, m.now_s)
        if lapsed is not None and ph is not None:
            self.banner.show_cue(phase_rehold_cue(m.protocol, ph.index, ph.mode), lapsed, m.now_s)
        else:
            self.banner.hide()
        if not self.win.ask_ratings or m.end is not None or ph is None:
            return
        if ph.kind == "action" and ph.index not in self.planned:
            self._ask("plan", ph.index, lambda: ActionDialog(self.win, self._send_plan(ph.index)))
        prev = m.phases[-2] if len(m.phases) > 1 else None
        if prev is not None and prev.kind == "action" and prev.index not in self.done:
            self._ask("done", prev.index, lambda: DoneDialog(self.win, self._send_done(prev.index)))

    def _ask(self, what: str, index: int, make: Callable[[], _Question]) -> None:
        if (what, index) in self.asked:
            return
        self.asked.add((what, index))
        self.close()
        self.dialog = make()
        self.dialog.show_beside(self.win)

    def _send_plan(self, index: int) -> Callable[[str], None]:
        def send(text: str) -> None:
            t = self.win.now_s()
            self.win.on_control(t, ActionPlan(t, index, text))

        return send

    def _send_done(self, index: int) -> Callable[[bool], None]:
        def send(done: bool) -> None:
            t = self.win.now_s()
            self.win.on_control(t, ActionDone(t, index, done))

        return send

    def close(self) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            self.dialog.close()
