"""The real-hearts corpus (tests/data/real/, provenance in tests/data/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

REAL = Path(__file__).parent / "data" / "real"
#: clean normal-sinus recordings (no ectopy beyond what a healthy heart shows)
CLEAN = ("nsr_5min", "nsr_60min", "ecg_healthy_26min")
ALL = (*CLEAN, "mitbih_208")


@dataclass(frozen=True)
class RealRR:
    name: str
    rr_ms: np.ndarray
    ventricular: np.ndarray  # bool per RR (the beat that ends it); all False when unknown

    @property
    def t_s(self) -> np.ndarray:
        return np.cumsum(self.rr_ms) / 1000.0


def load_real(name: str) -> RealRR:
    lines = [ln for ln in (REAL / f"{name}.csv").read_text().splitlines() if ln[:1] != "#"]
    cols = lines[0].split(",")
    data = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    rr = data[:, cols.index("rr_ms")]
    v = data[:, cols.index("ventricular")] > 0 if "ventricular" in cols else np.zeros(len(rr), bool)
    return RealRR(name, rr, v)


# ---------------------------------------------------------------- scoring the correction


@dataclass(frozen=True)
class Scored:
    """One corrected series against the truth it was made from."""

    rmssd_err: float  # relative error of corrected RMSSD vs the reference series' RMSSD
    sdnn_err: float
    hf_err: float
    found: float  # share of injected artifact events with a change within ±1 beat
    false_share: float  # share of clean beats changed (away from any injected artifact)
    changed_share: float  # share of input beats changed (all causes)


def rmssd_ms(rr: np.ndarray) -> float:
    d = np.diff(np.asarray(rr, float))
    return float(np.sqrt(np.mean(d * d)))


def hf_ms2(rr: np.ndarray) -> float:
    """HF power of a contiguous series, holdbeat's spectrum on its own beat times."""
    from holdbeat.hrv import frequency_domain

    rr = np.asarray(rr, float)
    return float(frequency_domain(rr, np.cumsum(rr) / 1000.0)["HF"])


def score(rr_in: np.ndarray, truth_kind: np.ndarray, reference_rr: np.ndarray) -> Scored:
    """Correct `rr_in` with holdbeat and score it against `reference_rr` (the un-injected
    series) and the per-beat truth (`truth_kind` "" for clean beats)."""
    from holdbeat.correct import correct

    rr_in = np.asarray(rr_in, float)
    c = correct(np.cumsum(rr_in) / 1000.0, rr_in)
    out = c.rr_ms[c.keep]
    changed_in = np.zeros(len(rr_in), bool)
    changed_in[c.source[c.kind != ""]] = True
    changed_in[c.event_index] = True
    art = np.asarray(truth_kind) != ""
    near = art.copy()
    near[1:] |= art[:-1]
    near[:-1] |= art[1:]
    # an event = a run of artifact beats; found when any beat within ±1 of it changed
    starts = np.flatnonzero(art & ~np.concatenate([[False], art[:-1]]))
    found = []
    for s in starts:
        e = s
        while e + 1 < len(art) and art[e + 1]:
            e += 1
        found.append(changed_in[max(0, s - 1) : e + 2].any())
    clean = ~near
    return Scored(
        rmssd_err=rmssd_ms(out) / rmssd_ms(reference_rr) - 1.0,
        sdnn_err=float(np.std(out, ddof=1) / np.std(reference_rr, ddof=1) - 1.0),
        hf_err=hf_ms2(out) / hf_ms2(reference_rr) - 1.0,
        found=float(np.mean(found)) if found else 1.0,
        false_share=float(changed_in[clean].mean()) if clean.any() else 0.0,
        changed_share=float(changed_in.mean()),
    )
