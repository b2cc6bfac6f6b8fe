"""When is a phase too damaged to compare? One rule for the report, the HRV table and compare.

Calibrated on real hearts (tests/test_real_hearts.py, docs/hrv.md "Real recordings"): a
phase is low quality when

* more than 5 % of its recorded beats had to be changed or dropped by the correction
  (clean normal-sinus recordings: 0-0.4 %; 10 % injected artifacts: 6-7 %);
* more than 20 % of its duration has no beats (connection gaps, dropped RR); or
* more than 2 % of its beats are premature with a compensatory pause (>= 10 % shorter than
  the 11-beat median, the next >= 5 % longer): frequent ectopy, where HRV measures the
  ectopic beats, not vagal tone, and correcting them would invent a normal-looking series
  (clean recordings: 0-0.6 %; MIT-BIH record 208: 4.8 %).

The previous rule also gated on beats still > 20 % off their local median after correction;
normal respiratory sinus arrhythmia does that in 3-7 % of beats of a healthy young heart,
so clean recordings were marked low quality. It is gone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Time-domain HRV of a phase needs this much clean RR and this many clean beats (ultra-short
#: RMSSD from 30 s: Munoz et al. 2015); the HRV table, the report and compare share the rule.
MIN_TIME_S = 30.0
MIN_BEATS_TIME = 20

MAX_CHANGED_PCT = 5.0
MAX_GAP_PCT = 20.0
MAX_PREMATURE_PCT = 2.0
PREMATURE_SHORT = 0.10  # premature: this much shorter than the local median …
PREMATURE_PAUSE = 0.05  # … and the next beat this much longer
MEDIAN_BEATS = 11


def running_median(x: np.ndarray, size: int) -> np.ndarray:
    """Centred median over an odd `size`, the ends padded with the end values: what
    scipy.ndimage.median_filter(mode="nearest") returns (tests compare), without its
    0.2-0.3 s import at every report."""
    x = np.asarray(x, dtype=float)
    h = size // 2
    if len(x) == 0:
        return x.copy()
    padded = np.concatenate([np.full(h, x[0]), x, np.full(h, x[-1])])
    win = np.lib.stride_tricks.sliding_window_view(padded, size)
    return np.partition(win, h, axis=1)[:, h]


def premature_beats(rr_ms: np.ndarray, gap_before: np.ndarray | None = None) -> np.ndarray:
    """Per beat: premature (short against the 11-beat median) and followed by a pause.

    The RR signature of an ectopic beat with its compensatory pause; sinus arrhythmia
    changes RR gradually and rarely does this (0-0.6 % of beats on the clean corpus).
    """
    rr = np.asarray(rr_ms, dtype=float)
    n = len(rr)
    out = np.zeros(n, bool)
    if n < 3:
        return out
    med = running_median(rr, MEDIAN_BEATS)
    ratio = rr / med
    nxt = np.concatenate([ratio[1:], [1.0]])
    out = (ratio < 1.0 - PREMATURE_SHORT) & (nxt > 1.0 + PREMATURE_PAUSE)
    out[-1] = False
    if gap_before is not None:
        g = np.asarray(gap_before, dtype=bool)
        out[:-1] &= ~g[1:]  # the "pause" must follow without a gap
    return out


@dataclass(frozen=True, slots=True)
class Quality:
    n_beats: int  # recorded beats in the phase
    changed_pct: float  # recorded beats changed or dropped by the correction, %
    gap_pct: float  # share of the phase with no beats, %
    premature_pct: float  # premature beats with a compensatory pause, %
    low: bool
    reason: str  # why low ("" when not)


def judge(
    n_beats: int, n_changed: int, n_premature: int, duration_s: float, covered_s: float
) -> Quality:
    """The quality of one phase from its counts (see the module docstring)."""
    if n_beats <= 0:
        gap = 100.0 if duration_s > 0 else math.nan
        return Quality(0, math.nan, gap, math.nan, True, "no beats")
    changed = 100.0 * n_changed / n_beats
    premature = 100.0 * n_premature / n_beats
    gap = 100.0 * max(0.0, 1.0 - covered_s / duration_s) if duration_s > 0 else 0.0
    why = []
    if changed > MAX_CHANGED_PCT:
        why.append(f"{changed:.1f} % of beats corrected (> {MAX_CHANGED_PCT:g} %)")
    if gap > MAX_GAP_PCT:
        why.append(f"{gap:.0f} % of the phase has no beats (> {MAX_GAP_PCT:g} %)")
    if premature > MAX_PREMATURE_PCT:
        why.append(
            f"frequent ectopy: {premature:.1f} % of beats premature with a pause "
            f"(> {MAX_PREMATURE_PCT:g} %); HRV here reflects ectopic beats, not vagal tone"
        )
    return Quality(n_beats, changed, gap, premature, bool(why), "; ".join(why))


def changed_inputs(n_input: int, source: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Per recorded beat: its RR did not survive the correction unchanged.

    A split, a merge or a moved peak changes every recorded beat it touches; "corrected %"
    counts these beats, not correction events.
    """
    changed = np.ones(n_input, bool)
    src = np.asarray(source, dtype=int)
    changed[src[np.asarray(kind) == ""]] = False
    return changed


def time_domain_reason(n_beats: int, n_clean: int, clean_s: float) -> str:
    """Why a phase gets no time-domain HRV ("" when it does)."""
    if n_beats == 0:
        return "no beats (no RR from the strap in this phase?)"
    if n_clean < MIN_BEATS_TIME or clean_s < MIN_TIME_S:
        return (
            f"time domain needs >= {MIN_TIME_S:.0f} s and {MIN_BEATS_TIME} clean beats "
            f"(have {clean_s:.0f} s, {n_clean} beats)"
        )
    return ""
