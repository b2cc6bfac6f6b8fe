"""Sample entropy for long phases: the pooled-segment estimate against the exact count, and
the report's table switching to it above the limit (with the reason), no cliff."""

from __future__ import annotations

import math

import numpy as np
import pytest

from holdbeat.entropy import sample_entropy_segments, template_counts, tolerance
from holdbeat.hrv.nonlinear import sample_entropy
from holdbeat.hrv.phase_metrics import HrvConfig
from holdbeat.hrv.table import hrv_table
from holdbeat.sim.artifacts import beat_times
from holdbeat.sim.rr import synthetic_rr


def brute_counts(x: np.ndarray, m: int, r: float) -> tuple[int, int]:
    """Every pair of the first N - m templates, by the definition (a second implementation)."""
    k = len(x) - m
    a = b = 0
    for i in range(k):
        for j in range(i + 1, k):
            if np.max(np.abs(x[i : i + m] - x[j : j + m])) <= r:
                a += 1
                if abs(x[i + m] - x[j + m]) <= r:
                    b += 1
    return a, b


def test_counts_equal_the_definition() -> None:
    x = synthetic_rr(300, seed=4)
    r = tolerance(x)
    assert template_counts(x, 2, r) == brute_counts(x, 2, r)
    assert template_counts(x[:4], 2, r) == (0, 0)


@pytest.mark.parametrize("seed", [1, 2])
def test_segment_estimate_is_close_to_the_exact_value(seed: int) -> None:
    x = synthetic_rr(24_000, seed=seed)  # ~6 h of beats with slow drifts
    exact = sample_entropy(x)
    est, k = sample_entropy_segments(x, 10_000)
    assert k == 3
    assert est == pytest.approx(exact, rel=0.01)


def test_one_segment_is_the_exact_value() -> None:
    x = synthetic_rr(2000, seed=3)
    est, k = sample_entropy_segments(x, 2000)
    assert k == 1 and est == sample_entropy(x)
    with pytest.raises(ValueError, match="segment must be at least 5"):
        sample_entropy_segments(x, 4)


def table(n_beats: int, limit: int):
    """A phase of exactly n_beats smooth beats (nothing for the correction to change)."""
    k = np.arange(n_beats + 5)
    noise = np.random.default_rng(7).normal(0, 2.0, len(k))
    rr = 850 + 40 * np.sin(2 * np.pi * k / 4.3) + 15 * np.sin(2 * np.pi * k / 17) + noise
    t = beat_times(rr)
    end = float(t[n_beats - 1]) + 1e-6  # exactly n_beats beats end before the phase ends
    cfg = HrvConfig(max_beats_sampen=limit)
    return hrv_table(t, rr, [("p", 0.0, end)], config=cfg, wide=True).iloc[0], rr[:n_beats]


def test_the_table_switches_to_the_estimate_above_the_limit() -> None:
    at, rr = table(1200, 1200)
    assert at["n_beats"] == 1200 and at["corrected_share"] == 0
    assert at["HRV_SampEn"] == sample_entropy(rr) and "estimated" not in at["reason_nonlinear"]
    above, rr = table(1201, 1200)
    est, k = sample_entropy_segments(rr, 1200)
    assert k == 2 and above["HRV_SampEn"] == est
    assert (
        "SampEn estimated: template matches pooled over 2 segments of <= 1200 beats"
        in (above["reason_nonlinear"])
    )
    assert math.isfinite(above["HRV_SampEn"])
