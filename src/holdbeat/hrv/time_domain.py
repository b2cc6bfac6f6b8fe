"""neurokit2 `hrv_time` metrics (TINN aside) in numpy, with neurokit2's exact definitions
(tests compare every column): per phase and per live window without neurokit2's overhead."""

from __future__ import annotations

import math

import numpy as np

from holdbeat.hrv.intervals import successive


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
    d = successive(rr, cont)
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
