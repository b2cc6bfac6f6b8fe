"""Frequency-domain HRV: RR interpolated at 4 Hz, a Welch spectrum whose segments cover the
whole phase, band power integrated exactly to the band edges (docs/hrv.md)."""

from __future__ import annotations

import math

import numpy as np

BANDS_HZ: dict[str, tuple[float, float]] = {  # neurokit2's (and the Task Force's) bands
    "ULF": (0.0, 0.0033),
    "VLF": (0.0033, 0.04),
    "LF": (0.04, 0.15),
    "HF": (0.15, 0.4),
    "VHF": (0.4, 0.5),
}
FREQ_BANDS = tuple(BANDS_HZ)


def hann_periodic(n: int) -> np.ndarray:
    """scipy.signal.get_window("hann", n), the same arithmetic: importing scipy.signal
    for one window costs 0.4 s at every `holdbeat report` (it drags in scipy.stats)."""
    if n == 1:
        return np.ones(1)
    return 0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, n + 1)[:-1])


def segment_starts(n: int, nperseg: int, cover: bool = True) -> np.ndarray:
    """Start indices of Welch segments of `nperseg` samples with ~50 % overlap.

    scipy/neurokit2 step by nperseg - nperseg // 2 and drop whatever does not fill a whole
    step: with nperseg = n / 2 that can be the last quarter of the phase (two segments
    instead of three), so one beat more moved HF by 23-35 %. `cover=True` spreads the same
    number of segments scipy would use, plus one if needed, evenly from the first to the
    last sample: every sample is used, and when the steps divide evenly the layout is
    exactly scipy's.
    """
    step = nperseg - nperseg // 2
    if not cover:
        return np.arange((n - nperseg) // step + 1) * step
    k = round((n - nperseg) / step) + 1
    if k <= 1:
        return np.zeros(1, dtype=int)
    return np.round(np.linspace(0, n - nperseg, k)).astype(int)


def welch(
    y: np.ndarray, fs: float, nperseg: int, cover: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD with a Hann window, nfft = 2 * nperseg, no detrending, density scaling;
    `cover=False` is scipy.signal.welch(noverlap=nperseg // 2) exactly."""
    nfft = 2 * nperseg
    win = hann_periodic(nperseg)
    starts = segment_starts(len(y), nperseg, cover)
    seg = y[starts[:, None] + np.arange(nperseg)[None, :]]
    spec = np.fft.rfft(seg * win, n=nfft, axis=1)
    p = (spec.real**2 + spec.imag**2) / (fs * np.sum(win * win))
    p = p.mean(axis=0)
    p[1:-1] *= 2.0  # one-sided; nfft is even, so DC and Nyquist stay single
    return np.fft.rfftfreq(nfft, 1.0 / fs), p


def band_power(freq: np.ndarray, power: np.ndarray, lo: float, hi: float) -> float:
    """Integral of the PSD over exactly [lo, hi] (trapezoid, edges linearly interpolated).

    neurokit2 integrates only the bins inside the band, so when a phase grows by one beat
    and the frequency grid shifts, a whole bin (~0.009 Hz for 2 min) drops out at an edge:
    HF moved by up to 17 % when respiration sat near 0.15 Hz. Clipping at the edges makes
    the band power continuous in the grid. 0.0 when the band is outside the spectrum.
    """
    if len(freq) < 2:
        return 0.0
    lo_c, hi_c = max(lo, float(freq[0])), min(hi, float(freq[-1]))
    if hi_c <= lo_c:
        return 0.0
    inside = (freq > lo_c) & (freq < hi_c)
    f = np.concatenate([[lo_c], freq[inside], [hi_c]])
    edge = np.interp([lo_c, hi_c], freq, power)
    p = np.concatenate([edge[:1], power[inside], edge[1:]])
    return float(np.trapezoid(p, f))


def quadratic_interp(x: np.ndarray, y: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """neurokit2's RR interpolation, scipy's `interp1d(x, y, kind="quadratic",
    bounds_error=False, fill_value=(y[0], y[-1]))`, re-done in numpy (tests compare to
    1e-9): importing scipy.interpolate cost 0.3 s of every report's 0.5 s start-up.

    The interpolating quadratic B-spline with scipy's knots (`make_interp_spline(k=2)`:
    the data's midpoints without the first and last, each end knot thrice); its
    collocation matrix is tridiagonal and totally positive, so elimination without pivoting
    (Thomas) is stable.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    u = np.asarray(x_new, dtype=float)
    n = len(x)
    if n < 3:
        raise ValueError(f"quadratic interpolation needs >= 3 points, got {n}")
    mid = (x[1:] + x[:-1]) / 2.0
    t = np.concatenate([np.full(3, x[0]), mid[1:-1], np.full(3, x[-1])])
    j, basis = _quadratic_basis(t, x, n)
    # rows: basis of columns j-2, j-1, j; on the tridiagonal (column - row in -1..1) except
    # at the two ends, where the off-band values are exact zeros
    col = j[:, None] + np.arange(-2, 1)[None, :]
    off = col - np.arange(n)[:, None]
    sub = np.where(off == -1, basis, 0.0).sum(axis=1)
    diag = np.where(off == 0, basis, 0.0).sum(axis=1)
    sup = np.where(off == 1, basis, 0.0).sum(axis=1)
    c = _thomas(sub, diag, sup, y)
    jn, bn = _quadratic_basis(t, u, n)
    out = (c[jn[:, None] + np.arange(-2, 1)[None, :]] * bn).sum(axis=1)
    out[u < x[0]] = y[0]
    out[u > x[-1]] = y[-1]
    return out


def _quadratic_basis(t: np.ndarray, u: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Knot interval j of each point and the three degree-2 B-splines N_{j-2..j} there
    (Cox-de Boor), the interval clipped to the spline's span as scipy's BSpline does."""
    j = np.clip(np.searchsorted(t, u, side="right") - 1, 2, n - 1)
    tjm1, tj, tj1, tj2 = t[j - 1], t[j], t[j + 1], t[j + 2]
    b1_left = (tj1 - u) / (tj1 - tj)  # N_{j-1,1}
    b1_right = (u - tj) / (tj1 - tj)  # N_{j,1}
    n0 = (tj1 - u) / (tj1 - tjm1) * b1_left
    n1 = (u - tjm1) / (tj1 - tjm1) * b1_left + (tj2 - u) / (tj2 - tj) * b1_right
    n2 = (u - tj) / (tj2 - tj) * b1_right
    return j, np.stack([n0, n1, n2], axis=1)


def _thomas(sub: np.ndarray, diag: np.ndarray, sup: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve a tridiagonal system (sub[0] and sup[-1] unused)."""
    n = len(diag)
    a, b, c, d = sub.tolist(), diag.tolist(), sup.tolist(), rhs.tolist()
    cpl, dpl = [0.0] * n, [0.0] * n  # plain floats: the loop is Python
    cpl[0], dpl[0] = c[0] / b[0], d[0] / b[0]
    for i in range(1, n):
        m = b[i] - a[i] * cpl[i - 1]
        cpl[i] = c[i] / m
        dpl[i] = (d[i] - a[i] * dpl[i - 1]) / m
    x = [0.0] * n
    x[-1] = dpl[-1]
    for i in range(n - 2, -1, -1):
        x[i] = dpl[i] - cpl[i] * x[i + 1]
    return np.array(x)


SPECTRUM_METHODS = ("holdbeat", "neurokit", "kubios")
KUBIOS_LAMBDA = 500.0
KUBIOS_WINDOW_S = 256.0


def smoothness_priors_detrend(y: np.ndarray, lam: float = KUBIOS_LAMBDA) -> np.ndarray:
    """Tarvainen et al. (2002) smoothness-priors detrending, as Kubios applies it:
    y - (I + lam^2 D2' D2)^-1 y, D2 the second-difference matrix (sparse solve)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    n = len(y)
    if n < 3:
        return y - np.mean(y)
    d2 = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n), format="csc")
    a = sparse.identity(n, format="csc") + lam**2 * (d2.T @ d2)
    return y - spsolve(a.tocsc(), y)


def frequency_domain(
    rri_ms: np.ndarray,
    rri_time_s: np.ndarray,
    interpolation_rate: float = 4.0,
    bands: dict[str, tuple[float, float]] | None = None,
    method: str = "holdbeat",
) -> dict[str, float]:
    """Band powers (ms^2) of an RR series; three methods (docs/hrv.md):

    * "neurokit": neurokit2 0.2.13 `hrv_frequency(psd_method="welch", normalize=False)`
      exactly (tests compare the numbers): quadratic interpolation at `interpolation_rate`
      Hz from the first to the last beat, mean removed; Welch with a Hann window of half
      the signal, nfft twice that, no detrending, density scaling; the spectrum kept from
      4/duration to 0.5 Hz; band power = trapezoid over [lo, hi); an empty band is NaN.
    * "holdbeat" (default): the same, but the Welch segments cover the whole phase
      (`segment_starts`), so one beat more cannot drop the last quarter of a phase.
    * "kubios": Kubios HRV's defaults: cubic-spline interpolation at 4 Hz, smoothness-priors
      detrending (lambda 500), Welch with 256 s segments (or half the phase when shorter),
      50 % overlap, covering the phase.
    """
    if method not in SPECTRUM_METHODS:
        raise ValueError(f"method must be one of {SPECTRUM_METHODS}, got {method!r}")
    bands = bands or BANDS_HZ
    rri = np.asarray(rri_ms, dtype=float)
    t = np.asarray(rri_time_s, dtype=float)
    fs = float(interpolation_rate)
    x_new = np.arange(t[0], t[-1] + 1 / fs, 1 / fs)
    if method == "kubios":
        from scipy.interpolate import CubicSpline

        y = CubicSpline(t, rri)(np.clip(x_new, t[0], t[-1]))
        y = smoothness_priors_detrend(y)
    else:
        y = quadratic_interp(t, rri, x_new)
    y = y - np.mean(y)
    n = len(y)
    min_f = (2 * fs) / (n / 2)
    nperseg = int((2 / min_f) * fs)
    if nperseg > n / 2:
        nperseg = int(n / 2)
    if method == "kubios":
        nperseg = min(int(KUBIOS_WINDOW_S * fs), max(int(n / 2), 1))
    freq, power = welch(y, fs, nperseg, cover=method != "neurokit")
    keep = (freq >= min_f) & (freq <= max(hi for _, hi in bands.values()))
    freq, power = freq[keep], power[keep]
    out: dict[str, float] = {}
    for name, (lo, hi) in bands.items():
        if method == "neurokit":
            w = (freq >= lo) & (freq < hi)
            pw = float(np.trapezoid(power[w], freq[w])) if w.any() else 0.0
        else:
            pw = band_power(freq, power, lo, hi)
        out[name] = math.nan if pw == 0.0 else pw
    tp = float(np.nansum([out[b] for b in bands]))
    out["TP"] = tp
    out["LFHF"] = out["LF"] / out["HF"]
    out["LFn"] = out["LF"] / tp
    out["HFn"] = out["HF"] / tp
    out["LnHF"] = math.log(out["HF"]) if out["HF"] > 0 else math.nan
    return out
