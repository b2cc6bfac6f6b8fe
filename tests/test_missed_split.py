"""How a missed beat's long RR is cut (holdbeat.missed_split, used by holdbeat.correct).

Expected parts are hand-computed: PCHIP through (-1, b2), (0, b1), (k+1, a1), (k+2, a2) is a
cubic Hermite on [0, k+1] whose end slopes are 0 where the rhythm turns at that node (the
slopes on either side differ in sign) and equal the common slope on a straight line. With
both end slopes 0, the Hermite basis at t = i / (k+1) gives part i proportional to
h00(t) b1 + h01(t) a1, h00 = 2t^3 - 3t^2 + 1, h01 = 1 - h00: k = 2: (20, 7)/27 and (7, 20)/27;
k = 3: (54, 10)/64, (32, 32)/64, (10, 54)/64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.detect import KubiosConfig
from holdbeat.missed_split import split_long_rr


def test_pchip_k2_where_the_rhythm_turns_on_both_sides():
    # 820 -> 760 (down) then up to 900 and down to 860: both nodes are turning points
    parts = split_long_rr(1800.0, 2, 760.0, 900.0, "pchip", (820.0, 860.0))
    w = np.array([20 * 760 + 7 * 900, 7 * 760 + 20 * 900]) / 27.0  # 796.3, 859.3
    np.testing.assert_allclose(parts, 1800.0 * w / w.sum(), rtol=1e-13)
    # the step inside the gap is 13/27 of the step across it (before scaling)
    assert (w[1] - w[0]) / (900.0 - 760.0) == pytest.approx(13 / 27)


def test_pchip_k3_where_the_rhythm_turns_on_both_sides():
    parts = split_long_rr(2700.0, 3, 800.0, 1000.0, "pchip", (900.0, 900.0))
    w = np.array([54 * 800 + 10 * 1000, 32 * 800 + 32 * 1000, 10 * 800 + 54 * 1000]) / 64.0
    np.testing.assert_allclose(parts, 2700.0 * w / w.sum(), rtol=1e-13)
    np.testing.assert_allclose(parts, [831.25, 900.0, 968.75], rtol=1e-13)


def test_pchip_on_a_straight_trend_is_the_line():
    # 700, 800, (900, 1000), 1100, 1200: every slope 100 ms per beat
    parts = split_long_rr(1900.0, 2, 800.0, 1100.0, "pchip", (700.0, 1200.0))
    np.testing.assert_allclose(parts, [900.0, 1000.0], rtol=1e-13)


@pytest.mark.parametrize(
    ("k", "total", "after", "want"),
    [
        # k = 2: the line 800 -> 1100 at 1/3, 2/3: 900, 1000 (sum 1900), scaled to 2000
        (2, 2000.0, 1100.0, [2000.0 * 900 / 1900, 2000.0 * 1000 / 1900]),
        # k = 3: the line 800 -> 1200 at 1/4, 2/4, 3/4: 900, 1000, 1100, sum exactly 3000
        (3, 3000.0, 1200.0, [900.0, 1000.0, 1100.0]),
    ],
)
def test_linear_parts_follow_the_line_and_keep_the_sum(k, total, after, want):
    parts = split_long_rr(total, k, 800.0, after, "linear")
    np.testing.assert_allclose(parts, want, rtol=1e-13)
    # pchip without a second beat on a side falls back to the same line
    for outer in ((None, 1300.0), (700.0, None), (700.0, math.nan)):
        np.testing.assert_allclose(split_long_rr(total, k, 800.0, after, "pchip", outer), want)


@pytest.mark.parametrize("how", ["pchip", "linear", "equal"])
@pytest.mark.parametrize(
    ("before", "after"),
    [(None, 900.0), (800.0, None), (None, None), (math.nan, 900.0), (800.0, math.inf),
     (0.0, 900.0), (800.0, -5.0)],
)  # fmt: skip
def test_without_a_clean_neighbour_the_parts_are_equal(how, before, after):
    for k, total in ((2, 1700.0), (3, 2400.0)):
        parts = split_long_rr(total, k, before, after, how, (750.0, 950.0))
        np.testing.assert_array_equal(parts, np.full(k, total / k))


def test_equal_ignores_the_neighbours_and_k1_is_the_beat_itself():
    np.testing.assert_array_equal(
        split_long_rr(1800.0, 2, 700.0, 1100.0, "equal", (600.0, 1200.0)), [900.0, 900.0]
    )
    for how in ("pchip", "linear", "equal"):
        np.testing.assert_array_equal(split_long_rr(950.0, 1, 700.0, 1100.0, how), [950.0])


def test_the_parts_always_sum_to_the_long_interval():
    rng = np.random.default_rng(7)
    for _ in range(2000):
        k = int(rng.integers(2, 5))
        total = float(rng.uniform(1000.0, 4000.0))
        b2, b1, a1, a2 = rng.uniform(400.0, 1400.0, 4)
        for how in ("pchip", "linear", "equal"):
            parts = split_long_rr(total, k, b1, a1, how, (b2, a2))
            assert len(parts) == k and np.all(parts > 0)
            assert math.fsum(parts) == pytest.approx(total, rel=1e-15, abs=0)


def test_bad_arguments_are_refused():
    with pytest.raises(
        ValueError, match=r"split must be one of \('pchip', 'linear', 'equal', 'ar'\)"
    ):
        split_long_rr(1600.0, 2, 800.0, 800.0, "cubic")
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        split_long_rr(1600.0, 0, 800.0, 800.0)
    with pytest.raises(ValueError, match="missed_split must be 'pchip', 'linear', 'equal' or 'ar'"):
        KubiosConfig(missed_split="cubic")
    assert KubiosConfig().missed_split == "ar"
    for z in (-1.0, math.nan):
        with pytest.raises(ValueError, match="ar_pair_z must be 0 \\(off\\) or positive, got"):
            KubiosConfig(ar_pair_z=z)
    assert KubiosConfig(ar_pair_z=0.0).ar_pair_z == 0.0 and KubiosConfig().ar_pair_z == 12.0


def test_interp_around_gives_no_value_beyond_the_good_beats():
    from holdbeat.correct import _Interp

    rr = np.array([800.0, 900.0, 1000.0, 1100.0, 1200.0])
    bad = np.array([True, False, False, True, False])
    f = _Interp(rr, bad)
    assert f.around(0) == (None, None, 900.0, 1000.0)  # no beat before the first
    assert f.around(2) == (None, 900.0, 1100.0, 1200.0)  # beat 0 flagged; 3 interpolated
    assert f.around(3) == (900.0, 1000.0, 1200.0, None)
    assert f.around(4) == (1000.0, 1100.0, None, None)
    assert _Interp(rr, np.ones(5, bool)).around(2) == (None,) * 4


@pytest.mark.parametrize(
    ("how", "w"),
    [
        ("pchip", [20 * 760 + 7 * 900, 7 * 760 + 20 * 900]),
        ("linear", [760 + 140 / 3, 760 + 280 / 3]),
        ("equal", [1.0, 1.0]),
    ],
)
def test_the_correction_pass_splits_a_missed_beat_by_its_neighbours(how, w):
    """Median 800, Th2 100 (crafted detection): 1800 is two beats; 820, 760 before and 900,
    860 after are all within 15 % of the median, so they are the clean neighbours."""
    from holdbeat.correct import _correct_pass
    from holdbeat.detect import Detection

    rr = np.full(20, 800.0)
    rr[7:12] = (820.0, 760.0, 1800.0, 900.0, 860.0)
    flags = {k: np.zeros(20, bool) for k in ("ectopic", "missed", "extra", "longshort")}
    flags["missed"][9] = True
    th = np.full(20, 100.0)
    det = Detection(**flags, med_ms=np.full(20, 800.0), th2_ms=th, th1_ms=th,
                    subspaces={"mrrs": np.zeros(20)})  # fmt: skip
    o_rr, src, kind, anch, ev = _correct_pass(rr, det, KubiosConfig(missed_split=how))
    w = np.asarray(w, float)
    want = [*rr[:9], *(1800.0 * w / w.sum()), *rr[10:]]
    np.testing.assert_allclose(o_rr, want, rtol=1e-13)
    assert o_rr[9] + o_rr[10] == pytest.approx(1800.0, rel=1e-15)
    assert ev == [(9, "missed")] and src.tolist() == [*range(10), *range(9, 20)]
    assert [i for i in range(21) if kind[i]] == [9, 10] and kind[9] == "missed"
    assert np.flatnonzero(~anch).tolist() == [9]  # the last part ends at the recorded beat


def test_recorded_beats_keep_their_times_when_the_parts_are_shaped():
    """52 missed beats in the low-variability real recording: every one is re-inserted, the
    recorded beats keep their times exactly, each inserted beat ends its (shaped) first part."""
    from holdbeat.correct import correct
    from real_corpus import load_real

    rr = load_real("ecg_healthy_26min").rr_ms
    t = np.cumsum(rr) / 1000.0
    pos = list(range(20, len(rr) - 20, 37))
    inj = inject_missed(rr, pos)
    c = correct(np.cumsum(inj) / 1000.0, inj)
    assert len(c.rr_ms) == len(rr) and c.counts()["missed"] == len(pos)
    recorded = np.delete(np.arange(len(rr)), pos)
    np.testing.assert_array_equal(c.t_s[recorded], t[recorded])
    np.testing.assert_allclose(c.t_s[pos], t[np.array(pos) - 1] + c.rr_ms[pos] / 1000.0)
    # shaped, not equal: the two parts of a gap differ where the neighbours differ
    assert np.mean(np.abs(c.rr_ms[pos] - c.rr_ms[np.array(pos) + 1]) > 1.0) > 0.9


def inject_missed(rr: np.ndarray, pos: list[int]) -> np.ndarray:
    """Drop the R peak ending beat p for each p: RR p and p + 1 become one."""
    out = rr.copy()
    for p in sorted(pos, reverse=True):
        out[p] += out[p + 1]
        out = np.delete(out, p + 1)
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(300.0, 2000.0), st.sampled_from([700.0, 800.0, 900.0])),
        min_size=4,
        max_size=4,
    ),
    st.integers(2, 5),
)
def test_the_numpy_pchip_equals_scipys(ys, k):
    # sampled_from makes flat spans and exact turns (zero slopes) likely
    from scipy.interpolate import PchipInterpolator

    from holdbeat.missed_split import _pchip_middle

    i = np.arange(1, k + 1, dtype=float)
    want = PchipInterpolator([-1.0, 0.0, k + 1.0, k + 2.0], ys)(i)
    got = _pchip_middle(*ys, k, i)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize(
    "ys",
    [
        (800.0, 800.0, 700.0, 650.0),  # flat, then falling
        (800.0, 800.0, 900.0, 950.0),  # flat, then rising
        (900.0, 800.0, 800.0, 700.0),  # falling into a flat middle
        (700.0, 800.0, 800.0, 900.0),  # rising into a flat middle
        (800.0, 850.0, 850.0, 850.0),  # flat after the middle
        (799.0, 800.0, 803.0, 804.0),  # slopes of exactly 1 ms per beat on both sides
        (801.0, 800.0, 797.0, 796.0),  # and -1
    ],
)
@pytest.mark.parametrize("k", [2, 3])
def test_the_numpy_pchip_equals_scipys_at_flat_spans_and_unit_slopes(ys, k):
    from scipy.interpolate import PchipInterpolator

    from holdbeat.missed_split import _pchip_middle

    i = np.arange(1, k + 1, dtype=float)
    want = PchipInterpolator([-1.0, 0.0, k + 1.0, k + 2.0], ys)(i)
    np.testing.assert_allclose(_pchip_middle(*ys, k, i), want, rtol=1e-12, atol=1e-9)


def test_the_split_imports_no_scipy():
    import subprocess
    import sys

    code = (
        "import sys; from holdbeat.missed_split import split_long_rr; "
        "split_long_rr(1800.0, 2, 900.0, 950.0, 'pchip', (880.0, 990.0)); "
        "print(any(m.startswith('scipy') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_a_neighbour_is_usable_when_positive_however_small():
    # linear through 0.5 and 1.5 ms at positions 0 and 3: weights 5/6 and 7/6 of 1000/2
    parts = split_long_rr(1000.0, 2, 0.5, 1.5, "linear")
    assert parts.tolist() == pytest.approx([1000.0 * 5 / 12, 1000.0 * 7 / 12], abs=1e-9)
    # zero or negative is no beat: equal parts
    assert split_long_rr(1000.0, 2, 0.0, 1.5, "linear").tolist() == [500.0, 500.0]
    assert split_long_rr(1000.0, 2, -1.0, 1.5, "linear").tolist() == [500.0, 500.0]
