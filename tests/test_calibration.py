"""Calibration of the comparison on simulated sessions (beat level, in memory, seeded).

With no true effect a 95 % interval must cover zero about 95 % of the time; with a planted
mode effect the comparison must find it; artifact-heavy sessions must be excluded, and
the output must say so. Tolerances are binomial: with 200 replications a true 95 %
coverage falls in [0.90, 0.99] with probability > 0.999.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from holdbeat.analysis.catchup import DEFAULT_DWELL_S, catch_up, expected_direction
from holdbeat.analysis.compare import CompareConfig, Comparison, SessionSummary, compare, summarize
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import ReportConfig, bands_of
from holdbeat.session import Phase, Protocol
from holdbeat.sim.body import DEFAULT_RESPONSES, ModeResponse, no_effect_responses
from holdbeat.sim.sessions import synth_recording

REPS = 200
PER_MODE = 5  # sessions per mode and replication: what one person might have after weeks
COVERAGE = (0.90, 0.99)
#: 499 resamples: plenty for a 95 % interval, and permutations are drawn (vectorised) rather
#: than enumerated (scipy enumerates all label splits when there are fewer than n_resamples)
RESAMPLES = 499
CFG = CompareConfig(n_resamples=RESAMPLES, trajectories=False)

SAME = {m: ModeResponse(-3.0, 1.3, 50.0) for m in ("fierce", "soft", "loving-kindness")}
EFFECTS = {"none": no_effect_responses(), "same": SAME, "planted": dict(DEFAULT_RESPONSES)}


def one_hold(mode: str, baseline_s: float = 120.0, hold_s: float = 180.0) -> Protocol:
    return Protocol(
        f"cal-{mode}",
        (
            Phase("baseline", "baseline", "neutral", baseline_s),
            Phase("hold", "hold", mode, hold_s),
        ),
    )


def two_holds(first: str, second: str) -> Protocol:
    return Protocol(
        f"cal-{first}-{second}",
        (
            Phase("baseline", "baseline", "neutral", 120.0),
            Phase("hold a", "hold", first, 150.0),
            Phase("rest", "rest", "neutral", 90.0),
            Phase("hold b", "hold", second, 150.0),
        ),
    )


def summaries(protocol: Protocol, seed: int, effect: str) -> SessionSummary:
    rec = synth_recording(protocol, seed=seed, responses=EFFECTS[effect], flags="truth")
    return summarize(prepare(rec, correction=False), CFG)


@cache
def unpaired(effect: str, r: int) -> tuple[SessionSummary, ...]:
    """One replication: PER_MODE single-hold sessions of fierce and of soft."""
    return tuple(
        summaries(one_hold(("fierce", "soft")[i % 2]), 10_000 * r + i, effect)
        for i in range(2 * PER_MODE)
    )


def run(effect: str, metric: str, r: int, sessions: tuple[SessionSummary, ...]) -> Comparison:
    return compare(
        sessions, CompareConfig(metric=metric, n_resamples=RESAMPLES, trajectories=False, seed=r)
    )


def covers(lo: float, hi: float, value: float = 0.0) -> bool:
    return bool(lo <= value <= hi)


@pytest.mark.parametrize("metric", ["dlnrmssd", "dhr"])
def test_no_effect_intervals_cover_zero_at_the_nominal_rate(metric: str) -> None:
    mode_cov, diff_cov, p_small = [], [], []
    for r in range(REPS):
        c = run("none", metric, r, unpaired("none", r))
        for m in c.modes[:2]:
            if m.estimate.ok:  # a session can lose its hold to quality: then n < 4, no CI
                mode_cov.append(covers(m.estimate.ci_lo, m.estimate.ci_hi))
        fs = c.pairwise[0]
        if fs.ok:
            diff_cov.append(covers(fs.ci_lo, fs.ci_hi))
            p_small.append(fs.p < 0.05)
    assert len(mode_cov) >= 0.9 * 2 * REPS and len(diff_cov) >= 0.9 * REPS
    print(
        f"\n{metric}: per-mode CI covers 0: {np.mean(mode_cov):.3f} (n = {len(mode_cov)}); "
        f"difference CI covers 0: {np.mean(diff_cov):.3f}; p < 0.05: {np.mean(p_small):.3f}"
    )
    assert COVERAGE[0] <= np.mean(mode_cov) <= COVERAGE[1]
    assert COVERAGE[0] <= np.mean(diff_cov) <= COVERAGE[1]
    assert np.mean(p_small) <= 0.10


def test_equal_effects_in_both_modes_difference_covers_zero() -> None:
    """Both modes do something (the same thing): the per-mode CIs exclude 0, the difference
    CI covers 0 about 95 % of the time."""
    diff_cov, mode_excl = [], []
    for r in range(REPS):
        c = run("same", "dlnrmssd", r, unpaired("same", r))
        fs = c.pairwise[0]
        if fs.ok:
            diff_cov.append(covers(fs.ci_lo, fs.ci_hi))
            mode_excl.append(c.modes[0].estimate.excludes_zero)
    assert len(diff_cov) >= 0.9 * REPS
    print(f"\nsame: diff covers 0 {np.mean(diff_cov):.3f}, mode ≠ 0 {np.mean(mode_excl):.3f}")
    assert COVERAGE[0] <= np.mean(diff_cov) <= COVERAGE[1]
    assert np.mean(mode_excl) >= 0.75  # the common effect itself is seen (power ~0.88)


def test_planted_mode_effect_is_detected() -> None:
    """Simulator defaults: soft raises ln RMSSD more than fierce; soft lowers HR, fierce
    raises it."""
    found_ln, found_hr, right_sign = [], [], []
    for r in range(60):
        s = unpaired("planted", r)
        ln = run("planted", "dlnrmssd", r, s).pairwise[0]
        hr = run("planted", "dhr", r, s).pairwise[0]
        found_ln.append(ln.excludes_zero)
        found_hr.append(hr.excludes_zero)
        right_sign.append(ln.diff < 0 and hr.diff > 0)
    print(
        f"\npower with {PER_MODE} sessions per mode: Δ ln RMSSD {np.mean(found_ln):.2f}, "
        f"Δ HR {np.mean(found_hr):.2f}"
    )
    assert np.mean(found_ln) >= 0.75  # 60 replications: true power ~0.9
    assert np.mean(found_hr) >= 0.85
    assert np.mean(right_sign) >= 0.95


def test_paired_within_session_contrast_is_calibrated_and_powerful() -> None:
    cov, found = [], []
    for r in range(REPS):
        for effect, out in (("same", cov), ("planted", found)):
            if effect == "planted" and r >= 60:
                continue
            sess = tuple(
                summaries(
                    two_holds(*(("fierce", "soft") if i % 2 else ("soft", "fierce"))),
                    20_000 * r + i,
                    effect,
                )
                for i in range(6)
            )
            c = compare(sess, CompareConfig(n_resamples=RESAMPLES, trajectories=False, seed=r))
            p = c.paired[0]
            if not p.ok:  # sessions lost to quality: too few pairs
                continue
            out.append(covers(p.ci_lo, p.ci_hi) if effect == "same" else p.excludes_zero)
    print(f"\npaired (6 sessions): covers 0 {np.mean(cov):.3f}; planted found {np.mean(found):.2f}")
    assert len(cov) >= 0.9 * REPS
    assert COVERAGE[0] <= np.mean(cov) <= COVERAGE[1]
    assert np.mean(found) >= 0.75


def test_artifact_heavy_sessions_are_excluded_and_said() -> None:
    """Real offline correction (or the live flags where it is missing) decides quality."""
    sess = []
    noisy_ids = set()
    for i in range(8):
        rate = 0.12 if i % 4 == 0 else 0.0
        rec = synth_recording(one_hold(("fierce", "soft")[i % 2]), seed=i, artifact_rate=rate)
        if rate:
            noisy_ids.add(rec.header.session_id)
        sess.append(summarize(prepare(rec), CFG))
    c = compare(sess, CFG)
    excluded = {e.file for e in c.excluded}
    assert {f"synth-cal-{m}-{i}" for i, m in ((0, "fierce"), (4, "fierce"))} == excluded
    assert all("low quality" in e.reason and "corrected" in e.reason for e in c.excluded)
    assert not noisy_ids & {u.session for u in c.units}
    assert any("excluded for quality" in n for n in c.notes)
    kept = compare(
        [
            summarize(
                prepare(synth_recording(one_hold("soft"), seed=0, artifact_rate=0.12)),
                CompareConfig(include_low_quality=True, trajectories=False),
            )
        ],
        CFG,
    )
    assert kept.units and not kept.excluded


def false_catch_ups(baseline_s: float, n: int = 150) -> dict[str, list[bool]]:
    hits: dict[str, list[bool]] = {"up": [], "both": [], "refused": []}
    for seed in range(n):
        mode = ("soft", "fierce")[seed % 2]
        rec = synth_recording(
            one_hold(mode, baseline_s), seed=seed, responses=no_effect_responses(), flags="truth"
        )
        prep = prepare(rec, correction=False)
        band = bands_of(prep, ReportConfig(metrics=("ln_rmssd",)), 0)["ln_rmssd"]
        ph = rec.phases[1]
        d = expected_direction("ln_rmssd", mode)
        roll = prep.rolling
        cu = catch_up(roll.t_s, roll.ln_rmssd, band, ph.start_s, d, DEFAULT_DWELL_S, ph.end_s)
        hits[d].append(cu.reached)
        hits["refused"].append(not band.valid)
    return hits


def test_false_catch_up_rate_without_any_effect_is_small_with_default_dwell() -> None:
    hits = false_catch_ups(180.0)
    up, both = np.mean(hits["up"]), np.mean(hits["both"])
    print(
        f"\nfalse catch-up, dwell {DEFAULT_DWELL_S:g} s: one-sided {up:.3f}, two-sided {both:.3f}"
    )
    assert not any(hits["refused"])
    assert up <= 0.10
    assert both <= 0.15


def test_a_one_minute_baseline_gets_a_band_from_the_floor_and_rarely_fires() -> None:
    """A 60-s baseline holds one window estimate: its width comes from the real-heart floor
    (holdbeat.analysis.baseline_band.BAND_FLOOR), so the quick protocol has a band; without an
    effect it still rarely declares a catch-up. Under one window: refused, with the reason."""
    hits = false_catch_ups(62.0, n=20)
    assert not any(hits["refused"])
    assert np.mean(hits["up"]) <= 0.10 and np.mean(hits["both"]) <= 0.15
    hits = false_catch_ups(45.0, n=5)
    assert all(hits["refused"])
    assert not any(hits["up"] + hits["both"])
