"""Catch-up: when does the body leave its baseline while a belief is held, and how fast.

DESIGN.md §3. Pure functions of plain arrays (times in session seconds, one value per
beat, NaN where the metric is not valid), shared by the live view (`LiveCatchUp`) and the
offline report (`catch_up`). The two must agree exactly on the same samples: they use the
same rule and the same float operations, and tests/test_catchup.py checks it.

The rule, in words:

* **Baseline band** = mean ± k·SD of *independent* window estimates over the baseline:
  the rolling metric sampled once per window length, stepping back from the baseline's
  end (3 values for a 3-min baseline and a 60-s window). Their SD is the sampling
  variability of one window's estimate; the SD of the per-beat rolling series is several
  times smaller (a smoothed, autocorrelated series: 68.0 ± 0.3 bpm fired on any drift).
  The SD is never below a floor measured on real resting hearts (`BAND_FLOOR`), which
  also gives a 1-minute baseline (one window) its width. The band is a prediction
  interval for one new window: mean ± k·SD·sqrt(1 + 1/n) over n windows. k = 2 and a 75-s
  dwell keep false catch-ups on real resting RR at <= 5 % (docs/analysis.md).
* A sample is *out* on the **up** side when value > band.hi, on the **down** side when
  value < band.lo. Only sides allowed by the expected direction count (`up`, `down` or
  `both`); a NaN sample is never out.
* A **run** is a stretch of consecutive samples out on the same side, with no two
  consecutive samples further apart than `max_gap_s` (a connection gap or a long stretch
  without valid metric is not evidence of "staying out").
* The hold has **caught up** at the first sample whose run has lasted ≥ `dwell_s`
  (time of that sample − time of the run's first sample). The **latency** is the time
  from hold onset to the *start* of that run: when the metric left the band for good,
  not when we became sure of it.
* A run that is already under way at the hold's first sample is **carry-over** (e.g. from
  the previous hold), never a catch-up: the hold reads "out of band at onset" with no
  latency. Only a run that starts inside the hold counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["up", "down", "both"]
DIRECTIONS: tuple[str, ...] = ("up", "down", "both")

NOT_YET = "not yet"
CATCHING_UP = "catching up"
CAUGHT_UP = "caught up"
OUT_AT_ONSET = "out of band at onset"
CARRY_OVER_REASON = (
    "out of band at onset (carried over from before the hold): no latency; it counts only "
    "if the metric returns to the band and then leaves it again"
)

#: Calibrated on real resting RR (tests/test_catchup_real.py, benchmarks/bench_catchup.py,
#: docs/analysis.md): 70 cuts of 3-min baseline + 5-min hold from the real corpus, nothing
#: changing at onset. With independent-window bands (prediction interval, real floors),
#: k = 2 and a 75-s dwell declare a catch-up in 1 % of holds (one- and two-sided; 60 s:
#: 4-7 %; k = 1.5 / 60 s: 9-19 %), and catch ln RMSSD +0.9 in 90 % of holds (median 39 s),
#: HR -9 bpm in 86 % (46 s), but +0.3 / -3 bpm only in 21 % / 17 %: changes the size of
#: ordinary minute-to-minute variation cannot be told from it within one 5-min hold.
DEFAULT_K = 2.0
#: DESIGN.md §3 proposed 20 s. 20 s of a sliding 60 s window is mostly the same beats, so
#: staying out 20 s is weak evidence; on real resting hearts even 60 s at k = 2 gave 4-7 %
#: false catch-ups, 75 s gives 1-3 % (see DEFAULT_K). Configurable everywhere (--dwell).
DEFAULT_DWELL_S = 75.0
DEFAULT_MAX_GAP_S = 5.0
MIN_BAND_SAMPLES = 30

#: The smallest SD a band may have, per metric: the SD of independent 60-s window
#: estimates within 3-minute stretches of real resting RR (HR 1.6-3.2 bpm, median 2.2;
#: ln RMSSD 0.17-0.21 on the corpus of tests/data). Three windows estimate an SD poorly;
#: the floor stops a lucky, flat baseline from giving a band any drift leaves. At 0.15 for
#: ln RMSSD, two-sided false catch-ups on real rest were 4-6 %; at 0.2, 1 %.
BAND_FLOOR: dict[str, float] = {"hr": 2.0, "ln_rmssd": 0.2, "rmssd": 5.0, "sdnn": 5.0}

#: DESIGN.md §3 defaults. Soft and loving-kindness: vagal HRV up, HR down (Kirschner et
#: al. 2019; Kok et al. 2013). Fierce: arousal may raise HR while vagal HRV may also rise
#: (Di Bello et al. 2021), so it is detected two-sided and the direction is reported.
#: Neutral phases have no expectation: two-sided.
EXPECTED: dict[str, dict[str, Direction]] = {
    "ln_rmssd": {"soft": "up", "loving-kindness": "up", "fierce": "both"},
    "rmssd": {"soft": "up", "loving-kindness": "up", "fierce": "both"},
    "sdnn": {"soft": "up", "loving-kindness": "up", "fierce": "both"},
    "hf": {"soft": "up", "loving-kindness": "up", "fierce": "both"},
    "hr": {"soft": "down", "loving-kindness": "down", "fierce": "both"},
}


def expected_direction(
    metric: str, mode: str, overrides: Mapping[str, Mapping[str, str]] | None = None
) -> Direction:
    """Expected direction of `metric` in `mode`; `overrides` has the same shape as EXPECTED."""
    for table in (overrides or {}, EXPECTED):
        d = table.get(metric, {}).get(mode)
        if d is not None:
            if d not in DIRECTIONS:
                raise ValueError(
                    f"direction must be one of {DIRECTIONS}, got {d!r} for {metric}/{mode}"
                )
            return d  # type: ignore[return-value]
    return "both"


# ---------------------------------------------------------------- baseline band


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


# ---------------------------------------------------------------- latency (offline)


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Result of catch-up detection for one hold."""

    reached: bool
    latency_s: float  # onset -> start of the confirming run; NaN when not reached
    direction: str  # "up" / "down" when reached, else ""
    expected: str  # the direction(s) that counted
    t_left_s: float  # session time the metric left the band (start of the run); NaN
    t_confirmed_s: float  # session time the dwell completed; NaN
    dwell_s: float
    out_at_onset: bool = False  # the hold's first sample was already outside the band
    reason: str = ""  # why not reached / not computable

    @property
    def carried_over(self) -> bool:
        """Out of the band at onset and never a catch-up of its own."""
        return self.out_at_onset and not self.reached

    @property
    def label(self) -> str:
        if self.reached:
            return f"{self.latency_s:.0f} s ({self.direction})"
        if self.carried_over:
            return OUT_AT_ONSET
        return "not reached"


def _check(direction: str, dwell_s: float, max_gap_s: float) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if not dwell_s >= 0:
        raise ValueError(f"dwell_s must be >= 0, got {dwell_s!r}")
    if not max_gap_s > 0:
        raise ValueError(f"max_gap_s must be positive, got {max_gap_s!r}")


def _sides(v: np.ndarray, band: Band, direction: str) -> np.ndarray:
    side = np.zeros(v.shape, dtype=np.int8)
    if direction in ("up", "both"):
        side[v > band.hi] = 1
    if direction in ("down", "both"):
        side[v < band.lo] = -1
    return side


def catch_up(
    t_s: np.ndarray | list[float],
    values: np.ndarray | list[float],
    band: Band,
    onset_s: float,
    direction: Direction = "both",
    dwell_s: float = DEFAULT_DWELL_S,
    end_s: float | None = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> CatchUp:
    """Catch-up of one hold from per-beat samples (vectorised; same rule as LiveCatchUp).

    Samples before `onset_s` (and at or after `end_s`, when given) are ignored. `t_s` must
    be non-decreasing.
    """
    _check(direction, dwell_s, max_gap_s)
    nan = math.nan

    def none(reason: str) -> CatchUp:
        return CatchUp(False, nan, "", direction, nan, nan, dwell_s, False, reason)

    if not band.valid:
        return none(f"no baseline band: {band.reason}")
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"t_s and values differ in length ({t.size} vs {v.size})")
    keep = t >= onset_s
    if end_s is not None:
        keep &= t < end_s
    t, v = t[keep], v[keep]
    if t.size == 0:
        return none("no samples in the hold")
    if not np.isfinite(v).any():
        return none("the metric is never valid during the hold")
    side = _sides(v, band, direction)
    new_run = side != 0
    if t.size > 1:
        same = (side[1:] == side[:-1]) & (t[1:] - t[:-1] <= max_gap_s)
        new_run[1:] &= ~same
    # time of the run's first sample, carried forward over the run
    idx = np.where(new_run, np.arange(t.size), 0)
    np.maximum.accumulate(idx, out=idx)
    elapsed = t - t[idx]
    at_onset = bool(side[0] != 0)
    # a run under way at the first sample is carry-over, never a catch-up
    hit = np.flatnonzero((side != 0) & (elapsed >= dwell_s) & ~((idx == 0) & at_onset))
    if hit.size == 0:
        if at_onset:
            return CatchUp(False, nan, "", direction, nan, nan, dwell_s, True, CARRY_OVER_REASON)
        exp = {"up": "above", "down": "below", "both": "outside"}[direction]
        return none(f"never stayed {exp} the band for {dwell_s:g} s")
    i = int(hit[0])
    start = int(idx[i])
    t_left = float(t[start])
    return CatchUp(
        reached=True,
        latency_s=t_left - onset_s,
        direction="up" if side[i] > 0 else "down",
        expected=direction,
        t_left_s=t_left,
        t_confirmed_s=float(t[i]),
        dwell_s=dwell_s,
        out_at_onset=at_onset,
    )


# ---------------------------------------------------------------- latency (live)


@dataclass(frozen=True, slots=True)
class LiveState:
    state: str  # NOT_YET / CATCHING_UP / CAUGHT_UP / OUT_AT_ONSET
    latency_s: float  # when caught up, else NaN
    direction: str  # side currently out ("up"/"down") or of the catch-up; "" when in band
    out_for_s: float  # how long the current run has lasted (0 when in band)

    @property
    def caught_up(self) -> bool:
        return self.state == CAUGHT_UP


class LiveCatchUp:
    """Incremental catch-up for the live view: feed (t_s, value) per beat of the hold.

    Once caught up the state latches (the latency of a hold is its first catch-up).
    `result()` returns the same CatchUp the offline `catch_up` gives on the samples fed.
    """

    def __init__(
        self,
        band: Band,
        onset_s: float,
        direction: Direction = "both",
        dwell_s: float = DEFAULT_DWELL_S,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
    ) -> None:
        _check(direction, dwell_s, max_gap_s)
        self.band = band
        self.onset_s = onset_s
        self.direction = direction
        self.dwell_s = dwell_s
        self.max_gap_s = max_gap_s
        self._n = 0  # samples at/after onset
        self._any_valid = False
        self._prev_t: float | None = None
        self._prev_side = 0
        self._run_t0 = math.nan
        self._run_first = False  # current run started at the first sample
        self._onset_out = False  # the first sample was outside the band
        self._done: CatchUp | None = None

    def _side(self, value: float) -> int:
        b = self.band
        if self.direction in ("down", "both") and value < b.lo:
            return -1
        if self.direction in ("up", "both") and value > b.hi:
            return 1
        return 0

    def update(self, t_s: float, value: float) -> LiveState:
        if self._done is not None:
            d = self._done
            return LiveState(CAUGHT_UP, d.latency_s, d.direction, t_s - d.t_left_s)
        if t_s < self.onset_s or not self.band.valid:
            return LiveState(NOT_YET, math.nan, "", 0.0)
        if value == value:  # not NaN
            self._any_valid = True
        side = self._side(value)
        if self._n == 0:
            self._onset_out = side != 0
        if side != 0:
            prev = self._prev_t
            continuing = (
                prev is not None and side == self._prev_side and t_s - prev <= self.max_gap_s
            )
            if not continuing:
                self._run_t0 = t_s
                self._run_first = self._n == 0
        self._prev_t = t_s
        self._prev_side = side
        self._n += 1
        if side == 0:
            return LiveState(NOT_YET, math.nan, "", 0.0)
        elapsed = t_s - self._run_t0
        name = "up" if side > 0 else "down"
        if self._run_first:
            # carry-over from before the hold: shown as such, never a catch-up
            return LiveState(OUT_AT_ONSET, math.nan, name, elapsed)
        if elapsed >= self.dwell_s:
            self._done = CatchUp(
                reached=True,
                latency_s=self._run_t0 - self.onset_s,
                direction=name,
                expected=self.direction,
                t_left_s=self._run_t0,
                t_confirmed_s=t_s,
                dwell_s=self.dwell_s,
                out_at_onset=self._onset_out,
            )
            return LiveState(CAUGHT_UP, self._done.latency_s, name, elapsed)
        return LiveState(CATCHING_UP, math.nan, name, elapsed)

    def result(self) -> CatchUp:
        """The hold's catch-up so far, in the offline function's terms."""
        if self._done is not None:
            return self._done
        nan = math.nan
        if not self.band.valid:
            reason = f"no baseline band: {self.band.reason}"
        elif self._n == 0:
            reason = "no samples in the hold"
        elif not self._any_valid:
            reason = "the metric is never valid during the hold"
        elif self._onset_out:
            return CatchUp(
                False, nan, "", self.direction, nan, nan, self.dwell_s, True, CARRY_OVER_REASON
            )
        else:
            exp = {"up": "above", "down": "below", "both": "outside"}[self.direction]
            reason = f"never stayed {exp} the band for {self.dwell_s:g} s"
        return CatchUp(False, nan, "", self.direction, nan, nan, self.dwell_s, False, reason)


# ---------------------------------------------------------------- time constant


@dataclass(frozen=True, slots=True)
class ExpFit:
    """y(t) = y0 + amplitude·(1 − exp(−(t − onset)/τ)) fitted to a hold's trajectory."""

    tau_s: float  # NaN when it cannot be fitted (see reason)
    tau_se_s: float  # standard error of τ from the fit covariance (NaN when unknown)
    amplitude: float
    y0: float
    r2: float  # coefficient of determination on the fitted samples (NaN when undefined)
    n: int  # samples used
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def quality(self) -> str:
        """A word for the fit: good (R² ≥ 0.6), fair (≥ 0.3), poor, or none."""
        if not math.isfinite(self.r2):
            return "none"
        return "good" if self.r2 >= 0.6 else "fair" if self.r2 >= 0.3 else "poor"


def _model(x: np.ndarray, y0: float, a: float, tau: float) -> np.ndarray:
    return y0 + a * -np.expm1(-x / tau)


def _model_jac(x: np.ndarray, y0: float, a: float, tau: float) -> np.ndarray:
    """Analytic Jacobian of _model (curve_fit would otherwise difference it numerically)."""
    e = np.exp(-x / tau)
    return np.column_stack((np.ones_like(x), 1.0 - e, -a * x * e / (tau * tau)))


#: a rolling metric sampled per beat is smooth on the scale of its window; fitting more
#: than this many samples (a long hold) costs time and adds no information
MAX_FIT_SAMPLES = 600


MIN_FIT_POINTS = 20
MIN_FIT_SPAN_S = 30.0


def fit_exponential(
    t_s: np.ndarray | list[float],
    values: np.ndarray | list[float],
    onset_s: float,
    end_s: float | None = None,
    min_points: int = MIN_FIT_POINTS,
    min_span_s: float = MIN_FIT_SPAN_S,
    tau_min_s: float = 1.0,
    tau_max_factor: float = 5.0,
) -> ExpFit:
    """First-order time constant of the trajectory after onset (least squares).

    τ is bounded to [tau_min_s, tau_max_factor × observed span]; a fit that ends on a
    bound means the data show no plateau (or a jump) within the hold, so τ is reported
    as NaN with that reason rather than as a number that means nothing.
    """
    nan = math.nan
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"t_s and values differ in length ({t.size} vs {v.size})")
    keep = (t >= onset_s) & np.isfinite(v) & np.isfinite(t)
    if end_s is not None:
        keep &= t < end_s
    x, y = t[keep] - onset_s, v[keep]
    if x.size > MAX_FIT_SAMPLES:
        step = -(-x.size // MAX_FIT_SAMPLES)
        x, y = x[::step], y[::step]
    n = int(x.size)

    def fail(reason: str, r2: float = nan, y0: float = nan, a: float = nan) -> ExpFit:
        return ExpFit(nan, nan, a, y0, r2, n, reason)

    if n < min_points:
        return fail(f"only {n} valid samples (need {min_points})")
    span = float(x[-1] - x[0])
    if span < min_span_s:
        return fail(f"only {span:.0f} s of valid samples (need {min_span_s:.0f} s)")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if not ss_tot > 0:
        return fail("the trajectory is constant: nothing to fit", y0=float(y[0]), a=0.0)
    tau_max = tau_max_factor * max(float(x[-1]), span)
    # Variable projection: for a given τ the model is linear in (y0, a), solved exactly;
    # only τ is searched: a log grid, then the same grid again and again inside the
    # bracket around the best point, to 1e-6 in ln τ. Much faster than a 3-parameter
    # trust-region fit, it cannot stop in a local minimum the grid has seen past, and it
    # needs no scipy.optimize (0.3 s of every report's start-up).
    g_best = _refine_log_tau(x, y, math.log(tau_min_s), math.log(tau_max))
    tau = math.exp(g_best)
    sse, y0, a = _vp_sse(x, y, tau)
    r2 = 1.0 - sse / ss_tot
    if tau >= tau_max * 0.99:
        return fail(f"no plateau within the hold (τ would exceed {tau_max:.0f} s)", r2, y0, a)
    if tau <= tau_min_s * 1.01:
        return fail("a step at onset, not a gradual approach (τ at its lower bound)", r2, y0, a)
    # standard error of τ as curve_fit reports it: (JᵀJ)⁻¹ · SSE / (n − 3)
    jac = _model_jac(x, y0, a, tau)
    try:
        cov = np.linalg.inv(jac.T @ jac) * (sse / max(n - 3, 1))
        se = float(np.sqrt(cov[2, 2])) if cov[2, 2] >= 0 else nan
    except np.linalg.LinAlgError:
        se = nan
    return ExpFit(tau, se, a, y0, r2, n)


def _refine_log_tau(x: np.ndarray, y: np.ndarray, log_lo: float, log_hi: float) -> float:
    """ln τ of the least SSE: a 48-point grid over [log_lo, log_hi], then 33 points across
    the bracket of the best point's neighbours until the bracket is < 1e-6 wide."""
    grid = np.linspace(log_lo, log_hi, 48)
    while True:
        sses = _vp_sse_grid(x, y, np.exp(grid))
        i = int(np.argmin(sses))
        lo_g, hi_g = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if hi_g - lo_g < 1e-6:
            return float(grid[i])
        grid = np.linspace(lo_g, hi_g, 33)


def _vp_sse_grid(x: np.ndarray, y: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """`_vp_sse`'s SSE for many τ at once (one matrix instead of a call per grid point)."""
    bc = -np.expm1(-x[None, :] / taus[:, None])
    bc -= bc.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    den = np.einsum("ij,ij->i", bc, bc)
    a = np.divide(bc @ yc, den, out=np.zeros_like(den), where=den > 0)
    r = yc[None, :] - a[:, None] * bc
    return np.einsum("ij,ij->i", r, r)


def _vp_sse(x: np.ndarray, y: np.ndarray, tau: float) -> tuple[float, float, float]:
    """(SSE, y0, a) of the best linear fit of y ≈ y0 + a·(1 − e^(−x/τ)) for a fixed τ."""
    b = -np.expm1(-x / tau)
    bm = b.mean()
    ym = y.mean()
    bc = b - bm
    den = float(bc @ bc)
    a = float(bc @ (y - ym)) / den if den > 0 else 0.0
    y0 = ym - a * bm
    r = y - y0 - a * b
    return float(r @ r), float(y0), a
