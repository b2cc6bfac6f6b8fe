"""Per-phase HRV from the corrected RR: one tidy table for the report and the comparison.

API (pure; numpy/pandas in, DataFrame out)::

    from holdbeat.hrv import phase_table, hrv_table, HrvConfig

    df = phase_table(recording)                # holdbeat.recording.load(path) output
    df = hrv_table(t_s, rr_ms, phases,         # phases: PhaseSpan or (name, start_s, end_s)
                   flags=flags, gap_before=gap_before)
    long = hrv_table(..., wide=False)          # tidy: phase x metric rows with a reason

Wide table: one row per phase with
  phase, index, kind, mode, start_s, end_s, duration_s            (what the phase was)
  n_beats, n_flagged_live, n_<kind>, share_<kind> for kind in
  missed/extra/ectopic/longshort/dropped (correction events), corrected_share (recorded
  beats changed or dropped), gap_share, premature_share, low_quality and quality_reason
  (`holdbeat.quality`: > 5 % of beats changed, > 20 % of the phase without beats, or
  > 2 % premature beats with a pause)
  HR_bpm, HRV_* time domain (neurokit2 `hrv_time` names), HRV_LnRMSSD
  HRV_ULF/VLF/LF/HF/VHF (ms^2), HRV_TP, HRV_LFHF, HRV_LFn, HRV_HFn, HRV_LnHF, freq_span_s
  HRV_SD1, HRV_SD2, HRV_SD1SD2, HRV_DFA_alpha1, HRV_SampEn
  reason_time, reason_frequency, reason_nonlinear  ("" or why metrics of that domain are NaN)
Long table: phase_index, phase, domain, metric, value, reason.

How it is computed (details and references in docs/hrv.md):
* RR are corrected once per recording (`holdbeat.correct`, Lipponen & Tarvainen 2019); the
  counts are reported per phase by where the corrected input beats lie. Live flags are only
  counted (`n_flagged_live`): the offline detector is the authority.
* A beat belongs to the phase in which it ends; no successive difference crosses a phase
  boundary, a gap or a dropped beat (`nk_input`).
* Time domain: the `hrv_time` metrics, computed here in numpy with neurokit2's exact
  definitions (tests compare every column), except TINN (neurokit2's search is unreliable
  and slow; `engine="neurokit"` calls neurokit2 itself, TINN included). From 30 s.
* Frequency domain: neurokit2 `hrv_frequency` with pinned settings (welch, 4 Hz quadratic
  interpolation, normalize=False: ms^2), re-done in numpy without its per-call overhead
  (`frequency_domain`, equal in tests; `engine="neurokit"` calls neurokit2), on the longest
  stretch without a hole > 5 s; each band only when that stretch is long enough (HF/VHF
  60 s, LF 120 s, VLF 1212 s, ULF 24 h, less 3 %).
* Non-linear: SD1, SD2, SD1/SD2, DFA alpha1 and sample entropy computed here (equal to
  neurokit2's to 1e-9 in tests, ~100x faster); `full_nonlinear=True` adds every column of
  neurokit2's `hrv_nonlinear` (slow: seconds per phase).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from holdbeat import quality
from holdbeat.correct import KINDS, Corrected, KubiosConfig, correct

BANDS_HZ: dict[str, tuple[float, float]] = {  # neurokit2's (and the Task Force's) bands
    "ULF": (0.0, 0.0033),
    "VLF": (0.0033, 0.04),
    "LF": (0.04, 0.15),
    "HF": (0.15, 0.4),
    "VHF": (0.4, 0.5),
}
FREQ_BANDS = tuple(BANDS_HZ)
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


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class HrvConfig:
    min_time_s: float = quality.MIN_TIME_S  # clean RR for time-domain and Poincaré metrics
    min_beats_time: int = quality.MIN_BEATS_TIME
    # Per band: max(Task Force minimum, 4 / f_lo - neurokit2's Welch lowest frequency)
    band_min_s: dict[str, float] = field(
        default_factory=lambda: {
            "VHF": 60.0,
            "HF": 60.0,
            "LF": 120.0,
            "VLF": 4.0 / 0.0033,
            "ULF": 24 * 3600.0,
        }
    )
    interpolation_rate: float = 4.0  # Hz, as Kubios; neurokit2's default is 100
    spectrum: str = "holdbeat"  # "holdbeat" | "neurokit" | "kubios" (frequency_domain)
    psd_method: str = "welch"  # only with engine="neurokit"; the fast path is Welch
    band_tolerance: float = 0.03  # a 2-min phase whose beats cover 119 s still gets LF
    max_hole_s: float = 5.0  # a longer hole in the beats ends the stretch used for spectra
    min_beats_dfa: int = 120
    min_beats_sampen: int = 200
    # exact O(N^2) pair counting up to here (~0.3 s at 20 000 beats); above, a linear-time
    # estimate over segments of this many beats (holdbeat.entropy)
    max_beats_sampen: int = 20_000
    kubios: KubiosConfig = field(default_factory=KubiosConfig)


# ---------------------------------------------------------------- fast metrics


def _successive(rr: np.ndarray, cont: np.ndarray) -> np.ndarray:
    """Successive differences neurokit2 uses: all of them when nothing is missing, else the
    contiguous ones (`cont[i]`: beat i follows beat i-1 without a hole)."""
    d = np.diff(rr)
    c = np.asarray(cont[1:], dtype=bool)
    if len(c) and not c.all() and c.any():
        d = d[c]
    elif len(c) and not c.any():
        d = d[:0]  # holdbeat: no usable difference (neurokit2 would use all of them)
    return d


def _window_stats(rr: np.ndarray, minutes: int) -> tuple[float, float]:
    """SDANN and SDNNI exactly as neurokit2 0.2.13 (`_sdann`, `_sdnni`) compute them."""
    ws = minutes * 60_000.0
    cs = (np.nancumsum(rr / 1000.0) - rr[0] / 1000.0) * 1000.0 + rr[0]  # neurokit's clock
    n_win = int(np.round(cs[-1] / ws))
    if n_win < 3:
        return math.nan, math.nan
    starts = np.arange(n_win) * ws
    a = np.searchsorted(cs, starts, side="left")
    b = np.searchsorted(cs, starts + ws, side="left") - 1  # slice end (exclusive), as neurokit
    # window sums of RR shifted by its mean (keeps the variance sums well conditioned)
    x = rr - rr.mean()
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    cnt = (b - a).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = c1[b] - c1[a]
        mean = rr.mean() + s1 / cnt
        var = (c2[b] - c2[a] - s1 * s1 / cnt) / (cnt - 1)
        sd = np.where(cnt > 1, np.sqrt(np.maximum(var, 0.0)), math.nan)
    sdann = float(np.nanstd(mean, ddof=1)) if np.isfinite(mean).sum() > 1 else math.nan
    sdnni = float(np.nanmean(sd)) if np.isfinite(sd).any() else math.nan
    return sdann, sdnni


def time_domain(rr_ms: np.ndarray, cont: np.ndarray) -> dict[str, float]:
    """neurokit2 `hrv_time` metrics (without TINN) on kept RR; `cont` marks contiguity."""
    rr = np.asarray(rr_ms, dtype=float)
    d = _successive(rr, cont)
    out: dict[str, float] = {}
    out["MeanNN"] = float(np.mean(rr))
    out["SDNN"] = float(np.std(rr, ddof=1))
    for m in (1, 2, 5):
        out[f"SDANN{m}"], out[f"SDNNI{m}"] = _window_stats(rr, m)
    out["RMSSD"] = float(np.sqrt(np.mean(d**2))) if len(d) else math.nan
    out["SDSD"] = float(np.std(d, ddof=1)) if len(d) > 1 else math.nan
    out["CVNN"] = out["SDNN"] / out["MeanNN"]
    out["CVSD"] = out["RMSSD"] / out["MeanNN"]
    med = float(np.median(rr))
    out["MedianNN"] = med
    out["MadNN"] = float(np.median(np.abs(rr - med)) * 1.4826)
    out["MCVNN"] = out["MadNN"] / med
    q20, q25, q75, q80 = np.percentile(rr, [20, 25, 75, 80])
    out["IQRNN"] = float(q75 - q25)
    out["SDRMSSD"] = out["SDNN"] / out["RMSSD"] if out["RMSSD"] else math.nan
    out["Prc20NN"] = float(q20)
    out["Prc80NN"] = float(q80)
    out["pNN50"] = float(np.sum(np.abs(d) > 50) / (len(d) + 1) * 100)
    out["pNN20"] = float(np.sum(np.abs(d) > 20) / (len(d) + 1) * 100)
    out["MinNN"] = float(np.min(rr))
    out["MaxNN"] = float(np.max(rr))
    binsize = 1000.0 / 128.0
    bins = np.arange(0, np.max(rr) + binsize, binsize)
    hist, _ = np.histogram(rr, bins=bins)
    out["HTI"] = float(len(rr) / np.max(hist))
    return out


def poincare(rr_ms: np.ndarray, cont: np.ndarray) -> dict[str, float]:
    """SD1, SD2 and SD1/SD2 over successive pairs, as neurokit2 `_hrv_nonlinear_poincare`."""
    rr = np.asarray(rr_ms, dtype=float)
    x, y = rr[:-1], rr[1:]
    c = np.asarray(cont[1:], dtype=bool)
    if len(c) and not c.all():
        x, y = x[c], y[c]
    if len(x) < 2:
        return {"SD1": math.nan, "SD2": math.nan, "SD1SD2": math.nan}
    sd1 = float(np.std((x - y) / np.sqrt(2), ddof=1))
    sd2 = float(np.std((x + y) / np.sqrt(2), ddof=1))
    return {"SD1": sd1, "SD2": sd2, "SD1SD2": sd1 / sd2 if sd2 else math.nan}


def dfa(rr_ms: np.ndarray, scales: Sequence[int] = tuple(range(4, 12))) -> float:
    """DFA exponent (alpha1 for scales 4..11) exactly as neurokit2 `fractal_dfa`: integrated
    profile, half-overlapping windows, linear detrending, q = 2, log2 fit."""
    x = np.asarray(rr_ms, dtype=float)
    n = len(x)
    scales = np.asarray(scales, dtype=int)
    if n <= scales.max():
        return math.nan
    y = np.cumsum(x - x.mean())
    flucts = np.empty(len(scales))
    for k, w in enumerate(scales):
        step = w // 2
        n_seg = len(range(0, n - w, step))  # neurokit: starts 0, step, ... < n - w
        seg = np.lib.stride_tricks.as_strided(
            y, shape=(n_seg, w), strides=(step * y.strides[0], y.strides[0]), writeable=False
        )
        i = np.arange(w) - (w - 1) / 2.0
        segc = seg - seg.mean(axis=1, keepdims=True)
        slope = segc @ i / (i @ i)
        resid = segc - slope[:, None] * i[None, :]
        var = np.mean(resid * resid, axis=1)
        var = var[var > 1e-8]
        flucts[k] = np.sqrt(np.mean(var)) if len(var) else math.nan
    if not np.all(np.isfinite(flucts)) or np.any(flucts <= 0):
        return math.nan
    return float(np.polyfit(np.log2(scales), np.log2(flucts), 1)[0])


def sample_entropy(rr_ms: np.ndarray, m: int = 2, r: float | None = None) -> float:
    """Sample entropy as neurokit2 `entropy_sample` (delay 1, tolerance 0.2 SD by default):
    -ln(B / A), A and B the pairs of distinct templates among the first N - m that match
    (Chebyshev distance <= r) over m and over m + 1 points. Counted in
    `holdbeat.entropy.template_counts` (sorted on the first point, vectorised)."""
    from holdbeat.entropy import from_counts, template_counts, tolerance

    x = np.asarray(rr_ms, dtype=float)
    if r is None:
        r = tolerance(x)
    if len(x) < m + 3:
        return math.nan
    return from_counts(*template_counts(x, m, r))


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


def _welch(
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
    freq, power = _welch(y, fs, nperseg, cover=method != "neurokit")
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


# ---------------------------------------------------------------- per phase


@dataclass(frozen=True)
class _Phase:
    index: int
    name: str
    kind: str
    mode: str
    start_s: float
    end_s: float


def _phases(phases: Iterable[Any]) -> list[_Phase]:
    out = []
    for i, p in enumerate(phases):
        if hasattr(p, "start_s") and hasattr(p, "end_s"):
            ph = _Phase(
                int(getattr(p, "index", i)),
                str(getattr(p, "name", f"phase {i}")),
                str(getattr(p, "kind", "")),
                str(getattr(p, "mode", "")),
                float(p.start_s),
                float(p.end_s),
            )
        else:
            try:
                name, start, end = p
            except (TypeError, ValueError):
                raise ValueError(
                    f"phase {i}: expected a PhaseSpan or (name, start_s, end_s), got {p!r}"
                ) from None
            ph = _Phase(i, str(name), "", "", float(start), float(end))
        if not (math.isfinite(ph.start_s) and math.isfinite(ph.end_s)) or ph.end_s < ph.start_s:
            raise ValueError(f"phase {ph.name!r}: bad span {ph.start_s!r}..{ph.end_s!r} s")
        out.append(ph)
    return out


TIME_COLUMNS = (
    "MeanNN", "SDNN", "SDANN1", "SDNNI1", "SDANN2", "SDNNI2", "SDANN5", "SDNNI5", "RMSSD",
    "SDSD", "CVNN", "CVSD", "MedianNN", "MadNN", "MCVNN", "IQRNN", "SDRMSSD", "Prc20NN",
    "Prc80NN", "pNN50", "pNN20", "MinNN", "MaxNN", "HTI",
)  # fmt: skip
FREQ_COLUMNS = (*FREQ_BANDS, "TP", "LFHF", "LFn", "HFn", "LnHF")
NONLINEAR_COLUMNS = ("SD1", "SD2", "SD1SD2", "DFA_alpha1", "SampEn")


def _longest_stretch(t: np.ndarray, rr: np.ndarray, max_hole_s: float) -> slice:
    """Index range of the longest run of beats without a hole longer than max_hole_s."""
    if len(t) < 2:
        return slice(0, len(t))
    hole = (np.diff(t) - rr[1:] / 1000.0) > max_hole_s
    cuts = np.concatenate([[0], np.flatnonzero(hole) + 1, [len(t)]])
    spans = [t[b - 1] - t[a] + rr[a] / 1000.0 for a, b in itertools.pairwise(cuts)]
    k = int(np.argmax(spans))
    return slice(int(cuts[k]), int(cuts[k + 1]))


def _frequency(
    data: dict[str, np.ndarray], cfg: HrvConfig, engine: str
) -> tuple[dict[str, float], list[str], float]:
    out = dict.fromkeys(FREQ_COLUMNS, math.nan)
    rri, t = data["RRI"], data["RRI_Time"]
    sl = _longest_stretch(t, rri, cfg.max_hole_s)
    rri, t = rri[sl], t[sl]
    span = float(t[-1] - t[0] + rri[0] / 1000.0) if len(t) else 0.0
    shortest = min(cfg.band_min_s.values())
    if len(rri) < 10 or span < shortest:
        return (
            out,
            [f"frequency domain needs >= {shortest:.0f} s of beats (have {span:.0f} s)"],
            span,
        )
    if engine == "neurokit":
        import neurokit2 as nk

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = nk.hrv_frequency(
                {"RRI": rri, "RRI_Time": t},
                psd_method=cfg.psd_method,
                interpolation_rate=cfg.interpolation_rate,
                normalize=False,
            )
        got = {c[4:]: float(res[c].iloc[0]) for c in res.columns}
    else:
        got = frequency_domain(rri, t, cfg.interpolation_rate, method=cfg.spectrum)
    reasons = []
    for band in FREQ_BANDS:
        need = cfg.band_min_s[band]
        if span >= need * (1.0 - cfg.band_tolerance):
            out[band] = got.get(band, math.nan)
        else:
            reasons.append(f"{band} needs >= {need:.0f} s (have {span:.0f} s)")
    if math.isfinite(out["LF"]) and math.isfinite(out["HF"]):
        for k in ("TP", "LFHF", "LFn", "HFn"):
            out[k] = got.get(k, math.nan)
    else:
        reasons.append("TP, LF/HF, LFn, HFn need LF and HF")
    if math.isfinite(out["HF"]):
        out["LnHF"] = got.get("LnHF", math.nan)
    return out, reasons, span


def _nk_time(data: dict[str, np.ndarray]) -> dict[str, float]:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nk.hrv_time(data)
    return {c[4:]: float(res[c].iloc[0]) for c in res.columns}


def _nk_nonlinear(data: dict[str, np.ndarray]) -> dict[str, float]:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nk.hrv_nonlinear(data)
    return {c[4:]: float(res[c].iloc[0]) for c in res.columns}


def _phase_metrics(
    data: dict[str, np.ndarray],
    cfg: HrvConfig,
    full_nonlinear: bool,
    engine: str,
) -> tuple[dict[str, float], dict[str, str]]:
    rri, t = data["RRI"], data["RRI_Time"]
    n = len(rri)
    cont = np.zeros(n, bool)
    if n > 1:
        cont[1:] = np.abs(np.diff(t) * 1000.0 - rri[1:]) <= CONTIGUOUS_TOL_MS
    clean_s = float(np.sum(rri)) / 1000.0
    vals: dict[str, float] = {}
    reasons = {"time": "", "frequency": "", "nonlinear": ""}
    # time domain
    tcols = ("HR_bpm", *TIME_COLUMNS, "LnRMSSD")
    if n >= cfg.min_beats_time and clean_s >= cfg.min_time_s:
        td = _nk_time(data) if engine == "neurokit" else time_domain(rri, cont)
        vals.update(td)
        vals["HR_bpm"] = 60000.0 / td["MeanNN"]
        r = td.get("RMSSD", math.nan)
        vals["LnRMSSD"] = math.log(r) if r and math.isfinite(r) and r > 0 else math.nan
        missing = [k for k in ("SDANN1", "SDANN2", "SDANN5") if not math.isfinite(vals[k])]
        notes = []
        if missing:
            notes.append("SDANN/SDNNI m need >= 3 windows of m min (2.5 m min of beats)")
        if not math.isfinite(vals["LnRMSSD"]):
            notes.append("LnRMSSD undefined (RMSSD is 0 or missing)")
        reasons["time"] = "; ".join(notes)
    else:
        vals.update(dict.fromkeys(tcols, math.nan))
        reasons["time"] = (
            quality.time_domain_reason(n, n, clean_s)
            if (cfg.min_time_s, cfg.min_beats_time) == (quality.MIN_TIME_S, quality.MIN_BEATS_TIME)
            else f"time domain needs >= {cfg.min_time_s:.0f} s and {cfg.min_beats_time} clean "
            f"beats (have {clean_s:.0f} s, {n} beats)"
        )
    # frequency domain
    fvals, freasons, span = (
        _frequency(data, cfg, engine)
        if n
        else (
            dict.fromkeys(FREQ_COLUMNS, math.nan),
            ["no clean beats"],
            0.0,
        )
    )
    vals.update(fvals)
    vals["freq_span_s"] = span
    reasons["frequency"] = "; ".join(freasons)
    # non-linear
    nl = dict.fromkeys(NONLINEAR_COLUMNS, math.nan)
    notes = []
    if n >= cfg.min_beats_time and clean_s >= cfg.min_time_s:
        nl.update(poincare(rri, cont))
    else:
        notes.append(f"SD1/SD2 need >= {cfg.min_time_s:.0f} s of clean beats")
    if n >= cfg.min_beats_dfa:
        nl["DFA_alpha1"] = dfa(rri)
    else:
        notes.append(f"DFA alpha1 needs >= {cfg.min_beats_dfa} clean beats (have {n})")
    if n >= cfg.min_beats_sampen:
        if n <= cfg.max_beats_sampen:
            se = sample_entropy(rri)
        else:  # linear-time estimate: holdbeat.entropy, docs/hrv.md
            from holdbeat.entropy import sample_entropy_segments

            se, k = sample_entropy_segments(rri, cfg.max_beats_sampen)
            notes.append(
                f"SampEn estimated: template matches pooled over {k} segments of <= "
                f"{cfg.max_beats_sampen} beats ({n} beats; exact counting is O(N^2))"
            )
        nl["SampEn"] = se if math.isfinite(se) else math.nan
        if not math.isfinite(se):
            notes.append("SampEn undefined (no template matches)")
    else:
        notes.append(f"SampEn needs >= {cfg.min_beats_sampen} clean beats (have {n})")
    vals.update(nl)
    if full_nonlinear and n >= cfg.min_beats_time:
        vals.update(_nk_nonlinear(data))
    reasons["nonlinear"] = "; ".join(notes)
    return vals, reasons


def hrv_table(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    phases: Iterable[Any],
    *,
    flags: np.ndarray | None = None,
    gap_before: np.ndarray | None = None,
    config: HrvConfig | None = None,
    wide: bool = True,
    full_nonlinear: bool = False,
    engine: str = "fast",
    corrected: Corrected | None = None,
) -> pd.DataFrame:
    """Per-phase HRV table (see the module docstring for columns and rules).

    engine="fast" (default) computes time and frequency domain in numpy with neurokit2's
    definitions; engine="neurokit" calls neurokit2's `hrv_time` (adds TINN) and
    `hrv_frequency`. full_nonlinear=True adds neurokit2's whole `hrv_nonlinear` (slow).
    `corrected` reuses a `correct()` result for these beats.
    """
    if engine not in ("fast", "neurokit"):
        raise ValueError(f"engine must be 'fast' or 'neurokit', got {engine!r}")
    cfg = config or HrvConfig()
    t = np.asarray(t_s, dtype=float)
    rr = np.asarray(rr_ms, dtype=float)
    if len(t) != len(rr):
        raise ValueError(f"t_s has {len(t)} values but rr_ms has {len(rr)}")
    n_all = len(rr)
    gap = np.zeros(n_all, bool) if gap_before is None else np.asarray(gap_before, dtype=bool)
    live = np.zeros(n_all, bool) if flags is None else np.asarray(flags).astype(str) != ""
    if len(gap) != n_all or len(live) != n_all:
        raise ValueError("flags and gap_before must have one value per beat")
    c = corrected if corrected is not None else correct(t, rr, gap, cfg.kubios)
    select_in = _Selector(t)
    select_out = _Selector(c.t_s)
    live_cum = np.concatenate([[0], np.cumsum(live)])
    changed = quality.changed_inputs(n_all, c.source, c.kind)
    premature = quality.premature_beats(rr, gap)
    ev_t = t[c.event_index] if len(c.event_index) else np.zeros(0)
    ev_by_kind = {k: np.sort(ev_t[c.event_kind == k]) for k in KINDS}
    rows = []
    for ph in _phases(phases):
        in_sel = select_in(ph.start_s, ph.end_s)
        out_sel = select_out(ph.start_s, ph.end_s)
        if isinstance(in_sel, slice):
            n_in = in_sel.stop - in_sel.start
            n_live = int(live_cum[in_sel.stop] - live_cum[in_sel.start])
        else:
            n_in = len(in_sel)
            n_live = int(live[in_sel].sum())
        counts = {
            k: int(
                np.searchsorted(e, ph.end_s, side="left")
                - np.searchsorted(e, ph.start_s, side="left")
            )
            for k, e in ev_by_kind.items()
        }
        row: dict[str, Any] = {
            "phase": ph.name,
            "index": ph.index,
            "kind": ph.kind,
            "mode": ph.mode,
            "start_s": ph.start_s,
            "end_s": ph.end_s,
            "duration_s": ph.end_s - ph.start_s,
            "n_beats": n_in,
            "n_flagged_live": n_live,
        }
        for k in KINDS:
            row[f"n_{k}"] = counts[k]
        for k in KINDS:
            row[f"share_{k}"] = counts[k] / n_in if n_in else math.nan
        g = c.gap_before[out_sel].copy()
        if len(g):
            g[0] = True  # nothing is differenced across the phase boundary
        data = nk_input(c.t_s[out_sel], c.rr_ms[out_sel], g, c.keep[out_sel])
        n_changed = int(changed[in_sel].sum())
        n_prem = int(premature[in_sel].sum())
        covered = min(float(np.sum(rr[in_sel])) / 1000.0, ph.end_s - ph.start_s)
        q = quality.judge(n_in, n_changed, n_prem, ph.end_s - ph.start_s, covered)
        row["corrected_share"] = q.changed_pct / 100.0  # beats changed, not events
        row["gap_share"] = q.gap_pct / 100.0
        row["premature_share"] = q.premature_pct / 100.0
        row["low_quality"] = q.low
        row["quality_reason"] = q.reason
        vals, reasons = _phase_metrics(data, cfg, full_nonlinear, engine)
        for k, v in vals.items():
            row[k if k in ("HR_bpm", "freq_span_s") else f"HRV_{k}"] = v
        row["reason_time"] = reasons["time"]
        row["reason_frequency"] = reasons["frequency"]
        row["reason_nonlinear"] = reasons["nonlinear"]
        rows.append(row)
    df = pd.DataFrame(rows)
    return df if wide else to_long(df)


class _Selector:
    """Beats ending in [start, end): a slice when times are sorted (the usual case)."""

    def __init__(self, t: np.ndarray) -> None:
        self.t = t
        self.sorted = bool(len(t) < 2 or np.all(np.diff(t) >= 0))

    def __call__(self, start: float, end: float) -> slice | np.ndarray:
        if self.sorted:
            a = int(np.searchsorted(self.t, start, side="left"))
            b = int(np.searchsorted(self.t, end, side="left"))
            return slice(a, max(a, b))
        return np.flatnonzero((self.t >= start) & (self.t < end))


def _domain(metric: str) -> str:
    m = metric[4:] if metric.startswith("HRV_") else metric
    if metric == "HR_bpm" or m in TIME_COLUMNS or m in ("LnRMSSD", "TINN"):
        return "time"
    if m in FREQ_COLUMNS or metric == "freq_span_s":
        return "frequency"
    return "nonlinear"


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Tidy form of a wide phase table: one row per (phase, metric) with its reason if NaN."""
    metric_cols = [c for c in wide.columns if c.startswith("HRV_") or c == "HR_bpm"]
    rows = []
    for _, r in wide.iterrows():
        for m in metric_cols:
            v = r[m]
            dom = _domain(m)
            why = "" if pd.notna(v) else (r[f"reason_{dom}"] or "not computed")
            rows.append(
                {
                    "phase_index": r["index"],
                    "phase": r["phase"],
                    "domain": dom,
                    "metric": m,
                    "value": v,
                    "reason": why,
                    "low_quality": r["low_quality"],
                }
            )
    return pd.DataFrame(
        rows, columns=["phase_index", "phase", "domain", "metric", "value", "reason", "low_quality"]
    )


def phase_table(recording: Any, **kwargs: Any) -> pd.DataFrame:
    """`hrv_table` for a loaded recording (`holdbeat.recording.load(path)`)."""
    return hrv_table(
        recording.beat_t_s,
        recording.rr_ms,
        recording.phases,
        flags=recording.flag,
        gap_before=recording.gap_before,
        **kwargs,
    )
