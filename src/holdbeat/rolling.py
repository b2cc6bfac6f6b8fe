"""Centred rolling quantiles equal to pandas' `rolling(w, center=True, min_periods=1)
.quantile(q)` (what neurokit2 uses for the artifact thresholds), without pandas."""

from __future__ import annotations

import sys

import numpy as np

RANK_FILTER_MIN_CELLS = 2_000_000  # beats x window: ~22,000 beats at the 91-beat window


def rolling_quantile(x: np.ndarray, w: int, q: float) -> np.ndarray:
    """Centred rolling quantile (linear interpolation) over an odd window `w`, truncated
    at the ends: pandas' `rolling(w, center=True, min_periods=1).quantile(q)`."""
    return rolling_quantiles(x, w, (q,))[0]


def rolling_quantiles(
    x: np.ndarray, w: int, qs: tuple[float, ...], rank_filter: bool | None = None
) -> list[np.ndarray]:
    """`rolling_quantile` for several quantiles of the same series, from one sort of its windows.

    Equals pandas' `rolling(w, center=True, min_periods=1).quantile(q)` (what neurokit2
    uses; tests compare). Full windows: numpy sorts them in blocks for the usual session, so
    `report` imports neither pandas nor scipy.ndimage (0.3-0.5 s of start-up); scipy's rank
    filter (4x faster than the sort at a session's length) once a series is so long (hours)
    that sorting costs more than that import, or when the import is already paid (`compare`
    imports scipy.stats, which loads it). Both pick the same order statistics and
    interpolate them alike: the result does not depend on the path (tests compare bit for
    bit). `rank_filter` forces a path.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    h = w // 2
    outs = [np.empty(n) for _ in qs]
    if n == 0:
        return outs
    ranks = [(int(np.floor((w - 1) * q)), (w - 1) * q - np.floor((w - 1) * q)) for q in qs]
    if rank_filter is None:
        rank_filter = n * w > RANK_FILTER_MIN_CELLS or (n >= w and "scipy.ndimage" in sys.modules)
    if rank_filter:
        from scipy import ndimage

        for out, (lo, frac) in zip(outs, ranks, strict=True):
            out[:] = ndimage.rank_filter(x, lo, size=w, mode="nearest")
            if frac:
                out += frac * (ndimage.rank_filter(x, lo + 1, size=w, mode="nearest") - out)
    elif n >= w:
        full = np.lib.stride_tricks.sliding_window_view(x, w)
        block = max(1, 262_144 // w)  # bounded memory
        for a in range(0, len(full), block):
            srt = np.sort(full[a : a + block], axis=1)
            for out, (lo, frac) in zip(outs, ranks, strict=True):
                v = srt[:, lo]
                if frac:
                    v = v + frac * (srt[:, lo + 1] - v)
                out[h + a : h + a + len(srt)] = v
    # Rows whose window is truncated by an end (min_periods=1): the quantile of the values
    # present, over a NaN-padded matrix of those windows.
    edge = np.flatnonzero((np.arange(n) < h) | (np.arange(n) >= n - h))
    if len(edge):
        padded = np.concatenate([np.full(h, np.nan), x, np.full(h, np.nan)])
        m = padded[edge[:, None] + np.arange(w)[None, :]]
        s_m = np.sort(m, axis=1)  # NaN sort last
        k = np.sum(~np.isnan(m), axis=1)
        for out, q in zip(outs, qs, strict=True):
            out[edge] = row_quantile(s_m, k, q)
    return outs


def row_quantile(s: np.ndarray, k: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile of the first k[i] values of each sorted row `s`
    (np.nanquantile is slow)."""
    pos = (k - 1) * q
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, k - 1)
    rows = np.arange(len(s))
    return s[rows, lo] + (pos - lo) * (s[rows, hi] - s[rows, lo])
