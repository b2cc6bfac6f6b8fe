"""Catch-up detection: baseline band, latency with dwell, live == offline, time-constant fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from holdbeat.analysis.baseline_band import Band, baseline_band
from holdbeat.analysis.catchup import (
    CATCHING_UP,
    CAUGHT_UP,
    NOT_YET,
    CatchUp,
    LiveCatchUp,
    catch_up,
    expected_direction,
)
from holdbeat.analysis.time_constant import fit_exponential

BAND = Band(mean=0.0, sd=1.0, k=2.0, n=100)  # band [-2, 2]


def same(a: CatchUp, b: CatchUp) -> bool:
    """Field-wise equality where NaN equals NaN (exact otherwise)."""
    for f in CatchUp.__dataclass_fields__:
        x, y = getattr(a, f), getattr(b, f)
        if isinstance(x, float) and math.isnan(x):
            if not (isinstance(y, float) and math.isnan(y)):
                return False
        elif x != y:
            return False
    return True


def live_run(t: np.ndarray, v: np.ndarray, band: Band, onset: float, direction: str, dwell: float):
    live = LiveCatchUp(band, onset, direction, dwell)  # type: ignore[arg-type]
    states = [live.update(float(a), float(b)) for a, b in zip(t, v, strict=True)]
    return live.result(), states


# ---------------------------------------------------------------- band


def test_band_is_mean_plus_minus_k_sd_ignoring_nan() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 0.3, 200)
    xs = np.concatenate([[np.nan] * 7, x, [np.nan]])
    b = baseline_band(xs, k=2.0, metric="ln_rmssd")
    assert b.valid and b.n == 200 and b.metric == "ln_rmssd"
    assert b.mean == pytest.approx(x.mean(), rel=1e-12)
    assert b.sd == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert b.lo == pytest.approx(x.mean() - 2 * x.std(ddof=1))
    assert b.hi == pytest.approx(x.mean() + 2 * x.std(ddof=1))
    b3 = baseline_band(xs, k=3.0)
    assert b3.hi - b3.lo == pytest.approx(1.5 * (b.hi - b.lo))


def test_band_refuses_too_few_or_constant_samples() -> None:
    few = baseline_band([1.0, 2.0, np.nan], min_samples=30)
    assert not few.valid and "only 2 valid" in few.reason
    flat = baseline_band(np.full(100, 4.2))
    assert not flat.valid and "constant" in flat.reason
    with pytest.raises(ValueError):
        baseline_band(np.arange(50.0), k=0)


def test_expected_directions_follow_design_and_can_be_overridden() -> None:
    assert expected_direction("ln_rmssd", "soft") == "up"
    assert expected_direction("ln_rmssd", "loving-kindness") == "up"
    assert expected_direction("hr", "soft") == "down"
    assert expected_direction("hr", "loving-kindness") == "down"
    assert expected_direction("hr", "fierce") == "both"
    assert expected_direction("ln_rmssd", "fierce") == "both"
    assert expected_direction("ln_rmssd", "neutral") == "both"
    assert expected_direction("hr", "fierce", {"hr": {"fierce": "up"}}) == "up"
    with pytest.raises(ValueError):
        expected_direction("hr", "fierce", {"hr": {"fierce": "sideways"}})


# ---------------------------------------------------------------- latency


def step(onset: float = 100.0, jump_at: float = 30.0, level: float = 5.0, n: int = 200):
    t = np.arange(n, dtype=float)  # one sample per second
    v = np.where(t >= onset + jump_at, level, 0.0)
    return t, v


def test_latency_is_time_from_onset_to_leaving_the_band_for_good() -> None:
    t, v = step()
    c = catch_up(t, v, BAND, onset_s=100.0, direction="up", dwell_s=20.0)
    assert c.reached and c.direction == "up"
    assert c.latency_s == 30.0
    assert c.t_left_s == 130.0 and c.t_confirmed_s == 150.0
    assert not c.out_at_onset
    assert c.label == "30 s (up)"


def test_short_excursions_do_not_count_dwell_must_be_completed() -> None:
    t = np.arange(300, dtype=float)
    v = np.zeros_like(t)
    v[110:125] = 3.0  # 14 s out: shorter than the dwell
    v[150:200] = 3.0  # 49 s out: counts
    c = catch_up(t, v, BAND, 100.0, "up", 20.0)
    assert c.latency_s == 50.0 and c.t_confirmed_s == 170.0
    # the hold ended before the second run completed its dwell: not reached
    c2 = catch_up(t, v, BAND, 100.0, "up", 20.0, end_s=165.0)
    assert not c2.reached and math.isnan(c2.latency_s) and "20 s" in c2.reason
    # a zero dwell takes the first out-of-band sample
    assert catch_up(t, v, BAND, 100.0, "up", 0.0).latency_s == 10.0


def test_direction_rules_one_sided_ignores_the_wrong_side_two_sided_reports_it() -> None:
    t = np.arange(300, dtype=float)
    v = np.zeros_like(t)
    v[120:180] = -3.0  # down first
    v[200:260] = 3.0  # then up
    up = catch_up(t, v, BAND, 100.0, "up", 20.0)
    assert up.latency_s == 100.0 and up.direction == "up"
    down = catch_up(t, v, BAND, 100.0, "down", 20.0)
    assert down.latency_s == 20.0 and down.direction == "down"
    both = catch_up(t, v, BAND, 100.0, "both", 20.0)
    assert both.latency_s == 20.0 and both.direction == "down" and both.expected == "both"


def test_switching_sides_restarts_the_run() -> None:
    t = np.arange(200, dtype=float)
    v = np.zeros_like(t)
    v[100:115] = 3.0
    v[115:130] = -3.0  # out the whole time, but never 20 s on one side
    v[130:] = 0.0
    c = catch_up(t, v, BAND, 100.0, "both", 20.0)
    assert not c.reached


def test_gaps_and_invalid_samples_break_a_run() -> None:
    t = np.arange(300, dtype=float)
    v = np.zeros_like(t)
    v[110:200] = 3.0
    v[125] = np.nan  # the metric was invalid for a beat: staying out not shown
    c = catch_up(t, v, BAND, 100.0, "up", 20.0)
    assert c.t_left_s == 126.0 and c.latency_s == 26.0
    # a 10 s hole in the samples (connection lost) also restarts the run
    keep = (t < 115) | (t >= 125)
    c = catch_up(t[keep], np.where(np.isnan(v), 3.0, v)[keep], BAND, 100.0, "up", 20.0)
    assert c.t_left_s == 125.0


def test_carry_over_at_onset_is_not_a_catch_up() -> None:
    t = np.arange(200, dtype=float)
    v = np.full_like(t, 3.0)  # out of BAND from before the onset, all hold long
    c = catch_up(t, v, BAND, 100.0, "up", 20.0)
    assert not c.reached and c.out_at_onset and c.carried_over
    assert math.isnan(c.latency_s) and math.isnan(c.t_left_s) and c.direction == ""
    assert c.label == "out of band at onset" and "carried over" in c.reason
    live = LiveCatchUp(BAND, 100.0, "up", 20.0)
    states = {live.update(float(x), float(y)).state for x, y in zip(t, v, strict=True)}
    assert states == {"not yet", "out of band at onset"}  # "not yet" only before onset
    assert live.result() == c


def test_back_in_band_then_out_again_is_a_real_catch_up() -> None:
    t = np.arange(300, dtype=float)
    v = np.where(t < 130, 3.0, np.where(t < 160, 0.0, 3.0))  # carry-over, back, out again
    c = catch_up(t, v, BAND, 100.0, "up", 20.0)
    assert c.reached and c.out_at_onset and not c.carried_over
    assert c.latency_s == 60.0 and c.t_left_s == 160.0 and c.t_confirmed_s == 180.0
    live = LiveCatchUp(BAND, 100.0, "up", 20.0)
    for x, y in zip(t, v, strict=True):
        live.update(float(x), float(y))
    assert live.result() == c


def test_unusable_inputs_give_reasons_not_numbers() -> None:
    t, v = step()
    bad = Band(math.nan, math.nan, 2.0, 3, reason="only 3 valid baseline samples (need 30)")
    c = catch_up(t, v, bad, 100.0, "up")
    assert not c.reached and "no baseline band" in c.reason
    c = catch_up(t, np.full_like(v, np.nan), BAND, 100.0, "up")
    assert not c.reached and "never valid" in c.reason
    c = catch_up(t, v, BAND, 1000.0, "up")
    assert not c.reached and "no samples" in c.reason
    with pytest.raises(ValueError):
        catch_up(t, v, BAND, 100.0, "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        catch_up(t, v[:-1], BAND, 100.0, "up")


# ---------------------------------------------------------------- live == offline


def test_live_state_sequence_not_yet_catching_up_caught_up_latched() -> None:
    t, v = step()
    v[170:] = 0.0  # comes back into the band after catching up
    res, states = live_run(t, v, BAND, 100.0, "up", 20.0)
    by_t = {int(a): s for a, s in zip(t, states, strict=True)}
    assert by_t[50].state == NOT_YET  # before onset
    assert by_t[129].state == NOT_YET
    assert by_t[130].state == CATCHING_UP and by_t[130].direction == "up"
    assert by_t[149].state == CATCHING_UP and by_t[149].out_for_s == 19.0
    assert by_t[150].state == CAUGHT_UP and by_t[150].latency_s == 30.0
    assert by_t[199].state == CAUGHT_UP  # latched although back in band
    assert res.reached and res.latency_s == 30.0


def random_series(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Beat-like times with jitter and occasional holes; a wandering metric with NaNs."""
    dt = rng.uniform(0.5, 1.3, n)
    holes = rng.random(n) < 0.01
    dt[holes] += rng.uniform(3, 12, holes.sum())
    t = np.cumsum(dt)
    v = np.cumsum(rng.normal(0, 0.25, n)) * rng.uniform(0.3, 1.5)
    v[rng.random(n) < 0.02] = np.nan
    return t, v


@pytest.mark.parametrize("direction", ["up", "down", "both"])
def test_live_agrees_exactly_with_offline_on_random_series(direction: str) -> None:
    rng = np.random.default_rng(7)
    reached = 0
    for _ in range(150):
        t, v = random_series(rng, int(rng.integers(50, 600)))
        band = Band(float(rng.normal(0, 0.5)), float(rng.uniform(0.2, 1.0)), 2.0, 100)
        onset = float(t[int(rng.integers(0, 30))])
        dwell = float(rng.choice([0.0, 5.0, 20.0, 45.0]))
        off = catch_up(t, v, band, onset, direction, dwell)  # type: ignore[arg-type]
        live, states = live_run(t, v, band, onset, direction, dwell)
        assert same(off, live), (off, live)
        reached += off.reached
        if off.reached:  # the live view said "caught up" at exactly the confirming beat
            first = next(i for i, s in enumerate(states) if s.state == CAUGHT_UP)
            assert t[first] == off.t_confirmed_s
    assert 20 < reached < 150  # the random cases exercise both outcomes


def test_live_agrees_with_offline_on_a_simulated_session() -> None:
    from holdbeat.analysis.trajectory import rolling_metrics
    from holdbeat.sim.sessions import synth_recording

    rec = synth_recording("alternating", seed=4)
    roll = rolling_metrics(rec.beat_t_s, rec.rr_ms, rec.gap_before, rec.artifact, window_s=60.0)
    base = rec.phases[0]
    for metric in ("ln_rmssd", "hr"):
        values = getattr(roll, metric)
        inb = (roll.t_s >= base.start_s) & (roll.t_s < base.end_s)
        band = baseline_band(values[inb], metric=metric)
        assert band.valid
        for ph in (p for p in rec.phases if p.kind == "hold"):
            d = expected_direction(metric, ph.mode)
            inh = (roll.t_s >= ph.start_s) & (roll.t_s < ph.end_s)
            off = catch_up(roll.t_s, values, band, ph.start_s, d, 20.0, end_s=ph.end_s)
            live, _ = live_run(roll.t_s[inh], values[inh], band, ph.start_s, d, 20.0)
            assert same(off, live)


# ---------------------------------------------------------------- time constant


def test_fit_recovers_a_planted_time_constant() -> None:
    rng = np.random.default_rng(3)
    t = 200.0 + np.cumsum(rng.uniform(0.8, 1.0, 300))
    x = t - 200.0
    y = 3.5 + 0.6 * (1 - np.exp(-x / 40.0)) + rng.normal(0, 0.05, t.size)
    f = fit_exponential(t, y, onset_s=200.0)
    assert f.ok and f.quality == "good"
    assert f.tau_s == pytest.approx(40.0, rel=0.15)
    assert f.amplitude == pytest.approx(0.6, rel=0.1)
    assert f.r2 > 0.8 and f.tau_se_s > 0 and f.n == 300


def test_fit_says_why_when_there_is_no_time_constant() -> None:
    t = np.arange(300, dtype=float)
    ramp = fit_exponential(t, 0.01 * t, onset_s=0.0)  # linear drift: no plateau
    assert math.isnan(ramp.tau_s) and "no plateau" in ramp.reason and ramp.r2 > 0.9
    flat = fit_exponential(t, np.full_like(t, 2.0), onset_s=0.0)
    assert math.isnan(flat.tau_s) and "constant" in flat.reason and flat.quality == "none"
    few = fit_exponential(t[:10], t[:10], onset_s=0.0)
    assert math.isnan(few.tau_s) and "only 10 valid samples" in few.reason
    short = fit_exponential(t[:25] * 0.5, t[:25], onset_s=0.0)
    assert math.isnan(short.tau_s) and "need 30 s" in short.reason
    noise = fit_exponential(t, np.random.default_rng(0).normal(0, 1, t.size), onset_s=0.0)
    assert not noise.ok or noise.quality == "poor"


def test_grid_sse_equals_the_per_tau_sse() -> None:
    """The τ grid is evaluated as one matrix; it must be `_vp_sse` at every grid point."""
    from holdbeat.analysis.time_constant import _vp_sse, _vp_sse_grid

    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 300, 400))
    y = 70 - 8 * -np.expm1(-x / 40) + rng.normal(0, 1.5, x.size)
    taus = np.exp(np.linspace(0, np.log(1500), 48))
    want = [_vp_sse(x, y, float(t))[0] for t in taus]
    np.testing.assert_allclose(_vp_sse_grid(x, y, taus), want, rtol=1e-10)
    flat = np.full_like(x, 3.0)  # a flat trajectory: a = 0 and SSE = 0 at every τ
    np.testing.assert_allclose(_vp_sse_grid(x, flat, taus), 0.0, atol=1e-12)


# ---------------------------------------------------------------- boundaries, every field


def test_band_floor_per_metric_is_the_sd_of_a_flat_baseline() -> None:
    # a flat baseline has SD 0: the band's SD is exactly the metric's floor (no t_s: no widening)
    for metric, floor in {"hr": 2.0, "ln_rmssd": 0.2, "rmssd": 5.0, "sdnn": 5.0}.items():
        b = baseline_band(np.full(40, 7.0), k=2.0, metric=metric)
        assert b.valid and b.sd == floor and b.mean == 7.0 and b.n == 40 and b.metric == metric
        assert b.lo == 7.0 - 2.0 * floor and b.hi == 7.0 + 2.0 * floor
    # a spread wider than the floor keeps its own SD: values 0, 10 -> SD sqrt(50)
    wide = baseline_band([0.0, 10.0], k=1.0, metric="hr")
    assert wide.sd == pytest.approx(math.sqrt(50.0), rel=1e-12)
    unknown = baseline_band(np.full(40, 7.0), metric="nonsense")
    assert not unknown.valid and unknown.reason == "baseline is constant (SD 0): no band"


def test_band_lo_hi_hand_computed() -> None:
    b = Band(mean=10.0, sd=2.0, k=1.5, n=3)
    assert b.lo == 7.0 and b.hi == 13.0 and b.valid


def test_band_with_times_uses_independent_windows_and_widens() -> None:
    t = np.arange(0.0, 121.0, 10.0)  # 0, 10, ..., 120
    v = np.arange(t.size, dtype=float)  # 0 .. 12
    # windows end at 120, 60, 0 -> values 12, 6, 0: mean 6, SD 6, widened by sqrt(1 + 1/3)
    b = baseline_band(v, k=2.0, metric="x", t_s=t, window_s=60.0)
    assert b.valid and b.n == 3 and b.mean == 6.0
    assert b.sd == pytest.approx(6.0 * math.sqrt(4.0 / 3.0), rel=1e-12)


def test_window_estimates_pick_the_sample_at_each_window_end() -> None:
    from holdbeat.analysis.baseline_band import window_estimates

    t = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    v = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    # ends 60, 40, 20, 0 fall exactly on samples: those samples, not the ones before
    np.testing.assert_array_equal(window_estimates(t, v, 20.0), [6.0, 4.0, 2.0, 0.0])
    # ends 60, 35, 10 -> samples at 60, 30, 10
    np.testing.assert_array_equal(window_estimates(t, v, 25.0), [6.0, 3.0, 1.0])
    assert window_estimates([1.0], [np.nan], 20.0).size == 0


def test_band_rejects_non_positive_k_and_window() -> None:
    for k in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="k must be positive"):
            baseline_band(np.arange(50.0), k=k)
    with pytest.raises(ValueError, match="window_s must be positive"):
        baseline_band(np.arange(50.0), window_s=0.0)
    assert baseline_band(np.arange(50.0), k=1e-9).valid


def test_expected_direction_full_table() -> None:
    for metric in ("ln_rmssd", "rmssd", "sdnn", "hf"):
        assert expected_direction(metric, "soft") == "up"
        assert expected_direction(metric, "loving-kindness") == "up"
        assert expected_direction(metric, "fierce") == "both"
        assert expected_direction(metric, "neutral") == "both"
    assert expected_direction("hr", "soft") == "down"
    assert expected_direction("hr", "loving-kindness") == "down"
    assert expected_direction("hr", "fierce") == "both"
    assert expected_direction("unknown", "soft") == "both"
    with pytest.raises(ValueError, match="direction must be one of"):
        expected_direction("hr", "soft", {"hr": {"soft": "sideways"}})


def test_catchup_defaults_label_and_carried_over() -> None:
    nan = math.nan
    plain = CatchUp(False, nan, "", "up", nan, nan, 75.0)
    assert plain.out_at_onset is False and plain.reason == ""
    assert not plain.carried_over and plain.label == "not reached"
    hit = CatchUp(True, 12.4, "down", "both", 112.4, 190.0, 75.0, False)
    assert not hit.carried_over and hit.label == "12 s (down)"
    hit_out = CatchUp(True, 12.0, "up", "both", 112.0, 190.0, 75.0, True)
    assert not hit_out.carried_over and hit_out.label == "12 s (up)"
    carried = CatchUp(False, nan, "", "up", nan, nan, 75.0, True)
    assert carried.carried_over and carried.label == "out of band at onset"


def test_check_rejects_bad_dwell_and_gap_at_the_boundary() -> None:
    t, v = step()
    for fn in (
        lambda **kw: catch_up(t, v, BAND, 100.0, **kw),
        lambda **kw: LiveCatchUp(BAND, 100.0, **kw),
    ):
        with pytest.raises(ValueError, match="dwell_s must be >= 0"):
            fn(direction="up", dwell_s=-0.001)
        with pytest.raises(ValueError, match="max_gap_s must be positive"):
            fn(direction="up", dwell_s=1.0, max_gap_s=0.0)
        with pytest.raises(ValueError, match="max_gap_s must be positive"):
            fn(direction="up", dwell_s=1.0, max_gap_s=-1.0)
        with pytest.raises(ValueError, match="direction must be one of"):
            fn(direction="sideways", dwell_s=1.0)
        fn(direction="up", dwell_s=0.0, max_gap_s=0.001)  # the boundaries themselves are fine


def test_catch_up_down_all_fields_and_exact_reasons() -> None:
    t = np.arange(100.0, 200.0)  # onset 100, samples at late times (gaps are differences)
    v = np.where(t >= 140.0, -3.0, 0.0)
    c = catch_up(t, v, BAND, 100.0, "down", 10.0)
    assert c == CatchUp(True, 40.0, "down", "down", 140.0, 150.0, 10.0, False, "")
    up = catch_up(t, v, BAND, 100.0, "up", 10.0)
    assert up.reason == "never stayed above the band for 10 s" and not up.out_at_onset
    assert up.direction == "" and up.expected == "up" and math.isnan(up.t_confirmed_s)
    v2 = np.where(t >= 140.0, 3.0, 0.0)
    down = catch_up(t, v2, BAND, 100.0, "down", 10.0)
    assert down.reason == "never stayed below the band for 10 s"
    both = catch_up(t, np.zeros_like(t), BAND, 100.0, "both", 10.0)
    assert both.reason == "never stayed outside the band for 10 s"
    nan_hold = catch_up(t, np.full_like(t, np.nan), BAND, 100.0, "up", 10.0)
    assert nan_hold.reason == "the metric is never valid during the hold"
    empty = catch_up(t, v, BAND, 500.0, "up", 10.0)
    assert empty.reason == "no samples in the hold" and empty.dwell_s == 10.0


def test_catch_up_end_s_excludes_its_own_sample() -> None:
    t = np.arange(100.0, 200.0)
    v = np.where(t >= 140.0, 3.0, 0.0)
    # the run starts at 140; dwell 10 completes at 150: end_s 150 excludes that sample
    assert not catch_up(t, v, BAND, 100.0, "up", 10.0, end_s=150.0).reached
    c = catch_up(t, v, BAND, 100.0, "up", 10.0, end_s=150.5)
    assert c.reached and c.t_confirmed_s == 150.0
    # onset is inclusive: a run starting at the onset sample is carry-over
    carry = catch_up(t, v, BAND, 140.0, "up", 10.0)
    assert carry.out_at_onset and not carry.reached and carry.reason.startswith("out of band")


def test_catch_up_gap_boundary_exactly_max_gap_continues() -> None:
    t = np.array([100.0, 110.0, 115.0, 120.0, 125.1, 130.1, 135.1])
    v = np.array([0.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    # gaps of exactly 5 s keep the run; 5.1 s breaks it (run restarts at 125.1)
    c = catch_up(t, v, BAND, 100.0, "up", 10.0, max_gap_s=5.0)
    assert c.reached and c.t_left_s == 110.0 and c.t_confirmed_s == 120.0
    c2 = catch_up(t, v, BAND, 100.0, "up", 10.0, max_gap_s=4.9)
    assert not c2.reached
    c3 = catch_up(t, v, BAND, 100.0, "up", 10.0, max_gap_s=5.1)
    assert c3.reached and c3.t_confirmed_s == 120.0
    for mg, want in ((5.0, True), (4.9, False)):
        live = LiveCatchUp(BAND, 100.0, "up", 10.0, max_gap_s=mg)
        for a, b in zip(t, v, strict=True):
            live.update(float(a), float(b))
        assert live.result().reached is want


def test_band_edges_are_in_band_for_both_sides() -> None:
    t = np.arange(100.0, 130.0)
    for val, direction, want in (
        (2.0, "up", False), (2.0001, "up", True), (-2.0, "down", False),
        (-2.0001, "down", True), (2.0001, "both", True), (-2.0001, "both", True),
        (-3.0, "up", False), (3.0, "down", False),
    ):  # fmt: skip
        v = np.where(t >= 110.0, val, 0.0)
        c = catch_up(t, v, BAND, 100.0, direction, 5.0)  # type: ignore[arg-type]
        live, _ = live_run(t, v, BAND, 100.0, direction, 5.0)
        assert c.reached is want and same(c, live), (val, direction)
        if want:
            assert c.direction == ("up" if val > 0 else "down") and c.latency_s == 10.0


def test_live_in_band_and_before_onset_states_all_fields() -> None:
    live = LiveCatchUp(BAND, 100.0, "both", 10.0, max_gap_s=20.0)
    for t_s in (50.0, 100.0, 101.0):
        s = live.update(t_s, 0.0)
        assert s.state == NOT_YET and math.isnan(s.latency_s) and s.direction == ""
        assert s.out_for_s == 0.0 and not s.caught_up
    s = live.update(102.0, -3.0)
    assert s.state == CATCHING_UP and s.direction == "down" and s.out_for_s == 0.0
    s = live.update(112.0, -3.0)
    assert s.state == CAUGHT_UP and s.caught_up and s.latency_s == 2.0 and s.direction == "down"
    s = live.update(130.0, 0.0)  # latched
    assert s.state == CAUGHT_UP and s.out_for_s == 28.0 and s.direction == "down"
    r = live.result()
    assert r == CatchUp(True, 2.0, "down", "both", 102.0, 112.0, 10.0, False, "")
    tt = np.array([50.0, 100.0, 101.0, 102.0, 112.0, 130.0])
    vv = np.array([0.0, 0.0, 0.0, -3.0, -3.0, 0.0])
    assert catch_up(tt, vv, BAND, 100.0, "both", 10.0, max_gap_s=20.0) == r
    # not reached: the result names why, with every field
    live2 = LiveCatchUp(BAND, 100.0, "up", 10.0)
    live2.update(100.0, 0.0)
    r2 = live2.result()
    assert not r2.reached and r2.reason == "never stayed above the band for 10 s"
    assert math.isnan(r2.latency_s) and r2.direction == "" and r2.expected == "up"
    assert not r2.out_at_onset and r2.dwell_s == 10.0
    assert LiveCatchUp(BAND, 100.0, "up", 10.0).result().reason == "no samples in the hold"
    live3 = LiveCatchUp(BAND, 100.0, "up", 10.0)
    live3.update(100.0, math.nan)
    assert live3.result().reason == "the metric is never valid during the hold"
    bad = Band(math.nan, math.nan, 2.0, 0, reason="why")
    live4 = LiveCatchUp(bad, 100.0, "up", 10.0)
    assert live4.update(120.0, 5.0).state == NOT_YET
    assert live4.result().reason == "no baseline band: why"
    assert catch_up([120.0], [5.0], bad, 100.0, "up", 10.0).reason == "no baseline band: why"


# ---------------------------------------------------------------- fit boundaries


def planted(n: int, span: float, tau: float = 8.0, noise: float = 0.02):
    x = np.linspace(0.0, span, n)
    rng = np.random.default_rng(11)
    y = 1.0 + 2.0 * (1 - np.exp(-x / tau)) + rng.normal(0, noise, n)
    return x, y


def test_fit_min_points_and_span_boundaries() -> None:
    x, y = planted(20, 30.0)  # exactly the defaults: fitted
    f = fit_exponential(x, y, 0.0)
    assert f.ok and f.n == 20
    f19 = fit_exponential(x[:19], y[:19], 0.0, min_span_s=1.0)
    assert not f19.ok and f19.reason == "only 19 valid samples (need 20)" and f19.n == 19
    assert math.isnan(f19.r2) and math.isnan(f19.y0) and math.isnan(f19.amplitude)
    xs, ys = planted(20, 29.9)
    short = fit_exponential(xs, ys, 0.0)
    assert short.reason == "only 30 s of valid samples (need 30 s)" and short.n == 20


def test_fit_uses_only_samples_after_onset_and_before_end() -> None:
    x, y = planted(40, 60.0)
    t = np.concatenate([[-20.0, -10.0], x + 0.0])
    v = np.concatenate([[1e6, -1e6], y])
    f = fit_exponential(t, v, 0.0)
    assert f.ok and f.n == 40
    # end_s exactly on a sample excludes it
    fe = fit_exponential(t, v, 0.0, end_s=float(x[30]))
    assert fe.n == 30
    # a NaN time is dropped
    t2 = t.copy()
    t2[5] = np.nan
    assert fit_exponential(t2, v, 0.0).n == 39


def test_fit_downsamples_only_above_max_samples() -> None:
    from holdbeat.analysis.time_constant import MAX_FIT_SAMPLES

    assert MAX_FIT_SAMPLES == 600
    x, y = planted(600, 300.0, tau=40.0)
    assert fit_exponential(x, y, 0.0).n == 600
    x, y = planted(601, 300.0, tau=40.0)
    assert fit_exponential(x, y, 0.0).n == 301  # every 2nd of 601


def test_fit_constant_trajectory_all_fields() -> None:
    x = np.arange(40.0)
    f = fit_exponential(x, np.full(40, 2.5), 0.0)
    assert f.reason == "the trajectory is constant: nothing to fit" and f.n == 40
    assert f.y0 == 2.5 and f.amplitude == 0.0
    assert math.isnan(f.tau_s) and math.isnan(f.tau_se_s) and math.isnan(f.r2)


def test_fit_r2_and_se_match_an_independent_computation() -> None:
    from scipy.optimize import curve_fit

    x, y = planted(30, 60.0, tau=12.0, noise=0.3)
    f = fit_exponential(x, y, 0.0)
    assert f.ok
    model = f.y0 + f.amplitude * (1 - np.exp(-x / f.tau_s))
    r2 = 1 - np.sum((y - model) ** 2) / np.sum((y - y.mean()) ** 2)
    assert f.r2 == pytest.approx(r2, rel=1e-9)
    assert 0.0 < f.r2 < 0.99  # noisy: SSE not negligible

    def m(xx, y0, a, tau):
        return y0 + a * (1 - np.exp(-xx / tau))

    p, cov = curve_fit(m, x, y, p0=(f.y0, f.amplitude, f.tau_s))
    assert f.tau_s == pytest.approx(p[2], rel=1e-3)
    assert f.tau_se_s == pytest.approx(math.sqrt(cov[2, 2]), rel=1e-2)


def test_fit_step_at_onset_and_plateau_bounds() -> None:
    x = np.arange(0.0, 60.0)
    stepy = np.where(x > 0, 5.0, 0.0) + 0.001 * np.sin(x)  # everything after x=0 is up
    f = fit_exponential(x, stepy, 0.0)
    assert not f.ok and f.reason.startswith("a step at onset") and math.isnan(f.tau_s)
    ramp = fit_exponential(x, 0.01 * x, 0.0)
    assert ramp.reason == "no plateau within the hold (τ would exceed 295 s)"
    assert ramp.r2 == pytest.approx(1.0, abs=1e-3) and ramp.n == 60


def test_band_needs_nine_tenths_of_a_window_of_beats() -> None:
    for start in (0.0, 1000.0):  # the span is last - first time, wherever it starts
        ok = baseline_band(np.arange(55.0), metric="hr", t_s=start + np.linspace(0, 54.0, 55))
        assert ok.valid  # 54 s = 0.9 x 60 s: enough
        t = start + np.linspace(0, 53.9, 55)
        short = baseline_band(np.arange(55.0), metric="hr", t_s=t)
        assert not short.valid and short.n == 55 and math.isnan(short.mean)
        assert short.reason.startswith("baseline has 54 s of beats, shorter than one 60 s")


def test_fit_tau_bound_uses_time_since_onset_and_downsampling_keeps_order() -> None:
    x = np.arange(0.0, 60.0)
    late = fit_exponential(x, 0.01 * x, onset_s=-100.0)  # samples 100-159 s after onset
    assert late.reason == "no plateau within the hold (τ would exceed 795 s)"
    x, y = planted(601, 300.0, tau=40.0)
    f = fit_exponential(x, y, 0.0)
    assert f.ok and f.n == 301 and f.tau_s == pytest.approx(40.0, rel=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_fit_tau_is_the_least_squares_optimum_scipy_finds(seed: int) -> None:
    """An independent optimiser (scipy's curve_fit, 3 parameters) on the same data reaches
    the same τ and no lower SSE: the grid refinement finds the optimum, not a nearby point."""
    from scipy.optimize import curve_fit

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 240.0, 200))
    tau_true = float(rng.uniform(15.0, 80.0))
    y = 0.5 + 1.2 * (1 - np.exp(-x / tau_true)) + rng.normal(0, 0.15, x.size)
    f = fit_exponential(x, y, 0.0)
    assert f.ok

    def model(t, y0, a, tau):
        return y0 + a * (1 - np.exp(-t / tau))

    p, _ = curve_fit(model, x, y, p0=(0.0, 1.0, 50.0), maxfev=20000)
    assert f.tau_s == pytest.approx(p[2], rel=1e-4)
    assert f.y0 == pytest.approx(p[0], rel=1e-4, abs=1e-6)
    assert f.amplitude == pytest.approx(p[1], rel=1e-4)
    sse_ours = float(np.sum((y - model(x, f.y0, f.amplitude, f.tau_s)) ** 2))
    sse_scipy = float(np.sum((y - model(x, *p)) ** 2))
    assert sse_ours <= sse_scipy * (1 + 1e-9)


def test_fit_refuses_times_and_values_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"t_s and values differ in length \(3 vs 2\)"):
        fit_exponential([0.0, 1.0, 2.0], [1.0, 2.0], 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_tau_standard_error_is_the_one_curve_fit_reports(seed: int) -> None:
    """τ's standard error from the fit covariance equals scipy's curve_fit's (relative
    sigma: (JᵀJ)⁻¹ · SSE / (n − 3)), here where that SE is well below 1 s."""
    from scipy.optimize import curve_fit

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 240.0, 300))
    y = 0.5 + 1.2 * (1 - np.exp(-x / 30.0)) + rng.normal(0, 0.02, x.size)
    f = fit_exponential(x, y, 0.0)
    assert f.ok

    def model(t, y0, a, tau):
        return y0 + a * (1 - np.exp(-t / tau))

    _, cov = curve_fit(model, x, y, p0=(0.0, 1.0, 50.0), maxfev=20000)
    want = math.sqrt(cov[2, 2])
    assert 0 < want < 1.0  # the case where a wrong sign test would give NaN
    assert f.tau_se_s == pytest.approx(want, rel=1e-3)


def test_band_reason_tells_no_valid_sample_from_too_few() -> None:
    none = baseline_band([math.nan, math.nan], window_s=60.0, min_samples=2)
    assert not none.valid and none.n == 0
    assert none.reason == (
        "no valid baseline samples (the 60 s window never filled: the baseline needs at "
        "least 60 s of clean beats)"
    )
    one = baseline_band([math.nan, 3.0], window_s=60.0, min_samples=2)
    assert not one.valid and one.n == 1
    assert one.reason == "only 1 valid baseline samples (need 2)"


@pytest.mark.parametrize(
    ("r2", "word"),
    [
        (1.0, "good"),
        (0.6, "good"),
        (0.5999, "fair"),
        (0.3, "fair"),
        (0.2999, "poor"),
        (-2.0, "poor"),
        (math.nan, "none"),
    ],
)
def test_fit_quality_words_at_their_boundaries(r2: float, word: str) -> None:
    from holdbeat.analysis.time_constant import ExpFit

    assert ExpFit(10.0, 1.0, 1.0, 0.0, r2, 50).quality == word


def test_fit_a_fast_tau_just_above_the_lower_bound_is_kept() -> None:
    """τ = 1.3 s with the lower bound at 1 s: above bound + 1 %, so a time constant, not
    'a step at onset'; τ = 1.005 s is within 1 % of the bound: a step."""
    x = np.arange(0.0, 60.0, 0.1)
    fast = fit_exponential(x, 2.0 - 1.5 * np.exp(-x / 1.3), 0.0, tau_min_s=1.0)
    assert fast.ok and fast.tau_s == pytest.approx(1.3, rel=1e-4)
    step = fit_exponential(x, 2.0 - 1.5 * np.exp(-x / 1.005), 0.0, tau_min_s=1.0)
    assert not step.ok
    assert step.reason == "a step at onset, not a gradual approach (τ at its lower bound)"
