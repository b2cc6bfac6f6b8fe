"""One body model: its laws, its artifacts, and its two users agreeing.

The strap simulator (`sources.simulator`: beat by beat, encoded HRM packets) and the fast
in-memory sessions (`sim.sessions`: vectorised, no packets) draw their random numbers
differently, so the same seed gives different beats; the same parameters must still give
the same body. Per session we measure baseline mean HR, RMSSD and HF share (an independent
Welch spectrum written here) and the catch-up shift (HR and ln RMSSD late in the hold minus
baseline); over seeds, the two users' means must agree within Z_TOL standard errors of
their difference (computed from the sessions' own spread), and the same check must notice a
body that is really different (it has power: 1 bpm of resting HR, RSA 28 -> 24 ms, the
0.1 Hz wave 14 -> 22 ms, a 1 bpm smaller catch-up, vagal gain 2.2 -> 2.0 each exceed it).
Over 300 seeds the two agree within 0.02 bpm (mean HR) and 0.01 bpm (catch-up shift).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from scipy.signal import welch

from holdbeat.events import Hrm, Marker
from holdbeat.hrs import parse_hrm
from holdbeat.session import Phase, Protocol
from holdbeat.sim.artifacts import (
    array_artifacts,
    ectopic,
    extra,
    inject_artifacts,
    missed,
    stream_artifacts,
)
from holdbeat.sim.body import (
    AR_PHI,
    CLEAR_RESPONSES,
    BeatBody,
    ModeResponse,
    SimConfig,
    approach,
    approach_path,
    ar1,
    ar_innovation_sd,
    model_rr_ms,
    response_shift,
)
from holdbeat.sim.rr import synthetic_rr
from holdbeat.sim.sessions import synth_recording
from holdbeat.sources.simulator import simulate

BASELINE_S, HOLD_S, LATE_S = 180.0, 300.0, 120.0
SEEDS = range(16)
#: two-sided normal tail at 4 standard errors: 6e-5 per statistic, 3e-4 for the five
Z_TOL = 4.0

PROTOCOL = Protocol(
    "sim-equivalence",
    (
        Phase("baseline", "baseline", "neutral", BASELINE_S),
        Phase("soft hold", "hold", "soft", HOLD_S),
    ),
)


def cfg_for(seed: int, **over) -> SimConfig:
    """The body alone: no artifacts, no lapses or ratings (the person draws differently)."""
    base = dict(
        seed=seed,
        responses=dict(CLEAR_RESPONSES),
        artifact_rate=0.0,
        markers=False,
        ratings=False,
    )
    return SimConfig(**{**base, **over})


def strap_beats(cfg: SimConfig) -> tuple[np.ndarray, np.ndarray]:
    """(beat times, RR) decoded from the simulator's packets: what a strap reported."""
    rr = [
        r for ev in simulate(PROTOCOL, cfg) if isinstance(ev, Hrm) for r in parse_hrm(ev.raw).rr_ms
    ]
    rr_ms = np.asarray(rr)
    return np.cumsum(rr_ms) / 1000.0, rr_ms


def memory_beats(cfg: SimConfig) -> tuple[np.ndarray, np.ndarray]:
    rec = synth_recording(PROTOCOL, seed=cfg.seed, cfg=cfg, vary=False)
    return rec.beat_t_s, rec.rr_ms


def hf_share(t_s: np.ndarray, rr_ms: np.ndarray) -> float:
    """HF / (LF + HF) power of the tachogram resampled at 4 Hz (Welch, 64 s segments)."""
    grid = np.arange(t_s[0], t_s[-1], 0.25)
    x = np.interp(grid, t_s, rr_ms)
    f, p = welch(x - x.mean(), fs=4.0, nperseg=256, detrend="linear")
    lf = p[(f >= 0.04) & (f < 0.15)].sum()
    hf = p[(f >= 0.15) & (f < 0.4)].sum()
    return float(hf / (lf + hf))


def stats(t_s: np.ndarray, rr_ms: np.ndarray) -> dict[str, float]:
    base = t_s < BASELINE_S
    late = t_s >= BASELINE_S + HOLD_S - LATE_S

    def rmssd(sel: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.diff(rr_ms[sel]) ** 2)))

    hr_base = 60000.0 / float(rr_ms[base].mean())
    return {
        "mean HR": hr_base,
        "RMSSD": rmssd(base),
        "HF share": hf_share(t_s[base], rr_ms[base]),
        "catch-up HR shift": 60000.0 / float(rr_ms[late].mean()) - hr_base,
        "catch-up ln RMSSD shift": math.log(rmssd(late) / rmssd(base)),
    }


#: one parameter changed on one side, and the statistic that must notice it
VARIANTS = {
    "same": ({}, ""),
    "hr0": ({"hr0_bpm": 69.0}, "mean HR"),
    "rsa": ({"rsa_ms": 24.0}, "RMSSD"),
    "lf": ({"lf_ms": 22.0}, "HF share"),
    "dhr": (
        {"responses": {**CLEAR_RESPONSES, "soft": ModeResponse(-8.0, 2.2, 55.0)}},
        "catch-up HR shift",
    ),
    "gain": (
        {"responses": {**CLEAR_RESPONSES, "soft": ModeResponse(-9.0, 2.0, 55.0)}},
        "catch-up ln RMSSD shift",
    ),
}


@cache
def per_seed(source: str, variant: str = "same") -> dict[str, np.ndarray]:
    beats = strap_beats if source == "strap" else memory_beats
    over = VARIANTS[variant][0]
    rows = [stats(*beats(cfg_for(seed, **over))) for seed in SEEDS]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def z_scores(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """Difference of means in standard errors (Welch's, from each side's spread over seeds)."""
    out = {}
    for k in a:
        se = math.sqrt(a[k].var(ddof=1) / a[k].size + b[k].var(ddof=1) / b[k].size)
        out[k] = float((a[k].mean() - b[k].mean()) / se)
    return out


def test_strap_simulator_and_memory_sessions_have_the_same_statistics() -> None:
    strap, memory = per_seed("strap"), per_seed("memory")
    z = z_scores(strap, memory)
    assert all(abs(v) < Z_TOL for v in z.values()), z
    # and the body is the one configured: HR near 68 at rest, a soft hold lowering it by
    # close to the planted 9 bpm (the drive is > 0.9 by the last two minutes), RMSSD up
    for s in (strap, memory):
        assert s["mean HR"].mean() == pytest.approx(68.0, abs=1.5)
        assert s["catch-up HR shift"].mean() == pytest.approx(-9.0 * 0.97, abs=1.0)
        assert s["catch-up ln RMSSD shift"].mean() > math.log(1.6)
        assert 0.4 < s["HF share"].mean() < 0.95  # RSA at ~0.25 Hz dominates the 0.1 Hz wave


@pytest.mark.parametrize("variant", ["hr0", "rsa", "lf", "dhr", "gain"])
def test_the_comparison_notices_a_different_body(variant: str) -> None:
    """A change in one parameter on one side is caught by the statistic it moves."""
    statistic = VARIANTS[variant][1]
    z = z_scores(per_seed("strap"), per_seed("memory", variant))
    assert abs(z[statistic]) >= Z_TOL, z


def lapses_per_session(source: str, seeds: range) -> np.ndarray:
    """Lapse markers of the simulated person in a 5-min hold (lapse_per_min 1.0)."""
    counts = []
    for seed in seeds:
        cfg = cfg_for(seed, markers=True, lapse_per_min=1.0)
        if source == "strap":
            events = simulate(PROTOCOL, cfg)
            counts.append(sum(isinstance(e, Marker) and e.kind == "lapse" for e in events))
        else:
            rec = synth_recording(PROTOCOL, seed=seed, cfg=cfg, vary=False)
            counts.append(sum(m.kind == "lapse" for m in rec.markers))
    return np.asarray(counts, dtype=float)


def test_the_person_lapses_at_the_same_rate_in_both() -> None:
    """Lapses are a rate in time (not in beats) for both users: per 5-min hold, from 20 s in
    to 30 s before the end, each lapse 8-25 s, at 1 per minute: about 250 / (60 + 16.5)."""
    seeds = range(40)
    strap, memory = lapses_per_session("strap", seeds), lapses_per_session("memory", seeds)
    se = math.sqrt(strap.var(ddof=1) / strap.size + memory.var(ddof=1) / memory.size)
    assert abs(strap.mean() - memory.mean()) < Z_TOL * se, (strap.mean(), memory.mean())
    for counts in (strap, memory):
        assert counts.mean() == pytest.approx(250.0 / (60.0 + 16.5), rel=0.25)


# ---------------------------------------------------------------- the laws


def test_drive_beat_by_beat_equals_the_closed_form() -> None:
    dt = 0.25
    target = np.r_[np.zeros(40), np.ones(400), np.zeros(100), np.ones(60)]
    tau = np.r_[np.full(40, 45.0), np.full(400, 55.0), np.full(100, 45.0), np.full(60, 40.0)]
    d, stepped = 0.0, []
    for g, ta in zip(target, tau, strict=True):
        d = approach(d, g, dt, ta)
        stepped.append(d)
    np.testing.assert_allclose(approach_path(target, tau, dt), stepped, rtol=0, atol=1e-12)
    # a hand value: 55 s into a hold with tau 55 s the drive is 1 - 1/e
    assert stepped[40 + 220 - 1] == pytest.approx(1 - math.exp(-1), abs=1e-12)


def test_response_shift_is_none_at_rest_and_full_when_caught_up() -> None:
    assert response_shift(-9.0, 2.2, 0.0) == (0.0, 1.0)
    assert response_shift(-9.0, 2.2, 1.0) == (-9.0, pytest.approx(2.2))
    assert response_shift(-9.0, 2.2, 0.5) == (-4.5, pytest.approx(1.6))


def test_ar1_is_the_recursion_and_has_the_configured_sd() -> None:
    e = np.random.default_rng(5).normal(0.0, ar_innovation_sd(11.0), 200_000)
    x, acc = [], 0.0
    for v in e[:500]:
        acc = AR_PHI * acc + v
        x.append(acc)
    out = ar1(e)
    assert out[:500].tolist() == x  # the same operations: bit for bit
    assert out.std() == pytest.approx(11.0, rel=0.01)  # stationary SD = noise_ms
    assert np.corrcoef(out[1:], out[:-1])[0, 1] == pytest.approx(AR_PHI, abs=0.01)


def test_one_beat_and_arrays_give_the_same_rr() -> None:
    """The formula for one beat (math.sin, the simulator) equals it over arrays (np.sin)."""
    rng = np.random.default_rng(2)
    mean, gain, ang, t, ar = (rng.uniform(600, 1000, 50), rng.uniform(1, 2, 50),
                              rng.uniform(0, 50, 50), rng.uniform(0, 600, 50),
                              rng.normal(0, 10, 50))  # fmt: skip
    arrays = model_rr_ms(mean, gain, 28.0, ang, 14.0, t, 0.7, ar)
    one = [
        model_rr_ms(float(m), float(g), 28.0, float(a), 14.0, float(tt), 0.7, float(r),
                    sin=math.sin)
        for m, g, a, tt, r in zip(mean, gain, ang, t, ar, strict=True)
    ]  # fmt: skip
    np.testing.assert_allclose(arrays, one, rtol=1e-14)
    # by hand: no waves (angles 0 and t = 0 with phase 0), so mean + gain * noise, clipped
    assert model_rr_ms(800.0, 2.0, 28.0, 0.0, 14.0, 0.0, 0.0, 5.0, sin=math.sin) == 810.0
    assert model_rr_ms(300.0, 1.0, 28.0, 0.0, 14.0, 0.0, 0.0, 0.0, sin=math.sin) == 350.0
    assert model_rr_ms(1900.0, 1.0, 28.0, 0.0, 14.0, 0.0, 0.0, 0.0, sin=math.sin) == 1800.0


def test_beat_body_at_rest_beats_at_the_resting_rate() -> None:
    cfg = SimConfig(seed=3, hr0_bpm=60.0)
    body = BeatBody(cfg, np.random.default_rng(3))
    t, rr = 0.0, []
    for _ in range(3000):
        body.approach(0.0, 45.0)
        rr.append(body.next_rr(t, None))
        t += rr[-1] / 1000.0
    assert body.drive == 0.0
    assert np.mean(rr) == pytest.approx(1000.0, abs=5.0)


def test_synthetic_rr_is_the_body_at_rest() -> None:
    rr = synthetic_rr(20_000, seed=1, hr_bpm=60.0, slow_ms=0.0)
    assert rr.mean() == pytest.approx(1000.0, abs=2.0)
    # variance = RSA^2/2 + LF^2/2 + noise^2 (independent parts), by hand
    assert rr.var() == pytest.approx(35.0**2 / 2 + 20.0**2 / 2 + 12.0**2, rel=0.05)
    assert rr.min() >= 400.0 and rr.max() <= 1600.0
    with pytest.raises(ValueError, match="n_beats must be >= 0"):
        synthetic_rr(-1)


# ---------------------------------------------------------------- artifacts


def test_artifact_geometry_keeps_the_sum() -> None:
    assert missed(800.0, 820.0) == 1620.0
    assert extra(800.0, 0.25) == (200.0, 600.0)
    assert ectopic(800.0, 820.0, 0.75) == (600.0, 1020.0)


def test_every_placement_keeps_elapsed_time() -> None:
    rr = synthetic_rr(3000, seed=4)
    streamed = [
        r
        for _, rs, _ in stream_artifacts(((0.0, x, []) for x in rr), 0.05, np.random.default_rng(1))
        for r in rs
    ]
    arrays, bad = array_artifacts(rr, 0.05, np.random.default_rng(1))
    injected = inject_artifacts(rr, 0.05, seed=1)
    # the stream may hold back the last beat (a missed beat merges with one that never came)
    assert sum(streamed) == pytest.approx(rr.sum(), abs=rr.max())
    assert arrays.sum() == pytest.approx(rr.sum(), rel=1e-12)
    assert injected.rr_ms.sum() == pytest.approx(rr.sum(), rel=1e-12)
    assert 0.03 < bad.mean() < 0.15 and len(streamed) != rr.size
