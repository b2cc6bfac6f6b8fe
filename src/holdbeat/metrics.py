"""Live metrics over a trailing time window, updated per beat in O(1) amortised time.

Definition (the one `hrv_time` of neurokit2 computes on the same beats, see docs/hrv.md):

* The window at beat time t holds the beats with t - window_s < t_s <= t.
* HR = 60000 / mean(RR) over the *clean* beats in the window (flagged beats are excluded).
* SDNN = std(RR, ddof=1) over the clean beats in the window.
* RMSSD = sqrt(mean(dRR²)) over the successive differences dRR_i = RR_i - RR_{i-1} for which
  both beats are clean, both are in the window, and beat i is contiguous with beat i-1
  (not `gap_before`: no lost beats between them). A difference that touches a flagged beat
  or spans a gap is never used - exactly what neurokit2 does when the flagged beats are
  removed and `RRI_Time` tells it where the holes are (`holdbeat.hrv.intervals.nk_input`).
* ln RMSSD = natural log of RMSSD (undefined when RMSSD is 0).

Implementation: running sums of the (shifted) clean RR, their squares and the squared
differences; beats leaving the window are subtracted. Every `max(len(window), 64)` updates
the sums are rebuilt from the beats in the window, which keeps the cost amortised O(1) and
bounds float error to one window's worth of additions: no drift over 24 h.

Validity (per metric; a metric that is not valid is NaN, never inf or a stale number):
HR needs >= 2 clean beats; SDNN needs >= `min_beats` clean beats and RMSSD >= `min_diffs`
clean differences, and both need clean RR covering >= `min_coverage` of the window (so a
window that just started, follows a gap, or is mostly artifacts says so). `valid` means all
metrics including ln RMSSD are valid; `reason` says why not.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from holdbeat.beats import Beat

MIN_BEATS_HR = 2
MIN_BEATS_SDNN = 10
MIN_DIFFS_RMSSD = 10
MIN_COVERAGE = 0.5  # clean RR must cover at least this share of the window

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class LiveMetrics:
    t_s: float
    window_s: float
    n_beats: int  # clean beats in the window
    n_flagged: int  # flagged beats in the window
    hr_bpm: float  # NaN when HR is not valid
    rmssd_ms: float  # NaN when RMSSD is not valid
    ln_rmssd: float  # NaN when RMSSD is not valid or 0
    sdnn_ms: float  # NaN when SDNN is not valid
    valid: bool  # every metric above is valid (finite)
    reason: str  # why not valid ("" when valid)
    n_diffs: int  # clean successive differences in the window
    clean_s: float  # summed clean RR in the window, s

    @property
    def flagged_share(self) -> float:
        n = self.n_beats + self.n_flagged
        return self.n_flagged / n if n else 0.0

    @property
    def hr_valid(self) -> bool:
        return math.isfinite(self.hr_bpm)

    @property
    def rmssd_valid(self) -> bool:
        return math.isfinite(self.rmssd_ms)

    @property
    def sdnn_valid(self) -> bool:
        return math.isfinite(self.sdnn_ms)


def _usable(beat: Beat) -> bool:
    """Clean and a finite positive RR: anything else must never enter the sums."""
    return beat.ok and math.isfinite(beat.rr_ms) and beat.rr_ms > 0


class LiveWindow:
    """Trailing-window HR/RMSSD/SDNN; feed beats in time order with `update`."""

    def __init__(
        self,
        window_s: float = 60.0,
        *,
        min_beats: int = MIN_BEATS_SDNN,
        min_diffs: int = MIN_DIFFS_RMSSD,
        min_coverage: float = MIN_COVERAGE,
    ) -> None:
        if not (isinstance(window_s, int | float) and math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s must be a positive number of seconds, got {window_s!r}")
        if not 0.0 <= min_coverage <= 1.0:
            raise ValueError(f"min_coverage must be within 0..1, got {min_coverage!r}")
        self.window_s = float(window_s)
        self.min_beats = max(2, int(min_beats))
        self.min_diffs = max(1, int(min_diffs))
        self.min_coverage = float(min_coverage)
        # (t_s, rr_ms, usable, d2 or None): d2 is the squared diff to the previous beat
        self._beats: deque[tuple[float, float, bool, float | None]] = deque()
        self._prev_usable = False  # the previous beat was placed, clean and finite
        self._prev_rr = 0.0
        self._k = 0.0  # shift for the variance sums (reduces cancellation)
        self._n = 0
        self._s1 = 0.0
        self._s2 = 0.0
        self._nd = 0
        self._sd2 = 0.0
        self._nflag = 0
        self._since_rebuild = 0

    def __len__(self) -> int:
        return len(self._beats)

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
        if self._n == 0:
            self._s1 = self._s2 = 0.0
        if self._nd == 0:
            self._sd2 = 0.0

    def _rebuild(self) -> None:
        """Re-sum the window from scratch: the error of the running sums never accumulates."""
        beats = list(self._beats)
        self._beats.clear()
        self._n = self._nd = self._nflag = 0
        self._s1 = self._s2 = self._sd2 = 0.0
        for b in beats:
            self._add(*b)
        self._since_rebuild = 0

    def update(self, beat: Beat) -> LiveMetrics:
        if not math.isfinite(beat.t_s):
            # A beat without a time cannot be placed in a window; it breaks contiguity.
            self._prev_usable = False
            last = self._beats[-1][0] if self._beats else 0.0
            return self.snapshot(last)
        ok = _usable(beat)
        d2 = None
        if ok and self._prev_usable and not beat.gap_before:
            d = beat.rr_ms - self._prev_rr
            d2 = d * d
        self._prev_usable = ok
        self._prev_rr = beat.rr_ms
        self._add(beat.t_s, beat.rr_ms, ok, d2)
        self._drop_old(beat.t_s)
        self._since_rebuild += 1
        if self._since_rebuild >= max(len(self._beats), 64):
            self._rebuild()
        return self.snapshot(beat.t_s)

    def snapshot(self, t_now: float) -> LiveMetrics:
        n, nd = self._n, self._nd
        clean_s = (n * self._k + self._s1) / 1000.0 if n else 0.0
        need_s = self.min_coverage * self.window_s
        hr = rmssd = ln = sdnn = NAN
        reasons: list[str] = []
        if n >= MIN_BEATS_HR:
            hr = 60000.0 / (self._k + self._s1 / n)
        else:
            reasons.append("no clean beats in the window" if n == 0 else "only 1 clean beat")
        covered = clean_s >= need_s
        if not covered and n:
            reasons.append(f"clean beats cover {clean_s:.0f} s of the window (need {need_s:.0f} s)")
        if n >= self.min_beats and covered:
            var = (self._s2 - self._s1 * self._s1 / n) / (n - 1)
            sdnn = math.sqrt(var) if var > 0 else 0.0
        elif n and n < self.min_beats:
            reasons.append(f"only {n} clean beats (SDNN needs {self.min_beats})")
        if nd >= self.min_diffs and covered:
            rmssd = math.sqrt(self._sd2 / nd) if self._sd2 > 0 else 0.0
            if rmssd > 0:
                ln = math.log(rmssd)
            else:
                reasons.append("RMSSD is 0 (constant RR): ln RMSSD undefined")
        elif n and nd < self.min_diffs:
            reasons.append(f"only {nd} clean successive differences (RMSSD needs {self.min_diffs})")
        valid = not reasons
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
            reason="; ".join(reasons),
            n_diffs=nd,
            clean_s=clean_s,
        )
