"""The time constant of a catch-up: y(t) = y0 + amplitude·(1 − exp(−(t − onset)/τ))
fitted to a hold's trajectory (variable projection: a log grid over τ, refined inside the
best bracket; y0 and the amplitude are linear given τ), with τ's standard error and R²."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ExpFit:
    """y(t) = y0 + amplitude·(1 − exp(−(t − onset)/τ)) fitted to a hold's trajectory."""

    tau_s: float  # NaN when it cannot be fitted (see reason)
    tau_se_s: float  # standard error of τ from the fit covariance (NaN when unknown)
    amplitude: float
    y0: float
    r2: float  # coefficient of determination on the fitted samples (NaN when undefined)
    n: int  # samples used
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    @property
    def quality(self) -> str:
        """A word for the fit: good (R² ≥ 0.6), fair (≥ 0.3), poor, or none."""
        if not math.isfinite(self.r2):
            return "none"
        return "good" if self.r2 >= 0.6 else "fair" if self.r2 >= 0.3 else "poor"


def _model_jac(x: np.ndarray, y0: float, a: float, tau: float) -> np.ndarray:
    """Jacobian of y0 + a·(1 − exp(−x/τ)) in (y0, a, τ), for τ's standard error."""
    e = np.exp(-x / tau)
    return np.column_stack((np.ones_like(x), 1.0 - e, -a * x * e / (tau * tau)))


#: a rolling metric sampled per beat is smooth on the scale of its window; fitting more
#: than this many samples (a long hold) costs time and adds no information
MAX_FIT_SAMPLES = 600


MIN_FIT_POINTS = 20
MIN_FIT_SPAN_S = 30.0


def fit_exponential(
    t_s: np.ndarray | list[float],
    values: np.ndarray | list[float],
    onset_s: float,
    end_s: float | None = None,
    min_points: int = MIN_FIT_POINTS,
    min_span_s: float = MIN_FIT_SPAN_S,
    tau_min_s: float = 1.0,
    tau_max_factor: float = 5.0,
) -> ExpFit:
    """First-order time constant of the trajectory after onset (least squares).

    τ is bounded to [tau_min_s, tau_max_factor × observed span]; a fit that ends on a
    bound means the data show no plateau (or a jump) within the hold, so τ is reported
    as NaN with that reason rather than as a number that means nothing.
    """
    nan = math.nan
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"t_s and values differ in length ({t.size} vs {v.size})")
    keep = (t >= onset_s) & np.isfinite(v) & np.isfinite(t)
    if end_s is not None:
        keep &= t < end_s
    x, y = t[keep] - onset_s, v[keep]
    if x.size > MAX_FIT_SAMPLES:
        step = -(-x.size // MAX_FIT_SAMPLES)
        x, y = x[::step], y[::step]
    n = int(x.size)

    def fail(reason: str, r2: float = nan, y0: float = nan, a: float = nan) -> ExpFit:
        return ExpFit(nan, nan, a, y0, r2, n, reason)

    if n < min_points:
        return fail(f"only {n} valid samples (need {min_points})")
    span = float(x[-1] - x[0])
    if span < min_span_s:
        return fail(f"only {span:.0f} s of valid samples (need {min_span_s:.0f} s)")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if not ss_tot > 0:
        return fail("the trajectory is constant: nothing to fit", y0=float(y[0]), a=0.0)
    tau_max = tau_max_factor * max(float(x[-1]), span)
    # Variable projection: for a given τ the model is linear in (y0, a), solved exactly;
    # only τ is searched: a log grid, then the same grid again and again inside the
    # bracket around the best point, to 1e-6 in ln τ. Much faster than a 3-parameter
    # trust-region fit, it cannot stop in a local minimum the grid has seen past, and it
    # needs no scipy.optimize (0.3 s of every report's start-up).
    g_best = _refine_log_tau(x, y, math.log(tau_min_s), math.log(tau_max))
    tau = math.exp(g_best)
    sse, y0, a = _vp_sse(x, y, tau)
    r2 = 1.0 - sse / ss_tot
    if tau >= tau_max * 0.99:
        return fail(f"no plateau within the hold (τ would exceed {tau_max:.0f} s)", r2, y0, a)
    if tau <= tau_min_s * 1.01:
        return fail("a step at onset, not a gradual approach (τ at its lower bound)", r2, y0, a)
    # standard error of τ as curve_fit reports it: (JᵀJ)⁻¹ · SSE / (n − 3)
    jac = _model_jac(x, y0, a, tau)
    try:
        cov = np.linalg.inv(jac.T @ jac) * (sse / max(n - 3, 1))
        se = float(np.sqrt(cov[2, 2])) if cov[2, 2] >= 0 else nan
    except np.linalg.LinAlgError:
        se = nan
    return ExpFit(tau, se, a, y0, r2, n)


def _refine_log_tau(x: np.ndarray, y: np.ndarray, log_lo: float, log_hi: float) -> float:
    """ln τ of the least SSE: a 48-point grid over [log_lo, log_hi], then 33 points across
    the bracket of the best point's neighbours until the bracket is < 1e-6 wide."""
    grid = np.linspace(log_lo, log_hi, 48)
    while True:
        sses = _vp_sse_grid(x, y, np.exp(grid))
        i = int(np.argmin(sses))
        lo_g, hi_g = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if hi_g - lo_g < 1e-6:
            return float(grid[i])
        grid = np.linspace(lo_g, hi_g, 33)


def _vp_sse_grid(x: np.ndarray, y: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """`_vp_sse`'s SSE for many τ at once (one matrix instead of a call per grid point)."""
    bc = -np.expm1(-x[None, :] / taus[:, None])
    bc -= bc.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    den = np.einsum("ij,ij->i", bc, bc)
    a = np.divide(bc @ yc, den, out=np.zeros_like(den), where=den > 0)
    r = yc[None, :] - a[:, None] * bc
    return np.einsum("ij,ij->i", r, r)


def _vp_sse(x: np.ndarray, y: np.ndarray, tau: float) -> tuple[float, float, float]:
    """(SSE, y0, a) of the best linear fit of y ≈ y0 + a·(1 − e^(−x/τ)) for a fixed τ."""
    b = -np.expm1(-x / tau)
    bm = b.mean()
    ym = y.mean()
    bc = b - bm
    den = float(bc @ bc)
    a = float(bc @ (y - ym)) / den if den > 0 else 0.0
    y0 = ym - a * bm
    r = y - y0 - a * b
    return float(r @ r), float(y0), a
