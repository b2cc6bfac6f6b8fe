"""What the body did after a lapse: hand-made beats whose RMSSD is known exactly.

RR alternating 1000 + a, 1000 − a ms has every successive difference 2a, so the RMSSD of
any window inside one such block is exactly 2a and its ln RMSSD is ln(2a). Beats are 1 s
apart at x.5 s, so 30 beats are exactly 30 s of RR: one window.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from holdbeat.analysis.lapses import (
    Z95,
    baseline_noise,
    lapse_onsets,
    lapse_responses,
)
from holdbeat.analysis.prep import prepare
from holdbeat.events import Device, End, Header, Marker
from holdbeat.recording import PhaseSpan, Recording

BASE_BLOCKS = [10.0, 12.0, 15.0, 10.0, 20.0, 12.0]  # a per 30 s of the baseline (0-180 s)


def amplitude(t: float) -> float:
    if t < 180:
        return BASE_BLOCKS[int(t // 30)]
    if t < 300:
        return 30.0  # the hold, before the lapse at 300
    return 18.0  # after it


def make(
    markers: list[Marker], base_s: float = 180.0, hold_end_s: float = 480.0, flagged=()
) -> Recording:
    t = np.arange(0.5, hold_end_s + 60, 1.0)
    sign = np.where(np.arange(t.size) % 2 == 0, 1.0, -1.0)
    rr = 1000.0 + sign * np.array([amplitude(x) for x in t])
    phases = [
        PhaseSpan(0, "baseline", "baseline", "neutral", 0.0, base_s, base_s),
        PhaseSpan(1, "hold", "hold", "soft", base_s, hold_end_s, hold_end_s - base_s),
        PhaseSpan(2, "recovery", "recovery", "neutral", hold_end_s, hold_end_s + 60, 60.0),
    ]
    e = np.zeros(0)
    return Recording(
        path=Path("hand.jsonl"),
        header=Header("hand", "2026-01-01T00:00:00Z", Device()),
        events=[],
        beat_t_s=t,
        rr_ms=rr,
        gap_before=np.r_[True, np.zeros(t.size - 1, bool)],
        flag=np.where(np.isin(t, flagged), "jump", "").astype("<U5"),
        hr_t_s=e,
        hr_bpm=e,
        phases=phases,
        markers=markers,
        ratings=[],
        connections=[],
        end=End(hold_end_s + 60, "completed"),
        malformed=[],
    )


def rmssd_ln(rr: np.ndarray) -> float:
    """Independent: ln of the root mean square of successive differences."""
    return math.log(math.sqrt(np.mean(np.diff(rr) ** 2)))


def test_noise_is_the_sd_of_the_baseline_windows() -> None:
    rec = make([])
    prep = prepare(rec, correction=False)
    n = baseline_noise(prep, rec.phases[0])
    want = np.std([math.log(2 * a) for a in BASE_BLOCKS], ddof=1)
    assert n.n_windows == 6 and n.reason == ""
    assert n.sd_ln == pytest.approx(want, rel=1e-12)
    assert n.ci_half == pytest.approx(Z95 * math.sqrt(2) * want, rel=1e-12)


def test_a_lapse_by_hand() -> None:
    rec = make([Marker(300.0, "lapse"), Marker(310.0, "rehold")])
    prep = prepare(rec, correction=False)
    (lr,) = lapse_responses(prep, [rec.phases[1]], rec.phases[0])
    assert lr.t_s == 300.0 and lr.hold_index == 1 and lr.mode == "soft"
    assert lr.pre_ln == pytest.approx(math.log(60.0), rel=1e-12)
    assert lr.post_ln == pytest.approx(math.log(36.0), rel=1e-12)
    assert lr.change_ln == pytest.approx(math.log(36.0 / 60.0), rel=1e-12)
    base = rec.rr_ms[rec.beat_t_s < 180]
    assert lr.baseline_ln == pytest.approx(rmssd_ln(base), rel=1e-12)
    assert lr.baseline_ln < lr.post_ln < lr.pre_ln
    assert lr.toward_baseline is True  # it fell back toward the baseline
    assert lr.change_hr == pytest.approx(0.0, abs=1e-9)  # same mean RR
    want_ci = Z95 * math.sqrt(2) * np.std([math.log(2 * a) for a in BASE_BLOCKS], ddof=1)
    assert lr.ci_half_ln == pytest.approx(want_ci, rel=1e-12)
    assert lr.beyond_noise == (abs(math.log(0.6)) > want_ci)
    assert lr.reason == ""


@pytest.mark.parametrize(
    "t,ok,reason",
    [
        # beats at x.5 s, 1 s apart: 30 s of beats before t must start inside the hold (180)
        (209.6, True, ""),  # beats 180.5 … 209.5
        (209.5, False, "less than 30 s of the hold before the lapse"),  # would need 179.5
        # 30 s of beats from t + 30 must end before the hold does (480)
        (420.5, True, ""),  # beats 450.5 … 479.5
        (420.6, False, "the hold ended 59 s after the lapse"),  # 451.5 … 480.5
    ],
)
def test_window_boundaries(t: float, ok: bool, reason: str) -> None:
    rec = make([Marker(t, "lapse")])
    (lr,) = lapse_responses(prepare(rec, correction=False), [rec.phases[1]], rec.phases[0])
    assert math.isfinite(lr.change_ln) == ok
    assert lr.reason == reason
    if not ok:
        assert lr.toward_baseline is None and math.isnan(lr.pre_ln)


def test_a_short_baseline_has_no_noise_estimate() -> None:
    rec = make([Marker(300.0, "lapse")], base_s=60.0)
    prep = prepare(rec, correction=False)
    n = baseline_noise(prep, rec.phases[0])
    assert n.n_windows == 2 and math.isnan(n.sd_ln)
    assert "need 3" in n.reason and "too short" in n.reason
    (lr,) = lapse_responses(prep, [rec.phases[1]], rec.phases[0], n)
    assert math.isfinite(lr.change_ln) and math.isnan(lr.ci_half_ln)
    assert not lr.beyond_noise


def test_only_the_start_of_a_lapsed_span_counts() -> None:
    m = [Marker(250, "lapse"), Marker(255, "lapse"), Marker(270, "rehold"), Marker(300, "lapse")]
    assert lapse_onsets(m, 180, 480) == [250, 300]
    assert lapse_onsets(m, 260, 480) == [300]
    assert lapse_onsets(m, 0, 250) == []  # [start, end): the lapse at 250 is outside


def test_no_baseline_means_no_direction_but_a_change() -> None:
    rec = make([Marker(300.0, "lapse")])
    (lr,) = lapse_responses(prepare(rec, correction=False), [rec.phases[1]], None)
    assert lr.change_ln == pytest.approx(math.log(0.6), rel=1e-12)
    assert lr.toward_baseline is None and math.isnan(lr.baseline_ln)
    assert math.isnan(lr.ci_half_ln)


@pytest.mark.parametrize("t,ok", [(210.5, False), (210.6, True)])  # was 209.5 / 209.6
def test_an_unusable_beat_widens_its_window(t: float, ok: bool) -> None:
    """With the beat at 195.5 left out, 30 s of usable RR before t needs one beat more."""
    rec = make([Marker(t, "lapse")], flagged=(195.5,))
    (lr,) = lapse_responses(prepare(rec, correction=False), [rec.phases[1]], rec.phases[0])
    assert math.isfinite(lr.change_ln) == ok
    if ok:
        assert lr.pre_ln == pytest.approx(math.log(60.0), rel=1e-12)
