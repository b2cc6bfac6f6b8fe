"""Catch-up detection: baseline band, latency with dwell, live == offline, time-constant fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from holdbeat.analysis.catchup import (
    CATCHING_UP,
    CAUGHT_UP,
    NOT_YET,
    Band,
    CatchUp,
    LiveCatchUp,
    baseline_band,
    catch_up,
    expected_direction,
    fit_exponential,
)

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
    from holdbeat.analysis.synth import synth_recording
    from holdbeat.analysis.trajectory import rolling_metrics

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
    from holdbeat.analysis.catchup import _vp_sse, _vp_sse_grid

    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 300, 400))
    y = 70 - 8 * -np.expm1(-x / 40) + rng.normal(0, 1.5, x.size)
    taus = np.exp(np.linspace(0, np.log(1500), 48))
    want = [_vp_sse(x, y, float(t))[0] for t in taus]
    np.testing.assert_allclose(_vp_sse_grid(x, y, taus), want, rtol=1e-10)
    flat = np.full_like(x, 3.0)  # a flat trajectory: a = 0 and SSE = 0 at every τ
    np.testing.assert_allclose(_vp_sse_grid(x, flat, taus), 0.0, atol=1e-12)
