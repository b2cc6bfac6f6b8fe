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
        from scipy.interpolate import interp1d

        f = interp1d(t, rri, kind="quadratic", bounds_error=False, fill_value=([rri[0]], [rri[-1]]))
        y = f(x_new)
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
