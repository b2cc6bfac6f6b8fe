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
from holdbeat.hrv.intervals import nk_input
from holdbeat.metrics import LiveMetrics, LiveWindow
from holdbeat.process import Processor
from holdbeat.protocols import load_protocol
from holdbeat.sim.artifacts import beat_times, inject_artifacts
from holdbeat.sim.body import SimConfig
from holdbeat.sim.rr import synthetic_rr
from holdbeat.sources.simulator import simulate

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
        "n_flagged": int((~o).sum()),
        "clean_s": rc.sum() / 1000.0,
        "mean": rc.mean() if len(rc) else math.nan,
        "sdnn": rc.std(ddof=1) if len(rc) > 1 else math.nan,
        "rmssd": math.sqrt(np.mean(d[usable] ** 2)) if usable.any() else math.nan,
        "nd": int(usable.sum()),
    }


def _expect_validity(d, window_s):
    """Which metrics the definition says are valid (metrics.py's docstring, by hand)."""
    covered = d["clean_s"] >= 0.5 * window_s
    hr = d["n"] >= 2
    sdnn = d["n"] >= 10 and covered
    rmssd = d["nd"] >= 10 and covered
    ln = rmssd and d["rmssd"] > 0
    return hr, sdnn, rmssd, ln


def _assert_matches_direct(m: LiveMetrics, d, window_s, t_now, tol):
    """Every field of `m` against the direct computation: values where valid, NaN where
    not, and validity itself both ways."""
    hr_ok, sdnn_ok, rmssd_ok, ln_ok = _expect_validity(d, window_s)
    assert (m.t_s, m.window_s) == (t_now, window_s)
    assert (m.n_beats, m.n_flagged, m.n_diffs) == (d["n"], d["n_flagged"], d["nd"])
    assert m.clean_s == pytest.approx(d["clean_s"], abs=1e-9)
    assert (m.hr_valid, m.sdnn_valid, m.rmssd_valid) == (hr_ok, sdnn_ok, rmssd_ok)
    assert math.isfinite(m.ln_rmssd) == ln_ok
    assert m.valid == (hr_ok and sdnn_ok and ln_ok) == (m.reason == "")
    if hr_ok:
        assert m.hr_bpm == pytest.approx(60000.0 / d["mean"], abs=tol)
    if sdnn_ok:
        assert m.sdnn_ms == pytest.approx(d["sdnn"], abs=tol)
    if rmssd_ok:
        assert m.rmssd_ms == pytest.approx(d["rmssd"], abs=tol)
    if ln_ok:
        assert m.ln_rmssd == pytest.approx(math.log(d["rmssd"]), abs=tol)


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
        _, sdnn_ok, rmssd_ok, _ = _expect_validity(_direct(t, rr, gap, ok, i, window_s), window_s)
        assert (m.sdnn_valid, m.rmssd_valid) == (sdnn_ok, rmssd_ok)
        if sdnn_ok:
            assert abs(m.sdnn_ms - ref["HRV_SDNN"].iloc[0]) < 1e-6
        if rmssd_ok:
            assert abs(m.rmssd_ms - ref["HRV_RMSSD"].iloc[0]) < 1e-6
            assert abs(m.hr_bpm - 60000.0 / ref["HRV_MeanNN"].iloc[0]) < 1e-6
            checked += 1
    assert 100 < checked < len(range(40, len(rr), 17))  # both valid and invalid windows


def test_live_equals_direct_computation_at_every_beat():
    t, rr, gap, flags = _synthetic_with_flags_and_gaps(n=3000, seed=5)
    ok = flags == ""
    for window_s in (60.0, 30.0):
        ms = _run(_beats(t, rr, gap, flags), window_s)
        valid = 0
        for i, m in enumerate(ms):
            d = _direct(t, rr, gap, ok, i, window_s)
            _assert_matches_direct(m, d, window_s, t[i], 1e-6)
            valid += m.valid
        assert 0.5 * len(ms) < valid < len(ms)


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
        hr_ok, sdnn_ok, _, ln_ok = _expect_validity(_direct(t, rr, gap, ok, i, 60.0), 60.0)
        assert m.valid == (hr_ok and sdnn_ok and ln_ok)
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
    assert not m.valid and m.reason == "no clean beats in the window"
    assert m.n_beats == 0 and math.isnan(m.hr_bpm) and math.isnan(m.rmssd_ms)
    _assert_display_safe(m)


def test_one_beat():
    m = LiveWindow(60.0).update(Beat(1.0, 800.0, True))
    assert not m.valid and m.n_beats == 1
    assert m.reason == (
        "only 1 clean beat; clean beats cover 1 s of the window (need 30 s); "
        "only 1 clean beats (SDNN needs 10); "
        "only 0 clean successive differences (RMSSD needs 10)"
    )
    assert math.isnan(m.hr_bpm) and math.isnan(m.sdnn_ms) and math.isnan(m.rmssd_ms)
    _assert_display_safe(m)


def test_all_beats_flagged():
    w = LiveWindow(60.0)
    t = beat_times(np.full(100, 800.0))
    for ti in t:
        m = w.update(Beat(float(ti), 800.0, False, "jump"))
    assert m.n_beats == 0 and m.n_flagged == 75 and m.flagged_share == 1.0
    assert not m.valid and m.reason == "no clean beats in the window"
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
    bad = [math.nan, math.inf, -5.0, 0.0, 1e-9]
    rr_in = rr.copy()
    for i in range(0, 80, 9):
        rr_in[i] = bad[(i // 9) % 5]
    usable = np.isfinite(rr_in) & (rr_in > 0)
    usable[rr_in == 1e-9] = True  # tiny but positive: a number like any other
    gap = np.zeros(80, bool)
    for i in range(80):
        m = w.update(Beat(float(t[i]), float(rr_in[i]), False, ""))
        _assert_display_safe(m)
        # unusable RR counts like a flagged beat: in n_flagged, in no sum or difference
        d = _direct(t, np.where(usable, rr_in, 0.0), gap, usable, i, 30.0)
        _assert_matches_direct(m, d, 30.0, t[i], 1e-6)
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


# ------------------------------------------------- thresholds at exactly their value


def _even(n: int, rr_ms: tuple[float, ...] = (2750.0, 3250.0), t0: float = 0.0) -> list[Beat]:
    """n contiguous clean beats cycling through rr_ms (exact in binary), timed by RR."""
    out, t = [], t0
    for i in range(n):
        r = rr_ms[i % len(rr_ms)]
        t += r / 1000.0
        out.append(Beat(t, r, i == 0))
    return out


def _last(beats: list[Beat], window_s: float = 60.0, **kw) -> LiveMetrics:
    w = LiveWindow(window_s, **kw)
    for b in beats:
        m = w.update(b)
    return m


def test_hr_needs_two_clean_beats() -> None:
    one = _last(_even(1, (800.0,)))
    assert math.isnan(one.hr_bpm) and one.reason.startswith("only 1 clean beat;")
    two = _last(_even(2, (750.0, 1250.0)))
    assert two.hr_bpm == 60.0 and two.hr_valid  # 60000 / mean(750, 1250)
    assert two.reason == (
        "clean beats cover 2 s of the window (need 30 s); "
        "only 2 clean beats (SDNN needs 10); "
        "only 1 clean successive differences (RMSSD needs 10)"
    )


def test_sdnn_at_exactly_min_beats_and_coverage() -> None:
    """10 beats alternating 2750/3250 ms: exactly 10 clean beats covering exactly 30 s, so
    SDNN is valid; 9 differences, so RMSSD is not (it needs 10)."""
    m = _last(_even(10))
    rr = np.array([2750.0, 3250.0] * 5)
    assert (m.n_beats, m.n_diffs, m.clean_s) == (10, 9, 30.0)
    assert m.sdnn_ms == pytest.approx(rr.std(ddof=1), abs=1e-9)
    assert m.hr_bpm == pytest.approx(20.0, abs=1e-12)
    assert math.isnan(m.rmssd_ms) and math.isnan(m.ln_rmssd) and not m.valid
    assert m.reason == "only 9 clean successive differences (RMSSD needs 10)"
    # the same with one beat fewer: 9 beats, neither SDNN nor coverage
    m9 = _last(_even(9))
    assert math.isnan(m9.sdnn_ms) and m9.hr_valid
    assert m9.reason == (
        "clean beats cover 27 s of the window (need 30 s); "  # 26.75 s
        "only 9 clean beats (SDNN needs 10); "
        "only 8 clean successive differences (RMSSD needs 10)"
    )


def test_everything_valid_at_exactly_min_diffs() -> None:
    m = _last(_even(11))  # 11 beats, 10 differences of ±500 ms, 32.75 s of RR
    assert (m.n_beats, m.n_diffs, m.clean_s) == (11, 10, 32.75)
    assert m.valid and m.reason == ""
    assert m.rmssd_ms == 500.0 and m.ln_rmssd == pytest.approx(math.log(500.0), abs=1e-12)
    assert m.sdnn_ms == pytest.approx(np.std([2750.0, 3250.0] * 5 + [2750.0], ddof=1))
    assert m.hr_bpm == pytest.approx(60000.0 / (32750.0 / 11), abs=1e-9)
    assert (m.n_flagged, m.flagged_share) == (0, 0.0)


@pytest.mark.parametrize(("extra_ms", "covered"), [(-1.0, False), (0.0, True)])
def test_coverage_boundary_is_inclusive(extra_ms: float, covered: bool) -> None:
    """20 beats summing to 30 s minus 1 ms, or exactly 30 s: half of a 60 s window."""
    beats = _even(20, (1500.0,))
    last = beats[-1]
    beats[-1] = Beat(last.t_s + extra_ms / 1000.0, last.rr_ms + extra_ms)
    m = _last(beats)
    assert m.clean_s == pytest.approx(30.0 + extra_ms / 1000.0, abs=1e-12)
    assert m.sdnn_valid is covered and m.rmssd_valid is covered and m.hr_valid
    cover = "clean beats cover 30 s of the window (need 30 s)"
    assert (cover in m.reason) is (not covered)


def test_coverage_share_and_minimums_are_parameters() -> None:
    beats = _even(4, (1000.0,))
    strict = _last(beats, 10.0, min_beats=4, min_diffs=3, min_coverage=0.4)
    assert strict.valid is False and strict.reason == "RMSSD is 0 (constant RR): ln RMSSD undefined"
    assert (strict.sdnn_ms, strict.rmssd_ms) == (0.0, 0.0)
    fewer = _last(beats, 10.0, min_beats=5, min_diffs=4, min_coverage=0.4)
    assert fewer.reason == (
        "only 4 clean beats (SDNN needs 5); only 3 clean successive differences (RMSSD needs 4)"
    )
    uncovered = _last(beats, 10.0, min_beats=4, min_diffs=3, min_coverage=0.41)
    assert uncovered.reason == "clean beats cover 4 s of the window (need 4 s)"  # n = min_beats
    assert uncovered.hr_bpm == 60.0 and math.isnan(uncovered.sdnn_ms)


def test_minimums_never_go_below_what_the_formulas_need() -> None:
    """SDNN of one beat and RMSSD of no difference are undefined whatever is asked."""
    w = LiveWindow(10.0, min_beats=0, min_diffs=0, min_coverage=0.0)
    m1 = w.update(Beat(1.0, 800.0, True))
    assert math.isnan(m1.sdnn_ms) and math.isnan(m1.rmssd_ms)
    assert m1.reason == (
        "only 1 clean beat; only 1 clean beats (SDNN needs 2); "
        "only 0 clean successive differences (RMSSD needs 1)"
    )
    m2 = w.update(Beat(2.0, 1000.0))
    assert m2.valid and m2.sdnn_ms == pytest.approx(math.sqrt(20000.0)) and m2.rmssd_ms == 200.0


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "60", None])
def test_window_must_be_a_positive_finite_number(bad) -> None:
    with pytest.raises(ValueError, match=r"window_s must be a positive number of seconds, got"):
        LiveWindow(bad)


@pytest.mark.parametrize("share", [-0.01, 1.01, math.nan])
def test_coverage_must_be_a_share(share) -> None:
    with pytest.raises(ValueError, match=r"min_coverage must be within 0\.\.1, got"):
        LiveWindow(60.0, min_coverage=share)


def test_coverage_bounds_are_allowed() -> None:
    assert LiveWindow(60.0, min_coverage=0.0).min_coverage == 0.0
    assert LiveWindow(60.0, min_coverage=1.0).min_coverage == 1.0


def test_window_is_open_at_its_start_and_closed_at_its_end() -> None:
    """Window at t: t - window_s < t_s <= t. A beat exactly window_s old has left, and
    the difference of the new first beat (to a beat that left) leaves with it."""
    w = LiveWindow(10.0, min_beats=2, min_diffs=1, min_coverage=0.0)
    for k in range(10):
        w.update(Beat(float(k), 1000.0 + k, k == 0))
    assert len(w) == 10
    m = w.update(Beat(10.0, 1010.0))  # the beat at t = 0 is exactly 10 s old: out
    assert (len(w), m.n_beats, m.n_diffs) == (10, 10, 9)
    assert m.rmssd_ms == 1.0 and m.clean_s == pytest.approx(sum(range(1001, 1011)) / 1000.0)
    m = w.update(Beat(10.5, 1011.0))  # nothing leaves (t = 1 is 9.5 s old)
    assert (m.n_beats, m.n_diffs) == (11, 10)


def test_flagged_beats_are_counted_until_they_leave() -> None:
    w = LiveWindow(5.0, min_beats=2, min_diffs=1, min_coverage=0.0)
    w.update(Beat(1.0, 1000.0, True))
    m = w.update(Beat(2.0, 1000.0, flag="jump"))
    assert (m.n_beats, m.n_flagged, m.flagged_share, len(w)) == (1, 1, 0.5, 2)
    m = w.update(Beat(3.0, 1200.0))
    assert (m.n_beats, m.n_flagged, m.n_diffs) == (2, 1, 0)  # no difference touches a flag
    assert m.hr_bpm == pytest.approx(60000.0 / 1100.0)
    m = w.update(Beat(7.0, 1000.0))  # the flagged beat (t = 2) has left
    assert (m.n_beats, m.n_flagged, m.n_diffs, len(w)) == (2, 0, 1, 2)
    assert m.rmssd_ms == 200.0


def test_a_beat_without_a_time_breaks_contiguity_and_reports_the_last_time() -> None:
    assert LiveWindow(60.0).update(Beat(math.nan, 800.0)).t_s == 0.0  # nothing yet
    w = LiveWindow(10.0, min_beats=2, min_diffs=1, min_coverage=0.0)
    w.update(Beat(1.0, 1000.0, True))
    w.update(Beat(2.0, 1100.0))
    w.update(Beat(2.5, 1000.0))
    m = w.update(Beat(math.nan, 900.0))
    assert (m.t_s, m.n_beats, m.n_diffs, len(w)) == (2.5, 3, 2, 3)
    m = w.update(Beat(3.5, 1300.0))  # follows a beat that could not be placed
    assert (m.t_s, m.n_beats, m.n_diffs, m.rmssd_ms) == (3.5, 4, 2, 100.0)


def test_running_sums_are_rebuilt_after_a_huge_value_leaves() -> None:
    """One absurd (but clean-flagged) RR wrecks the float precision of running sums of
    squares while it is in the window; after it has left, the periodic re-summing must
    give back exact values (a running sum alone would keep its rounding error)."""
    rr = synthetic_rr(400, seed=8)
    t = beat_times(rr)
    rr[50] = 3e9  # ms: x² ~ 1e19, far beyond what the sums of normal beats can absorb
    w = LiveWindow(60.0)
    gap = np.zeros(len(rr), bool)
    ok = np.ones(len(rr), bool)
    for i in range(len(rr)):
        m = w.update(Beat(float(t[i]), float(rr[i]), False))
    d = _direct(t, rr, gap, ok, len(rr) - 1, 60.0)
    assert t[-1] - t[50] > 200.0  # left long ago
    assert m.sdnn_ms == pytest.approx(d["sdnn"], abs=1e-9)
    assert m.rmssd_ms == pytest.approx(d["rmssd"], abs=1e-9)
    assert m.hr_bpm == pytest.approx(60000.0 / d["mean"], abs=1e-9)


def test_sums_restart_from_zero_once_every_beat_has_left() -> None:
    """A huge RR next to normal ones leaves rounding residue in the running sums (1e4 is
    below the last bit of 9e18); once the window is empty they must restart at zero, or
    the next beats inherit the residue until the next re-summing."""
    w = LiveWindow(10.0, min_beats=2, min_diffs=1, min_coverage=0.0)
    for t, rr in ((1.0, 1000.0), (2.0, 3e9), (3.0, 1100.0), (4.0, 1000.0)):
        w.update(Beat(t, rr))
    # after a gap, a flagged beat: every clean beat has left, the window holds no sums
    m = w.update(Beat(100.0, 1000.0, True, "range"))
    assert (m.n_beats, m.n_flagged, m.n_diffs, len(w)) == (0, 1, 0, 1)
    rr = [1000.0, 1100.0, 900.0, 1050.0]
    for i, r in enumerate(rr, 1):
        m = w.update(Beat(100.0 + i, r))
    assert m.sdnn_ms == pytest.approx(np.std(rr, ddof=1), abs=1e-9)
    assert m.rmssd_ms == pytest.approx(math.sqrt(np.mean(np.diff(rr) ** 2)), abs=1e-9)
    assert m.hr_bpm == pytest.approx(60000.0 / np.mean(rr), abs=1e-9)
    assert m.clean_s == pytest.approx(4.05, abs=1e-12) and m.n_flagged == 1


def test_sums_are_shifted_so_a_large_common_offset_costs_no_precision() -> None:
    """SDNN from Σx and Σx² cancels catastrophically when the mean is large against the
    spread; shifting by the first beat's RR keeps it exact (numpy's two-pass std here)."""
    offset = 1e7  # ms: absurd for a heart, but the sums must not care
    small = np.array([0, 3, 1, 4, 1, 5, 9, 2, 6, 5] * 6, dtype=float)
    rr = offset + small
    t = np.cumsum(rr) / 1000.0
    m = _last([Beat(float(a), float(b)) for a, b in zip(t, rr, strict=True)], 1e6)
    assert m.n_beats == 60 and m.sdnn_valid
    assert m.sdnn_ms == pytest.approx(np.std(small, ddof=1), abs=1e-9)
    assert m.rmssd_ms == pytest.approx(math.sqrt(np.mean(np.diff(small) ** 2)), abs=1e-9)


def test_spread_below_one_ms_is_not_rounded_away() -> None:
    beats = [Beat(1.0, 1000.0, True), Beat(2.0, 1000.5)]
    m = _last(beats, 10.0, min_beats=2, min_diffs=1, min_coverage=0.0)
    assert m.sdnn_ms == pytest.approx(math.sqrt(0.125), abs=1e-12) and m.rmssd_ms == 0.5
    assert m.ln_rmssd == pytest.approx(math.log(0.5)) and m.valid


@pytest.mark.parametrize(
    ("window_s", "huge_at", "n_updates", "n_window"),
    [
        (60.0, 68, 128, 60),  # at most 60 beats: rebuilt every 64 updates (64, 128)
        (100.0, 64, 164, 100),  # 100 beats: rebuilt at 64 (64 beats), then 100 later
    ],
)
def test_running_sums_are_rebuilt_on_the_documented_cadence(
    window_s, huge_at, n_updates, n_window
) -> None:
    """Every max(len(window), 64) updates the sums are rebuilt. A huge RR leaves rounding
    residue in them until the first rebuild after it has left the window. One beat a
    second: it leaves at update huge_at + window_s = n_updates, exactly when a rebuild is
    due, so a rebuild one update early or late leaves the residue in the last result."""
    rr = synthetic_rr(n_updates, seed=12)
    rr[huge_at - 1] = 3e9
    t = np.arange(1.0, n_updates + 1.0)
    w = LiveWindow(window_s)
    for i in range(n_updates):
        m = w.update(Beat(float(t[i]), float(rr[i]), i == 0))
    assert len(w) == n_window
    ones = np.ones(n_updates, bool)
    d = _direct(t, rr, ~ones, ones, n_updates - 1, window_s)
    assert m.sdnn_ms == pytest.approx(d["sdnn"], abs=1e-9)
    assert m.rmssd_ms == pytest.approx(d["rmssd"], abs=1e-9)
