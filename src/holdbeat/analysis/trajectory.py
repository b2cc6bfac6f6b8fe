"""Per-beat rolling metrics (vectorised) and event-locked trajectories.

`rolling_metrics` computes, for every beat, what the live `LiveWindow` shows at that beat
(HR, RMSSD, ln RMSSD, SDNN over the trailing window, with the same validity rules), but
for a whole recording at once with cumulative sums instead of a Python loop. Invalid
samples are NaN, exactly where the live view shows a gap. tests/test_report.py checks
the agreement with LiveWindow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdbeat.metrics import MIN_BEATS_HR, MIN_BEATS_SDNN, MIN_COVERAGE, MIN_DIFFS_RMSSD

METRICS = ("hr", "rmssd", "ln_rmssd", "sdnn")


@dataclass(frozen=True)
class Rolling:
    t_s: np.ndarray
    hr: np.ndarray  # bpm
    rmssd: np.ndarray  # ms
    ln_rmssd: np.ndarray  # ln(ms)
    sdnn: np.ndarray  # ms
    valid: np.ndarray  # bool
    window_s: float

    def metric(self, name: str) -> np.ndarray:
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r} (one of {', '.join(METRICS)})")
        return getattr(self, name)

    def between(self, start_s: float, end_s: float) -> np.ndarray:
        return (self.t_s >= start_s) & (self.t_s < end_s)


def rolling_metrics(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    gap_before: np.ndarray,
    artifact: np.ndarray,
    window_s: float = 60.0,
) -> Rolling:
    """Trailing-window metrics at every beat: window (t − window_s, t], clean beats only.

    A successive difference counts when both beats are clean and contiguous and both are
    inside the window (LiveWindow forgets the difference of the window's first beat). A
    sample is valid when LiveMetrics.valid would be: enough clean beats and differences,
    clean RR covering MIN_COVERAGE of the window, RMSSD > 0.
    """
    if not window_s > 0:
        raise ValueError("window_s must be positive")
    t = np.asarray(t_s, dtype=float)
    rr = np.asarray(rr_ms, dtype=float)
    n = t.size
    ok = ~np.asarray(artifact, dtype=bool)
    gap = np.asarray(gap_before, dtype=bool)
    nan = np.full(n, np.nan)
    if n == 0:
        e = np.zeros(0)
        return Rolling(e, e, e, e, e, np.zeros(0, bool), window_s)
    j = np.searchsorted(t, t - window_s, side="right")  # first beat inside each window
    shift = float(np.median(rr[ok])) if ok.any() else 0.0
    x = np.where(ok, rr - shift, 0.0)
    c_n = np.concatenate([[0], np.cumsum(ok)])
    c_1 = np.concatenate([[0.0], np.cumsum(x)])
    c_2 = np.concatenate([[0.0], np.cumsum(x * x)])
    has_d = np.zeros(n, bool)
    d2 = np.zeros(n)
    if n > 1:
        has_d[1:] = ok[1:] & ok[:-1] & ~gap[1:]
        d2[1:] = np.where(has_d[1:], np.diff(rr) ** 2, 0.0)
    c_nd = np.concatenate([[0], np.cumsum(has_d)])
    c_d2 = np.concatenate([[0.0], np.cumsum(d2)])
    idx = np.arange(n)
    cnt = c_n[idx + 1] - c_n[j]
    s1 = c_1[idx + 1] - c_1[j]
    s2 = c_2[idx + 1] - c_2[j]
    dj = np.minimum(j + 1, idx + 1)  # differences of beats j+1..i
    nd = c_nd[idx + 1] - c_nd[dj]
    sd2 = c_d2[idx + 1] - c_d2[dj]
    clean_s = (s1 + cnt * shift) / 1000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = shift + s1 / cnt
        hr = 60000.0 / mean
        var = np.maximum(0.0, (s2 - s1 * s1 / cnt) / (cnt - 1))
        sdnn = np.sqrt(var)
        rmssd = np.sqrt(np.maximum(0.0, sd2) / nd)
        ln = np.log(rmssd)
    valid = (
        (cnt >= max(MIN_BEATS_HR, MIN_BEATS_SDNN))
        & (nd >= MIN_DIFFS_RMSSD)
        & (clean_s >= MIN_COVERAGE * window_s)
        & (rmssd > 0)
    )
    return Rolling(
        t_s=t,
        hr=np.where(valid, hr, nan),
        rmssd=np.where(valid, rmssd, nan),
        ln_rmssd=np.where(valid, ln, nan),
        sdnn=np.where(valid, sdnn, nan),
        valid=valid,
        window_s=window_s,
    )


def resample(
    t_s: np.ndarray, values: np.ndarray, grid_s: np.ndarray, max_gap_s: float = 5.0
) -> np.ndarray:
    """Values on a time grid: the last valid sample at or before each grid time, NaN when
    that sample is older than `max_gap_s` (no interpolation across holes)."""
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    good = np.isfinite(v)
    t, v = t[good], v[good]
    out = np.full(grid_s.shape, np.nan)
    if t.size == 0:
        return out
    i = np.searchsorted(t, grid_s, side="right") - 1
    ok = i >= 0
    ii = np.where(ok, i, 0)
    ok &= grid_s - t[ii] <= max_gap_s
    out[ok] = v[ii[ok]]
    return out


def event_locked(
    rolling_t_s: np.ndarray,
    values: np.ndarray,
    event_t_s: float,
    pre_s: float,
    post_s: float,
    step_s: float = 1.0,
    limit: tuple[float, float] | None = None,
) -> np.ndarray:
    """One epoch: values at event + offsets (−pre_s … +post_s, step_s), NaN outside `limit`
    (session times the epoch may use, e.g. the hold and the phase before it)."""
    offs = np.arange(-pre_s, post_s + step_s / 2, step_s)
    grid = event_t_s + offs
    out = resample(rolling_t_s, values, grid)
    if limit is not None:
        out[(grid < limit[0]) | (grid >= limit[1])] = np.nan
    return out
