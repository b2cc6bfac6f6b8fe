"""The real-hearts corpus (tests/data/real/, provenance in tests/data/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

REAL = Path(__file__).parent / "data" / "real"
#: clean normal-sinus recordings (no ectopy beyond what a healthy heart shows)
CLEAN = ("nsr_5min", "nsr_60min", "ecg_healthy_26min")
ALL = (*CLEAN, "mitbih_208")
#: the injected artifact conditions of the real-hearts goals: kinds (what is injected) x rates
KINDS = {
    "missed": ("missed",),
    "extra": ("extra",),
    "ectopic": ("ectopic",),
    "mixed": ("missed", "extra", "ectopic"),
}
RATES = (0.01, 0.02, 0.05)


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


def read_rr_file(path: str | Path) -> np.ndarray:
    """RR (ms) of a held-out file outside the corpus, for the benchmarks: one RR per line
    or the last column of a CSV (a header and other non-numbers skipped), or the [HRData]
    section of a Polar .hrm file (RR-only recordings)."""
    lines = Path(path).read_text(errors="replace").splitlines()
    if "[HRData]" in (ln.strip() for ln in lines):
        lines = lines[[ln.strip() for ln in lines].index("[HRData]") + 1 :]
        lines = lines[: next((i for i, ln in enumerate(lines) if ln.startswith("[")), None)]
    vals = []
    for ln in lines:
        try:
            vals.append(float(ln.split(",")[-1].strip()))
        except ValueError:
            continue
    return np.asarray(vals)


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
    from holdbeat.hrv.spectrum import frequency_domain

    rr = np.asarray(rr, float)
    return float(frequency_domain(rr, np.cumsum(rr) / 1000.0)["HF"])


def score(rr_in: np.ndarray, truth_kind: np.ndarray, reference_rr: np.ndarray, cfg=None) -> Scored:
    """Correct `rr_in` with holdbeat (`cfg`: a KubiosConfig, default if None) and score it
    against `reference_rr` (the un-injected series) and the per-beat truth (`truth_kind` ""
    for clean beats)."""
    from holdbeat.correct import correct

    rr_in = np.asarray(rr_in, float)
    c = correct(np.cumsum(rr_in) / 1000.0, rr_in, cfg=cfg)
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


# ---------------------------------------------------------------- catch-up on real rest

BASELINE_S = 180.0
HOLD_S = 300.0


def resting_cuts(names=("nsr_60min", "ecg_healthy_26min"), base_s=BASELINE_S,
                 hold_s=HOLD_S, step_s=60.0):  # fmt: skip
    """Sessions cut from real resting recordings: (rr_ms, t_s) with t = 0 at the cut's
    start, baseline [0, base_s), hold [base_s, base_s + hold_s). Nothing changes at onset."""
    for n in names:
        r = load_real(n)
        for a in np.arange(0.0, r.t_s[-1] - base_s - hold_s, step_s):
            m = (r.t_s >= a) & (r.t_s < a + base_s + hold_s)
            rr = r.rr_ms[m]
            yield n, rr, np.cumsum(rr) / 1000.0


def plant(rr_ms: np.ndarray, onset_s: float, metric: str, size: float, ramp_s: float = 20.0):
    """A change at hold onset, reached linearly over `ramp_s`: ln RMSSD + size (the
    beat-to-beat deviations from a 31-beat trend scaled by e^size) or HR + size bpm.
    Beat times follow from the new RR."""
    rr = np.asarray(rr_ms, float)
    t = np.cumsum(rr) / 1000.0
    w = np.clip((t - onset_s) / ramp_s, 0.0, 1.0)
    if metric == "ln_rmssd":
        trend = np.convolve(np.pad(rr, 15, mode="edge"), np.ones(31) / 31, mode="valid")
        return trend + (rr - trend) * np.exp(size * w)
    if metric == "hr":
        return 60000.0 / (60000.0 / rr + size * w)
    raise ValueError(metric)


def catchup_on_cut(rr_ms, metric: str, direction: str, k=None, dwell_s=None,
                   base_s=BASELINE_S, hold_s=HOLD_S, flag_cfg=None):  # fmt: skip
    """The live rule on one cut: live flags, rolling metric, band, catch-up."""
    from holdbeat.analysis.baseline_band import DEFAULT_K, baseline_band
    from holdbeat.analysis.catchup import DEFAULT_DWELL_S, catch_up
    from holdbeat.analysis.trajectory import rolling_metrics
    from holdbeat.clean import LiveFlagger

    rr = np.asarray(rr_ms, float)
    t = np.cumsum(rr) / 1000.0
    f = LiveFlagger(flag_cfg)
    art = np.array([f.judge(x) != "" for x in rr])
    roll = rolling_metrics(t, rr, np.zeros(len(rr), bool), art, 60.0)
    v = roll.metric(metric)
    b = t < base_s
    band = baseline_band(v[b], DEFAULT_K if k is None else k, metric, t_s=t[b])
    dwell = DEFAULT_DWELL_S if dwell_s is None else dwell_s
    return catch_up(t, v, band, base_s, direction, dwell, base_s + hold_s)
