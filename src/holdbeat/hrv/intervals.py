"""Which successive differences may be used, and neurokit2's input for the same beats.

A difference is used only between two kept beats with no gap between them; `nk_input`
re-times each contiguous run so that neurokit2's own contiguity rule agrees beat for beat.
"""

from __future__ import annotations

import numpy as np

CONTIGUOUS_TOL_MS = 10.0  # neurokit2's `_intervals_successive` tolerance
_BREAK_MS = 2.0 * CONTIGUOUS_TOL_MS + 5.0


def contiguous(gap_before: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per beat: True when its difference to the previous beat may be used.

    Both beats kept (clean) and no gap between them; the first beat never has one.
    """
    gap_before = np.asarray(gap_before, dtype=bool)
    keep = np.asarray(keep, dtype=bool)
    c = np.zeros(len(keep), dtype=bool)
    if len(keep) > 1:
        c[1:] = keep[1:] & keep[:-1] & ~gap_before[1:]
    return c


def nk_input(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    gap_before: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """neurokit2 input {"RRI", "RRI_Time"} whose successive differences are exactly holdbeat's.

    neurokit2 uses a difference only when the time between two intervals equals the second
    interval within 10 ms. holdbeat knows contiguity exactly (`gap_before`, flags), while beat
    times carry small clock re-anchoring steps, so the raw times would make neurokit drop a
    few genuine differences. Here the times of each contiguous run are the cumulative sum of
    its RR, anchored at the run's first beat's time, and a break is at least 25 ms off, so
    neurokit's rule and holdbeat's agree beat for beat. Dropped (not kept) beats are removed.
    """
    t_s = np.asarray(t_s, dtype=float)
    rr_ms = np.asarray(rr_ms, dtype=float)
    n = len(rr_ms)
    if len(t_s) != n:
        raise ValueError(f"t_s has {len(t_s)} values but rr_ms has {n}")
    gap = np.zeros(n, bool) if gap_before is None else np.asarray(gap_before, dtype=bool)
    kp = np.isfinite(rr_ms) & np.isfinite(t_s) & (rr_ms > 0)
    if keep is not None:
        kp &= np.asarray(keep, dtype=bool)
    cont = contiguous(gap, kp)[kp]
    rr = rr_ms[kp]
    t = t_s[kp]
    out = np.empty(len(rr))
    if len(rr) == 0:
        return {"RRI": rr, "RRI_Time": out}
    starts = np.flatnonzero(~cont)
    ends = np.append(starts[1:], len(rr))
    prev_end = -np.inf
    for a, b in zip(starts, ends, strict=True):
        anchor = t[a]
        if a > 0:
            # Make the break unmistakable to neurokit (and keep time increasing).
            d_ms = (anchor - prev_end) * 1000.0
            if anchor <= prev_end or abs(d_ms - rr[a]) <= _BREAK_MS:
                anchor = prev_end + (rr[a] + _BREAK_MS + 5.0) / 1000.0
        seg = np.cumsum(rr[a:b]) / 1000.0
        out[a:b] = anchor + (seg - seg[0])
        prev_end = out[b - 1]
    return {"RRI": rr, "RRI_Time": out}


def successive(rr: np.ndarray, cont: np.ndarray) -> np.ndarray:
    """Successive differences neurokit2 uses: all of them when nothing is missing, else the
    contiguous ones (`cont[i]`: beat i follows beat i-1 without a hole)."""
    d = np.diff(rr)
    c = np.asarray(cont[1:], dtype=bool)
    if len(c) and not c.all() and c.any():
        d = d[c]
    elif len(c) and not c.any():
        d = d[:0]  # holdbeat: no usable difference (neurokit2 would use all of them)
    return d
