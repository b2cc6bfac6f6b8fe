"""A second, deliberately plain implementation of beat timing, written from the rules in
`holdbeat.beats`' docstring (not from its code), for tests that need an independent
expectation: whole-list state, no deque, times summed backwards from the packet's end."""

from __future__ import annotations

from collections.abc import Iterable

SLACK_S = 1.0  # a packet later than its longest RR plus this: beats were lost
AHEAD_TOL_S = 0.02  # a beat may be timed this much after its packet arrived
DRIFT_PACKETS = 30  # this many packets in a row arriving > 0.5 s late: slow strap clock
DRIFT_LATE_S = 0.5
DRIFT_KEEP_S = 0.1  # after the correction the newest beat is this far before arrival
MIN_SPACING_S = 0.001


def reference_times(
    packets: Iterable[tuple[float, list[float] | None]],
    slack_s: float = SLACK_S,
    ahead_tol_s: float = AHEAD_TOL_S,
    drift_packets: int = DRIFT_PACKETS,
) -> list[tuple[float, float, bool]]:
    """(t_s, rr_ms, gap_before) of every beat. A packet is (host time, RR list); None in
    place of the RR list is a lost connection (the timeline restarts)."""
    beats: list[tuple[float, float, bool]] = []
    anchored = False
    late: list[float] = []  # lags of the packets since the last re-anchor
    for t_host, rr in packets:
        if rr is None:
            anchored, late = False, []
            continue
        if not rr:
            continue
        span_s = sum(rr) / 1000.0
        gap = not anchored
        end = t_host
        if anchored:
            end = beats[-1][0] + span_s  # continue the timeline by this packet's RR
            lag = t_host - end
            if lag < -ahead_tol_s:
                end, late = t_host, []
            elif lag > max(rr) / 1000.0 + slack_s:
                end, gap, late = t_host, True, []
            else:
                late.append(lag)
                recent = late[-drift_packets:]
                if len(recent) == drift_packets and all(x > DRIFT_LATE_S for x in recent):
                    end += min(recent) - DRIFT_KEEP_S
                    late = []
        first = end - span_s + rr[0] / 1000.0
        if beats and first < beats[-1][0] + MIN_SPACING_S:
            end += beats[-1][0] + MIN_SPACING_S - first
        for i, r in enumerate(rr):
            after_s = sum(rr[i + 1 :]) / 1000.0
            beats.append((end - after_s, r, gap and i == 0))
        anchored = True
    return beats
