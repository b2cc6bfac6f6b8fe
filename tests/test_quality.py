"""holdbeat.quality: the running median against scipy, and the premature-beat rule at its
thresholds (hand-built series whose local median is exactly 1000 ms)."""

from __future__ import annotations

import numpy as np
import pytest

from holdbeat.quality import (
    MEDIAN_BEATS,
    PREMATURE_PAUSE,
    PREMATURE_SHORT,
    premature_beats,
    running_median,
)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 11, 12, 23, 1000])
@pytest.mark.parametrize("size", [3, 11])
def test_running_median_equals_scipy_nearest(n: int, size: int) -> None:
    from scipy.ndimage import median_filter

    x = np.random.default_rng(n * size).normal(900, 80, n)
    np.testing.assert_array_equal(running_median(x, size), median_filter(x, size, mode="nearest"))


def test_running_median_of_nothing_is_empty() -> None:
    assert running_median(np.zeros(0), 11).shape == (0,)


def _series(short_ms: float, pause_ms: float, at: int = 20) -> np.ndarray:
    rr = np.full(41, 1000.0)
    rr[at], rr[at + 1] = short_ms, pause_ms
    return rr


@pytest.mark.parametrize(
    ("short_ms", "pause_ms", "expected"),
    [
        (1000 * (1 - PREMATURE_SHORT) - 1, 1000 * (1 + PREMATURE_PAUSE) + 1, True),
        (1000 * (1 - PREMATURE_SHORT), 1000 * (1 + PREMATURE_PAUSE) + 1, False),  # not shorter
        (1000 * (1 - PREMATURE_SHORT) - 1, 1000 * (1 + PREMATURE_PAUSE), False),  # no pause
        (700.0, 1300.0, True),
    ],
)
def test_premature_needs_short_then_pause(short_ms: float, pause_ms: float, expected: bool) -> None:
    out = premature_beats(_series(short_ms, pause_ms))
    assert out.dtype == bool and out.shape == (41,)
    assert bool(out[20]) is expected
    assert int(out.sum()) == int(expected)  # only the short beat, never the pause


def test_premature_not_across_a_gap_nor_at_the_end() -> None:
    rr = _series(700.0, 1300.0)
    gap = np.zeros(41, bool)
    gap[21] = True  # the "pause" follows a hole: it is not a compensatory pause
    assert not premature_beats(rr, gap).any()
    end = np.full(30, 1000.0)
    end[-1] = 700.0  # the last beat has no next beat to pause
    assert not premature_beats(end).any()
    assert not premature_beats(np.array([700.0, 1300.0])).any()  # < 3 beats: nothing judged
    assert MEDIAN_BEATS == 11
