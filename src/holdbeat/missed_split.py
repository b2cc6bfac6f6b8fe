"""How a long RR that hides k beats (missed R peaks) is cut into k intervals.

The paper (Lipponen & Tarvainen 2019), Kubios and neurokit2 cut it into k equal parts. That
keeps the beat times right but removes the beat-to-beat change inside the long interval -
respiratory sinus arrhythmia, i.e. HF power. holdbeat lets the parts follow the rhythm
around the gap instead: their shape comes from an interpolation through the clean beats
before and after, and they are scaled to sum to the long interval, so every recorded beat
keeps its time as with equal parts; only where the inserted beats fall changes.

* "ar" (default): the parts that make the run's own rhythm model (an AR(8) fitted by least
  squares to its clean stretches) predict the beats across the gap best - least-squares
  interpolation under an AR model. Where no model can be fitted (a short run), the context
  is too short, or the parts would be implausible, the cubic below.
* "pchip": the monotone cubic (PCHIP, as scipy's) through two beats on each side. It
  bends where the rhythm turns (a neighbour at a breathing peak or trough): for k = 2 the
  step between the two parts is then up to 13/27 = 0.48 of the step from the beat before
  to the beat after; on a steady trend it is 1/3 (the line). On clean real RR the
  least-squares slope of that step on the step across is 0.37-0.52 (docs/hrv.md).
* "linear": the straight line from the beat before to the beat after (step 1/3).
* "equal": the paper's equal parts (step 0).

Without a clean beat on either side there is no rhythm to follow: equal parts. Without the
second beat on a side, "pchip" falls back to the line. Measured in docs/hrv.md (4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SPLITS = ("pchip", "linear", "equal", "ar")


def _usable(v: float | None) -> bool:
    return v is not None and math.isfinite(v) and v > 0


def _slope_at(h0: float, m0: float, h1: float, m1: float) -> float:
    """PCHIP's derivative at a knot between a span (h0, slope m0) and the next (h1, m1):
    0 at a turn or a flat span, else the weighted harmonic mean (Fritsch & Butland 1984),
    as scipy.interpolate.PchipInterpolator computes it."""
    if m0 == 0 or m1 == 0 or (m0 > 0) != (m1 > 0):
        return 0.0
    w1, w2 = 2 * h1 + h0, h1 + 2 * h0
    return (w1 + w2) / (w1 / m0 + w2 / m1)


def _pchip_middle(y0: float, y1: float, y2: float, y3: float, k: int, i: np.ndarray):
    """PchipInterpolator([-1, 0, k + 1, k + 2], [y0..y3]) at positions `i` in (0, k + 1):
    the middle span's cubic Hermite, in numpy (scipy.interpolate costs 0.2 s of a report's
    start-up; tests compare with scipy)."""
    h = k + 1.0
    m = (y2 - y1) / h
    d1 = _slope_at(1.0, y1 - y0, h, m)
    d2 = _slope_at(h, m, 1.0, y3 - y2)
    t = i / h
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * y1
        + (t3 - 2 * t2 + t) * h * d1
        + (-2 * t3 + 3 * t2) * y2
        + (t3 - t2) * h * d2
    )


def split_long_rr(
    total_ms: float,
    k: int,
    before_ms: float | None,
    after_ms: float | None,
    how: str = "pchip",
    outer_ms: tuple[float | None, float | None] = (None, None),
) -> np.ndarray:
    """`k` parts of `total_ms` that sum to it exactly.

    The clean beats around the gap sit at beat positions 0 (`before_ms`) and k + 1
    (`after_ms`); `outer_ms` = (the beat before that, at -1; the beat after, at k + 2). Part
    i (1..k) is proportional to the interpolation at position i.
    """
    if how not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {how!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    i = np.arange(1, k + 1, dtype=float)
    if how == "equal" or k == 1 or not (_usable(before_ms) and _usable(after_ms)):
        w = np.ones(k)
    elif how in ("pchip", "ar") and all(_usable(v) for v in outer_ms):
        w = _pchip_middle(outer_ms[0], before_ms, after_ms, outer_ms[1], k, i)  # type: ignore[arg-type]
    else:
        w = before_ms + (after_ms - before_ms) * i / (k + 1)
    parts = w * (total_ms / w.sum())
    # the parts sum to the long interval (to rounding); the last one ends at the recorded beat
    parts[-1] = total_ms - parts[:-1].sum()
    return parts


def missed_parts(
    v: float, m: float, tol: float, max_missed: int, around: tuple[float | None, float | None]
) -> int:
    """How many beats a long RR `v` hides (0: not a missed beat). Each part must lie within
    `tol` of the local median `m` - or of the mean of the clean beats just before and after
    the gap: when the heart rate changes within a few beats the 11-beat median lags the
    rhythm (it still holds the old rate), while the neighbours are the rhythm the gap is in."""
    for ref in (m, mean_pair(*around)):
        k = round(v / ref) if ref > 0 else 0
        if 2 <= k <= max_missed + 1 and abs(v / k - ref) < tol:
            return k
    return 0


def mean_pair(a: float | None, b: float | None) -> float:
    return (a + b) / 2.0 if a is not None and b is not None else 0.0


# ---------------------------------------------------------------- the rhythm's own model

#: AR order of the rhythm model ("ar" split): lags covering more than one breath at rest
#: (4-6 beats). Orders 4, 6, 8 and 12 measured alike (docs/hrv.md 4).
AR_ORDER = 8
#: least-squares rows (clean stretches of order + 1 beats) needed per coefficient
AR_ROWS_PER_COEF = 10


@dataclass(frozen=True)
class ArFit:
    """An autoregressive model of a run's clean beats: x_t = sum phi_j x_(t-j) + e_t, with
    x = RR - mean_ms."""

    phi: np.ndarray
    mean_ms: float
    _solvers: dict = field(default_factory=dict, compare=False, repr=False)  # per gap shape

    def solver(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For k unknown beats of known sum: (move, gain) such that the least-squares parts
        are sum / k + move @ (gain @ seg), seg = [p before, k x sum / k, p after] - mean.
        The same for every gap of a run, so made once per k (a run splits many)."""
        if k not in self._solvers:
            p = len(self.phi)
            c = _error_rows(self.phi, k)
            null = np.zeros((2 * p + k, k - 1))  # moves keeping the sum: +1 on part i,
            for i in range(k - 1):  # -1 on the last
                null[p + i, i] = 1.0
                null[p + k - 1, i] = -1.0
            self._solvers[k] = (null[p : p + k], -np.linalg.pinv(c @ null) @ c)
        return self._solvers[k]

    def fill_gain(self) -> np.ndarray:
        """For one unknown beat: the gain such that the least-squares beat is
        mean + gain @ seg, seg = [p before, 0, p after] - mean (made once per model)."""
        if "fill" not in self._solvers:
            p = len(self.phi)
            c = _error_rows(self.phi, 1)
            col = c[:, p]
            self._solvers["fill"] = -(col @ c) / (col @ col)
        return self._solvers["fill"]


def ar_fit(rr_ms: np.ndarray, bad: np.ndarray, order: int = AR_ORDER) -> ArFit | None:
    """Least-squares AR(order) of a run's RR over every stretch of order + 1 beats with no
    flagged beat; None when there are fewer than AR_ROWS_PER_COEF such stretches per
    coefficient (a short run: the caller falls back to the cubic)."""
    rr = np.asarray(rr_ms, dtype=float)
    good = ~np.asarray(bad, dtype=bool)
    if len(rr) < order + 1 or not good.any():
        return None
    mean = float(rr[good].mean())
    win = np.lib.stride_tricks.sliding_window_view(rr - mean, order + 1)
    ok = np.lib.stride_tricks.sliding_window_view(good, order + 1).all(axis=1)
    if ok.sum() < AR_ROWS_PER_COEF * order:
        return None
    rows = win[ok]
    lags, y = rows[:, order - 1 :: -1], rows[:, order]
    # the normal equations (order x order) cost a tenth of an SVD of the rows; a singular
    # or ill-conditioned system (a nearly constant run) takes the SVD's minimum-norm answer
    gram = lags.T @ lags
    if np.linalg.cond(gram) < 1e10:
        return ArFit(np.linalg.solve(gram, lags.T @ y), mean)
    phi, *_ = np.linalg.lstsq(lags, y, rcond=None)
    return ArFit(phi, mean)


def _error_rows(phi: np.ndarray, k: int) -> np.ndarray:
    """The one-step prediction errors of the beats that see one of k unknown beats, as rows
    over [p beats before, the k beats, p beats after]: rows p .. p + k + p - 1."""
    p = len(phi)
    c = np.zeros((k + p, 2 * p + k))
    for r in range(k + p):
        t = p + r
        c[r, t] = 1.0
        c[r, t - p : t] -= phi[::-1]
    return c


def ar_split(
    total_ms: float, k: int, before_ms: np.ndarray, after_ms: np.ndarray, fit: ArFit
) -> np.ndarray | None:
    """`k` parts of `total_ms` (same sum) that make the rhythm's one-step prediction errors
    across the gap least (least-squares interpolation of missing samples under an AR
    model). `before_ms` / `after_ms`: at least p beats on each side. None when the parts
    are not plausible (a part off the mean part by more than half)."""
    p = len(fit.phi)
    if len(before_ms) < p or len(after_ms) < p or k < 1:
        return None
    if k == 1:
        return np.array([total_ms])
    seg = np.concatenate([before_ms[-p:], np.full(k, total_ms / k), after_ms[:p]]) - fit.mean_ms
    move, gain = fit.solver(k)
    parts = total_ms / k + move @ (gain @ seg)
    if np.any(np.abs(parts - total_ms / k) > 0.5 * total_ms / k):
        return None
    parts[-1] = total_ms - parts[:-1].sum()
    return parts


def ar_fill(before_ms: np.ndarray, after_ms: np.ndarray, fit: ArFit) -> float | None:
    """The one beat the rhythm model expects between `before_ms` and `after_ms` (at least p
    beats each): the value that makes the one-step prediction errors of every beat that
    sees it least. None without a full context."""
    p = len(fit.phi)
    if len(before_ms) < p or len(after_ms) < p:
        return None
    seg = np.concatenate([before_ms[-p:], [fit.mean_ms], after_ms[:p]]) - fit.mean_ms
    return float(fit.mean_ms + fit.fill_gain() @ seg)


#: clean pairs a run needs before the premature-pair test trusts its spread
PAIR_Z_MIN_PAIRS = 30


def pair_deviation(
    rr_ms: np.ndarray, fit: ArFit, context_ms: np.ndarray | None = None
) -> np.ndarray:
    """Per beat t: RR_t minus the first part of the model's split of RR_t + RR_(t+1) (what
    `ar_split` gives from the p beats on each side, taken from `context_ms` - the run with
    its flagged beats interpolated - when given), NaN where a side has fewer than p beats.
    The split is linear in its context, so every beat at once: x*_t = S_t / 2 + g . seg_t."""
    rr = np.asarray(rr_ms, dtype=float)
    p = len(fit.phi)
    n = len(rr)
    out = np.full(n, np.nan)
    m = 2 * p + 2
    if n < m:
        return out
    gain = fit.solver(2)[1][0]  # the first part's move, per context beat
    ctx = rr if context_ms is None else np.asarray(context_ms, dtype=float)
    win = np.lib.stride_tricks.sliding_window_view(ctx - fit.mean_ms, m).copy()
    total = rr[p : p + len(win)] + rr[p + 1 : p + 1 + len(win)]
    win[:, p] = win[:, p + 1] = total / 2 - fit.mean_ms
    out[p : p + len(win)] = rr[p : p + len(win)] - (total / 2 + win @ gain)
    return out


def robust_z(d: np.ndarray, clean: np.ndarray) -> np.ndarray | None:
    """(d - median) / (1.4826 MAD) over the `clean` entries: in robust standard deviations
    of the run's own clean pairs; None with fewer than PAIR_Z_MIN_PAIRS of them or no spread."""
    ok = np.asarray(clean, dtype=bool) & np.isfinite(d)
    if ok.sum() < PAIR_Z_MIN_PAIRS:
        return None
    centre = float(np.median(d[ok]))
    spread = 1.4826 * float(np.median(np.abs(d[ok] - centre)))
    return (d - centre) / spread if spread > 0 else None
