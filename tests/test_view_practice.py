"""The window's practice parts, rendered offscreen: the re-hold cue on a lapse, the
act-and-savor questions, ratings typed without looking."""

from __future__ import annotations

import math
import os
from pathlib import Path

from PySide6 import QtCore, QtGui

from holdbeat.events import ActionDone, ActionPlan, Device
from holdbeat.gui.model import ViewModel
from holdbeat.gui.practice import ActionDialog, DoneDialog
from holdbeat.gui.window import LiveWindow
from holdbeat.pipeline import Session
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_ACTION_S, DEFAULT_REHOLD, beliefs_of, with_beliefs
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sinks.view import ViewSink
from holdbeat.sources.simulator import simulate

SHOTS = Path(os.environ.get("HOLDBEAT_SHOTS", "")) if os.environ.get("HOLDBEAT_SHOTS") else None


class Rig:
    def __init__(self, qtbot, out: Path, protocol: str, ask: bool = False) -> None:
        self.protocol = with_beliefs(load_protocol(protocol))
        self.model = ViewModel(window_s=60.0)
        self.recorder = RecorderSink(out)
        sink = ViewSink(self.model, recording=lambda: self.recorder.path)
        header = new_header(
            Device(name="test strap", address="SIM", source="simulator", battery_percent=80),
            protocol=self.protocol.to_dict(),
            beliefs=beliefs_of(self.protocol),
            settings={"window_s": 60.0},
        )
        self.session = Session(
            [self.recorder, sink], header, self.protocol, open_phase_s=DEFAULT_ACTION_S
        )
        self.win = LiveWindow(self.model, self.control, ask_ratings=ask)
        sink.observers.append(self.win.practice.observe)
        qtbot.addWidget(self.win)
        self.win.show()
        self.session.start()

    def control(self, t_s, c) -> None:
        self.session.control(c, t_s)

    def feed(self, events, until_s: float = math.inf) -> list:
        rest = []
        for ev in events:
            if ev.t_s > until_s:
                rest.append(ev)
                continue
            self.session.feed(ev)
        self.win.redraw()
        return rest


def events(protocol, seed: int = 0, **kw):
    return list(simulate(protocol, SimConfig(seed=seed, **kw)))


def key(win: LiveWindow, text: str) -> None:
    qkey = {"\r": QtCore.Qt.Key.Key_Return}.get(text, QtCore.Qt.Key.Key_unknown)
    ev = QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, qkey, QtCore.Qt.KeyboardModifier.NoModifier,
                         text)  # fmt: skip
    win.keyPressEvent(ev)


def test_a_lapse_shows_the_modes_rehold_cue_until_rehold(qtbot, tmp_path: Path) -> None:
    r = Rig(qtbot, tmp_path, "single")
    ev = events(r.protocol, markers=False)
    rest = r.feed(ev, until_s=250.0)  # into the fierce hold (180-480)
    banner = r.win.practice.banner
    assert not banner.isVisible()
    key(r.win, "l")
    rest = r.feed(rest, until_s=262.0)
    assert banner.isVisible()
    assert banner.cue.text() == DEFAULT_REHOLD["fierce"]
    assert "press r when you are holding it again" in banner.hint.text()
    assert banner.hint.text().startswith("lapse marked 1") and " s ago" in banner.hint.text()
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        r.win.grab().save(str(SHOTS / "window-rehold-cue.png"))
    key(r.win, "r")
    rest = r.feed(rest, until_s=270.0)
    assert not banner.isVisible()
    key(r.win, "l")
    r.feed(rest)  # lapsed when the hold ends: the cue goes with the hold
    assert not banner.isVisible()
    kinds = [m.kind for m in load(r.recorder.path).markers]
    assert kinds == ["lapse", "rehold", "lapse"]


def test_the_protocols_own_cue(qtbot, tmp_path: Path) -> None:
    r = Rig(qtbot, tmp_path, "boundary-then-held")
    rest = r.feed(events(r.protocol, markers=False), until_s=500.0)  # the loving-kindness hold
    key(r.win, "l")
    r.feed(rest, until_s=505.0)
    assert r.win.practice.banner.cue.text() == r.protocol.phases[2].rehold
    # a protocol's text is shown as text, never run as Qt rich text (<img src=...>, links)
    assert r.win.practice.banner.cue.textFormat() == QtCore.Qt.TextFormat.PlainText


def test_act_and_savor_questions_in_the_window(qtbot, tmp_path: Path) -> None:
    r = Rig(qtbot, tmp_path, "act-and-savor", ask=True)
    ev = events(r.protocol, ratings=False, markers=False)
    rest = r.feed(ev, until_s=365.0)  # the action phase began at 360
    dlg = r.win.practice.dialog
    assert isinstance(dlg, ActionDialog) and dlg.isVisible()
    dlg.edit.setText("call the dentist")
    dlg.edit.returnPressed.emit()
    assert not dlg.isVisible()
    rest = r.feed(rest, until_s=380.0)
    key(r.win, "a")  # the action is done: next phase
    rest = r.feed(rest, until_s=385.0)
    done = r.win.practice.dialog
    assert isinstance(done, DoneDialog) and done.isVisible()
    done.answer(True)
    rest = r.feed(rest, until_s=381.0 + 240.0 + 5.0)  # after the soft hold
    post = r.win.rating_dialog
    assert post is not None and post.slot == (3, "post")
    assert list(post.groups) == ["belief", "safety", "satisfaction"]
    post.click("satisfaction", 8)
    r.feed(rest)
    rec = load(r.recorder.path)
    plan = [e for e in rec.actions if isinstance(e, ActionPlan)]
    answered = [e for e in rec.actions if isinstance(e, ActionDone)]
    assert [(p.phase_index, p.text) for p in plan] == [(2, "call the dentist")]
    assert [(d.phase_index, d.done) for d in answered] == [(2, True)]
    assert [(x.phase_index, x.when, x.scale, x.value) for x in rec.ratings][-1] == (
        3,
        "post",
        "satisfaction",
        8,
    )


def test_no_action_question_when_it_was_given(qtbot, tmp_path: Path) -> None:
    r = Rig(qtbot, tmp_path, "act-and-savor", ask=True)
    r.feed(events(r.protocol, markers=False), until_s=370.0)  # the person said it at 361-364
    assert not isinstance(r.win.practice.dialog, ActionDialog)


def test_ratings_typed_without_looking(qtbot, tmp_path: Path) -> None:
    r = Rig(qtbot, tmp_path, "single", ask=True)
    rest = r.feed(events(r.protocol, ratings=False, markers=False), until_s=185.0)
    dlg = r.win.rating_dialog
    assert dlg is not None and dlg.slot == (1, "pre")
    for k in "7\r":
        key(r.win, k)
    assert dlg.answered == {"belief": 7}
    for k in "10\r":
        key(r.win, k)
    assert dlg.answered == {"belief": 7, "safety": 10}
    key(r.win, "l")  # session keys still work
    r.feed(rest, until_s=200.0)
    rec = load(r.recorder.path)
    assert [(x.scale, x.value) for x in rec.ratings] == [("belief", 7), ("safety", 10)]
    assert [m.kind for m in rec.markers] == ["lapse"]


def test_the_after_note_box_appends_to_the_recording(qtbot, tmp_path: Path) -> None:
    from holdbeat.sinks.view import ask_after_note

    r = Rig(qtbot, tmp_path, "quick")
    r.feed(events(r.protocol))
    assert r.session.end is not None
    ask_after_note(r.win, r.recorder.path)
    box = r.win.practice.dialog
    assert box.isVisible()
    box.edit.setPlainText("  calmer than I expected  ")
    box.save()
    assert not box.isVisible()
    assert [(n.when, n.text) for n in load(r.recorder.path).notes] == [
        ("after", "calmer than I expected")
    ]
    # a failure is said in the box, and the box stays
    ask_after_note(r.win, tmp_path / "gone.jsonl")
    box = r.win.practice.dialog
    box.edit.setPlainText("x")
    box.save()
    assert box.isVisible() and box.status.text().startswith("not saved:")
