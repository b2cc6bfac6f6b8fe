"""Every HRV domain for one phase's clean beats, with the reason whenever a metric is NaN.

engine="fast": holdbeat's numpy metrics (neurokit2 definitions, equal in tests);
engine="neurokit": neurokit2's own `hrv_time` / `hrv_frequency`. Each domain has a minimum
(time 30 s and 20 beats; each band its own span; DFA and SampEn their beat counts).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from holdbeat import quality
from holdbeat.detect import KubiosConfig
from holdbeat.hrv.intervals import CONTIGUOUS_TOL_MS
from holdbeat.hrv.nonlinear import dfa, poincare, sample_entropy
from holdbeat.hrv.spectrum import FREQ_BANDS, frequency_domain
from holdbeat.hrv.time_domain import time_domain


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


def phase_metrics(
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
