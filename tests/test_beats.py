"""Beat timing from cumulative RR anchored to host time: late RR, bursts, gaps, no RR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.beat_reference import reference_times

from holdbeat.beats import Beat, BeatTimer
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


# ------------------------------------------------ thresholds, hand-computed beat times
# Times below are dyadic (exact in binary), so "exactly at a threshold" is exact.


def test_push_returns_one_clean_beat_per_rr_with_every_field() -> None:
    timer = BeatTimer()
    assert timer.push(5.0, m()) == []  # no RR: no beat, and the timeline is not anchored
    first = timer.push(10.0, m(500, 1250, 750))
    assert first == [
        Beat(t_s=8.0, rr_ms=500, gap_before=True, flag=""),
        Beat(t_s=9.25, rr_ms=1250, gap_before=False, flag=""),
        Beat(t_s=10.0, rr_ms=750, gap_before=False, flag=""),
    ]
    assert all(b.ok for b in first)
    assert not Beat(1.0, 800.0, flag="jump").ok


@pytest.mark.parametrize(
    ("arrival_s", "t_s", "gap"),
    [
        (14.75 - 2**-20, 12.5, False),  # just under longest RR (1.25 s) + slack (1 s) late
        (14.75, 12.5, False),  # exactly at the threshold: still contiguous
        (14.75 + 2**-20, 14.75 + 2**-20, True),  # just over: beats were lost, re-anchor
    ],
)
def test_gap_threshold_is_the_longest_rr_plus_slack(arrival_s, t_s, gap) -> None:
    timer = BeatTimer()
    timer.push(10.0, m(1000))
    # 2.5 s of RR: the timeline says the last beat is at 12.5 s, the packet came later
    beats = timer.push(arrival_s, m(500, 1250, 750))
    assert beats[-1].t_s == t_s
    assert [b.gap_before for b in beats] == [gap, False, False]
    assert [b.t_s for b in beats] == [t_s - 1.25 - 0.75, t_s - 0.75, t_s]


@pytest.mark.parametrize(("late_s", "gap"), [(0.5 + 1.0, False), (0.5 + 1.0 + 2**-20, True)])
def test_gap_threshold_uses_the_slack_given(late_s, gap) -> None:
    timer = BeatTimer(slack_s=0.5)
    timer.push(10.0, m(1000))
    assert timer.push(11.0 + late_s, m(1000))[0].gap_before is gap


@pytest.mark.parametrize(
    ("arrival_s", "t_s"),
    [
        (10.75, 11.0),  # the running sum is exactly the tolerance ahead: kept
        (10.75 - 2**-20, 10.75 - 2**-20),  # more than that ahead: pulled back to arrival
    ],
)
def test_ahead_tolerance_boundary(arrival_s, t_s) -> None:
    timer = BeatTimer(ahead_tol_s=0.25)
    timer.push(10.0, m(1000))
    beats = timer.push(arrival_s, m(1000))
    assert beats[0].t_s == t_s and not beats[0].gap_before


@pytest.mark.parametrize(("ahead_s", "pulled"), [(0.0195, False), (0.0205, True)])
def test_default_ahead_tolerance_is_20_ms(ahead_s, pulled) -> None:
    timer = BeatTimer()
    timer.push(10.0, m(1000))
    t = timer.push(11.0 - ahead_s, m(1000))[0].t_s
    assert t == pytest.approx(11.0 - ahead_s if pulled else 11.0, abs=1e-12)


def _late_run(timer: BeatTimer, lags: list[float], start_s: float = 100.0) -> list[float]:
    """Anchor at start_s, then one 1000 ms beat per packet arriving lags[k] after the
    timeline's last beat + 1 s; returns each packet's beat time."""
    timer.push(start_s, m(1000))
    out, last = [], start_s
    for lag in lags:
        (b,) = timer.push(last + 1.0 + lag, m(1000))
        out.append(b.t_s)
        last = b.t_s
    return out


def test_slow_strap_clock_corrected_after_exactly_30_late_packets() -> None:
    lags = [0.625] * 9 + [0.75] + [0.625] * 20 + [0.625, 0.625]
    t = _late_run(BeatTimer(), lags)
    assert t[:29] == [101.0 + k for k in range(29)]  # 29 late packets: nothing yet
    # the 30th: moved up to 0.1 s before arrival by the *smallest* recent lag (0.625)
    assert t[29] == pytest.approx(130.0 + 0.625 - 0.1, abs=1e-12)
    # then the count starts again: the next packets continue the corrected timeline
    assert t[30:] == pytest.approx([t[29] + 1.0, t[29] + 2.0], abs=1e-12)


def test_drift_correction_counts_packets_with_the_window_given() -> None:
    t = _late_run(BeatTimer(drift_window=4), [0.625] * 9)
    assert t[:3] == [101.0, 102.0, 103.0]
    assert t[3] == pytest.approx(104.525, abs=1e-12)
    assert t[4:7] == pytest.approx([105.525, 106.525, 107.525], abs=1e-12)  # count restarted
    assert t[7] == pytest.approx(108.525 + 0.525, abs=1e-12)  # 4 more: corrected again


@pytest.mark.parametrize(
    "lags",
    [
        [0.625] * 29 + [0.5],  # the newest packet is exactly 0.5 s late: not "well after"
        [0.625] * 10 + [0.5] + [0.625] * 19,  # one recent packet exactly 0.5 s late
        [0.5] * 30,
    ],
)
def test_drift_needs_every_recent_packet_more_than_half_a_second_late(lags) -> None:
    t = _late_run(BeatTimer(), lags)
    assert t == [
        101.0 + k for k in range(len(lags))
    ]  # never corrected: beats stay on the RR timeline


def test_pull_back_gap_and_reset_each_restart_the_drift_count() -> None:
    def after(event) -> float:
        timer = BeatTimer()
        t = _late_run(timer, [0.625] * 29)
        last = t[-1]
        last = event(timer, last)
        (b,) = timer.push(last + 1.625, m(1000))  # one more late packet
        return b.t_s - last

    def ahead(timer: BeatTimer, last: float) -> float:
        return timer.push(last + 0.5, m(1000))[0].t_s  # pulled back to its arrival

    def gap(timer: BeatTimer, last: float) -> float:
        return timer.push(last + 10.0, m(1000))[0].t_s

    def reset(timer: BeatTimer, last: float) -> float:
        timer.reset()
        return timer.push(last + 1.0, m(1000))[0].t_s

    for event in (ahead, gap, reset):
        assert after(event) == 1.0, event.__name__  # the count began again: no correction


def test_first_beat_of_a_packet_never_at_or_before_the_previous_beat() -> None:
    timer = BeatTimer()
    assert [b.t_s for b in timer.push(10.0, m(1000))] == [10.0]
    # 2 s of RR arriving 0.5 s later: pulled back, the first beat would be at 9.5 s
    beats = timer.push(10.5, m(1000, 1000))
    assert [b.t_s for b in beats] == pytest.approx([10.001, 11.001], abs=1e-12)
    assert not beats[0].gap_before
    # across a reset too (the last beat ever timed is remembered)
    timer.reset()
    beats = timer.push(11.5, m(1000, 1000))
    assert [b.t_s for b in beats] == pytest.approx([11.002, 12.002], abs=1e-12)
    assert [b.gap_before for b in beats] == [True, False]
    # a 1 ms RR puts the beat exactly 1 ms after the previous one: allowed as it is
    timer2 = BeatTimer()
    timer2.push(10.0, m(1000))
    assert [b.t_s for b in timer2.push(11.0, m(1.0))] == [10.001]


_rr = st.sampled_from([250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0])


@st.composite
def _streams(draw) -> list[tuple[float, list[float] | None]]:
    """Packets from a strap whose clock runs fast, true or slow, delivered late, in bursts,
    with holes and lost connections."""
    drift = draw(st.sampled_from([0.0, 0.001, 0.01, -0.01]))
    out: list[tuple[float, list[float] | None]] = []
    t = 0.0
    for _ in range(draw(st.integers(1, 120))):
        kind = draw(st.sampled_from(["beat"] * 12 + ["burst", "late", "hole", "lost", "empty"]))
        if kind == "lost":
            out.append((t, None))
            continue
        rr = [draw(_rr)] if kind != "burst" else draw(st.lists(_rr, min_size=2, max_size=3))
        t += sum(rr) / 1000.0 * (1 + drift)
        if kind == "hole":
            t += draw(st.sampled_from([1.0, 2.5, 30.0]))
        late = draw(st.sampled_from([0.0, 0.03, 0.25, 0.6])) if kind == "late" else 0.0
        out.append((t + late, [] if kind == "empty" else rr))
    return out


@settings(max_examples=80, deadline=None)
@given(_streams(), st.sampled_from([3, 30]))
def test_beat_times_equal_an_independent_implementation(stream, drift_window) -> None:
    timer = BeatTimer(drift_window=drift_window)
    got = []
    for t_host, rr in stream:
        if rr is None:
            timer.reset()
        else:
            got += [(b.t_s, b.rr_ms, b.gap_before) for b in timer.push(t_host, m(*rr))]
    want = reference_times(stream, drift_packets=drift_window)
    assert [(r, g) for _, r, g in got] == [(r, g) for _, r, g in want]
    assert [t for t, _, _ in got] == pytest.approx([t for t, _, _ in want], abs=1e-9)
    assert all(b > a for (a, _, _), (b, _, _) in itertools.pairwise(got))
