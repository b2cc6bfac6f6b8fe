"""Catch-up: when does the body leave its baseline while a belief is held, and how fast.

DESIGN.md §3. Pure functions of plain arrays (times in session seconds, one value per
beat, NaN where the metric is not valid), shared by the live view (`LiveCatchUp`) and the
offline report (`catch_up`). The two must agree exactly on the same samples: they use the
same rule and the same float operations, and tests/test_catchup.py checks it. The band
is computed in holdbeat.analysis.baseline_band; how fast (the time constant τ) in
holdbeat.analysis.time_constant.

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

from holdbeat.analysis.baseline_band import Band

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

#: DESIGN.md §3 proposed 20 s. 20 s of a sliding 60 s window is mostly the same beats, so
#: staying out 20 s is weak evidence; on real resting hearts even 60 s at k = 2 gave 4-7 %
#: false catch-ups, 75 s gives 1-3 % (see baseline_band.DEFAULT_K). Configurable everywhere
#: (--dwell).
DEFAULT_DWELL_S = 75.0
DEFAULT_MAX_GAP_S = 5.0

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
