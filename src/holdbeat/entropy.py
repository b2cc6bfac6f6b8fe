"""Sample entropy: exact template-pair counts, and a linear-time estimate for long phases.

SampEn = -ln(B / A), with A and B the pairs of distinct templates (the first N - m) that
match within r (Chebyshev distance) over m and over m + 1 points (neurokit2's
`entropy_sample`: delay 1, r = 0.2 SD). Counting pairs is O(N^2) in the worst case; sorted on
the first point only pairs within r there are checked (~10 % of all pairs for RR), ~0.3 s
at 20,000 beats, ~5 s at 100,000.

Above a limit (`HrvConfig.max_beats_sampen` in holdbeat.hrv.phase_metrics, 20,000 beats:
~5 h at rest), the phase is cut into consecutive segments of the limit's length (the last
one shorter), A and B are counted within each segment with the tolerance r of the *whole*
phase, and summed:
SampEn ≈ -ln(ΣB / ΣA). Pairs across segments are left out, so the cost is linear in N
(full segments of the limit's cost, plus the rest) and never falls as the phase grows: no
cliff, no dip. Pooling counts (rather than averaging per-segment SampEn) keeps it the
same ratio estimator; for a stationary stretch the within-segment pairs are a fair sample of
all pairs. Tests compare it with the exact value on long RR series (docs/hrv.md).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def tolerance(x: np.ndarray) -> float:
    """neurokit2's default r: 0.2 SD (ddof=1)."""
    return 0.2 * float(np.std(np.asarray(x, dtype=float), ddof=1))


def template_counts(x: np.ndarray, m: int, r: float) -> tuple[int, int]:
    """(A, B): template pairs matching over m and over m + 1 points (each pair once)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < m + 3:
        return 0, 0
    k = n - m  # templates
    emb = np.lib.stride_tricks.sliding_window_view(x, m + 1)[:k]  # (k, m+1)
    order = np.argsort(emb[:, 0], kind="stable")
    cols = [np.ascontiguousarray(emb[order, d]) for d in range(m + 1)]
    e0 = cols[0]
    hi = np.searchsorted(e0, e0 + r, side="right")
    cnt = hi - np.arange(k) - 1  # later templates within r on the first point
    a_pairs = b_pairs = 0
    chunk = 1_000_000
    start = 0
    cum = np.cumsum(cnt)
    while start < k:
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + chunk, side="right")) + 1
        stop = min(max(stop, start + 1), k)
        c = cnt[start:stop]
        ii = np.repeat(np.arange(start, stop), c)
        jj = ii + 1 + (np.arange(len(ii)) - np.repeat(np.cumsum(c) - c, c))
        close = np.ones(len(ii), bool)
        for d in range(1, m):
            close &= np.abs(cols[d][ii] - cols[d][jj]) <= r
        ii, jj = ii[close], jj[close]
        a_pairs += len(ii)
        b_pairs += int(np.count_nonzero(np.abs(cols[m][ii] - cols[m][jj]) <= r))
        start = stop
    return a_pairs, b_pairs


def from_counts(a_pairs: int, b_pairs: int) -> float:
    if a_pairs == 0:
        return -math.inf if b_pairs == 0 else math.nan
    if b_pairs == 0:
        return math.inf
    return float(-np.log(b_pairs / a_pairs))


def sample_entropy_segments(
    rr_ms: np.ndarray, segment: int, m: int = 2, r: float | None = None
) -> tuple[float, int]:
    """(SampEn estimate, number of segments): counts pooled over consecutive segments of
    `segment` values (the last one shorter), with r from the whole series."""
    x = np.asarray(rr_ms, dtype=float)
    if segment < m + 3:
        raise ValueError(f"segment must be at least {m + 3} values, got {segment}")
    r = tolerance(x) if r is None else r
    k = max(1, math.ceil(len(x) / segment))
    # full segments and a shorter last one: the cost never falls as the phase grows
    bounds = [*range(0, len(x), segment), len(x)] if len(x) else [0, 0]
    a = b = 0
    for lo, hi in itertools.pairwise(bounds):
        da, db = template_counts(x[lo:hi], m, r)
        a += da
        b += db
    return from_counts(a, b), k
