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

import numpy as np

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
        total_ms = 0.0
        for r in rr:  # left to right on every Python (3.12's sum() compensates)
            total_ms += r
        total_s = total_ms / 1000.0
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


def time_all(
    timer: BeatTimer,
    t_host_s: list[float],
    rr_ms: np.ndarray,
    rr_start: np.ndarray,
    reset: list[bool],
) -> tuple[np.ndarray, list[bool]]:
    """`timer.time` over many packets at once: (every beat's time, gap before each packet).

    Packet i holds `rr_ms[rr_start[i]:rr_start[i + 1]]` (non-empty) and arrived at
    `t_host_s[i]`; `reset[i]`: the connection was lost before it. Equal to calling
    `timer.reset()` / `timer.time` packet by packet (tested), ~10x faster: while packets
    arrive on time each packet's end is a running sum, checked in numpy; a packet that needs
    a decision (ahead of the clock, a gap, slow-clock drift, a reset) takes `timer.time`.
    Every beat is then timed back from its packet's end, as `time` does.
    """
    n = len(t_host_s)
    counts = np.diff(rr_start)
    first = rr_start[:-1]
    top_q = int(counts.max()) if n else 0
    # packet sums as `time` adds them (left to right), and each packet's longest RR
    acc = rr_ms[first].copy()
    top = acc.copy()
    for q in range(1, top_q):
        has = counts > q
        nxt = rr_ms[first[has] + q]
        acc[has] += nxt
        top[has] = np.maximum(top[has], nxt)
    p_info = (acc / 1000.0, top / 1000.0 + timer.slack_s, rr_ms[first] / 1000.0)
    t_end = np.empty(n)
    gaps = [False] * n
    rr_list = rr_ms.tolist()
    host = np.asarray(t_host_s, dtype=float)
    resets = [i for i, r in enumerate(reset) if r] + [n]
    p, chunk, r_next = 0, 2048, 0
    while p < n:
        while resets[r_next] < p:
            r_next += 1
        if timer._t_last is not None and not reset[p]:
            e = min(resets[r_next], p + chunk)  # a chunk never runs into a reset
            k = _on_time(timer, host[p:e], [a[p:e] for a in p_info], t_end[p:e])
            p += k
            chunk = min(max(512, 2 * k), 1 << 16)
            if k and p == e:
                continue
            if p >= n:
                break
        if reset[p]:
            timer.reset()
        a, b = int(rr_start[p]), int(rr_start[p + 1])
        _, gaps[p] = timer.time(t_host_s[p], rr_list[a:b])
        t_end[p] = timer._t_last
        p += 1
    # each beat: from its packet's start, adding each RR in turn (as `time` does)
    times = np.empty(int(rr_start[-1]) - int(rr_start[0]) if n else 0)
    off = int(rr_start[0]) if n else 0
    cur = t_end - p_info[0]
    sel = np.arange(n)
    for q in range(top_q):
        if q:
            keep = counts[sel] > q
            sel, cur = sel[keep], cur[keep]
        at = first[sel] + q
        cur = cur + rr_ms[at] / 1000.0
        times[at - off] = cur
    return times, gaps


def _on_time(timer: BeatTimer, host: np.ndarray, info: list[np.ndarray], t_end: np.ndarray) -> int:
    """How many packets from the first are on time for `timer` (their ends written to
    `t_end`, `timer` advanced past them as `BeatTimer.time` would have)."""
    total, lim, r0_s = info
    m = host.size
    ends = np.cumsum(np.concatenate([[timer._t_last], total]))
    lag = host - ends[1:]
    bad = (lag < -timer.ahead_tol_s) | (lag > lim)
    bad |= ends[:-1] + MIN_SPACING_S + total - r0_s > ends[1:]
    # slow-clock drift: the last `maxlen` lags (the deque and these) all above 0.5 s
    maxlen = timer._lags.maxlen or 0
    late = lag > 0.5
    carry = 0
    for x in reversed(timer._lags):
        if x <= 0.5:
            break
        carry += 1
    idx = np.arange(m)
    last_on_time = np.maximum.accumulate(np.where(late, -1, idx))
    run = idx - last_on_time + np.where(last_on_time < 0, carry, 0)
    bad |= late & (run >= maxlen) & (len(timer._lags) + idx + 1 >= maxlen)
    stop = np.flatnonzero(bad)
    k = int(stop[0]) if stop.size else m
    if k:
        t_end[:k] = ends[1 : k + 1]
        timer._t_last = timer._t_prev = float(ends[k])
        timer._lags.extend(lag[max(0, k - maxlen) : k].tolist())
    return k
