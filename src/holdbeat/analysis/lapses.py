"""What the body did after a lapse: the metric 30–60 s after it against the 30 s before it.

"The moment you stop holding it, the old predictive model wins by default." If that shows
in the body, ln RMSSD (or HR) moves back toward the baseline after a lapse. For every lapse
in a hold (the first `lapse` of a lapsed span, as `report` counts them):

- `pre`: the metric over the usable beats in [t − 30 s, t) — where the hold had got to;
- `post`: the same over [t + 30 s, t + 60 s) — the window the issue asks about: the body
  responds over tens of seconds, so the first 30 s after the key are mostly lag;
- `change` = post − pre, and whether it moved *toward* the baseline phase's value.

Both windows are per-window estimates (neurokit2 `hrv_time` definitions, via
holdbeat.analysis.prep.time_domain) on beats, not the rolling series, so they share no beat.
Their **uncertainty** comes from the baseline: the same 30 s estimate on the baseline's
non-overlapping 30 s windows varies by `noise_sd` with nothing happening, so a change
between two windows has a noise of √2 · noise_sd, and ±1.96 · √2 · noise_sd is the range a
change takes at rest 95 % of the time. A change outside it is more than noise; one inside
could be noise. Too short a baseline (fewer than 3 windows) gives no noise estimate, and the
report says so. Windows are clipped to the hold; a window with fewer than 20 s left, or too
few usable beats, gives NaN with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from holdbeat.analysis.prep import Prepared, time_domain
from holdbeat.recording import PhaseSpan

PRE_S = (30.0, 0.0)  # window before the lapse: [t − 30, t)
POST_S = (30.0, 60.0)  # window after: [t + 30, t + 60)
WINDOW_S = 30.0
MIN_WINDOW_S = 20.0
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


def _window(prep: Prepared, a: float, b: float):
    """time_domain over the beats in [a, b): the slice alone (beats are time-ordered), so a
    window costs its own beats, not the whole recording's."""
    i0, i1 = np.searchsorted(prep.t_s, [a, b], side="left")
    n = int(i1 - i0)
    return time_domain(
        prep.rr_ms[i0:i1], prep.gap_before[i0:i1], prep.usable[i0:i1], np.ones(n, bool)
    )


def baseline_noise(prep: Prepared, base: PhaseSpan | None) -> Noise:
    """SD of the 30 s ln RMSSD over the baseline phase's non-overlapping 30 s windows."""
    if base is None:
        return Noise(math.nan, 0, "no baseline phase")
    vals = []
    t = base.start_s
    while t + WINDOW_S <= base.end_s + 1e-9:
        td = _window(prep, t, t + WINDOW_S)
        if not td.reason and math.isfinite(td.ln_rmssd):
            vals.append(td.ln_rmssd)
        t += WINDOW_S
    if len(vals) < MIN_NOISE_WINDOWS:
        return Noise(
            math.nan,
            len(vals),
            f"the baseline gave {len(vals)} usable 30 s windows (need {MIN_NOISE_WINDOWS}): "
            "too short to know the noise",
        )
    return Noise(float(np.std(vals, ddof=1)), len(vals))


def lapse_onsets(markers, start_s: float, end_s: float) -> list[float]:
    """Starts of lapsed spans in [start_s, end_s): a lapse while already lapsed is not new."""
    out = []
    lapsed = False
    for m in sorted((m for m in markers if start_s <= m.t_s < end_s), key=lambda m: m.t_s):
        if m.kind == "lapse" and not lapsed:
            out.append(m.t_s)
            lapsed = True
        elif m.kind == "rehold":
            lapsed = False
    return out


def lapse_responses(
    prep: Prepared, holds: list[PhaseSpan], base: PhaseSpan | None, noise: Noise | None = None
) -> list[LapseResponse]:
    noise = noise or baseline_noise(prep, base)
    base_td = _window(prep, base.start_s, base.end_s) if base is not None else None
    base_ln = base_td.ln_rmssd if base_td is not None and not base_td.reason else math.nan
    out = []
    nan = math.nan
    for ph in holds:
        for t in lapse_onsets(prep.rec.markers, ph.start_s, ph.end_s):
            pa, pb = max(ph.start_s, t - PRE_S[0]), t
            qa, qb = t + POST_S[0], min(ph.end_s, t + POST_S[1])
            why = ""
            if pb - pa < MIN_WINDOW_S:
                why = f"only {pb - pa:.0f} s of the hold before the lapse"
            elif qb - qa < MIN_WINDOW_S:
                why = f"the hold ended {max(0.0, ph.end_s - t):.0f} s after the lapse"
            pre = post = None
            if not why:
                pre, post = _window(prep, pa, pb), _window(prep, qa, qb)
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
