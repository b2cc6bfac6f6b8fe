"""Beat timing from cumulative RR anchored to host time: late RR, bursts, gaps, no RR."""

from __future__ import annotations

import numpy as np
import pytest

from holdbeat.beats import BeatTimer
from holdbeat.hrs import HeartRateMeasurement


def m(*rr: float, hr: int = 70) -> HeartRateMeasurement:
    return HeartRateMeasurement(hr, tuple(rr))


def test_first_packet_anchors_last_beat_at_arrival() -> None:
    beats = BeatTimer().push(10.0, m(800, 900))
    assert [b.t_s for b in beats] == pytest.approx([9.1, 10.0])
    assert beats[0].gap_before and not beats[1].gap_before


def test_times_follow_cumulative_rr_not_arrival() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(800))
    # packet arrives late (0.4 s after its beat): the beat is timed by RR, not arrival
    beats = timer.push(2.2, m(800))
    assert beats[0].t_s == pytest.approx(1.8)
    assert not beats[0].gap_before


def test_burst_of_several_rr_in_one_packet() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(1000))
    beats = timer.push(4.05, m(1000, 1000, 1000))  # three beats delivered together
    assert [b.t_s for b in beats] == pytest.approx([2.0, 3.0, 4.0])
    assert not any(b.gap_before for b in beats)


def test_packets_without_rr_give_no_beats_and_keep_timeline() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(1000))
    assert timer.push(1.5, m()) == []
    beats = timer.push(2.1, m(1000))
    assert beats[0].t_s == pytest.approx(2.0) and not beats[0].gap_before


def test_gap_reanchors_and_marks_gap_before() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(800))
    beats = timer.push(30.0, m(800, 800))  # 29 s of beats never arrived
    assert beats[0].gap_before
    assert beats[-1].t_s == pytest.approx(30.0)
    assert beats[0].t_s == pytest.approx(29.2)


def test_running_sum_ahead_of_host_clock_is_pulled_back() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(1000))
    beats = timer.push(1.5, m(1000))  # a beat cannot happen after its packet arrived
    assert beats[0].t_s == pytest.approx(1.5)
    assert not beats[0].gap_before


def test_reset_starts_a_new_segment() -> None:
    timer = BeatTimer()
    timer.push(1.0, m(800))
    timer.reset()
    assert timer.push(1.9, m(800))[0].gap_before


def test_slow_strap_clock_drift_is_absorbed_without_false_gaps() -> None:
    """A strap clock 0.2 % slow: cumulative RR falls behind host time by 7 s an hour."""
    rng = np.random.default_rng(1)
    timer = BeatTimer()
    true_t = 0.0
    host_next = 1.0
    pending: list[float] = []
    gaps = 0
    errs = []
    for _ in range(4000):
        rr = float(rng.normal(850, 30))
        true_t += rr / 1000
        pending.append(rr * 0.998)  # strap measures intervals 0.2 % short
        if true_t >= host_next:
            out = timer.push(host_next + 0.03, m(*pending))
            gaps += sum(b.gap_before for b in out[1:] if b)
            gaps += out[0].gap_before and len(errs) > 0
            errs.append(abs(out[-1].t_s - true_t))
            pending = []
            host_next += 1.0
    assert gaps == 0
    assert max(errs) < 1.5  # beats stay within a beat of true time over ~1 h
