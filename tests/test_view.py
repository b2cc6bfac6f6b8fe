"""The live window, offscreen: a simulated session through the real pipeline into the window.

What is drawn is checked against the recording the same session wrote (loaded back with
holdbeat.recording.load) and against holdbeat.analysis.catchup run offline, so the view
cannot agree with itself by construction.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

# isort: split
from holdbeat.analysis.baseline_band import baseline_band
from holdbeat.analysis.catchup import catch_up, expected_direction
from holdbeat.beats import Beat
from holdbeat.events import Battery, Connection, Device, Hrm, Marker, Tick
from holdbeat.gui import palette as pal
from holdbeat.gui import text as txt
from holdbeat.gui.model import HR_BEAT, HR_ROLL, LN, GrowColumns, T, ViewModel
from holdbeat.gui.window import LiveWindow
from holdbeat.hrs import encode_hrm
from holdbeat.keys import MARKER_KEYS
from holdbeat.metrics import LiveWindow as MetricWindow
from holdbeat.pipeline import Session
from holdbeat.protocols import load_protocol
from holdbeat.recording import Recording, load
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_ACTION_S, Protocol, beliefs_of, with_beliefs
from holdbeat.sim.body import CLEAR_RESPONSES, SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sinks.view import ViewSink
from holdbeat.sources.simulator import simulate

WINDOW_S = 60.0


def header_for(protocol: Protocol, battery: int | None = 87):
    return new_header(
        Device(name="test strap", address="SIM", source="simulator", battery_percent=battery),
        protocol=protocol.to_dict(),
        beliefs=beliefs_of(protocol),
        settings={"window_s": WINDOW_S},
    )


class Rig:
    """Session(recorder, view) + window; controls from the window go straight to the session."""

    def __init__(self, qtbot, out_dir: Path, protocol: str = "fierce-then-soft", ask_ratings=False):
        self.protocol = with_beliefs(load_protocol(protocol))
        self.model = ViewModel(window_s=WINDOW_S)
        self.recorder = RecorderSink(out_dir)
        sink = ViewSink(self.model, recording=lambda: self.recorder.path)
        self.session = Session(
            [self.recorder, sink],
            header_for(self.protocol),
            self.protocol,
            window_s=WINDOW_S,
            open_phase_s=DEFAULT_ACTION_S,
        )
        self.controls: list = []
        self.win = LiveWindow(self.model, self.control, view_minutes=5.0, ask_ratings=ask_ratings)
        qtbot.addWidget(self.win)
        self.win.show()
        self.session.start()

    def control(self, t_s, c) -> None:
        self.controls.append((t_s, c))
        self.session.control(c, t_s)

    def feed(self, events, until_s: float = math.inf) -> None:
        for ev in events:
            if ev.t_s > until_s:
                break
            self.session.feed(ev)
        self.win.redraw()

    def recording(self) -> Recording:
        assert self.recorder.path is not None
        return load(self.recorder.path)


def sim_events(protocol: Protocol, seed: int = 0, **kw):
    # a body that responds clearly, so the window's catch-up states all occur
    kw.setdefault("responses", dict(CLEAR_RESPONSES))
    return list(simulate(protocol, SimConfig(seed=seed, **kw)))


def finish(rig: Rig, events) -> Recording:
    rig.feed(events)
    assert rig.session.end is not None
    rig.win.redraw()
    return rig.recording()


def rolling(rec: Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-beat (t, HR, ln RMSSD) recomputed from the recording's beats (independent path)."""
    w = MetricWindow(WINDOW_S)
    hr, ln = [], []
    for t, rr, gap, flag in zip(rec.beat_t_s, rec.rr_ms, rec.gap_before, rec.flag, strict=True):
        m = w.update(Beat(float(t), float(rr), bool(gap), str(flag)))
        hr.append(m.hr_bpm)
        ln.append(m.ln_rmssd)
    return rec.beat_t_s, np.asarray(hr), np.asarray(ln)


class _NoBot:
    def addWidget(self, w) -> None:
        pass


@pytest.fixture
def rig(qtbot, tmp_path):
    return Rig(qtbot, tmp_path)


@pytest.fixture(scope="module")
def done(qapp, tmp_path_factory):
    """One whole simulated session, shared by the tests that only look at the end state."""
    r = Rig(_NoBot(), tmp_path_factory.mktemp("done"))
    rec = finish(r, sim_events(r.protocol))
    yield r, rec
    r.win.close()
    r.win.deleteLater()


# ---------------------------------------------------------------- curves


def test_curve_points_equal_beats_and_values_match_recording(done):
    rig, rec = done
    n_beats = rec.beat_t_s.size
    assert n_beats > 500
    x = rig.win.ln_curve.xData
    breaks = int(np.count_nonzero(rec.gap_before[1:]))
    assert rig.model.n_beats == n_beats
    assert x.size == n_beats + breaks  # one point per beat + one NaN per break
    for curve in (rig.win.hr_beat_curve, rig.win.hr_roll_curve, rig.win.ln_curve):
        assert curve.xData.size == x.size
    beat_rows = ~np.isnan(rig.win.hr_roll_curve.yData) | ~np.isnan(rig.win.hr_beat_curve.yData)
    beat_rows |= ~np.isnan(rig.win.ln_curve.yData)
    t = rig.model.series(T)
    is_break = np.zeros(t.size, bool)
    is_break[1:] = np.isnan(rig.model.series(HR_ROLL)[1:]) & np.isnan(rig.model.series(HR_BEAT)[1:])
    np.testing.assert_array_equal(t[~is_break] if breaks else t, rec.beat_t_s)
    # values: the rolling curves equal an independent LiveWindow over the recorded beats
    _, hr, ln = rolling(rec)
    keep = np.flatnonzero(~is_break) if breaks else np.arange(t.size)
    np.testing.assert_allclose(rig.model.series(HR_ROLL)[keep], hr, equal_nan=True)
    np.testing.assert_allclose(rig.model.series(LN)[keep], ln, equal_nan=True)
    assert beat_rows.sum() >= n_beats - 60  # only the window's first beats lack every metric


def test_flagged_beats_are_drawn_apart_not_in_the_line(qtbot, tmp_path):
    r = Rig(qtbot, tmp_path, "single")
    rec = finish(r, sim_events(r.protocol, seed=3, artifact_rate=0.05))
    flagged = rec.flag != ""
    assert flagged.sum() > 10
    ft, fhr = r.model.flagged_series()
    np.testing.assert_array_equal(ft, rec.beat_t_s[flagged])
    np.testing.assert_allclose(fhr, 60000.0 / rec.rr_ms[flagged])
    # the beat-to-beat line has no value at a flagged beat
    t, y = r.model.series(T), r.model.series(HR_BEAT)
    idx = np.searchsorted(t, ft)
    assert np.all(np.isnan(y[idx]))
    # the scatter shows the flagged beats in view, pinned inside the plot's y range
    assert not r.win.follow  # the session ended: the whole of it is in view
    sx, sy = r.win.flag_scatter.getData()
    assert sx.size == flagged.sum()
    lo, hi = r.win.hr_plot.viewRange()[1]
    assert np.all((sy >= lo) & (sy <= hi))


def test_gap_breaks_the_curve_and_status_shows_reconnecting(rig):
    events = sim_events(rig.protocol)
    lost_at, back_at = 400.0, 420.0
    before = [e for e in events if e.t_s < lost_at]
    after = [e for e in events if e.t_s >= back_at]
    rig.feed(before)
    rig.session.feed(Connection(lost_at, "lost", "link supervision timeout"))
    rig.win.redraw()
    assert rig.win.st_connection.text() == "reconnecting…"
    assert rig.win.hr_value.text() == txt.DASH
    rig.session.feed(Connection(back_at, "restored"))
    rig.win.redraw()
    assert "restored" in rig.win.st_connection.text()
    rig.feed(after)
    x, y = rig.win.hr_roll_curve.xData, rig.win.hr_roll_curve.yData
    # between the last beat before the drop and the first after it there is a NaN point
    i_last = int(np.flatnonzero(x < lost_at)[-1])
    i_first = int(np.flatnonzero((x >= back_at) & np.isfinite(y))[0])
    assert i_first > i_last + 1
    assert np.isnan(y[i_last + 1 : i_first]).all()
    rec = rig.recording()
    assert rec.connections[0].state == "lost"
    # every break in the drawn series is a recorded gap, and every recorded gap is a break
    assert rig.model.n_breaks == int(np.count_nonzero(rec.gap_before[1:]))


# ---------------------------------------------------------------- phases, band, catch-up


def test_one_shaded_region_per_phase_in_the_mode_colour(done):
    rig, rec = done
    items = rig.win._phase_items
    assert len(items) == len(rec.phases) == len(rig.protocol.phases)
    for it, span in zip(items, rec.phases, strict=True):
        assert it.mode == span.mode
        assert it.span == pytest.approx((span.start_s, span.end_s))
        for reg in it.regions:
            c = reg.brush.color()
            want = pal.rgba(pal.MODE_COLOURS[span.mode], pal.phase_alpha(span.kind))
            assert (c.red(), c.green(), c.blue(), c.alpha()) == want
        assert it.start_line.label.toPlainText() == span.name
    # distinct modes get distinct colours
    colours = {it.regions[0].brush.color().name() for it in items}
    assert len(colours) == len({p.mode for p in rec.phases})


def test_baseline_band_appears_when_baseline_ends_and_matches_offline(rig):
    events = sim_events(rig.protocol)
    base_end = rig.protocol.phases[0].duration_s
    rig.feed(events, until_s=base_end - 5)
    assert rig.win._band_items == {}
    assert rig.model.bands == {}
    assert txt.catchup_text(rig.model)[0] == "measuring baseline"
    rig.feed([e for e in events if e.t_s > base_end - 5], until_s=base_end + 5)
    assert set(rig.win._band_items) == {"ln_rmssd", "hr"}
    rec = rig.recording()
    t, hr, ln = rolling(rec)
    in_base = (t >= 0) & (t < base_end)
    for metric, values in (("ln_rmssd", ln), ("hr", hr)):
        want = baseline_band(values[in_base], metric=metric, t_s=t[in_base])
        region = rig.win._band_items[metric][0]
        assert region.getRegion() == pytest.approx((want.lo, want.hi))


def test_catchup_line_at_the_offline_catchup_time(done):
    rig, rec = done
    t, hr, ln = rolling(rec)
    base = rec.phases[0]
    found = 0
    for ph in rec.phases:
        if ph.kind != "hold":
            continue
        for metric, values in (("ln_rmssd", ln), ("hr", hr)):
            inb = (t >= base.start_s) & (t < base.end_s)
            band = baseline_band(values[inb], metric=metric, t_s=t[inb])
            want = catch_up(
                t, values, band, ph.start_s, expected_direction(metric, ph.mode), end_s=ph.end_s
            )
            cu = rig.model.catchup_of(ph.index, metric)
            assert cu is not None
            if want.reached:
                found += 1
                assert cu.state == "caught up"
                assert cu.t_caught_s == pytest.approx(want.t_left_s)
                assert cu.direction == want.direction
                lines = rig.win._catchup_lines[(ph.index, metric)]
                assert all(line.value() == pytest.approx(want.t_left_s) for line in lines)
            else:
                assert cu.state == ("out of band at onset" if want.carried_over else "not reached")
                assert (ph.index, metric) not in rig.win._catchup_lines
    assert found >= 2  # the simulated body does catch up


def test_catchup_indicator_goes_not_yet_catching_up_caught_up(rig):
    events = sim_events(rig.protocol)
    hold = rig.protocol.phases[1]
    onset = rig.protocol.phases[0].duration_s
    seen: list[str] = []
    caught_head = ""
    for ev in events:
        rig.session.feed(ev)
        ph = rig.model.current_phase
        if ph is not None and ph.name == hold.name:
            head = txt.catchup_text(rig.model)[0]
            state = head.split(" at ")[0].split("…")[0]
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "caught up" and not caught_head:
                caught_head = head
                rig.win.redraw()
                assert rig.win.catchup_head.text() == head
        if ev.t_s > onset + hold.duration_s:
            break
    assert seen[0] == "not yet"
    assert "caught up" in seen
    assert "catching up" in seen
    assert seen.index("catching up") < seen.index("caught up")
    assert seen[-1] == "caught up"  # it latches
    cu = rig.model.catchup_of(1)
    assert caught_head.startswith(f"caught up at {txt.clock(cu.latency_s)}")


def test_marker_lines_at_their_times_with_labels(done):
    rig, rec = done
    kinds = {m.kind for m in rec.markers}
    assert {"lapse", "rehold", "felt"} <= kinds
    drawn = rig.win._marker_lines
    assert len(drawn) == len(rec.markers)
    for (mk, lines), want in zip(drawn, rec.markers, strict=True):
        assert mk.kind == want.kind
        assert all(line.value() == pytest.approx(want.t_s) for line in lines)
        labels = [line.label.toPlainText() for line in lines if getattr(line, "label", None)]
        assert labels == [want.kind]
        assert lines[0].pen.color().name().upper() == pal.MARKER_COLOURS[want.kind].upper()


# ---------------------------------------------------------------- values and status


def test_big_values_dash_with_reason_until_valid(rig):
    events = sim_events(rig.protocol)
    rig.feed(events, until_s=12.0)
    m = rig.model.metrics
    assert m is not None and not m.valid
    assert rig.win.ln_value.text() == txt.DASH
    assert rig.win.ln_note.text() == m.reason
    rig.feed([e for e in events if e.t_s > 12.0], until_s=120.0)
    m = rig.model.metrics
    assert m.valid
    assert rig.win.ln_value.text() == f"{m.ln_rmssd:.2f}"
    assert rig.win.hr_value.text() == f"{m.hr_bpm:.0f}"
    assert rig.win.ln_value.font().pixelSize() >= 96  # readable from a chair
    assert rig.win.hr_value.font().pixelSize() >= 96


def test_status_bar_battery_contact_quality_and_recording(rig):
    events = sim_events(rig.protocol)
    rig.feed(events, until_s=100.0)
    assert rig.win.st_device.text() == "strap: test strap"
    assert rig.win.st_battery.text() == "battery 87%"
    assert rig.win.st_contact.text() == "contact ✓"
    assert str(rig.recorder.path) in rig.win.st_recording.text()
    share = rig.model.metrics.flagged_share
    assert rig.win.st_quality.text() == f"signal: {share:.0%} flagged (last 60 s)"
    rig.session.feed(Battery(101.0, 12))
    rig.session.feed(Hrm(101.5, encode_hrm(70, [850.0], contact=False)))
    rig.win.redraw()
    assert rig.win.st_battery.text() == "battery 12%"
    assert "color: #D55E00" in rig.win.st_battery.styleSheet()  # low battery in the warning colour
    assert rig.win.st_contact.text() == "NO SKIN CONTACT"


def test_header_shows_mode_belief_and_time_left(rig):
    events = sim_events(rig.protocol)
    hold = rig.protocol.phases[1]
    onset = rig.protocol.phases[0].duration_s
    rig.feed(events, until_s=onset + 30.0)
    rig.session.feed(Tick(onset + 30.0))
    rig.win.redraw()
    assert rig.win.mode_chip.text() == hold.mode.upper()
    assert rig.win.belief.text() == f"“{hold.belief}”"
    left = hold.duration_s - 30.0
    assert f"{txt.clock(left)} left" in rig.win.time_left.text()
    assert hold.name in rig.win.phase_label.text()


# ---------------------------------------------------------------- keys, ratings, closing


def test_marker_keys_write_markers_into_the_recording(rig, qtbot):
    events = sim_events(rig.protocol, markers=False, ratings=False)
    rig.feed(events, until_s=250.0)
    t_key = rig.model.now_s
    for key in MARKER_KEYS:  # the one key table, shared with the console view
        qtbot.keyClick(rig.win, key)
    qtbot.keyClick(rig.win, "x")  # not a session key: ignored
    rig.feed([e for e in events if e.t_s > 250.0])
    rec = rig.recording()
    assert [m.kind for m in rec.markers] == list(MARKER_KEYS.values())
    assert set(MARKER_KEYS.values()) == {"lapse", "rehold", "felt", "note"}
    assert all(m.t_s == pytest.approx(t_key) for m in rec.markers)
    assert rig.win._marker_lines[0][1][0].value() == pytest.approx(t_key)


def test_key_a_ends_the_phase_and_z_zooms(rig, qtbot):
    events = sim_events(rig.protocol)
    rig.feed(events, until_s=400.0)
    assert rig.win.follow
    x0, x1 = rig.win.hr_plot.viewRange()[0]
    assert x1 - x0 == pytest.approx(rig.win.view_width_s)
    assert x0 < rig.model.now_s - 5 * 60 < rig.model.now_s < x1
    qtbot.keyClick(rig.win, "z")
    x0, x1 = rig.win.hr_plot.viewRange()[0]
    assert x0 == 0.0 and x1 >= rig.model.now_s
    qtbot.keyClick(rig.win, "z")
    assert rig.win.follow
    before = rig.model.current_phase.index
    qtbot.keyClick(rig.win, "a")
    assert rig.model.current_phase.index == before + 1
    assert rig.model.current_phase.start_s == pytest.approx(rig.model.now_s)


def test_q_and_close_during_a_hold_ask_first_then_end_the_recording(rig, qtbot):
    events = sim_events(rig.protocol)
    rig.feed(events, until_s=300.0)  # in the fierce hold
    qtbot.keyClick(rig.win, "q")
    box = rig.win._confirm
    assert box is not None and box.isVisible()
    assert rig.session.end is None  # nothing ends without a yes
    box.button(QtWidgets.QMessageBox.StandardButton.No).click()
    assert rig.session.end is None
    rig.win.close()  # the window's close button
    box = rig.win._confirm
    assert box.isVisible() and rig.win.isVisible()
    rig.feed(e for e in events if 300.0 < e.t_s <= 310.0)  # data keeps flowing meanwhile
    assert rig.model.now_s > 300.0
    closed = []
    rig.win.closed.connect(lambda: closed.append(True))
    box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
    assert closed == [True]
    assert not rig.win.isVisible()
    assert rig.session.end is not None and rig.session.end.reason == "window closed"
    rec = rig.recording()
    assert rec.end is not None and rec.end.reason == "window closed"
    assert rec.end.t_s == pytest.approx(rig.model.now_s, abs=1e-6)


def test_close_outside_a_hold_ends_at_once(rig):
    rig.feed(sim_events(rig.protocol), until_s=60.0)  # baseline
    rig.win.close()
    assert rig.session.end is not None and rig.session.end.reason == "window closed"
    assert not rig.win.isVisible()


def test_rating_dialog_is_non_modal_and_sends_ratings(qtbot, tmp_path):
    r = Rig(qtbot, tmp_path, "single", ask_ratings=True)
    events = sim_events(r.protocol, ratings=False, markers=False)
    onset = r.protocol.phases[0].duration_s
    r.feed(events, until_s=onset + 5.0)
    dlg = r.win.rating_dialog
    assert dlg is not None and dlg.isVisible() and not dlg.isModal()
    assert dlg.slot == (1, "pre")
    dlg.click("belief", 7)
    dlg.click("safety", 4)
    # keys typed while the dialog has focus still reach the session
    qtbot.keyClick(dlg, "f")
    r.feed([e for e in events if e.t_s > onset + 5.0], until_s=onset + 310.0)  # after the hold
    post = r.win.rating_dialog
    assert post is not dlg and post.slot == (1, "post")
    post.click("belief", 9)
    r.feed([e for e in events if e.t_s > onset + 310.0])
    rec = r.recording()
    got = [(x.phase_index, x.when, x.scale, x.value) for x in rec.ratings]
    assert got == [(1, "pre", "belief", 7), (1, "pre", "safety", 4), (1, "post", "belief", 9)]
    assert [m.kind for m in rec.markers] == ["felt"]


def test_session_end_shows_the_whole_session_and_a_summary(done):
    rig, _ = done
    assert not rig.win.follow
    x0, x1 = rig.win.hr_plot.viewRange()[0]
    assert x0 == 0.0 and x1 >= rig.model.end.t_s
    assert "session ended (completed)" in rig.win.phase_label.text()
    cu = rig.model.catchup_of(1)
    assert f"caught up at {txt.clock(cu.latency_s)}" in rig.win.prompt.text()


# ---------------------------------------------------------------- model and drawing cost


def test_handle_only_appends_redraw_is_coalesced(qtbot, tmp_path):
    r = Rig(qtbot, tmp_path, "single")
    r.win.redraw()
    n0 = r.win.redraws
    for ev in sim_events(r.protocol)[:400]:
        r.session.feed(ev)  # no redraw happens inside handle()
    assert r.win.redraws == n0
    assert r.win._timer.isActive()  # one redraw scheduled for the next frame
    qtbot.waitUntil(lambda: r.win.redraws == n0 + 1, timeout=2000)
    r.win.redraw()  # nothing changed: no work
    assert r.win.redraws == n0 + 1


def test_grow_columns_keep_data_when_they_grow():
    g = GrowColumns(2, capacity=16)
    for i in range(1000):
        g.append(float(i), float(-i))
    assert g.n == 1000 and g.data.shape[1] >= 1000
    np.testing.assert_array_equal(g.col(0), np.arange(1000.0))
    np.testing.assert_array_equal(g.col(1), -np.arange(1000.0))


def test_model_needs_no_qt_and_marks_no_baseline():
    proto = replace(
        load_protocol("single"), phases=load_protocol("single").phases[1:]
    )  # no baseline
    model = ViewModel()
    s = Session([model], header_for(proto), proto)
    s.start()
    for ev in sim_events(proto):
        s.feed(ev)
        if ev.t_s > 100:
            break
    assert model.catchup_of(0).state == "no baseline"
    assert txt.catchup_text(model)[0] == "no baseline"
    assert isinstance(model.markers, list) and all(isinstance(m, Marker) for m in model.markers)


def test_time_axis_and_clock_text():
    assert txt.clock(0) == "0:00"
    assert txt.clock(102.4) == "1:42"
    assert txt.clock(3725) == "1:02:05"


# ---------------------------------------------------------------- screenshots (end to end)


def distinct_colours(path: Path) -> tuple[int, int, int]:
    img = QtGui.QImage(str(path))
    assert not img.isNull()
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint32, count=w * h)
    return w, h, int(np.unique(arr).size)


def test_demo_screenshot_end_to_end(qapp, tmp_path):
    from holdbeat.cli import main

    png = tmp_path / "shots" / "demo.png"
    out = tmp_path / "rec"
    code = main(["demo", "--speed", "max", "--screenshot", str(png), "--out", str(out)])
    assert code == 0
    w, h, n = distinct_colours(png)
    assert (w, h) == (1440, 900)
    assert n > 200  # text, curves, shading: not a blank or single-colour image
    recs = list(out.glob("*.jsonl"))
    assert len(recs) == 1
    rec = load(recs[0])
    assert rec.end is not None and rec.end.reason == "completed"
    assert rec.beat_t_s.size > 500


def test_window_screenshot_is_not_blank(done, tmp_path):
    rig, _ = done
    png = tmp_path / "end.png"
    assert rig.win.grab().save(str(png))
    w, h, n = distinct_colours(png)
    assert w >= 1200 and h >= 800 and n > 200


# ---------------------------------------------------------------- run_windowed (qasync shell)


def _plan(tmp_path: Path, speed: float | None, screenshot: Path | None = None):
    from holdbeat.pipeline import SessionClock, paced
    from holdbeat.runner import SessionPlan

    proto = with_beliefs(load_protocol("single"))
    clock = None if speed is None else SessionClock(speed)
    return SessionPlan(
        make_source=lambda: paced(simulate(proto, SimConfig(seed=2)), clock),
        header=header_for(proto),
        protocol=proto,
        out_dir=tmp_path,
        clock=clock,
        headless=False,
        screenshot=screenshot,
        interactive=False,
    )


def _close_window_soon(ms: int) -> None:
    def close() -> None:
        for w in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(w, LiveWindow) and w.isVisible():
                w.close()

    QtCore.QTimer.singleShot(ms, close)


def test_closing_the_window_ends_a_running_session_cleanly(qapp, tmp_path):
    from holdbeat.runner import execute

    plan = _plan(tmp_path, speed=40.0)  # baseline is 3 min: still running after 0.6 s
    _close_window_soon(600)
    end, path = execute(plan)
    assert end.reason == "window closed"
    assert 5.0 < end.t_s < 170.0
    rec = load(path)
    assert rec.end == end  # the recording was finished with the same end
    assert rec.beat_t_s.size > 5


def test_after_the_session_the_window_stays_until_closed(qapp, tmp_path):
    from holdbeat.runner import execute

    plan = _plan(tmp_path, speed=None)  # as fast as possible
    seen_open_after_end: list[bool] = []

    def close_once_ended() -> None:
        # closed only after the window has shown the end of the session: if the session
        # ended the window, it would already be gone here
        for w in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(w, LiveWindow) and w.isVisible() and w.model.end is not None:
                seen_open_after_end.append(True)
                w.close()
                return
        QtCore.QTimer.singleShot(50, close_once_ended)

    QtCore.QTimer.singleShot(50, close_once_ended)
    end, path = execute(plan)
    assert seen_open_after_end == [True]  # it waited for the window, not for the data
    assert end.reason == "completed"
    assert load(path).end.reason == "completed"


def test_strap_without_rr_draws_its_hr_and_says_why_hrv_is_missing(rig):
    rig.session.feed(Tick(1.0))
    for i in range(30):
        rig.session.feed(Hrm(2.0 + i, encode_hrm(60 + i % 5, [], contact=True)))
    rig.win.redraw()
    assert rig.model.n_beats == 0
    x, y = rig.win.hr_roll_curve.xData, rig.win.hr_roll_curve.yData
    assert x.size == 30 and list(y[:5]) == [60, 61, 62, 63, 64]
    assert rig.win.hr_value.text() == "64"  # the strap's own last HR field
    assert rig.win.ln_value.text() == txt.DASH
    assert "no beat intervals" in rig.win.ln_note.text()


def test_prepare_runs_in_the_loop_and_ctrl_c_ends_the_session(qapp, tmp_path):
    import signal as _signal

    from holdbeat.pipeline import SessionClock
    from holdbeat.runner import execute

    plan = _plan(tmp_path, speed=None)
    seen = []

    async def prepare(p) -> None:  # what `hold` does: connect, then set header and clock
        seen.append(QtWidgets.QApplication.topLevelWidgets() != [])
        p.header = replace(p.header, device=Device(name="prepared strap", source="strap"))
        p.clock = SessionClock(40.0)
        p.make_source = _plan(tmp_path, speed=40.0).make_source

    plan.prepare = prepare
    # Ctrl-C as in a terminal: a test run started as a background job (`cmd &`) has SIGINT
    # ignored, which the window rightly keeps - and then the session would never end
    started_with = _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    try:
        before = _signal.getsignal(_signal.SIGINT)
        QtCore.QTimer.singleShot(700, lambda: os.kill(os.getpid(), _signal.SIGINT))
        end, path = execute(plan)
        after = _signal.getsignal(_signal.SIGINT)
    finally:
        _signal.signal(_signal.SIGINT, started_with)
    assert seen == [True]  # the window was up while connecting
    assert end.reason == "interrupted"
    rec = load(path)
    assert rec.header.device.name == "prepared strap"
    assert rec.end is not None and rec.end.reason == "interrupted"
    assert after is before  # the window's handler is undone


def test_short_baseline_gets_a_band_from_one_window_like_the_report():
    """A 60-s baseline: one window estimate, its width from the real-heart floor (the
    quick protocol); shorter than one window: no band, with the reason, as `report`."""
    from holdbeat.analysis.baseline_band import BAND_FLOOR

    base = load_protocol("single")
    for base_s, has_band in ((62.0, True), (45.0, False)):
        proto = replace(base, phases=(replace(base.phases[0], duration_s=base_s), *base.phases[1:]))
        model = ViewModel()
        s = Session([model], header_for(proto), proto)
        s.start()
        for ev in sim_events(proto):
            s.feed(ev)
            if ev.t_s > base_s + 30:
                break
        if has_band:
            band = model.bands["ln_rmssd"]
            assert band.n == 1
            assert band.sd == pytest.approx(BAND_FLOOR["ln_rmssd"] * 2**0.5)
            assert model.catchup_of(1).state != "no baseline"
        else:
            assert "ln_rmssd" not in model.bands
            assert "shorter than one 60 s window" in model.band_notes["ln_rmssd"]
            assert model.catchup_of(1).state == "no baseline"


def test_file_text_is_shown_as_text_never_as_markup(qtbot, tmp_path):
    """A belief or phase name from a protocol file is plain text in the window: Qt's
    automatic rich text would run '<img src=…>' or restyle the window."""
    from holdbeat.gui.rating import RatingDialog

    evil = "<b>bold</b><img src='/etc/x'>"
    proto = tmp_path / "evil.toml"
    proto.write_text(
        '[[phase]]\nkind = "baseline"\nduration = 60\n'
        f'[[phase]]\nkind = "hold"\nmode = "soft"\nduration = 60\nname = "{evil}"\n'
        f'prompt = "{evil}"\nbelief = "{evil}"\n'
    )
    r = Rig(qtbot, tmp_path, protocol=str(proto))
    r.feed(sim_events(r.protocol), until_s=70.0)
    r.session.feed(Tick(70.0))
    r.win.redraw()
    for label in (r.win.belief, r.win.prompt, r.win.phase_label):
        assert label.textFormat() == QtCore.Qt.TextFormat.PlainText
    assert evil in r.win.belief.text() and evil in r.win.phase_label.text()
    dialog = RatingDialog(r.win, (1, "pre"), evil, lambda *_: None, lambda _k: False)
    shown = [w.text() for w in dialog.findChildren(QtWidgets.QLabel)]
    assert any("&lt;b&gt;bold&lt;/b&gt;&lt;img" in t for t in shown)


def _label_rects(win) -> list:
    rects = []
    for lines in win._catchup_lines.values():
        for line in lines:
            if getattr(line, "label", None) is not None and line.label.isVisible():
                rects.append(line.label.sceneBoundingRect())
    return rects


@pytest.mark.parametrize("follow", [True, False])
def test_catch_up_labels_never_overlap_on_the_alternating_protocol(qtbot, tmp_path, follow):
    """24 minutes, four holds: at the default zoom (last 5 min) and zoomed out to all."""
    r = Rig(qtbot, tmp_path, protocol="alternating")
    events = sim_events(r.protocol, seed=3)
    end = r.protocol.total_s
    r.feed(events, until_s=end - 30)  # still running: the window follows, unless zoomed out
    if not follow:
        r.win.toggle_zoom()  # the "z" key: the whole session
    r.win.redraw()
    QtWidgets.QApplication.processEvents()  # lay the plots out: labels get their real places
    assert len(r.win._catchup_lines) >= 3
    rects = _label_rects(r.win)
    assert rects
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b), (a, b)
    # and no visible label is cut by the plot's right edge
    for plot in (r.win.hr_plot, r.win.ln_plot):
        vb = plot.getViewBox().sceneBoundingRect()
        for line in (ln for lines in r.win._catchup_lines.values() for ln in lines):
            lab = getattr(line, "label", None)
            if lab is None or not lab.isVisible() or line.getViewBox() is not plot.getViewBox():
                continue
            if vb.intersects(lab.sceneBoundingRect()):
                assert lab.sceneBoundingRect().right() <= vb.right() + 1
