"""holdbeat.analysis.stats against independent expectations: textbook bootstrap-t written
as a plain loop over the same random draws, permutation p-values by full enumeration,
Hedges' correction from math.gamma, BCa from scipy itself, every field of every result."""

from __future__ import annotations

import itertools
import math
import sys
import warnings

import numpy as np
import pytest
from scipy import stats as sst

from holdbeat.analysis import stats

B = 999  # resamples: (1 - 0.025) * 999 is not an integer, so order statistics are clear


def _order_stat(t: list[float], q: float) -> float:
    """The inverted-CDF quantile: the smallest value with at least q of the mass at or below."""
    s = sorted(t)
    return s[math.ceil(q * len(s)) - 1]


def _t(mean_b: float, var_b: float, n: int, center: float) -> float:
    """One resample's studentized statistic; zero spread gives ±inf (0/0 counts as 0)."""
    if var_b == 0:
        return 0.0 if mean_b == center else math.copysign(math.inf, mean_b - center)
    return (mean_b - center) / math.sqrt(var_b / n)


def ref_boot_t_mean(x: np.ndarray, seed: int, n_res: int = B, conf: float = 0.95):
    rng = np.random.default_rng(seed)
    n = len(x)
    m, se = x.mean(), x.std(ddof=1) / math.sqrt(n)
    t = [_t(x[i].mean(), x[i].var(ddof=1), n, m) for i in rng.integers(0, n, (n_res, n))]
    alpha = (1 - conf) / 2
    return m - _order_stat(t, 1 - alpha) * se, m - _order_stat(t, alpha) * se


def ref_boot_t_diff(x: np.ndarray, y: np.ndarray, seed: int, n_res: int = B, conf=0.95):
    rng = np.random.default_rng(seed)
    ix = rng.integers(0, len(x), (n_res, len(x)))  # all of x's resamples, then y's
    iy = rng.integers(0, len(y), (n_res, len(y)))
    d = x.mean() - y.mean()
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    t = []
    for a, b in zip(ix, iy, strict=True):
        xb, yb = x[a], y[b]
        v = xb.var(ddof=1) / len(x) + yb.var(ddof=1) / len(y)
        t.append(_t(xb.mean() - yb.mean(), v, 1, d))
    alpha = (1 - conf) / 2
    return d - _order_stat(t, 1 - alpha) * se, d - _order_stat(t, alpha) * se


def _two_sided(null: list[float], observed: float) -> float:
    tol = 1e-12 * max(1.0, abs(observed))
    ge = sum(v >= observed - tol for v in null) / len(null)
    le = sum(v <= observed + tol for v in null) / len(null)
    return min(1.0, 2 * min(ge, le))


def exact_perm_p(x: np.ndarray, y: np.ndarray) -> float:
    """Every split of the pooled values into groups of len(x) and len(y)."""
    pooled = np.r_[x, y]
    null = []
    for idx in itertools.combinations(range(len(pooled)), len(x)):
        mask = np.zeros(len(pooled), bool)
        mask[list(idx)] = True
        null.append(pooled[mask].mean() - pooled[~mask].mean())
    return _two_sided(null, x.mean() - y.mean())


def exact_sign_flip_p(d: np.ndarray) -> float:
    null = [np.mean(d * s) for s in itertools.product([1, -1], repeat=len(d))]
    return _two_sided(null, d.mean())


def hedges_j(df: int) -> float:
    return math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))


X = np.array([1.3, -0.4, 2.2, 0.9, 1.7, 0.1, 3.0, 1.1])
Y = np.array([0.2, -1.1, 0.8, 0.5, -0.3, 0.0])


# ------------------------------------------------------------------------ estimate


def test_estimate_every_field_against_a_plain_bootstrap_t() -> None:
    e = stats.estimate(X, np.random.default_rng(7), B)
    lo, hi = ref_boot_t_mean(X, 7)
    assert (e.n, e.reason, e.ok, e.few) == (8, "", True, True)
    assert e.mean == pytest.approx(X.mean()) and e.median == pytest.approx(1.2)
    assert e.sd == pytest.approx(X.std(ddof=1))
    assert (e.ci_lo, e.ci_hi) == pytest.approx((lo, hi), rel=1e-9)
    assert e.excludes_zero == (lo > 0 or hi < 0)


def test_estimate_defaults_are_9999_resamples_at_95_percent() -> None:
    x = X[:5]
    e = stats.estimate(x, np.random.default_rng(3))
    assert (e.ci_lo, e.ci_hi) == pytest.approx(ref_boot_t_mean(x, 3, 9999, 0.95), rel=1e-9)


def test_estimate_confidence_is_used() -> None:
    e = stats.estimate(X, np.random.default_rng(2), B, confidence=0.8)
    assert (e.ci_lo, e.ci_hi) == pytest.approx(ref_boot_t_mean(X, 2, B, 0.8), rel=1e-9)


def test_estimate_drops_non_finite_values() -> None:
    e = stats.estimate([*X, math.nan, math.inf, -math.inf], np.random.default_rng(7), B)
    assert e.n == 8 and (e.ci_lo, e.ci_hi) == pytest.approx(ref_boot_t_mean(X, 7), rel=1e-9)


@pytest.mark.parametrize(
    ("values", "n", "sd", "reason"),
    [
        ([], 0, math.nan, "no values"),
        ([math.nan], 0, math.nan, "no values"),
        ([2.0], 1, math.nan, "n = 1: too few to say anything (need 4)"),
        ([1.0, 2.0, 4.0], 3, math.sqrt(7 / 3), "n = 3: too few to say anything (need 4)"),
        ([3.0] * 6, 6, 0.0, "all values are equal: no interval"),
    ],
)
def test_estimate_without_interval_says_why(values, n, sd, reason) -> None:
    e = stats.estimate(values, np.random.default_rng(0), B)
    assert (e.n, e.reason, e.ok, e.excludes_zero) == (n, reason, False, False)
    assert math.isnan(e.ci_lo) and math.isnan(e.ci_hi)
    assert e.sd == pytest.approx(sd, nan_ok=True)
    if n:
        assert e.mean == pytest.approx(np.mean(values)) and e.median == np.median(values)
    else:
        assert math.isnan(e.mean) and math.isnan(e.median)


def test_estimate_min_n_boundary_and_parameter() -> None:
    four = stats.estimate(X[:4], np.random.default_rng(1), B)
    assert four.ok and (four.ci_lo, four.ci_hi) == pytest.approx(
        ref_boot_t_mean(X[:4], 1), rel=1e-9
    )
    five = stats.estimate(X[:4], np.random.default_rng(1), B, min_n=5)
    assert five.reason == "n = 4: too few to say anything (need 5)"


def test_few_is_below_ten() -> None:
    rng = np.random.default_rng(0)
    assert stats.estimate(np.arange(9.0), rng, B).few
    assert not stats.estimate(np.arange(10.0), rng, B).few


def test_estimate_unbounded_when_resamples_can_have_no_spread() -> None:
    """[0, 0, 0, 1]: a third of the resamples are all 0 (t = -inf): no finite upper end."""
    e = stats.estimate([0.0, 0.0, 0.0, 1.0], np.random.default_rng(0), B)
    lo, hi = ref_boot_t_mean(np.array([0.0, 0.0, 0.0, 1.0]), 0)
    assert e.reason == stats.UNBOUNDED and not e.ok and not e.excludes_zero
    assert (e.ci_lo, e.ci_hi) == (lo, hi) and hi == math.inf and math.isfinite(lo)
    assert (e.n, e.mean, e.median, e.sd) == (4, 0.25, 0.0, 0.5)


def test_excludes_zero_either_side() -> None:
    pos = stats.Estimate(5, 1.0, 1.0, 1.0, 0.1, 2.0)
    neg = stats.Estimate(5, -1.0, -1.0, 1.0, -2.0, -0.1)
    spans = stats.Estimate(5, 0.0, 0.0, 1.0, -0.1, 0.1)
    touches = stats.Estimate(5, 1.0, 1.0, 1.0, 0.0, 2.0)
    failed = stats.Estimate(5, 1.0, 1.0, 1.0, 0.1, 2.0, "no")
    assert [e.excludes_zero for e in (pos, neg, spans, touches, failed)] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize("method", ["BCa"])
def test_estimate_bca_is_scipys(method) -> None:
    e = stats.estimate(X, np.random.default_rng(4), B, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sst.bootstrap(
            (X,), np.mean, n_resamples=B, method="BCa", rng=np.random.default_rng(4)
        )
    assert e.ok and (e.ci_lo, e.ci_hi) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)


# ------------------------------------------------------------------------ effect sizes


@pytest.mark.parametrize(("df", "value"), [(2, 1 / math.sqrt(math.pi)), (3, None), (30, None)])
def test_hedges_correction_exact(df, value) -> None:
    assert stats.hedges_correction(df) == pytest.approx(value or hedges_j(df), rel=1e-12)


@pytest.mark.parametrize("df", [1, 0, -3])
def test_hedges_correction_undefined_below_two(df) -> None:
    assert math.isnan(stats.hedges_correction(df))


def test_hedges_g_by_hand() -> None:
    sp = math.sqrt((7 * X.var(ddof=1) + 5 * Y.var(ddof=1)) / 12)
    g = (X.mean() - Y.mean()) / sp * hedges_j(12)
    assert stats.hedges_g(X, Y) == pytest.approx(g, rel=1e-12)
    assert stats.hedges_g(Y, X) == pytest.approx(-g, rel=1e-12)
    assert stats.hedges_g([*X, math.nan], [math.inf, *Y]) == pytest.approx(g, rel=1e-12)
    two = stats.hedges_g([1.0, 3.0], [0.0, 1.0])  # df = 2, the smallest defined
    assert two == pytest.approx((2.0 - 0.5) / math.sqrt((2 + 0.5) / 2) * hedges_j(2))


@pytest.mark.parametrize(
    ("a", "b"), [([1.0], [1.0, 2.0, 3.0]), ([1.0, 2.0, 3.0], [2.0]), ([2.0, 2.0], [5.0, 5.0])]
)
def test_hedges_g_undefined(a, b) -> None:
    assert math.isnan(stats.hedges_g(np.array(a), np.array(b)))


def test_hedges_gz_by_hand_and_undefined() -> None:
    d = np.array([0.5, 1.0, 1.5])  # n = 3, the smallest defined
    assert stats.hedges_gz(d) == pytest.approx(1.0 / 0.5 * hedges_j(2), rel=1e-12)
    assert stats.hedges_gz(np.array([*d, math.nan])) == stats.hedges_gz(d)
    assert math.isnan(stats.hedges_gz(np.array([0.5, 1.0])))
    assert math.isnan(stats.hedges_gz(np.array([0.7, 0.7, 0.7, 0.7])))  # SD 0


# ------------------------------------------------------------------------ contrasts


def test_contrast_every_field_against_independent_computations() -> None:
    x, y = X[:5], Y[:4]
    c = stats.contrast(x, y, np.random.default_rng(5), ("fierce", "soft"), B)
    lo, hi = ref_boot_t_diff(x, y, 5)
    assert (c.a, c.b, c.n_a, c.n_b, c.paired, c.reason, c.ok) == (
        "fierce",
        "soft",
        5,
        4,
        False,
        "",
        True,
    )
    assert c.diff == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert (c.ci_lo, c.ci_hi) == pytest.approx((lo, hi), rel=1e-9)
    assert c.g == pytest.approx(stats.hedges_g(x, y), rel=1e-12)
    # C(9, 4) = 126 splits < 999 resamples: scipy enumerates them all, and so do we
    assert c.p == pytest.approx(exact_perm_p(x, y), abs=1e-12)
    assert c.excludes_zero == (lo > 0 or hi < 0)


def test_contrast_permutation_p_when_groups_overlap() -> None:
    a, b = np.array([1.0, 2.0, 3.0, 4.5]), np.array([2.5, 3.5, 1.5, 0.5, 2.0])
    c = stats.contrast(a, b, np.random.default_rng(0), n_resamples=B)
    assert c.p == pytest.approx(exact_perm_p(a, b), abs=1e-12) and 0.1 < c.p < 1.0


def test_contrast_confidence_is_used() -> None:
    c = stats.contrast(X, Y, np.random.default_rng(5), n_resamples=B, confidence=0.9)
    assert (c.ci_lo, c.ci_hi) == pytest.approx(ref_boot_t_diff(X, Y, 5, B, 0.9), rel=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "reason", "diff"),
    [
        (
            [1.0, 2.0, 3.0],
            [1.0, 2.0, 3.0, 4.0],
            "n = 3 vs 4: too few to compare (need 4 each)",
            -0.5,
        ),
        (
            [1.0, 2.0, 3.0, 4.0],
            [1.0, 2.0, 3.0],
            "n = 4 vs 3: too few to compare (need 4 each)",
            0.5,
        ),
        ([], [1.0, 2.0], "n = 0 vs 2: too few to compare (need 4 each)", math.nan),
        ([1.0, 2.0], [], "n = 2 vs 0: too few to compare (need 4 each)", math.nan),
        ([2.0] * 4, [2.0] * 5, "all values equal", 0.0),
    ],
)
def test_contrast_without_result_says_why(a, b, reason, diff) -> None:
    c = stats.contrast(a, b, np.random.default_rng(0), ("x", "y"), B)
    assert (c.a, c.b, c.n_a, c.n_b, c.paired, c.reason) == ("x", "y", len(a), len(b), False, reason)
    assert c.diff == pytest.approx(diff, nan_ok=True)
    assert all(math.isnan(v) for v in (c.ci_lo, c.ci_hi, c.g, c.p))
    assert not c.ok and not c.excludes_zero


def test_contrast_min_n_is_a_parameter() -> None:
    c = stats.contrast(X, Y, np.random.default_rng(5), n_resamples=B, min_n=7)
    assert c.reason == "n = 8 vs 6: too few to compare (need 7 each)"


def test_contrast_unbounded() -> None:
    a, b = np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0, 2.0])
    c = stats.contrast(a, b, np.random.default_rng(0), ("a", "b"), B)
    lo, hi = ref_boot_t_diff(a, b, 0)
    assert c.reason == stats.UNBOUNDED and lo == -math.inf and math.isfinite(hi)
    assert (c.ci_lo, c.ci_hi, c.diff, c.paired) == (lo, pytest.approx(hi), -0.25, False)
    assert math.isnan(c.g) and math.isnan(c.p)


def test_contrast_bca_is_scipys() -> None:
    c = stats.contrast(X, Y, np.random.default_rng(9), n_resamples=B, method="BCa")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sst.bootstrap(
            (X, Y),
            lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            n_resamples=B,
            method="BCa",
            rng=np.random.default_rng(9),
        )
    assert (c.ci_lo, c.ci_hi) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)
    assert c.ok and c.g == pytest.approx(stats.hedges_g(X, Y))


def test_paired_contrast_every_field() -> None:
    d = np.array([0.4, -0.1, 0.9, 0.3, 0.6, -0.2])
    c = stats.paired_contrast(d, np.random.default_rng(6), ("fierce", "soft"), B)
    lo, hi = ref_boot_t_mean(d, 6)
    assert (c.a, c.b, c.n_a, c.n_b, c.paired, c.reason) == ("fierce", "soft", 6, 6, True, "")
    assert c.diff == pytest.approx(d.mean(), rel=1e-12)
    assert (c.ci_lo, c.ci_hi) == pytest.approx((lo, hi), rel=1e-9)
    assert c.g == pytest.approx(d.mean() / d.std(ddof=1) * hedges_j(5), rel=1e-12)
    assert c.p == pytest.approx(exact_sign_flip_p(d), abs=1e-12)  # 2^6 flips, enumerated


def test_paired_contrast_confidence_and_bca() -> None:
    d = np.array([0.4, -0.1, 0.9, 0.3, 0.6, -0.2])
    c = stats.paired_contrast(d, np.random.default_rng(6), n_resamples=B, confidence=0.9)
    assert (c.ci_lo, c.ci_hi) == pytest.approx(ref_boot_t_mean(d, 6, B, 0.9), rel=1e-9)
    bca = stats.paired_contrast(d, np.random.default_rng(8), n_resamples=B, method="BCa")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sst.bootstrap(
            (d,), np.mean, n_resamples=B, method="BCa", rng=np.random.default_rng(8)
        )
    assert (bca.ci_lo, bca.ci_hi) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)


@pytest.mark.parametrize(
    ("d", "reason", "mean"),
    [
        ([0.1, 0.2, 0.3], "3 sessions with both modes: too few to compare (need 4)", 0.2),
        ([], "0 sessions with both modes: too few to compare (need 4)", math.nan),
        ([0.5, 0.5, 0.5, 0.5, math.nan], "all differences equal", 0.5),
    ],
)
def test_paired_contrast_without_result_says_why(d, reason, mean) -> None:
    c = stats.paired_contrast(d, np.random.default_rng(0), ("x", "y"), B)
    n = sum(math.isfinite(v) for v in d)
    assert (c.a, c.b, c.n_a, c.n_b, c.paired, c.reason) == ("x", "y", n, n, True, reason)
    assert c.diff == pytest.approx(mean, nan_ok=True)
    assert all(math.isnan(v) for v in (c.ci_lo, c.ci_hi, c.g, c.p))


def test_paired_contrast_min_n_and_unbounded() -> None:
    assert stats.paired_contrast(
        [0.1, 0.2, 0.3, 0.4], np.random.default_rng(0), n_resamples=B, min_n=5
    ).reason == ("4 sessions with both modes: too few to compare (need 5)")
    c = stats.paired_contrast([0.0, 0.0, 0.0, 1.0], np.random.default_rng(0), n_resamples=B)
    assert c.reason == stats.UNBOUNDED and c.ci_hi == math.inf and c.paired
    assert math.isnan(c.g) and math.isnan(c.p) and c.diff == 0.25


# ------------------------------------------------------------------------ mean band


def ref_mean_band(rows: np.ndarray, seed: int, n_res: int, conf: float = 0.95, min_n: int = 4):
    """Percentile bootstrap over units as a loop: resample units, average each column over
    the drawn units that have data there."""
    n_units, n_t = rows.shape
    n_col = np.isfinite(rows).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean = np.nanmean(rows, axis=0)
    lo, hi = np.full(n_t, np.nan), np.full(n_t, np.nan)
    if n_units < min_n:
        return mean, lo, hi, n_col
    idx = np.random.default_rng(seed).integers(0, n_units, (n_res, n_units))
    boot = np.full((n_res, n_t), np.nan)
    for r, units in enumerate(idx):
        for j in range(n_t):
            v = rows[units, j]
            v = v[np.isfinite(v)]
            if v.size:
                boot[r, j] = v.sum() / v.size
    alpha = (1 - conf) / 2
    for j in range(n_t):
        if n_col[j] >= min_n:
            col = boot[:, j]
            col = col[np.isfinite(col)]
            lo[j], hi[j] = np.quantile(col, [alpha, 1 - alpha])
    return mean, lo, hi, n_col


def test_mean_band_equals_a_plain_loop() -> None:
    rng = np.random.default_rng(11)
    rows = rng.normal(0.0, 1.0, (8, 6))
    rows[:, 0] = np.nan  # no data
    rows[:5, 1] = np.nan  # 3 units: no band
    rows[:4, 2] = np.nan  # 4 units of 8: some resamples draw none of them (holes)
    rows[2, 3] = np.nan
    got = stats.mean_band(rows, np.random.default_rng(12), 400)
    want = ref_mean_band(rows, 12, 400)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True)
    mean, lo, hi, n = got
    assert n.tolist() == [0, 3, 4, 7, 8, 8]
    assert np.isnan(lo[:2]).all() and np.isfinite(lo[2:]).all() and np.isfinite(hi[2:]).all()
    assert np.all(lo[2:] <= mean[2:]) and np.all(mean[2:] <= hi[2:])


def test_mean_band_confidence_and_min_n() -> None:
    rows = np.random.default_rng(13).normal(0.0, 1.0, (6, 3))
    got = stats.mean_band(rows, np.random.default_rng(1), 300, confidence=0.8, min_n=6)
    want = ref_mean_band(rows, 1, 300, 0.8, 6)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)
    few = stats.mean_band(rows, np.random.default_rng(1), 300, min_n=7)  # fewer units
    np.testing.assert_allclose(few[0], rows.mean(axis=0))
    assert np.isnan(few[1]).all() and np.isnan(few[2]).all() and few[3].tolist() == [6, 6, 6]


def test_mean_band_of_no_units() -> None:
    mean, lo, hi, n = stats.mean_band(np.zeros((0, 3)), np.random.default_rng(0), 100)
    assert np.isnan(mean).all() and np.isnan(lo).all() and np.isnan(hi).all()
    assert n.tolist() == [0, 0, 0]


def test_mean_band_without_threadpoolctl(monkeypatch: pytest.MonkeyPatch) -> None:
    """threadpoolctl only speeds up the matrix products: without it the band is the same."""
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import raises ImportError
    rows = np.random.default_rng(14).normal(0.0, 1.0, (5, 4))
    got = stats.mean_band(rows, np.random.default_rng(2), 200)
    for g, w in zip(got, ref_mean_band(rows, 2, 200), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)


def test_no_warning_escapes_for_degenerate_input() -> None:
    """Columns without data, BCa on few values, tied permutations: numbers or NaN with a
    reason, never a RuntimeWarning printed into a report."""
    rows = np.full((6, 3), np.nan)
    rows[:, 1] = np.arange(6.0)
    rows[:5, 2] = np.nan  # one unit with data: resamples without it are holes
    tiny = [0.0, 0.0, 0.0, 1.0]
    one = np.full((6, 3), np.nan)
    one[:, 1] = np.arange(6.0)
    one[5, 2] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats.mean_band(rows, np.random.default_rng(0), 200)
        stats.mean_band(rows, np.random.default_rng(0), 200, min_n=1)
        stats.mean_band(rows[:2], np.random.default_rng(0), 200)
        for method in ("bootstrap-t", "BCa"):
            stats.estimate(tiny, np.random.default_rng(0), B, method=method)
            stats.contrast(tiny, [0.0, 1.0, 1.0, 1.0], np.random.default_rng(0), n_resamples=B)
            stats.contrast(tiny, tiny, np.random.default_rng(0), n_resamples=B, method=method)
            stats.paired_contrast(tiny, np.random.default_rng(0), n_resamples=B, method=method)
            stats.paired_contrast(X[:5], np.random.default_rng(0), n_resamples=B, method=method)
        # one resample that drew no unit with data in column 2: no band there, silently
        _, lo, hi, n = stats.mean_band(one, np.random.default_rng(3), 1, min_n=1)
        assert np.isnan(lo[[0, 2]]).all() and np.isnan(hi[[0, 2]]).all() and n.tolist() == [0, 6, 1]


@pytest.mark.parametrize("method", ["bootstrap-t", "BCa"])
def test_contrast_of_two_constant_groups(method) -> None:
    """Within-group SD 0: every resample gives the same difference. BCa is undefined there
    (scipy returns NaN), so the percentile interval is used: exactly the difference."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = stats.contrast(
            [1.0] * 4, [2.0] * 4, np.random.default_rng(0), n_resamples=B, method=method
        )
    assert (c.diff, c.ci_lo, c.ci_hi, c.reason, c.excludes_zero) == (-1.0, -1.0, -1.0, "", True)
    assert math.isnan(c.g)  # no spread to scale by
    assert c.p == pytest.approx(2 / math.comb(8, 4))  # only the two extreme splits


@pytest.mark.parametrize(
    "call",
    [
        lambda m: stats.estimate(X, np.random.default_rng(0), B, method=m),
        lambda m: stats.contrast(X, Y, np.random.default_rng(0), n_resamples=B, method=m),
        lambda m: stats.paired_contrast([], np.random.default_rng(0), n_resamples=B, method=m),
    ],
)
def test_unknown_interval_method_is_refused(call) -> None:
    with pytest.raises(
        ValueError, match=r"^unknown interval method 'bca' \(one of bootstrap-t, BCa\)$"
    ):
        call("bca")


def test_defaults_named_a_and_b_and_bootstrap_t() -> None:
    c = stats.contrast(X[:5], Y[:4], np.random.default_rng(5), n_resamples=B)
    explicit = stats.contrast(
        X[:5], Y[:4], np.random.default_rng(5), ("a", "b"), B, method="bootstrap-t"
    )
    assert c == explicit and (c.a, c.b) == ("a", "b")
    p = stats.paired_contrast(X[:5], np.random.default_rng(5), n_resamples=B)
    assert (p.a, p.b) == ("a", "b") and p == stats.paired_contrast(
        X[:5], np.random.default_rng(5), ("a", "b"), B, method="bootstrap-t"
    )


def test_mean_band_defaults_are_1000_resamples_at_95_percent() -> None:
    rows = np.random.default_rng(15).normal(0.0, 1.0, (5, 2))
    got = stats.mean_band(rows, np.random.default_rng(4))
    for g, w in zip(got, ref_mean_band(rows, 4, 1000, 0.95, 4), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)
