"""Per-phase HRV from the corrected RR: one tidy table for the report and the comparison.

API (pure; numpy in; rows as dicts, or a pandas DataFrame)::

    from holdbeat.hrv.table import phase_table, hrv_table, phase_rows, hrv_rows

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

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from holdbeat import quality
from holdbeat.correct import KINDS, Corrected, correct
from holdbeat.hrv.intervals import nk_input
from holdbeat.hrv.phase_metrics import FREQ_COLUMNS, TIME_COLUMNS, HrvConfig, phase_metrics

if TYPE_CHECKING:  # pandas only for the DataFrame forms: the report needs none of it
    import pandas as pd


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


def hrv_rows(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    phases: Iterable[Any],
    *,
    flags: np.ndarray | None = None,
    gap_before: np.ndarray | None = None,
    config: HrvConfig | None = None,
    full_nonlinear: bool = False,
    engine: str = "fast",
    corrected: Corrected | None = None,
) -> list[dict[str, Any]]:
    """Per-phase HRV, one dict per phase (the wide table's rows; see the module docstring).

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
        vals, reasons = phase_metrics(data, cfg, full_nonlinear, engine)
        for k, v in vals.items():
            row[k if k in ("HR_bpm", "freq_span_s") else f"HRV_{k}"] = v
        row["reason_time"] = reasons["time"]
        row["reason_frequency"] = reasons["frequency"]
        row["reason_nonlinear"] = reasons["nonlinear"]
        rows.append(row)
    return rows


def hrv_table(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    phases: Iterable[Any],
    *,
    wide: bool = True,
    **kwargs: Any,
) -> pd.DataFrame:
    """`hrv_rows` as a pandas DataFrame (wide), or tidy (`wide=False`, see `to_long`)."""
    import pandas as pd

    df = pd.DataFrame(hrv_rows(t_s, rr_ms, phases, **kwargs))
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
    import pandas as pd

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


def _recording_args(recording: Any) -> dict[str, Any]:
    return {
        "t_s": recording.beat_t_s,
        "rr_ms": recording.rr_ms,
        "phases": recording.phases,
        "flags": recording.flag,
        "gap_before": recording.gap_before,
    }


def phase_rows(recording: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """`hrv_rows` for a loaded recording (`holdbeat.recording.load(path)`)."""
    return hrv_rows(**_recording_args(recording), **kwargs)


def phase_table(recording: Any, **kwargs: Any) -> pd.DataFrame:
    """`hrv_table` for a loaded recording (`holdbeat.recording.load(path)`)."""
    return hrv_table(**_recording_args(recording), **kwargs)
