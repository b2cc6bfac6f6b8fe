"""From a Recording to the beats the analysis uses, and fast per-phase time-domain HRV.

One call (`prepare`) decides which beats are usable: the offline artifact correction
(`holdbeat.correct`, Lipponen & Tarvainen 2019), or (correction=False, for fast
calibration) the live flags. `phase_quality` is the quality gate (`holdbeat.quality`: beats
changed, time without beats, frequent ectopy), the same rule holdbeat.hrv's table applies.

`phase_time_domain` is numpy on the same beats with neurokit2's `hrv_time` definitions
(RMSSD over successive differences of contiguous clean beats, SDNN with ddof = 1), so the
many-session comparison needs no per-phase neurokit2 call; tests check the agreement.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from holdbeat.analysis.trajectory import Rolling, rolling_metrics
from holdbeat.correct import Corrected, correct
from holdbeat.quality import (
    MAX_CHANGED_PCT,
    Quality,
    changed_inputs,
    judge,
    premature_beats,
    time_domain_reason,
)
from holdbeat.recording import PhaseSpan, Recording

LOW_QUALITY_PCT = MAX_CHANGED_PCT


@dataclass(frozen=True)
class Prepared:
    """A recording's beats as the analysis sees them."""

    rec: Recording
    t_s: np.ndarray
    rr_ms: np.ndarray  # corrected RR where a correction ran
    gap_before: np.ndarray
    usable: np.ndarray  # bool: enters HRV
    event_t_s: np.ndarray  # recorded-beat time of each correction (or flag) event
    method: str  # "corrected (Lipponen & Tarvainen 2019)" or "live flags excluded"
    window_s: float
    corrected: Corrected | None = None  # holdbeat.correct's result, reusable by hrv
    changed_in: np.ndarray | None = None  # per recorded beat: changed or dropped
    premature: np.ndarray | None = None  # per recorded beat: premature with a pause
    # What the live window computed, beat for beat (recorded beats, live flags excluded):
    # the band and catch-up run on this so that the report and the window agree.
    live_rolling: Rolling | None = None

    @functools.cached_property
    def rolling(self) -> Rolling:
        """Rolling metrics of the usable beats, made when first asked (the report's figure
        draws them; a many-session comparison never does)."""
        return rolling_metrics(self.t_s, self.rr_ms, self.gap_before, ~self.usable, self.window_s)

    @property
    def catchup_rolling(self) -> Rolling:
        return self.live_rolling if self.live_rolling is not None else self.rolling

    def phase_mask(self, ph: PhaseSpan) -> np.ndarray:
        return (self.t_s >= ph.start_s) & (self.t_s < ph.end_s)

    def _recorded(self, ph: PhaseSpan) -> np.ndarray:
        bt = self.rec.beat_t_s
        return (bt >= ph.start_s) & (bt < ph.end_s)

    def corrected_pct(self, ph: PhaseSpan) -> float:
        """Recorded beats in the phase whose RR was changed or dropped, % (beats, not
        correction events: an ectopic pair is two beats, a split beat one)."""
        m = self._recorded(ph)
        n = int(np.count_nonzero(m))
        if not n or self.changed_in is None:
            return math.nan
        return 100.0 * int(np.count_nonzero(self.changed_in[m])) / n

    def quality(self, ph: PhaseSpan) -> Quality:
        m = self._recorded(ph)
        n = int(np.count_nonzero(m))
        changed = int(np.count_nonzero(self.changed_in[m])) if self.changed_in is not None else 0
        prem = int(np.count_nonzero(self.premature[m])) if self.premature is not None else 0
        covered = min(float(np.sum(self.rec.rr_ms[m])) / 1000.0, ph.duration_s)
        return judge(n, changed, prem, ph.duration_s, covered)


CORRECTED = "corrected (Lipponen & Tarvainen 2019)"
FLAGGED = "live flags excluded (no offline correction)"


WHOLE_RECORDING = "whole recording (no phases)"


def with_phases(rec: Recording) -> Recording:
    """The recording, or - when it has no phases (an RR file imported without a phases
    file) - a copy with one phase spanning it, so it is reported rather than empty."""
    if rec.phases or not (rec.beat_t_s.size or rec.hr_t_s.size):
        return rec
    from dataclasses import replace

    last = max(
        float(rec.beat_t_s[-1]) if rec.beat_t_s.size else 0.0,
        float(rec.hr_t_s[-1]) if rec.hr_t_s.size else 0.0,
        rec.end.t_s if rec.end is not None else 0.0,
    )
    whole = PhaseSpan(0, WHOLE_RECORDING, "rest", "neutral", 0.0, last + 1e-6, None)
    return replace(rec, phases=[whole])


def prepare(rec: Recording, window_s: float = 60.0, correction: bool = True) -> Prepared:
    """Usable beats + rolling metrics of a recording (one call; pure).

    correction=False uses the live flags instead (flagged beats excluded, each flag an
    event): faster, used by the many-session calibration. A recording without phases is
    analysed as one phase (`with_phases`).
    """
    rec = with_phases(rec)
    if correction:
        c = correct(rec.beat_t_s, rec.rr_ms, rec.gap_before)
        events = np.asarray(c.event_index, dtype=int)
        t, rr, gap = np.asarray(c.t_s, float), np.asarray(c.rr_ms, float), c.gap_before
        usable = np.asarray(c.keep, bool) & np.isfinite(rr) & (rr > 0)
        ev_t = rec.beat_t_s[events] if events.size else np.zeros(0)
        changed = changed_inputs(len(rec.rr_ms), c.source, c.kind)
        method = CORRECTED
    else:
        c = None
        t, rr, gap = rec.beat_t_s, rec.rr_ms, rec.gap_before
        usable = ~rec.artifact
        ev_t = t[rec.artifact]
        changed = np.asarray(rec.artifact, bool)
        method = FLAGGED
    live = (
        rolling_metrics(rec.beat_t_s, rec.rr_ms, rec.gap_before, rec.artifact, window_s)
        if correction
        else None  # the live flags are the usable beats: `rolling` is what the window showed
    )
    prem = premature_beats(rec.rr_ms, rec.gap_before)
    return Prepared(
        rec, t, rr, np.asarray(gap, bool), usable, ev_t, method, window_s, c, changed, prem, live
    )


def phase_quality(
    prep: Prepared, ph: PhaseSpan, low_quality_pct: float = LOW_QUALITY_PCT
) -> Quality:
    """`holdbeat.quality.judge` for one phase; `low_quality_pct` overrides the 5 % limit on
    changed beats (the other two limits are fixed)."""
    q = prep.quality(ph)
    if low_quality_pct == LOW_QUALITY_PCT or not q.n_beats:
        return q
    from holdbeat import quality as _q

    parts = [p for p in q.reason.split("; ") if p and "corrected" not in p]
    if q.changed_pct > low_quality_pct:
        parts.insert(0, f"{q.changed_pct:.1f} % of beats corrected (> {low_quality_pct:g} %)")
    return _q.Quality(
        q.n_beats, q.changed_pct, q.gap_pct, q.premature_pct, bool(parts), "; ".join(parts)
    )


@dataclass(frozen=True, slots=True)
class TimeDomain:
    n_beats: int  # all beats in the phase
    n_usable: int
    n_diffs: int
    hr_bpm: float
    rmssd_ms: float
    ln_rmssd: float
    sdnn_ms: float
    reason: str = ""  # why HRV is NaN


_add = np.add.reduce


def time_domain(
    rr_ms: np.ndarray, gap_before: np.ndarray, usable: np.ndarray, mask: np.ndarray
) -> TimeDomain:
    """HR, RMSSD, ln RMSSD, SDNN over the masked beats (neurokit2 `hrv_time` definitions)."""
    nan = math.nan
    m = np.asarray(mask, bool)
    n_all = int(m.sum())
    use = m & usable
    rr = rr_ms[use]
    n = int(rr.size)
    # a difference needs both beats usable, in the phase, and contiguous
    d_ok = np.zeros(m.size, bool)
    if m.size > 1:
        d_ok[1:] = use[1:] & use[:-1] & ~gap_before[1:]
    d = np.diff(rr_ms)[d_ok[1:]] if m.size > 1 else np.zeros(0)
    nd = int(d.size)
    reason = time_domain_reason(n_all, n, float(rr.sum()) / 1000.0)
    if reason:
        return TimeDomain(n_all, n, nd, nan, nan, nan, nan, reason)
    # numpy's mean and std(ddof=1), step for step (the same sums, so the same bits; tests
    # compare): compare takes ~20 of these per session and their wrappers cost more than
    # the arithmetic
    mean = _add(rr) / n
    dev = rr - mean
    hr = 60000.0 / float(mean)
    sdnn = math.sqrt(float(_add(dev * dev)) / (n - 1))
    rmssd = math.sqrt(float(_add(d * d)) / nd) if nd >= 1 else nan
    ln = math.log(rmssd) if rmssd > 0 else nan
    if nd < 1:
        reason = "no successive differences (every beat follows a gap or a removed beat)"
    return TimeDomain(n_all, n, nd, hr, rmssd, ln, sdnn, reason)
