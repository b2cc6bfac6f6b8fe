"""`report --full`: neurokit2's complete HRV index set per phase, on holdbeat's corrected beats.

holdbeat's own tables use fast numpy re-implementations (tested equal to neurokit2) where
speed matters. This bridge is the other path: neurokit2 itself — `hrv_time`,
`hrv_frequency` and `hrv_nonlinear` — called once per phase on the beats the report uses
(offline-corrected, dropped beats removed, no successive difference across a phase boundary,
a gap or a removed beat: `holdbeat.hrv.intervals.nk_input`). Every column neurokit2 returns is kept
under its own name, with neurokit2's version, so the numbers can be cited as neurokit2's.

Settings are pinned so the frequency domain is reproducible: Welch, RR interpolated at 4 Hz,
`normalize=False` (ms²). A domain neurokit2 cannot compute for a phase (too few beats, or a
phase too long for `hrv_nonlinear`, whose fuzzy entropy needs memory quadratic in the beats:
~94 GiB for 24 h) is left out with the reason, never guessed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from holdbeat.analysis.prep import Prepared

INTERPOLATION_HZ = 4.0
PSD_METHOD = "welch"
MIN_BEATS = 10  # below this neurokit2's domains fail or mean nothing
MAX_NONLINEAR_BEATS = 6000  # ~1.5 h: hrv_nonlinear takes ~40 s per hour and memory ~N²
DOMAINS = ("time", "frequency", "nonlinear")


@dataclass
class NkPhase:
    index: int
    name: str
    n_beats: int  # beats given to neurokit2
    values: dict[str, float] = field(default_factory=dict)  # "HRV_RMSSD" -> value
    reasons: dict[str, str] = field(default_factory=dict)  # domain -> why it is missing


@dataclass
class NkFull:
    version: str
    settings: dict
    phases: list[NkPhase]

    def columns(self) -> list[str]:
        """Every index any phase has, in neurokit2's order of first appearance."""
        seen: dict[str, None] = {}
        for p in self.phases:
            seen.update(dict.fromkeys(p.values))
        return list(seen)


def phase_input(prep: Prepared, start_s: float, end_s: float) -> dict[str, np.ndarray]:
    """neurokit2's {"RRI", "RRI_Time"} for the usable corrected beats ending in [start, end)."""
    from holdbeat.hrv.intervals import nk_input

    sel = (prep.t_s >= start_s) & (prep.t_s < end_s)
    gap = prep.gap_before[sel].copy()
    if len(gap):
        gap[0] = True  # nothing is differenced across the phase boundary
    return nk_input(prep.t_s[sel], prep.rr_ms[sel], gap, prep.usable[sel])


def _frame_values(df) -> dict[str, float]:
    return {str(c): float(df[c].iloc[0]) for c in df.columns}


def _domain(nk, name: str, data: dict[str, np.ndarray]) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "time":
            return _frame_values(nk.hrv_time(data))
        if name == "frequency":
            return _frame_values(
                nk.hrv_frequency(
                    data,
                    psd_method=PSD_METHOD,
                    interpolation_rate=INTERPOLATION_HZ,
                    normalize=False,
                )
            )
        return _frame_values(nk.hrv_nonlinear(data))


def full_indices(
    prep: Prepared, max_nonlinear_beats: int = MAX_NONLINEAR_BEATS, progress=None
) -> NkFull:
    """neurokit2's three HRV domains for every phase of the prepared recording."""
    import neurokit2 as nk

    out = []
    for ph in prep.rec.phases:
        data = phase_input(prep, ph.start_s, ph.end_s)
        n = len(data["RRI"])
        row = NkPhase(ph.index, ph.name, n)
        for dom in DOMAINS:
            if n < MIN_BEATS:
                row.reasons[dom] = f"needs >= {MIN_BEATS} usable beats (have {n})"
                continue
            if dom == "nonlinear" and n > max_nonlinear_beats:
                row.reasons[dom] = (
                    f"not run on {n} beats (> {max_nonlinear_beats}): neurokit2's "
                    "hrv_nonlinear needs memory quadratic in the beats; holdbeat's own "
                    "SD1/SD2/DFA/SampEn are in the phase table"
                )
                continue
            try:
                row.values.update(_domain(nk, dom, data))
            except Exception as e:  # neurokit2 refuses some inputs; say which and why
                row.reasons[dom] = f"neurokit2 failed: {type(e).__name__}: {e}"
        out.append(row)
        if progress is not None:
            progress()
    settings = {
        "input": "holdbeat's corrected beats per phase (holdbeat.hrv.intervals.nk_input)",
        "hrv_frequency": {
            "psd_method": PSD_METHOD,
            "interpolation_rate": INTERPOLATION_HZ,
            "normalize": False,
        },
        "max_nonlinear_beats": max_nonlinear_beats,
    }
    return NkFull(version=str(nk.__version__), settings=settings, phases=out)


def _num(x: float) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def to_dict(full: NkFull) -> dict:
    return {
        "version": full.version,
        "settings": full.settings,
        "phases": [
            {
                "index": p.index,
                "phase": p.name,
                "n_beats": p.n_beats,
                "indices": {k: _num(v) for k, v in p.values.items()},
                "missing": dict(p.reasons),
            }
            for p in full.phases
        ],
    }


def csv_columns(full: NkFull) -> tuple[list[str], dict[int, list[object]]]:
    """Extra CSV columns (`nk_<index>`, plus the version) and each phase's values by index."""
    cols = full.columns()
    by_index: dict[int, list[object]] = {}
    for p in full.phases:
        vals = [p.values.get(c, math.nan) for c in cols]
        by_index[p.index] = [full.version] + [v if math.isfinite(v) else "" for v in vals]
    return ["neurokit2_version"] + [f"nk_{c}" for c in cols], by_index
