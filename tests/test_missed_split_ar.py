"""The "ar" split: a missed beat's parts (and an ectopic pair's two beats) chosen so that the
rhythm's own autoregressive model predicts the beats across the gap best.

Independent expectations: a series that follows an AR recursion exactly (no noise) has zero
prediction error at its true values, so least squares must give back the true parts; the
one-dimensional minimum (k = 2) is also found by scipy's scalar minimiser on the same sum of
squared errors written out term by term.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from holdbeat.detect import KubiosConfig
from holdbeat.missed_split import AR_ROWS_PER_COEF, ArFit, ar_fit, ar_split, split_long_rr


def undamped(n: int, mean: float = 850.0, amp: float = 60.0, period: float = 4.7) -> np.ndarray:
    """A pure sinusoid obeys x_t = 2 cos(w) x_(t-1) - x_(t-2) exactly."""
    return mean + amp * np.sin(2 * np.pi * np.arange(n) / period + 0.3)


SIN_PHI = np.array([2 * np.cos(2 * np.pi / 4.7), -1.0])


def test_fit_recovers_an_exact_recursion():
    rr = undamped(188)  # 40 whole periods: the sample mean is the sinusoid's
    f = ar_fit(rr, np.zeros(188, bool), order=2)
    assert f is not None
    np.testing.assert_allclose(f.phi, SIN_PHI, atol=1e-6)
    assert f.mean_ms == pytest.approx(rr.mean(), rel=1e-12)


def test_flagged_beats_and_the_rows_that_touch_them_are_left_out():
    rr = undamped(200)
    bad = np.zeros(200, bool)
    bad[[50, 120]] = True
    spoiled = rr.copy()
    spoiled[[50, 120]] = [3000.0, 100.0]  # absurd values, flagged
    f = ar_fit(spoiled, bad, order=2)
    same = ar_fit(rr, bad, order=2)  # what the flagged beats hold does not matter
    assert f is not None and same is not None
    np.testing.assert_array_equal(f.phi, same.phi)
    assert f.mean_ms == same.mean_ms == pytest.approx(rr[~bad].mean(), rel=1e-12)
    np.testing.assert_allclose(f.phi, SIN_PHI, atol=3e-3)  # mean of 198 beats, not 40 periods
    # unflagged, the same values spoil the fit
    g = ar_fit(spoiled, np.zeros(200, bool), order=2)
    assert g is not None and np.abs(g.phi - SIN_PHI).max() > 0.05


def test_fit_needs_enough_clean_stretches():
    order = 2
    need = AR_ROWS_PER_COEF * order
    n_ok = need + order  # exactly `need` stretches of order + 1 beats
    rr = undamped(n_ok)
    assert ar_fit(rr, np.zeros(n_ok, bool), order) is not None
    assert ar_fit(rr[:-1], np.zeros(n_ok - 1, bool), order) is None
    # the same length with one beat flagged in the middle loses order + 1 stretches
    bad = np.zeros(n_ok + order + 1, bool)
    bad[n_ok // 2] = True
    assert ar_fit(undamped(n_ok + order + 1), bad, order) is not None
    bad2 = np.zeros(n_ok + order, bool)
    bad2[n_ok // 2] = True
    assert ar_fit(undamped(n_ok + order), bad2, order) is None
    assert ar_fit(rr, np.ones(n_ok, bool), order) is None
    assert ar_fit(rr[:2], np.zeros(2, bool), order) is None


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("at", [20, 33])
def test_split_gives_back_the_true_beats_of_an_exact_rhythm(k, at):
    rr = undamped(80)
    fit = ArFit(SIN_PHI, float(rr.mean()))
    true = rr[at : at + k]
    parts = ar_split(float(true.sum()), k, rr[:at], rr[at + k :], fit)
    assert parts is not None
    np.testing.assert_allclose(parts, true, atol=1e-6)
    assert parts.sum() == pytest.approx(true.sum(), rel=1e-15)
    # equal parts and the cubic both miss them
    assert np.abs(split_long_rr(true.sum(), k, rr[at - 1], rr[at + k]) - true).max() > 5.0


def test_k2_split_is_the_minimum_of_the_prediction_errors():
    """A noisy real-like context: the split must minimise the squared one-step errors of
    every beat that sees a part (written out here term by term)."""
    rng = np.random.default_rng(4)
    phi = np.array([0.9, -0.5, 0.2, -0.1])
    before = 820.0 + rng.normal(0, 40, 6)
    after = 840.0 + rng.normal(0, 40, 6)
    fit = ArFit(phi, 830.0)
    total = 1650.0

    def sse(x: float) -> float:
        s = np.concatenate([before, [x, total - x], after]) - fit.mean_ms
        p = len(phi)
        t0 = len(before)
        return sum(
            (s[t] - sum(phi[j] * s[t - 1 - j] for j in range(p))) ** 2
            for t in range(t0, t0 + 2 + p)
        )

    parts = ar_split(total, 2, before, after, fit)
    best = minimize_scalar(sse, bounds=(400.0, 1250.0), method="bounded",
                           options={"xatol": 1e-9})  # fmt: skip
    assert parts is not None
    assert parts[0] == pytest.approx(best.x, abs=1e-5)
    assert parts[1] == pytest.approx(total - best.x, abs=1e-5)


def test_implausible_parts_are_refused_at_half_the_mean_part():
    """Context that pulls the first part far off: refused beyond 1.5x / 0.5x the mean part,
    kept inside. With phi = (1,) and mean 0 the errors are x - b, (T - x) - x and
    a - (T - x); d/dx of their squares = 0 gives x = (b + 3T - a) / 6."""
    fit = ArFit(np.array([1.0]), 0.0)

    def x_star(b: float, a: float, total: float) -> float:
        return (b + 3 * total - a) / 6.0

    total = 1600.0
    for b, a in ((800.0, 800.0), (1100.0, 500.0), (1500.0, 100.0)):
        want = x_star(b, a, total)
        got = ar_split(total, 2, np.array([b]), np.array([a]), fit)
        if abs(want - total / 2) > 0.5 * total / 2:
            assert got is None
        else:
            assert got is not None and got[0] == pytest.approx(want, rel=1e-12)
    # either side of the edge, x* = 1.5 x 800 = 1200 (a = 0: b = 6 x* - 3T)
    for x, kept in ((1199.9, True), (1200.1, False), (400.1, True), (399.9, False)):
        got = ar_split(total, 2, np.array([6 * x - 3 * total]), np.array([0.0]), fit)
        assert (got is not None) is kept, x
        if kept:
            assert got[0] == pytest.approx(x, rel=1e-12)


def test_split_needs_a_full_context_and_k1_is_the_beat():
    fit = ArFit(SIN_PHI, 850.0)
    rr = undamped(20)
    assert ar_split(1700.0, 2, rr[:1], rr[3:], fit) is None  # one beat before, two needed
    assert ar_split(1700.0, 2, rr[:5], rr[19:], fit) is None  # one beat after
    assert ar_split(900.0, 1, rr[:5], rr[6:], fit).tolist() == [900.0]
    assert ar_split(900.0, 0, rr[:5], rr[6:], fit) is None


def test_the_correction_splits_a_missed_beat_of_an_exact_rhythm_exactly():
    """A long run following a sinusoid (RMSSD ~80 ms): a missed beat is found and, with
    "ar", split into the true two beats; the default cubic does not."""
    from holdbeat.correct import correct_run

    rr = undamped(300, amp=60.0)
    true = rr[150:152].copy()
    inj = np.concatenate([rr[:150], [true.sum()], rr[152:]])
    out = {}
    for how in ("ar", "pchip"):
        c_rr, kind, src, *_ = correct_run(inj, KubiosConfig(missed_split=how))
        assert list(np.flatnonzero(kind != "")) == [150, 151]
        assert kind[150] == "missed" and src[150] == src[151] == 150
        out[how] = c_rr[150:152]
    np.testing.assert_allclose(out["ar"], true, atol=0.5)  # fit from 300 beats, not exact
    assert np.abs(out["pchip"] - true).max() > 5.0


def test_the_correction_falls_back_to_the_cubic_on_a_short_run():
    """Too few clean stretches to fit a model: the parts are the cubic's."""
    from holdbeat.correct import correct_run

    rr = undamped(40, amp=30.0)
    inj = np.concatenate([rr[:20], [rr[20] + rr[21]], rr[22:]])
    a, kind_a, *_ = correct_run(inj, KubiosConfig(missed_split="ar"))
    b, kind_b, *_ = correct_run(inj, KubiosConfig(missed_split="pchip"))
    assert (kind_a == "missed").sum() == 2
    np.testing.assert_array_equal(kind_a, kind_b)
    np.testing.assert_array_equal(a, b)
    # with enough beats the model applies and the parts differ (this run is exact)
    assert np.abs(a[20:22] - rr[20:22]).max() > 1.0


def test_a_constant_run_fits_no_rhythm_and_splits_into_equal_parts():
    """Every lag identical: the normal equations are singular; the minimum-norm model is no
    model (phi = 0), under which the least-error parts are the equal ones."""
    f = ar_fit(np.full(200, 800.0), np.zeros(200, bool))
    assert f is not None
    assert f.phi.tolist() == [0.0] * 8 and f.mean_ms == 800.0
    parts = ar_split(1700.0, 2, np.full(8, 800.0), np.full(8, 800.0), f)
    assert parts is not None
    np.testing.assert_allclose(parts, [850.0, 850.0], rtol=1e-12)


@pytest.mark.parametrize(("at", "model"), [(8, True), (7, False), (291, True), (292, False)])
def test_the_model_needs_p_real_beats_on_each_side_of_the_gap(at, model):
    """A missed beat 8 beats from a run's end has its full context (the model's parts, the
    true beats of this exact rhythm); 7 beats from it, the cubic's parts (nothing is
    extrapolated to fill the context)."""
    from holdbeat.correct import correct_run

    rr = undamped(301, amp=60.0)
    inj = np.concatenate([rr[:at], [rr[at] + rr[at + 1]], rr[at + 2 :]])
    assert len(inj) == 300
    got, kind, *_ = correct_run(inj, KubiosConfig(missed_split="ar"))
    cubic, *_ = correct_run(inj, KubiosConfig(missed_split="pchip"))
    assert kind[at] == kind[at + 1] == "missed"
    if model:
        np.testing.assert_allclose(got[at : at + 2], rr[at : at + 2], atol=0.5)
        assert np.abs(cubic[at : at + 2] - rr[at : at + 2]).max() > 5.0
    else:
        np.testing.assert_array_equal(got, cubic)


# ---------------------------------------------------------------- premature beats by rhythm


def test_pair_deviation_is_the_split_of_every_pair():
    """All beats at once equals `ar_split` beat by beat (its first part), with the context
    taken from `context_ms` and the pair's sum from the recorded beats."""
    from holdbeat.missed_split import pair_deviation

    rng = np.random.default_rng(7)
    rr = undamped(120) + rng.normal(0, 15, 120)
    ctx = rr + rng.normal(0, 30, 120)  # a different context shows it is the one used
    fit = ArFit(np.array([0.5, -0.3, 0.2, 0.1]), 840.0)
    d = pair_deviation(rr, fit, ctx)
    p = 4
    assert np.isnan(d[:p]).all() and np.isnan(d[-p - 1 :]).all()
    for t in range(p, 120 - p - 1):
        total = rr[t] + rr[t + 1]
        x = ar_split(total, 2, ctx[t - p : t], ctx[t + 2 : t + 2 + p], ArFit(fit.phi, 0.0))
        want = rr[t] - x[0] if x is not None else None
        if want is not None:
            assert d[t] == pytest.approx(want, abs=1e-9), t
    # without a context the recorded beats are the context
    d0 = pair_deviation(rr, fit)
    x = ar_split(rr[50] + rr[51], 2, rr[46:50], rr[52:56], fit)
    assert d0[50] == pytest.approx(rr[50] - x[0], abs=1e-9)
    assert np.isnan(pair_deviation(rr[:9], fit)).all()  # shorter than 2p + 2
    just = pair_deviation(rr[:10], fit)  # 2p + 2 beats: one pair has both sides
    assert np.flatnonzero(np.isfinite(just)).tolist() == [4]


def test_robust_z_uses_only_the_clean_pairs():
    from holdbeat.missed_split import PAIR_Z_MIN_PAIRS, robust_z

    # 31 clean deviations centred on +100 ms, then a flagged outlier and a NaN
    d = np.array([*(100.0 + np.arange(-15, 16)), 600.0, np.nan], dtype=float)
    clean = np.ones(len(d), bool)
    clean[31] = False
    z = robust_z(d, clean)
    mad = 1.4826 * 8.0  # |-15..15| has median 8
    assert z is not None
    assert z[31] == pytest.approx(500.0 / mad) and z[0] == pytest.approx(-15.0 / mad)
    assert z[15] == 0.0 and np.isnan(z[32])
    assert PAIR_Z_MIN_PAIRS == 30
    thirty = clean.copy()
    thirty[0] = False  # exactly 30 clean pairs: enough
    assert robust_z(d, thirty) is not None
    thirty[1] = False  # 29: not
    assert robust_z(d, thirty) is None
    assert robust_z(np.full(40, 7.0), np.ones(40, bool)) is None  # no spread


def _rsa_with_a_hidden_premature_beat(shorten: float = 0.18):
    """A breathing rhythm (period 5 beats, +-120 ms) with noise; at a breath peak the beat
    comes 18 % early and the next waits for it (the pair keeps its sum). The premature beat
    lands near the 11-beat median and the pause is not two beats, so neither the paper's
    tests nor the median rules see it."""
    rng = np.random.default_rng(3)
    n = 300
    rr = 850.0 + 120.0 * np.sin(2 * np.pi * np.arange(n) / 5.0) + rng.normal(0, 8, n)
    peak = 150 + int(np.argmax(rr[150:155]))
    true = rr.copy()
    early = rr[peak] * shorten
    rr[peak] -= early
    rr[peak + 1] += early
    return true, rr, peak


def test_a_premature_beat_at_a_breath_peak_is_found_by_the_rhythm():
    from holdbeat.correct import correct_run

    true, rr, a = _rsa_with_a_hidden_premature_beat()
    assert abs(rr[a] / np.median(rr[a - 5 : a + 6]) - 1) < 0.15  # near the median
    off, kind_off, *_ = correct_run(rr, KubiosConfig(ar_pair_z=0.0))
    assert not (kind_off != "").any()  # the paper's tests and the median rules: nothing
    np.testing.assert_array_equal(off, rr)
    got, kind, src, *_ = correct_run(rr, KubiosConfig())
    assert np.flatnonzero(kind != "").tolist() == [a, a + 1]
    assert kind[a] == "ectopic" and src[a] == a and src[a + 1] == a + 1
    assert got[a] + got[a + 1] == pytest.approx(rr[a] + rr[a + 1], rel=1e-12)
    # the two beats come back near the truth (the pause's extra time given back)
    assert np.abs(got[a : a + 2] - true[a : a + 2]).max() < 10.0
    np.testing.assert_array_equal(np.delete(got, [a, a + 1]), np.delete(rr, [a, a + 1]))


def test_the_rhythm_pair_test_needs_each_condition():
    """Each condition of the test, broken on its own, leaves the pair alone."""
    from holdbeat.correct import correct_run

    _, rr, a = _rsa_with_a_hidden_premature_beat()

    def changed(series, **kw):
        _, kind, *_ = correct_run(series, KubiosConfig(**kw))
        return np.flatnonzero(kind != "").tolist()

    assert changed(rr) == [a, a + 1]
    # barely premature: within ar_pair_z of the model's split
    _, mild, _ = _rsa_with_a_hidden_premature_beat(0.03)
    assert changed(mild) == []
    # the threshold: this pair's z lies between -30 and -12 (found at 12, not at 30)
    assert changed(rr, ar_pair_z=30.0) == []
    # 15 % early is not 6 % of the median shorter than the beat before (853 ms)
    _, not_short, _ = _rsa_with_a_hidden_premature_beat(0.15)
    assert not_short[a] > not_short[a - 1] - 0.06 * 850 and changed(not_short) == []
    # the beat before flagged by the detection (a candidate): no clean reference
    from dataclasses import replace

    from holdbeat.correct import _correct_pass
    from holdbeat.detect import detect

    det = detect(rr, KubiosConfig())
    assert not det.any[a - 1]
    _, _, kind, _, ev = _correct_pass(rr, det, KubiosConfig())
    assert ev == [(a, "ectopic")] and kind[a] == kind[a + 1] == "ectopic"
    flagged = det.longshort.copy()
    flagged[a - 1] = True
    _, _, kind, _, ev = _correct_pass(rr, replace(det, longshort=flagged), KubiosConfig())
    assert (a, "ectopic") not in ev and kind[a] == ""
    # the pair's sum is not two beats (the pause cut short)
    cut = rr.copy()
    cut[a + 1] = rr[a]
    assert a not in changed(cut)
    # too short a run to fit the rhythm (fewer than 80 clean stretches of 9 beats)
    assert changed(rr[a - 20 : a + 10]) == []


def test_a_missed_beat_after_a_short_sinus_beat_is_not_read_as_a_premature_pair():
    """Real RR (the low-variability recording) with a missed beat after a short sinus beat:
    806, 810, 815, 734, 1517, 712. The short beat lies far below the model's split of
    734 + 1517, but the two sum to three beats, not two: the missed-beat rule splits the
    long one and the short beat stays."""
    from holdbeat.correct import correct_run
    from holdbeat.sim.artifacts import inject_artifacts
    from real_corpus import load_real

    inj = inject_artifacts(load_real("ecg_healthy_26min").rr_ms, 0.01, seed=0, kinds=("missed",))
    x = inj.rr_ms[1162:1462]
    a = 150
    assert np.round(x[a - 3 : a + 3]).tolist() == [806.0, 810.0, 815.0, 734.0, 1517.0, 712.0]
    got, kind, src, *_ = correct_run(x, KubiosConfig())
    near_a = np.flatnonzero((src >= a - 3) & (src <= a + 3))
    assert [str(k) for k in kind[near_a]] == ["", "", "", "", "missed", "missed", "", ""]
    assert src[near_a].tolist() == [a - 3, a - 2, a - 1, a, a + 1, a + 1, a + 2, a + 3]
    assert got[near_a[3]] == x[a]


# ---------------------------------------------------------------- extra beats by rhythm


def test_fill_gives_back_the_beat_of_an_exact_rhythm():
    from holdbeat.missed_split import ar_fill

    rr = undamped(60)
    fit = ArFit(SIN_PHI, 850.0)  # the sinusoid's centre (a single beat is not sum-bound)
    for at in (10, 33, 50):
        assert ar_fill(rr[:at], rr[at + 1 :], fit) == pytest.approx(rr[at], abs=1e-6)
    assert ar_fill(rr[:1], rr[11:], fit) is None  # one beat before, two needed
    assert ar_fill(rr[:10], rr[59:], fit) is None  # one beat after


def test_fill_is_the_minimum_of_the_prediction_errors():
    from holdbeat.missed_split import ar_fill

    rng = np.random.default_rng(9)
    phi = np.array([0.6, -0.4, 0.25])
    before = 700.0 + rng.normal(0, 50, 5)
    after = 760.0 + rng.normal(0, 50, 5)
    fit = ArFit(phi, 725.0)

    def sse(x: float) -> float:
        s = np.concatenate([before, [x], after]) - fit.mean_ms
        t0 = len(before)
        return sum(
            (s[t] - sum(phi[j] * s[t - 1 - j] for j in range(3))) ** 2 for t in range(t0, t0 + 4)
        )

    best = minimize_scalar(sse, bounds=(300.0, 1500.0), method="bounded",
                           options={"xatol": 1e-9})  # fmt: skip
    assert ar_fill(before, after, fit) == pytest.approx(best.x, abs=1e-5)


@pytest.mark.parametrize(
    ("start_s", "rate", "seed", "at", "around", "reads_off"),
    [
        # 773, 852, then 977 split into 564 + 413, then 938: the long 852 reads as a late
        # peak and the parts as a premature pair; merged forward from the first part
        (1500.0, 0.01, 5, 96, [852.0, 564.0, 413.0, 938.0], (95, "longshort")),
        # 906, 953, then 961 split into 668 + 293, then 805: merged backward from the
        # second part (the first is near enough the median not to be judged)
        (2700.0, 0.02, 5, 364, [953.0, 668.0, 293.0, 805.0], (364, "ectopic")),
    ],
)
def test_an_extra_beat_at_a_rate_swing_is_merged_by_the_beat_the_rhythm_expects(
    start_s, rate, seed, at, around, reads_off
):
    """Real RR (5-min cuts of the 60-min NSR recording) with injected extra beats at a rate
    swing: the 11-beat median still holds the other rate, so the two parts are not one beat
    by the median and are read as other artifacts. The beat the rhythm model expects there
    is: the parts are merged and the series comes back exactly."""
    from holdbeat.correct import correct
    from holdbeat.sim.artifacts import inject_artifacts
    from real_corpus import load_real

    rr = load_real("nsr_60min").rr_ms
    t = np.cumsum(rr) / 1000.0
    cut = rr[(t >= start_s) & (t < start_s + 300.0)]
    inj = inject_artifacts(cut, rate, seed=seed, kinds=("extra",))
    x = inj.rr_ms
    first = at if inj.kind[at] == "extra" and inj.kind[at - 1] == "" else at - 1
    assert np.round(x[first - 1 : first + 3]).tolist() == around
    assert [str(k) for k in inj.kind[first - 1 : first + 3]] == ["", "extra", "extra", ""]
    tx = np.cumsum(x) / 1000.0
    c = correct(tx, x)
    assert (at, "extra") in zip(c.event_index.tolist(), c.event_kind.tolist(), strict=True)
    np.testing.assert_allclose(c.rr_ms[c.keep], cut, rtol=0, atol=1e-9)
    off = correct(tx, x, cfg=KubiosConfig(extra_by_rhythm=False))
    assert reads_off in zip(off.event_index.tolist(), off.event_kind.tolist(), strict=True)
    assert (at, "extra") not in zip(off.event_index.tolist(), off.event_kind.tolist(), strict=True)
