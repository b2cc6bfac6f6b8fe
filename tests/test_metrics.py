"""Live window metrics: agreement with neurokit2 on the same windows, edge cases, no drift."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.beats import Beat
from holdbeat.clean import LiveFlagger
from holdbeat.hrv import nk_input
from holdbeat.metrics import LiveMetrics, LiveWindow
from holdbeat.process import Processor
from holdbeat.protocols import load_protocol
from holdbeat.rrsim import beat_times, inject_artifacts, synthetic_rr
from holdbeat.sources.simulator import SimConfig, simulate

nk = pytest.importorskip("neurokit2")


def _beats(t, rr, gap=None, flag=None) -> list[Beat]:
    n = len(rr)
    gap = np.zeros(n, bool) if gap is None else gap
    flag = np.full(n, "", dtype=object) if flag is None else flag
    return [Beat(float(t[i]), float(rr[i]), bool(gap[i]), str(flag[i])) for i in range(n)]


def _run(beats: list[Beat], window_s: float) -> list[LiveMetrics]:
    w = LiveWindow(window_s)
    return [w.update(b) for b in beats]


def _direct(t, rr, gap, ok, i, window_s):
    """Straight numpy on the window ending at beat i (the definition in metrics.py)."""
    sel = np.flatnonzero((t > t[i] - window_s) & (t <= t[i]))
    r, o, g = rr[sel], ok[sel], gap[sel]
    d = np.diff(r)
    usable = o[1:] & o[:-1] & ~g[1:]
    rc = r[o]
    return {
        "n": len(rc),
        "mean": rc.mean() if len(rc) else math.nan,
        "sdnn": rc.std(ddof=1) if len(rc) > 1 else math.nan,
        "rmssd": math.sqrt(np.mean(d[usable] ** 2)) if usable.any() else math.nan,
        "nd": int(usable.sum()),
    }


def _nk_window(t, rr, gap, ok, i, window_s):
    sel = (t > t[i] - window_s) & (t <= t[i])
    data = nk_input(t[sel], rr[sel], gap[sel], ok[sel])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_time(data)
    return out, len(data["RRI"])


def _synthetic_with_flags_and_gaps(n=2400, seed=3):
    rr = synthetic_rr(n, seed=seed)
    inj = inject_artifacts(rr, rate=0.03, seed=seed)
    t = inj.t_s.copy()
    rr = inj.rr_ms
    gap = np.zeros(len(rr), bool)
    gap[0] = True
    # two connection losses: 10 s and 10 min of missing beats
    for at, hole_s in ((700, 10.0), (1500, 600.0)):
        t[at:] += hole_s
        gap[at] = True
    flagger = LiveFlagger()
    flags = np.array([flagger.flag(b).flag for b in _beats(t, rr, gap)], dtype=object)
    return t, rr, gap, flags


@pytest.mark.parametrize("window_s", [60.0, 30.0])
def test_live_equals_neurokit_hrv_time_on_synthetic(window_s):
    t, rr, gap, flags = _synthetic_with_flags_and_gaps()
    ok = flags == ""
    assert 0.01 < (~ok).mean() < 0.2  # the series really has flagged beats
    ms = _run(_beats(t, rr, gap, flags), window_s)
    checked = 0
    for i in range(40, len(rr), 17):
        m = ms[i]
        ref, n_ref = _nk_window(t, rr, gap, ok, i, window_s)
        assert m.n_beats == n_ref
        if m.sdnn_valid:
            assert abs(m.sdnn_ms - ref["HRV_SDNN"].iloc[0]) < 1e-6
        if m.rmssd_valid:
            assert abs(m.rmssd_ms - ref["HRV_RMSSD"].iloc[0]) < 1e-6
            assert abs(m.hr_bpm - 60000.0 / ref["HRV_MeanNN"].iloc[0]) < 1e-6
            checked += 1
    assert checked > 100


def test_live_equals_direct_computation_at_every_beat():
    t, rr, gap, flags = _synthetic_with_flags_and_gaps(n=3000, seed=5)
    ok = flags == ""
    for window_s in (60.0, 30.0):
        ms = _run(_beats(t, rr, gap, flags), window_s)
        for i, m in enumerate(ms):
            d = _direct(t, rr, gap, ok, i, window_s)
            assert m.n_beats == d["n"] and m.n_diffs == d["nd"]
            if m.rmssd_valid:
                assert abs(m.rmssd_ms - d["rmssd"]) < 1e-6
            if m.sdnn_valid:
                assert abs(m.sdnn_ms - d["sdnn"]) < 1e-6
            if m.hr_valid:
                assert abs(m.hr_bpm - 60000.0 / d["mean"]) < 1e-6


def test_live_equals_neurokit_on_simulator_output():
    proc = Processor(window_s=60.0)
    from holdbeat.events import Hrm

    beats, metrics = [], []
    for ev in simulate(load_protocol("single"), SimConfig(seed=11, artifact_rate=0.02)):
        if isinstance(ev, Hrm):
            p = proc.on_hrm(ev)
            beats += p.beats
            metrics += p.metrics
    t = np.array([b.t_s for b in beats])
    rr = np.array([b.rr_ms for b in beats])
    gap = np.array([b.gap_before for b in beats])
    ok = np.array([b.ok for b in beats])
    assert (~ok).sum() > 5  # the simulator's artifacts were flagged live
    checked = 0
    for i in range(30, len(beats), 11):
        ref, n_ref = _nk_window(t, rr, gap, ok, i, 60.0)
        m = metrics[i]
        assert m.n_beats == n_ref
        if m.valid:
            assert abs(m.rmssd_ms - ref["HRV_RMSSD"].iloc[0]) < 1e-6
            assert abs(m.sdnn_ms - ref["HRV_SDNN"].iloc[0]) < 1e-6
            checked += 1
    assert checked > 50


def test_no_drift_over_24_hours():
    rr = synthetic_rr(105_000, seed=9, slow_ms=150.0)  # ~27 h at ~65 bpm, HR wanders
    t = beat_times(rr)
    flags = np.where(np.random.default_rng(1).random(len(rr)) < 0.02, "jump", "")
    w = LiveWindow(60.0)
    gap = np.zeros(len(rr), bool)
    checkpoints = {len(rr) // 4, len(rr) // 2, len(rr) - 1}
    for i in range(len(rr)):
        m = w.update(Beat(float(t[i]), float(rr[i]), False, str(flags[i])))
        if i in checkpoints:
            d = _direct(t, rr, gap, flags == "", i, 60.0)
            assert t[i] > 3600.0 * 5
            assert abs(m.rmssd_ms - d["rmssd"]) < 1e-9
            assert abs(m.sdnn_ms - d["sdnn"]) < 1e-9
            assert abs(m.hr_bpm - 60000.0 / d["mean"]) < 1e-9
    assert t[-1] > 24 * 3600


# ------------------------------------------------------------------ edge cases


def _assert_display_safe(m: LiveMetrics) -> None:
    for v in (m.hr_bpm, m.rmssd_ms, m.ln_rmssd, m.sdnn_ms, m.clean_s):
        assert not math.isinf(v)
    if m.valid:
        assert m.reason == ""
        assert all(math.isfinite(v) for v in (m.hr_bpm, m.rmssd_ms, m.ln_rmssd, m.sdnn_ms))
    else:
        assert m.reason


def test_empty_window():
    m = LiveWindow(60.0).snapshot(0.0)
    assert not m.valid and "no clean beats" in m.reason
    assert m.n_beats == 0 and math.isnan(m.hr_bpm) and math.isnan(m.rmssd_ms)
    _assert_display_safe(m)


def test_one_beat():
    m = LiveWindow(60.0).update(Beat(1.0, 800.0, True))
    assert not m.valid and m.n_beats == 1 and "1 clean beat" in m.reason
    assert math.isnan(m.hr_bpm) and math.isnan(m.sdnn_ms) and math.isnan(m.rmssd_ms)
    _assert_display_safe(m)


def test_all_beats_flagged():
    w = LiveWindow(60.0)
    t = beat_times(np.full(100, 800.0))
    for ti in t:
        m = w.update(Beat(float(ti), 800.0, False, "jump"))
    assert m.n_beats == 0 and m.n_flagged == 75 and m.flagged_share == 1.0
    assert not m.valid and "no clean beats" in m.reason
    _assert_display_safe(m)


def test_ten_minute_gap_no_difference_across_it_and_window_refills():
    rr = synthetic_rr(300, seed=2)
    t = beat_times(rr)
    gap = np.zeros(300, bool)
    t[150:] += 600.0
    gap[150] = True
    ms = _run(_beats(t, rr, gap), 60.0)
    assert ms[149].valid
    after = ms[150]
    assert after.n_beats == 1 and after.n_diffs == 0 and not after.valid  # old beats left
    assert "clean" in after.reason
    # once the window is half covered again it is valid, and never used the cross-gap diff
    first_valid = next(i for i in range(150, 300) if ms[i].valid)
    assert 25.0 <= t[first_valid] - t[150] <= 40.0
    d = _direct(t, rr, gap, np.ones(300, bool), first_valid, 60.0)
    assert ms[first_valid].n_diffs == d["nd"] == first_valid - 150


def test_gap_flag_without_time_hole_still_breaks_the_difference():
    rr = np.array([800.0, 900.0] * 20)
    t = beat_times(rr)
    gap = np.zeros(40, bool)
    gap[21] = True
    m = _run(_beats(t, rr, gap), 60.0)[-1]
    assert m.n_diffs == 38


def test_constant_rr_gives_rmssd_zero_and_says_why():
    t = beat_times(np.full(120, 1000.0))
    m = _run(_beats(t, np.full(120, 1000.0)), 60.0)[-1]
    assert m.rmssd_ms == 0.0 and m.sdnn_ms == 0.0 and m.hr_bpm == pytest.approx(60.0)
    assert math.isnan(m.ln_rmssd) and not m.valid and "RMSSD is 0" in m.reason
    _assert_display_safe(m)


def test_short_window_start_is_invalid_with_reason():
    rr = synthetic_rr(20, seed=1)
    ms = _run(_beats(beat_times(rr), rr), 60.0)
    assert not ms[-1].valid and "cover" in ms[-1].reason
    assert ms[-1].hr_valid  # HR is shown early; RMSSD waits for enough data


def test_nonfinite_rr_and_time_never_leak():
    w = LiveWindow(30.0)
    rr = synthetic_rr(80, seed=4)
    t = beat_times(rr)
    for i in range(80):
        r = [math.nan, math.inf, -5.0, 0.0][i % 4] if i % 9 == 0 else float(rr[i])
        m = w.update(Beat(float(t[i]), r, False, ""))
        _assert_display_safe(m)
    m = w.update(Beat(math.nan, 800.0))
    _assert_display_safe(m)
    assert m.valid


def test_window_validation():
    with pytest.raises(ValueError, match="window_s"):
        LiveWindow(0)
    with pytest.raises(ValueError, match="window_s"):
        LiveWindow(math.nan)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 3.0),  # time step, s
            st.one_of(st.floats(200.0, 2200.0), st.just(math.nan), st.just(math.inf)),
            st.booleans(),  # gap_before
            st.sampled_from(["", "", "", "jump", "range"]),
        ),
        max_size=120,
    ),
    st.sampled_from([10.0, 30.0, 60.0]),
)
def test_invariants_hold_for_any_beat_sequence(seq, window_s):
    w = LiveWindow(window_s)
    t = 0.0
    for dt, rr, gap, flag in seq:
        t += dt
        m = w.update(Beat(t, rr, gap, flag))
        _assert_display_safe(m)
        assert m.n_beats + m.n_flagged == len(w)
        assert m.n_diffs <= max(0, m.n_beats - 1)
