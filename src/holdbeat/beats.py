"""(host time, measurement) -> timed beats. Pure and deterministic.

RR intervals arrive late and in bursts (0-3 per ~1 s notification), so beat times come
from the cumulative sum of RR, anchored to host time - not from packet arrival. The
last beat in a packet happened at or before the packet arrived; when the running sum
runs ahead of the host clock it is pulled back, and when it falls behind by more than
an RR interval plus slack, beats were lost (dropped notifications, a disconnect): the
timeline is re-anchored and the next beat is marked `gap_before` so no successive
difference is ever taken across the hole.

Beat times strictly increase, across a reset too. Pulling back to the host clock can
put a packet's first beat at or before the previous beat when the timeline was anchored
late (a delayed packet taken for a gap, then the rest of its burst arriving at once, or
a packet after a reconnect carrying RR from before it): such a packet starts just after
the previous beat instead (it may then be timed a little after it arrived), and the next
packets pull the timeline back to the host clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from holdbeat.hrs import HeartRateMeasurement

#: the closest two successive beats are ever timed (when the host clock and RR disagree)
MIN_SPACING_S = 0.001


@dataclass(frozen=True, slots=True)
class Beat:
    t_s: float  # session time of the beat that ends this interval
    rr_ms: float
    gap_before: bool = False  # no contiguous beat before this one (start, gap, re-anchor)
    flag: str = ""  # "" = clean; otherwise why the live check doubts it ("range", "jump")

    @property
    def ok(self) -> bool:
        return not self.flag


@dataclass(frozen=True, slots=True)
class HrSample:
    """The strap's own HR field: the only signal from straps that send no RR."""

    t_s: float
    hr_bpm: int
    contact: bool | None


class BeatTimer:
    """Stateful timing of RR intervals; feed packets in arrival order."""

    def __init__(
        self, slack_s: float = 1.0, ahead_tol_s: float = 0.02, drift_window: int = 30
    ) -> None:
        self.slack_s = slack_s
        self.ahead_tol_s = ahead_tol_s
        self._t_last: float | None = None
        self._t_prev: float | None = None  # the last beat ever timed; survives reset()
        self._lags: deque[float] = deque(maxlen=drift_window)

    def reset(self) -> None:
        """Forget the timeline (connection lost): the next beat starts a new segment."""
        self._t_last = None
        self._lags.clear()

    def push(self, t_host_s: float, m: HeartRateMeasurement) -> list[Beat]:
        if not m.rr_ms:
            return []
        times, gap = self.time(t_host_s, m.rr_ms)
        return [
            Beat(t_s=t, rr_ms=r, gap_before=gap and i == 0)
            for i, (t, r) in enumerate(zip(times, m.rr_ms, strict=True))
        ]

    def time(self, t_host_s: float, rr_ms: Sequence[float]) -> tuple[list[float], bool]:
        """(beat times, gap before the first) for one packet's non-empty RR, in plain floats:
        `push` without the Beat objects, for loading a day of packets."""
        rr = rr_ms
        total_s = sum(rr) / 1000.0
        gap = False
        if self._t_last is None:
            t_end, gap = t_host_s, True
        else:
            t_end = self._t_last + total_s
            lag = t_host_s - t_end
            if lag < -self.ahead_tol_s:
                # The running sum is ahead of the host clock (strap clock fast, or a
                # late burst): a beat cannot happen after its notification arrived.
                t_end = t_host_s
                self._lags.clear()
            elif lag > max(rr) / 1000.0 + self.slack_s:
                t_end, gap = t_host_s, True
                self._lags.clear()
            else:
                self._lags.append(lag)
                # Slow strap clock: every recent packet arrived well after its last beat.
                # (`lag > 0.5` first: it is one of them, and is cheap.)
                if lag > 0.5 and len(self._lags) == self._lags.maxlen and min(self._lags) > 0.5:
                    t_end += min(self._lags) - 0.1
                    self._lags.clear()
        if self._t_prev is not None:
            t_min = self._t_prev + MIN_SPACING_S + total_s - rr[0] / 1000.0
            if t_min > t_end:
                t_end = t_min
        times = []
        t = t_end - total_s
        for r in rr:
            t += r / 1000.0
            times.append(t)
        self._t_last = self._t_prev = t_end
        return times, gap
