"""What the body did after a lapse: the metric 30 s after it against the 30 s before it.

"The moment you stop holding it, the old predictive model wins by default." If that shows
in the body, ln RMSSD (or HR) moves back toward the baseline after a lapse. For every lapse
in a hold (the first `lapse` of a lapsed span, as `report` counts them) at time t:

- `pre`: the last 30 s of beats before t (the usable beats counted back from t until their
  RR add up to 30 s) — where the hold had got to;
- `post`: 30 s of beats from t + 30 s on (so about t + 30 … t + 60 s) — the window the issue
  asks about: the body responds over tens of seconds, so the first 30 s are mostly lag;
- `change` = post − pre, and whether it moved *toward* the baseline phase's value.

Windows are counted in beats until 30 s of usable RR, not cut at clock times, because 30 s
and 20 clean beats is the least holdbeat computes time-domain HRV from
(holdbeat.quality.time_domain_reason): a 30 s clock window often holds 29.5 s of RR. Both
are per-window estimates (neurokit2 `hrv_time` definitions, via
holdbeat.analysis.prep.time_domain) on beats, not the rolling series, so they share no beat.
Their **uncertainty** comes from the baseline: the same estimate on the baseline's
consecutive 30 s blocks of beats varies by `noise_sd` with nothing happening, so a change
between two windows has a noise of √2 · noise_sd, and ±1.96 · √2 · noise_sd is the range a
change takes at rest 95 % of the time. A change outside it is more than noise; one inside
could be noise. Too short a baseline (fewer than 3 blocks) gives no noise estimate, and the
report says so. A window must lie inside the hold; a lapse less than 30 s after the hold
began, or less than ~60 s before it ends, gives NaN with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from holdbeat.analysis.prep import Prepared, time_domain
from holdbeat.quality import MIN_TIME_S
from holdbeat.recording import PhaseSpan

WINDOW_S = MIN_TIME_S  # 30 s of beats per window
POST_DELAY_S = 30.0  # the after-window starts this long after the lapse key
MIN_NOISE_WINDOWS = 3
Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class LapseResponse:
    t_s: float
    hold_index: int
    mode: str
    pre_ln: float
    post_ln: float
    change_ln: float  # post − pre, ln(ms)
    change_hr: float  # post − pre, bpm
    baseline_ln: float
    toward_baseline: bool | None  # None when unknown (NaN, or the hold was at baseline)
    ci_half_ln: float  # ±1.96·√2·noise_sd: the range of a change at rest; NaN if unknown
    reason: str = ""  # why change_ln is NaN

    @property
    def beyond_noise(self) -> bool:
        return math.isfinite(self.change_ln) and abs(self.change_ln) > self.ci_half_ln


@dataclass(frozen=True, slots=True)
class Noise:
    sd_ln: float  # SD of a 30 s window's ln RMSSD over the baseline's windows
    n_windows: int
    reason: str = ""

    @property
    def ci_half(self) -> float:
        return Z95 * math.sqrt(2.0) * self.sd_ln if math.isfinite(self.sd_ln) else math.nan


def _td(prep: Prepared, i0: int, i1: int):
    """time_domain over beats i0..i1-1 (a slice: a window costs its own beats only)."""
    n = max(0, i1 - i0)
    return time_domain(
        prep.rr_ms[i0:i1], prep.gap_before[i0:i1], prep.usable[i0:i1], np.ones(n, bool)
    )


def _usable_rr(prep: Prepared) -> np.ndarray:
    return np.where(prep.usable, prep.rr_ms, 0.0)


def _forward(cum: np.ndarray, i0: int) -> int | None:
    """End (exclusive) of the shortest run of beats from i0 with >= WINDOW_S of usable RR."""
    need = cum[i0] + WINDOW_S * 1000.0
    j = int(np.searchsorted(cum, need - 1e-6, side="left"))
    return j if j < cum.size else None


def _backward(cum: np.ndarray, i1: int) -> int | None:
    """Start of the shortest run of beats ending before i1 with >= WINDOW_S of usable RR."""
    need = cum[i1] - WINDOW_S * 1000.0
    if need < -1e-6:
        return None
    i = int(np.searchsorted(cum, need + 1e-6, side="right")) - 1
    return max(i, 0)


def _cum(prep: Prepared) -> np.ndarray:
    """cum[i] = usable RR (ms) of beats 0..i-1."""
    return np.concatenate([[0.0], np.cumsum(_usable_rr(prep))])


def baseline_noise(prep: Prepared, base: PhaseSpan | None) -> Noise:
    """SD of ln RMSSD over the baseline's consecutive 30 s blocks of beats."""
    if base is None:
        return Noise(math.nan, 0, "no baseline phase")
    cum = _cum(prep)
    i, end = np.searchsorted(prep.t_s, [base.start_s, base.end_s], side="left")
    vals = []
    while True:
        j = _forward(cum, int(i))
        if j is None or j > end:
            break
        td = _td(prep, int(i), j)
        if not td.reason and math.isfinite(td.ln_rmssd):
            vals.append(td.ln_rmssd)
        i = j
    if len(vals) < MIN_NOISE_WINDOWS:
        return Noise(
            math.nan,
            len(vals),
            f"the baseline gave {len(vals)} usable 30 s blocks (need {MIN_NOISE_WINDOWS}): "
            "too short to know the noise",
        )
    return Noise(float(np.std(vals, ddof=1)), len(vals))


def lapse_spans(
    markers: list, start_s: float, end_s: float
) -> tuple[int, tuple[tuple[float, float], ...]]:
    """Lapse count and lapsed intervals within [start_s, end_s) from lapse/rehold markers.

    Holding is the state at onset; `lapse` starts a lapsed span (if holding), `rehold`
    ends it; a span still open at the end of the hold runs to the end.
    """
    count = 0
    spans: list[tuple[float, float]] = []
    lapsed_at: float | None = None
    for m in sorted((m for m in markers if start_s <= m.t_s < end_s), key=lambda m: m.t_s):
        if m.kind == "lapse":
            count += 1
            if lapsed_at is None:
                lapsed_at = m.t_s
        elif m.kind == "rehold" and lapsed_at is not None:
            spans.append((lapsed_at, m.t_s))
            lapsed_at = None
    if lapsed_at is not None:
        spans.append((lapsed_at, end_s))
    return count, tuple(spans)


def lapse_onsets(markers, start_s: float, end_s: float) -> list[float]:
    """Starts of lapsed spans in [start_s, end_s): a lapse while already lapsed is not new."""
    return [a for a, _ in lapse_spans(markers, start_s, end_s)[1]]


def lapse_responses(
    prep: Prepared, holds: list[PhaseSpan], base: PhaseSpan | None, noise: Noise | None = None
) -> list[LapseResponse]:
    onsets = [(ph, lapse_onsets(prep.rec.markers, ph.start_s, ph.end_s)) for ph in holds]
    if not any(ts for _, ts in onsets):
        return []  # (compare asks hold by hold: most holds have no lapse)
    noise = noise or baseline_noise(prep, base)
    base_ln = math.nan
    if base is not None:
        b0, b1 = np.searchsorted(prep.t_s, [base.start_s, base.end_s], side="left")
        base_td = _td(prep, int(b0), int(b1))
        base_ln = base_td.ln_rmssd if not base_td.reason else math.nan
    cum = _cum(prep)
    out = []
    nan = math.nan
    for ph, ts in onsets:
        h0, h1 = np.searchsorted(prep.t_s, [ph.start_s, ph.end_s], side="left")
        for t in ts:
            it = int(np.searchsorted(prep.t_s, t, side="left"))
            pa = _backward(cum, it)
            qa = int(np.searchsorted(prep.t_s, t + POST_DELAY_S, side="left"))
            qb = _forward(cum, qa) if qa < prep.t_s.size else None
            why = ""
            if pa is None or pa < h0:
                why = "less than 30 s of the hold before the lapse"
            elif qb is None or qb > h1:
                why = f"the hold ended {max(0.0, ph.end_s - t):.0f} s after the lapse"
            pre = post = None
            if not why:
                pre, post = _td(prep, pa, it), _td(prep, qa, qb)  # type: ignore[arg-type]
                if pre.reason or post.reason:
                    why = f"too few usable beats ({pre.reason or post.reason})"
            if why or pre is None or post is None:
                out.append(
                    LapseResponse(t, ph.index, ph.mode, nan, nan, nan, nan, base_ln, None, nan, why)
                )
                continue
            change = post.ln_rmssd - pre.ln_rmssd
            away = pre.ln_rmssd - base_ln
            toward = None
            if math.isfinite(away) and away != 0 and change != 0:
                toward = (change < 0) == (away > 0)
            out.append(
                LapseResponse(
                    t,
                    ph.index,
                    ph.mode,
                    pre.ln_rmssd,
                    post.ln_rmssd,
                    change,
                    post.hr_bpm - pre.hr_bpm,
                    base_ln,
                    toward,
                    noise.ci_half,
                )
            )
    return out
