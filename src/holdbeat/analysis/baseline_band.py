"""The baseline band: how far a metric may wander before the body has moved.

mean ± k·SD of *independent* window estimates over the baseline: the rolling metric
sampled once per window length, stepping back from the baseline's end. Their SD is the
sampling variability of one window's estimate (the per-beat rolling series is smoothed and
autocorrelated, its SD several times smaller); it is never below a floor measured on real
resting hearts (`BAND_FLOOR`), and the band is a prediction interval for one new window:
mean ± k·SD·sqrt(1 + 1/n) over n windows. The catch-up rule (holdbeat.analysis.catchup)
asks when a hold's metric leaves it and stays out. DESIGN.md §3, docs/analysis.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Calibrated on real resting RR (tests/test_catchup_real.py, benchmarks/bench_catchup.py,
#: docs/analysis.md): 70 cuts of 3-min baseline + 5-min hold from the real corpus, nothing
#: changing at onset. With independent-window bands (prediction interval, real floors),
#: k = 2 and a 75-s dwell declare a catch-up in 1 % of holds (one- and two-sided; 60 s:
#: 4-7 %; k = 1.5 / 60 s: 9-19 %), and catch ln RMSSD +0.9 in 90 % of holds (median 39 s),
#: HR -9 bpm in 86 % (46 s), but +0.3 / -3 bpm only in 21 % / 17 %: changes the size of
#: ordinary minute-to-minute variation cannot be told from it within one 5-min hold.
DEFAULT_K = 2.0
MIN_BAND_SAMPLES = 30

#: The smallest SD a band may have, per metric: the SD of independent 60-s window
#: estimates within 3-minute stretches of real resting RR (HR 1.6-3.2 bpm, median 2.2;
#: ln RMSSD 0.17-0.21 on the corpus of tests/data). Three windows estimate an SD poorly;
#: the floor stops a lucky, flat baseline from giving a band any drift leaves. At 0.15 for
#: ln RMSSD, two-sided false catch-ups on real rest were 4-6 %; at 0.2, 1 %.
BAND_FLOOR: dict[str, float] = {"hr": 2.0, "ln_rmssd": 0.2, "rmssd": 5.0, "sdnn": 5.0}


@dataclass(frozen=True, slots=True)
class Band:
    """mean ± k·SD of a metric over the baseline; `valid` False (with the reason) if unusable."""

    mean: float
    sd: float
    k: float
    n: int  # independent window estimates it was computed from
    metric: str = ""
    reason: str = ""

    @property
    def lo(self) -> float:
        return self.mean - self.k * self.sd

    @property
    def hi(self) -> float:
        return self.mean + self.k * self.sd

    @property
    def valid(self) -> bool:
        return not self.reason


#: The band needs one full window of baseline beats (a 1-minute baseline with a 60-s
#: window; its width comes from the floor when there is only one window). The first and
#: last beats fall up to a beat inside the phase, hence the 10 % slack.
MIN_BAND_WINDOW_SHARE = 0.9


def window_estimates(
    t_s: np.ndarray | list[float], values: np.ndarray | list[float], window_s: float
) -> np.ndarray:
    """Independent estimates of a rolling metric: its valid value at the last valid sample,
    and one window length before each, back to the first valid sample."""
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & np.isfinite(t)
    t, v = t[ok], v[ok]
    if t.size == 0:
        return np.zeros(0)
    ends = t[-1] - window_s * np.arange(int((t[-1] - t[0]) // window_s) + 1)
    idx = np.searchsorted(t, ends, side="right") - 1
    return v[idx]


def baseline_band(
    values: np.ndarray | list[float],
    k: float = DEFAULT_K,
    metric: str = "",
    min_samples: int = 1,
    t_s: np.ndarray | list[float] | None = None,
    window_s: float = 60.0,
    floor_sd: float | None = None,
) -> Band:
    """Band from the rolling metric's samples over the baseline (NaN samples ignored).

    mean and SD of the independent window estimates (`window_estimates`); SD at least
    `floor_sd` (default `BAND_FLOOR[metric]`, 0 for an unknown metric). `t_s` are the
    sample times (without them every sample is taken as independent: only for tests of
    the arithmetic).
    """
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    v = np.asarray(values, dtype=float)
    n_valid = int(np.isfinite(v).sum())
    if n_valid < max(1, min_samples):
        return Band(
            math.nan,
            math.nan,
            k,
            n_valid,
            metric,
            f"no valid baseline samples (the {window_s:g} s window never filled: the "
            f"baseline needs at least {window_s:g} s of clean beats)"
            if n_valid == 0
            else f"only {n_valid} valid baseline samples (need {min_samples})",
        )
    if t_s is not None:
        t_all = np.asarray(t_s, dtype=float)
        span = float(t_all[-1] - t_all[0]) if t_all.size else 0.0
        # one full window of baseline beats at least (the first and last beats fall up to
        # a beat inside the phase, hence the 10 % slack)
        if span < MIN_BAND_WINDOW_SHARE * window_s:
            return Band(
                math.nan,
                math.nan,
                k,
                n_valid,
                metric,
                f"baseline has {span:.0f} s of beats, shorter than one {window_s:g} s window: "
                f"the band needs a baseline of at least {window_s:g} s",
            )
    est = window_estimates(t_s, v, window_s) if t_s is not None else v[np.isfinite(v)]
    floor = BAND_FLOOR.get(metric, 0.0) if floor_sd is None else floor_sd
    mean = float(est.mean())
    sd = float(est.std(ddof=1)) if est.size >= 2 else 0.0
    # A prediction interval for one new window: its own variability plus the uncertainty
    # of a mean of n windows (sqrt(1 + 1/n)); only with real sample times (independent
    # windows), not for a plain list of values.
    widen = math.sqrt(1.0 + 1.0 / est.size) if t_s is not None else 1.0
    sd = max(sd, floor) * widen
    if not sd > 0:
        return Band(mean, sd, k, int(est.size), metric, "baseline is constant (SD 0): no band")
    return Band(mean, sd, k, int(est.size), metric)


#: Where a hold's band comes from. "baseline": the session's baseline, for every hold (the
#: default). "rest": the last baseline or rest phase before the hold, so a hold after a rest
#: is judged against where the rest left the body, not against the start of the session
#: (benchmarks/bench_reference.py: it cuts the carry-over of an earlier hold's effect into a
#: later hold's catch-up from 11-41 % to 2-5 % on real hearts; docs/analysis.md).
REFERENCES = ("baseline", "rest")
#: The header setting a session records its reference under (live = report).
REFERENCE_SETTING = "catchup_reference"


def reference_position(
    kinds: list[str], hold_pos: int, reference: str, baseline_pos: int | None
) -> int | None:
    """Position of the phase whose beats give the hold at `hold_pos` its band.

    `kinds` are the session's phase kinds in order; `baseline_pos` is the baseline the
    session uses ("baseline" always returns it). "rest": the nearest baseline or rest phase
    before the hold; none before it → the baseline's position (None without one)."""
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if reference == "rest":
        for i in range(hold_pos - 1, -1, -1):
            if kinds[i] in ("baseline", "rest"):
                return i
    return baseline_pos


def recorded_reference(settings: dict) -> str:
    """The reference a recorded session used live ("baseline" when it says none or
    something unknown: older recordings)."""
    ref = settings.get(REFERENCE_SETTING, "baseline") if isinstance(settings, dict) else ""
    return ref if ref in REFERENCES else "baseline"
