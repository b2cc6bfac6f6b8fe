"""Live metrics over a trailing time window, updated per beat in O(1) amortised.

Running sums of RR and of squared successive differences, with beats leaving the
window subtracted; the sums are rebuilt from the window every `len(window)` updates,
which keeps the cost amortised O(1) and stops float drift over 24 h.
RMSSD/SDNN follow neurokit2's `hrv_time`: RMSSD = sqrt(mean(diff^2)), SDNN = std(ddof=1).
A difference is used only when both beats are clean and contiguous (no gap between).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from holdbeat.beats import Beat

MIN_BEATS_HR = 2
MIN_DIFFS_RMSSD = 10
MIN_SPAN_FRACTION = 0.5  # window must be at least half covered by clean beats


@dataclass(frozen=True, slots=True)
class LiveMetrics:
    t_s: float
    window_s: float
    n_beats: int  # clean beats in the window
    n_flagged: int  # flagged beats in the window
    hr_bpm: float  # NaN when not valid
    rmssd_ms: float
    ln_rmssd: float
    sdnn_ms: float
    valid: bool
    reason: str = ""  # why not valid

    @property
    def flagged_share(self) -> float:
        n = self.n_beats + self.n_flagged
        return self.n_flagged / n if n else 0.0


NAN = float("nan")


class LiveWindow:
    def __init__(self, window_s: float = 60.0) -> None:
        if not window_s > 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        # (t_s, rr_ms, ok, d2 or None) where d2 is the squared diff to the previous beat
        self._beats: deque[tuple[float, float, bool, float | None]] = deque()
        self._prev: Beat | None = None
        self._k = 0.0  # shift for the variance sums (reduces cancellation)
        self._n = 0
        self._s1 = 0.0
        self._s2 = 0.0
        self._nd = 0
        self._sd2 = 0.0
        self._nflag = 0
        self._since_rebuild = 0

    def reset(self) -> None:
        self.__init__(self.window_s)  # type: ignore[misc]

    def _add(self, t: float, rr: float, ok: bool, d2: float | None) -> None:
        self._beats.append((t, rr, ok, d2))
        if ok:
            if self._n == 0:
                self._k = rr
            x = rr - self._k
            self._n += 1
            self._s1 += x
            self._s2 += x * x
        else:
            self._nflag += 1
        if d2 is not None:
            self._nd += 1
            self._sd2 += d2

    def _drop_old(self, t_now: float) -> None:
        horizon = t_now - self.window_s
        beats = self._beats
        while beats and beats[0][0] <= horizon:
            _, rr, ok, _d2 = beats.popleft()
            if ok:
                x = rr - self._k
                self._n -= 1
                self._s1 -= x
                self._s2 -= x * x
            else:
                self._nflag -= 1
            # The first remaining beat's diff refers to a beat that just left.
            if beats and beats[0][3] is not None:
                t0, rr0, ok0, d20 = beats[0]
                self._nd -= 1
                self._sd2 -= d20  # type: ignore[operator]
                beats[0] = (t0, rr0, ok0, None)

    def _rebuild(self) -> None:
        beats = list(self._beats)
        self._beats.clear()
        self._n = self._nd = self._nflag = 0
        self._s1 = self._s2 = self._sd2 = 0.0
        for b in beats:
            self._add(*b)
        self._since_rebuild = 0

    def update(self, beat: Beat) -> LiveMetrics:
        prev = self._prev
        d2 = None
        if beat.ok and prev is not None and prev.ok and not beat.gap_before:
            d = beat.rr_ms - prev.rr_ms
            d2 = d * d
        self._prev = beat
        self._add(beat.t_s, beat.rr_ms, beat.ok, d2)
        self._drop_old(beat.t_s)
        self._since_rebuild += 1
        if self._since_rebuild >= max(len(self._beats), 64):
            self._rebuild()
        return self.snapshot(beat.t_s)

    def snapshot(self, t_now: float) -> LiveMetrics:
        n, nd = self._n, self._nd
        span = (self._beats[-1][0] - self._beats[0][0]) if len(self._beats) > 1 else 0.0
        hr = rmssd = ln = sdnn = NAN
        reason = ""
        if n >= MIN_BEATS_HR:
            mean = self._k + self._s1 / n
            hr = 60000.0 / mean
            var = max(0.0, (self._s2 - self._s1 * self._s1 / n) / (n - 1))
            sdnn = math.sqrt(var)
        if nd >= 1:
            rmssd = math.sqrt(max(0.0, self._sd2) / nd)
            ln = math.log(rmssd) if rmssd > 0 else NAN
        if n < MIN_BEATS_HR:
            reason = "no clean beats in the window" if n == 0 else "too few clean beats"
        elif nd < MIN_DIFFS_RMSSD:
            reason = f"only {nd} clean successive differences (need {MIN_DIFFS_RMSSD})"
        elif span < MIN_SPAN_FRACTION * self.window_s:
            reason = f"window only {span:.0f} s filled (need {MIN_SPAN_FRACTION * self.window_s:.0f} s)"
        elif not rmssd > 0:
            reason = "RMSSD is 0 (constant RR): ln RMSSD undefined"
        valid = not reason
        return LiveMetrics(
            t_s=t_now,
            window_s=self.window_s,
            n_beats=n,
            n_flagged=self._nflag,
            hr_bpm=hr,
            rmssd_ms=rmssd,
            ln_rmssd=ln,
            sdnn_ms=sdnn,
            valid=valid,
            reason=reason,
        )
