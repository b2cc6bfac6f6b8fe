"""The live window's parts, each rendered offscreen on its own from a ViewModel state.

States are built from hand-made events (a strap sending RR 937.5/1062.5 ms in turn, exact
in the strap's 1/1024 s units: mean RR 1000 ms, so HR 60 bpm; every successive difference
125 ms, so RMSSD 125 ms and ln RMSSD ln(125) = 4.828), so what each part shows is known
without running the window.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6 import QtWidgets

# isort: split
from holdbeat.analysis.baseline_band import Band
from holdbeat.events import Battery, Connection, Device, End, Hrm, Marker, PhaseStart
from holdbeat.gui.header import Header
from holdbeat.gui.labels import StyleCache
from holdbeat.gui.legend import Legend
from holdbeat.gui.model import CatchUpView, ViewModel
from holdbeat.gui.overlays import LABEL_LEVELS, MARKER_ROWS, Overlays
from holdbeat.gui.plots import Plots, nice_range
from holdbeat.gui.practice import ActionDialog, NoteDialog
from holdbeat.gui.readouts import Readouts, catchup_colour
from holdbeat.gui.status_line import StatusLine
from holdbeat.hrs import encode_hrm
from holdbeat.keys import MARKER_KEYS
from holdbeat.process import Processor
from holdbeat.recording_writer import new_header
from holdbeat.session import Phase, Protocol

SOFT_GREEN = (0x00, 0x9E, 0x73)  # Okabe-Ito bluish green: the soft mode and "caught up"
WARN_CSS = "color: #D55E00;"  # Okabe-Ito vermillion
TEXT_CSS = "color: #222222;"
MUTED_CSS = "color: #6B6B6B;"

PROTOCOL = Protocol(
    "two-step",
    (
        Phase("baseline", "baseline", "neutral", 60.0, "Sit still."),
        Phase("calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self"),
    ),
)


def started_model(battery: int | None = 80) -> ViewModel:
    m = ViewModel(window_s=60.0)
    dev = Device(name="chest strap", address="AA", source="ble", battery_percent=battery)
    m.start(new_header(dev, protocol=PROTOCOL.to_dict(), settings={"window_s": 60.0}), PROTOCOL)
    return m


def feed_beats(m: ViewModel, n: int, t0_s: float = 0.0, proc: Processor | None = None) -> float:
    """n beats, RR 937.5 and 1062.5 ms in turn, one notification each; returns the last
    time."""
    proc = proc or Processor(60.0)
    t = t0_s
    for i in range(n):
        rr = 937.5 if i % 2 == 0 else 1062.5
        t += rr / 1000.0
        ev = Hrm(t, encode_hrm(60, [rr], contact=True))
        m.handle(ev, proc.on_hrm(ev))
    return t


def in_hold_model() -> ViewModel:
    """A baseline of 30 s (too short for a band), then the soft hold from 30 s (planned
    300 s); 90 s of beats without a gap; two markers."""
    m = started_model()
    m.handle(PhaseStart(0.0, 0, "baseline", "baseline", "neutral", 60.0, "Sit still."), None)
    proc = Processor(60.0)
    t = feed_beats(m, 30, 0.0, proc)
    assert t == 30.0
    hold = PhaseStart(30.0, 1, "calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self")
    m.handle(hold, None)
    feed_beats(m, 60, t, proc)
    m.handle(Marker(70.0, "lapse"), None)
    m.handle(Marker(72.0, "note", "hello"), None)
    return m


@pytest.fixture
def shown(qtbot):
    """Shows a widget offscreen at a given size and lets Qt lay it out."""

    def show(w: QtWidgets.QWidget, size: tuple[int, int]) -> QtWidgets.QWidget:
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        QtWidgets.QApplication.processEvents()
        return w

    return show


def pixel(w: QtWidgets.QWidget, x: int, y: int) -> tuple[int, int, int]:
    c = w.grab().toImage().pixelColor(x, y)
    return c.red(), c.green(), c.blue()


# ---------------------------------------------------------------- header


def test_header_shows_the_running_hold_in_its_colour(shown):
    m = in_hold_model()
    h = shown(Header(), (1000, 160))
    h.show_model(m)
    QtWidgets.QApplication.processEvents()
    assert h.mode_chip.text() == "SOFT"
    assert h.phase_label.text() == "calm hold · phase 2 of 2 · reward + safety after action"
    assert h.belief.text() == "“I am safe.”"
    assert h.prompt.text() == "Feel it. — about self" and h.prompt.isVisible()
    left_s = 30.0 + 300.0 - m.now_s
    assert f"{int(left_s // 60)}:{round(left_s) % 60:02d} left" in h.time_left.text()
    assert "background: #009E73" in h.mode_chip.styleSheet()
    assert pixel(h, 4, 80) == SOFT_GREEN  # the 10 px border on the left, in the mode colour


def test_header_hides_the_prompt_when_there_is_none_and_summarises_the_end(shown):
    m = started_model()
    m.handle(PhaseStart(0.0, 0, "baseline", "baseline", "neutral", 60.0, "Sit still."), None)
    h = shown(Header(), (1000, 160))
    h.show_model(m)
    assert h.mode_chip.text() == "NEUTRAL"
    assert h.belief.text() == "Sit still."  # no belief: the prompt is the big line
    assert h.prompt.text() == "" and not h.prompt.isVisible()
    m.finish(End(30.0, "ended by user"))
    h.show_model(m)
    assert h.phase_label.text() == "session ended (ended by user) · two-step protocol"
    assert h.belief.text() == "Session ended"
    assert h.prompt.text() == "close the window to finish" and h.prompt.isVisible()
    assert "ended" in h.time_left.text() and "session 0:30" in h.time_left.text()


def test_header_sets_a_style_only_when_it_changes():
    m = in_hold_model()
    styles = StyleCache()
    h = Header(styles)
    h.show_model(m)
    calls: list[str] = []
    h.mode_chip.setStyleSheet = calls.append  # type: ignore[method-assign]
    h.show_model(m)
    assert calls == []
    m.handle(PhaseStart(200.0, 2, "rest", "rest", "neutral", 60.0, "Rest."), None)
    h.show_model(m)
    assert len(calls) == 1 and "background: #999999" in calls[0]


# ---------------------------------------------------------------- side panel


def test_readouts_dash_with_muted_small_type_until_metrics_exist(shown):
    m = started_model()
    r = shown(Readouts(60.0), (330, 700))
    r.show_model(m, follow=True, view_s=300.0)
    assert r.hr_value.text() == "—" and r.ln_value.text() == "—"
    assert r.hr_note.text() == "waiting for beats"
    assert r.hr_value.font().pixelSize() == 60 and not r.hr_value.font().bold()
    assert r.hr_value.styleSheet() == MUTED_CSS
    assert r.ln_caption.text() == "ln RMSSD · ln(ms) · 60 s"
    assert r.zoom_button.text() == "z · whole session"
    r.show_model(m, follow=False, view_s=300.0)
    assert r.zoom_button.text() == "z · follow last 5 min"


def test_readouts_show_hand_computed_hr_and_ln_rmssd(shown):
    m = in_hold_model()
    r = shown(Readouts(60.0), (330, 700))
    r.show_model(m, follow=True, view_s=300.0)
    assert r.hr_value.text() == "60"
    assert r.ln_value.text() == "4.83"  # ln(125 ms)
    assert r.ln_note.text().startswith("RMSSD 125 ms over 60 s")
    for lab in (r.hr_value, r.ln_value):
        assert lab.font().pixelSize() == 110 and lab.font().bold()
    assert r.ln_value.styleSheet() == "color: #0072B2;"
    # a hold after a baseline of 30 beats (too short for a band): no baseline, muted
    assert r.catchup_head.text() == "no baseline"
    assert r.catchup_head.styleSheet() == MUTED_CSS


@pytest.mark.parametrize(
    ("head", "css"),
    [
        ("caught up at 0:52 (ln RMSSD ↑)", "#009E73"),
        ("out of band at onset ↑ — carried over, not a catch-up", "#6B6B6B"),
        ("no baseline", "#6B6B6B"),
        ("catching up… (ln RMSSD ↑)", "#222222"),
        ("not reached", "#222222"),
        ("not yet", "#222222"),
    ],
)
def test_catchup_head_colour(head, css):
    assert catchup_colour(head) == css


# ---------------------------------------------------------------- legend


def test_legend_lists_modes_lines_and_keys(shown):
    leg = shown(Legend(30.0), (1400, 60))
    labels = leg.findChildren(QtWidgets.QLabel)
    texts = [lab.text() for lab in labels]
    swatches = [lab for lab in labels if not lab.text()]
    assert len(swatches) == 4 + 5  # one per mode, one per kind of line
    for want in ("fierce", "soft", "loving-kindness", "neutral", "HR (30 s mean)", "ln RMSSD"):
        assert want in texts
    assert "doubtful beat" in texts and "caught up" in texts
    assert len(labels) == 9 + 13 + 1  # swatches, captions, the key line
    keys = leg.key_legend.text()
    for key in MARKER_KEYS:
        assert f"<b>{key}</b>" in keys
    assert "<b>a</b> next phase" in keys and "<b>q</b> end" in keys and "<b>z</b> zoom" in keys
    assert len(leg.key_legend.toolTip().splitlines()) == len(MARKER_KEYS)


# ---------------------------------------------------------------- status bar


def test_status_line_texts_and_warnings():
    m = in_hold_model()
    s = StatusLine()
    s.show_model(m, lambda: "")
    assert s.st_device.text() == "strap: chest strap"
    assert s.st_battery.text() == "battery 80%" and s.st_battery.styleSheet() == TEXT_CSS
    assert s.st_contact.text() == "contact ✓" and s.st_contact.styleSheet() == TEXT_CSS
    assert s.st_connection.text() == "connected"
    assert s.st_quality.text() == "signal: 0% flagged (last 60 s)"
    assert s.st_quality.styleSheet() == TEXT_CSS
    assert s.st_recording.text() == "not recording"
    m.handle(Battery(m.now_s, 16), None)
    m.handle(Connection(m.now_s, "contact_lost"), None)
    s.show_model(m, lambda: "/data/rec.jsonl")
    assert s.st_battery.text() == "battery 16%" and s.st_battery.styleSheet() == TEXT_CSS
    assert s.st_contact.text() == "NO SKIN CONTACT" and s.st_contact.styleSheet() == WARN_CSS
    assert s.st_recording.text() == "recording: /data/rec.jsonl"
    m.handle(Battery(m.now_s, 15), None)  # the boundary: 15 % is low
    m.handle(Connection(m.now_s, "lost"), None)
    s.show_model(m, lambda: "")
    assert s.st_battery.styleSheet() == WARN_CSS
    assert s.st_connection.text() == "reconnecting…" and s.st_connection.styleSheet() == WARN_CSS
    m.finish(End(m.now_s, "completed"))
    s.show_model(m, lambda: "")
    assert s.st_connection.text() == "ended: completed"


def test_a_long_recording_path_does_not_widen_the_window(shown):
    win = QtWidgets.QMainWindow()
    s = StatusLine()
    win.setStatusBar(s)
    win.setCentralWidget(QtWidgets.QWidget())
    shown(win, (600, 200))
    s.show_model(started_model(), lambda: "/very/long/" + "folder/" * 60 + "rec.jsonl")
    QtWidgets.QApplication.processEvents()
    assert s.st_recording.minimumSizeHint().width() > 600
    assert win.minimumSizeHint().width() < 600
    assert win.width() == 600


# ---------------------------------------------------------------- plots


def test_plots_draw_every_beat_and_scale_in_round_steps(shown):
    m = in_hold_model()
    p = shown(Plots(60.0), (1000, 600))
    p.draw_data(m)
    for curve in (p.hr_beat_curve, p.hr_roll_curve, p.ln_curve):
        assert curve.xData.size == m.n_beats == 90
    p.update_ranges(m, 0.0, 100.0)
    # beat HR 64.0 (937.5 ms) and 56.47 (1062.5 ms): mid 60.24 widened to 20 bpm -> 50..75
    assert p.hr_plot.viewRange()[1] == pytest.approx([50.0, 75.0])
    # ln RMSSD 4.828 throughout: widened to 0.75 -> 4.45..5.20 -> 4.25..5.25
    assert p.ln_plot.viewRange()[1] == pytest.approx([4.25, 5.25])
    n0 = len(p.paint_times)
    p.viewport().repaint()
    assert len(p.paint_times) == n0 + 1


def test_plots_default_ranges_without_data(shown):
    p = shown(Plots(60.0), (800, 500))
    m = started_model()
    p.draw_data(m)
    p.update_ranges(m, 0.0, 300.0)
    assert p.hr_plot.viewRange()[1] == pytest.approx([55.0, 85.0])
    assert p.ln_plot.viewRange()[1] == pytest.approx([2.5, 4.0])
    assert p.hr_beat_curve.xData is None or p.hr_beat_curve.xData.size == 0
    assert p.flag_scatter.getData()[0].size == 0


def test_nice_range_widens_only_below_the_minimum_span():
    assert nice_range(60.0, 80.0, 5.0, 20.0) == (60.0, 80.0)  # exactly the minimum: kept
    assert nice_range(60.0, 79.9, 5.0, 20.0) == (55.0, 80.0)  # 59.95..79.95, rounded out
    assert nice_range(61.0, 84.0, 5.0, 20.0) == (60.0, 85.0)


# ---------------------------------------------------------------- overlays


def test_overlays_add_only_what_is_new(shown):
    m = in_hold_model()
    p = shown(Plots(60.0), (1000, 600))
    o = Overlays(p.hr_plot, p.ln_plot)
    o.sync(m)
    assert len(o.phase_items) == 2
    assert o.phase_items[0].span == pytest.approx((0.0, 30.0))  # closed: its real span
    assert [mk.kind for mk, _ in o.marker_lines] == ["lapse", "note"]
    labels = [
        [ln.label.toPlainText() for ln in lines if getattr(ln, "label", None)]
        for _, lines in o.marker_lines
    ]
    assert labels == [["lapse"], ["note: hello"]]
    assert o.band_items == {} and o.catchup_lines == {}
    n_hr, n_ln = len(p.hr_plot.items), len(p.ln_plot.items)
    o.sync(m)  # nothing new in the model: nothing added
    assert (len(p.hr_plot.items), len(p.ln_plot.items)) == (n_hr, n_ln)
    # the running hold is shaded to its planned end
    o.place(m, 0.0, 400.0)
    assert o.phase_items[1].span == pytest.approx((30.0, 330.0))
    # markers 2 s apart: the second label goes one row up
    rows = [lines[1].label.orthoPos for _, lines in o.marker_lines]
    assert rows == [MARKER_ROWS[0], MARKER_ROWS[1]]


def test_overlays_band_and_catchup_lines(shown):
    m = in_hold_model()
    p = shown(Plots(60.0), (1000, 600))
    o = Overlays(p.hr_plot, p.ln_plot)
    m.bands["ln_rmssd"] = Band(mean=3.5, sd=0.2, k=2.0, n=8, metric="ln_rmssd")
    m.catchups[(1, "ln_rmssd")] = CatchUpView(
        1, "ln_rmssd", 60.0, "up", state="caught up", t_caught_s=112.0, direction="up"
    )
    m.catchups[(1, "hr")] = CatchUpView(
        1, "hr", 60.0, "down", state="caught up", t_caught_s=115.0, direction="down"
    )
    m.catchups[(2, "ln_rmssd")] = CatchUpView(2, "ln_rmssd", 60.0, "up", state="not yet")
    o.sync(m)
    assert set(o.band_items) == {"ln_rmssd"}
    region, mean_line = o.band_items["ln_rmssd"]
    assert region.getRegion() == pytest.approx((3.1, 3.9))
    assert mean_line.value() == pytest.approx(3.5)
    assert m.reference == "baseline" and mean_line.label.toPlainText() == "baseline band"
    assert set(o.catchup_lines) == {(1, "ln_rmssd"), (1, "hr")}  # only caught-up ones
    ln_lines, hr_lines = o.catchup_lines[(1, "ln_rmssd")], o.catchup_lines[(1, "hr")]
    assert len(ln_lines) == 2 and len(hr_lines) == 1  # ln RMSSD across both plots
    assert [ln.value() for ln in ln_lines] == [112.0, 112.0]
    assert ln_lines[1].label.toPlainText() == "ln RMSSD ↑ caught up 0:52"
    assert getattr(ln_lines[0], "label", None) is None
    assert hr_lines[0].label.toPlainText() == "HR ↓ caught up 0:55"
    c = ln_lines[0].pen.color()
    assert (c.red(), c.green(), c.blue()) == SOFT_GREEN
    # a second catch-up 3 s later in the metric plot: its label takes the next height
    m.catchups[(3, "ln_rmssd")] = CatchUpView(
        3, "ln_rmssd", 60.0, "up", state="caught up", t_caught_s=115.0, direction="up"
    )
    o.sync(m)
    o.place(m, 0.0, 400.0)
    levels = [o.catchup_lines[(i, "ln_rmssd")][1].label.orthoPos for i in (1, 3)]
    assert levels == list(LABEL_LEVELS["ln_rmssd"][:2])
    # near the view's right edge the label goes to the left of its line
    o.place(m, 0.0, 116.0)
    assert o.catchup_lines[(3, "ln_rmssd")][1].label.anchors[0][0] == 1.0


def test_overlays_follow_a_new_band_and_hide_a_missing_one(shown):
    """Reference "rest": each rest gives the next hold a new band; the lines move to it,
    and hide when a rest was too short for one (the hold then has none)."""
    m = in_hold_model()
    m.reference = "rest"
    p = shown(Plots(60.0), (1000, 600))
    o = Overlays(p.hr_plot, p.ln_plot)
    m.bands["ln_rmssd"] = Band(mean=3.5, sd=0.2, k=2.0, n=8, metric="ln_rmssd")
    o.sync(m)
    region, mean_line = o.band_items["ln_rmssd"]
    assert mean_line.label.toPlainText() == "band (rest before)"
    m.bands["ln_rmssd"] = Band(mean=3.8, sd=0.25, k=2.0, n=2, metric="ln_rmssd")
    o.sync(m)
    assert o.band_items["ln_rmssd"] == [region, mean_line]  # moved, not added again
    assert region.getRegion() == pytest.approx((3.3, 4.3))
    assert mean_line.value() == pytest.approx(3.8)
    assert region.isVisible() and mean_line.isVisible()
    del m.bands["ln_rmssd"]
    o.sync(m)
    assert not region.isVisible() and not mean_line.isVisible()
    m.bands["ln_rmssd"] = Band(mean=3.6, sd=0.2, k=2.0, n=3, metric="ln_rmssd")
    o.sync(m)
    assert region.isVisible() and mean_line.value() == pytest.approx(3.6)


# ---------------------------------------------------------------- practice dialogs


def test_the_save_buttons_send_the_typed_text(shown):
    parent = shown(QtWidgets.QWidget(), (200, 100))
    plans: list[str] = []
    act = ActionDialog(parent, plans.append)
    act.edit.setText("  send the email  ")
    (button,) = act.findChildren(QtWidgets.QPushButton)
    assert button.text() == "save"
    button.click()
    assert plans == ["send the email"]
    notes: list[str] = []
    note = NoteDialog(parent, lambda text: notes.append(text) or "disk full")
    note.edit.setPlainText("calmer than last week")
    (button,) = note.findChildren(QtWidgets.QPushButton)
    assert button.text() == "save the note"
    button.click()
    assert notes == ["calmer than last week"]
    assert note.status.text() == "disk full"  # not saved: the dialog says why
