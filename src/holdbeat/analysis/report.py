"""One session's report: per-phase HRV and quality, per-hold catch-up, lapses, felt leads.

`build_report(prepared, config)` is pure (numbers in, dataclasses out); rendering it as
text, JSON and CSV is holdbeat.analysis.report_render's job, the figure report_figure's.
Every number is defined in docs/analysis.md. The report says what it cannot tell (short
holds, low quality, no baseline) in `caveats` rather than over-reading noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from holdbeat.analysis.baseline_band import DEFAULT_K, REFERENCES, Band
from holdbeat.analysis.catchup import (
    DEFAULT_DWELL_S,
    DEFAULT_MAX_GAP_S,
    CatchUp,
    catch_up,
    expected_direction,
)
from holdbeat.analysis.hold_bands import (
    baseline_position,
    hold_bands,
    phase_bands,
    session_reference,
)
from holdbeat.analysis.lapses import lapse_spans
from holdbeat.analysis.practice import PracticeSummary, practice_summary
from holdbeat.analysis.prep import LOW_QUALITY_PCT, Prepared, phase_quality, time_domain
from holdbeat.analysis.time_constant import ExpFit, fit_exponential
from holdbeat.recording import PhaseSpan
from holdbeat.session import format_duration

SHORT_HOLD_S = 120.0
METRIC_LABELS = {
    "ln_rmssd": "ln RMSSD",
    "hr": "HR",
    "rmssd": "RMSSD",
    "sdnn": "SDNN",
}


@dataclass(frozen=True)
class ReportConfig:
    metrics: tuple[str, ...] = ("ln_rmssd", "hr")  # catch-up metrics; the first is primary
    k: float = DEFAULT_K
    dwell_s: float = DEFAULT_DWELL_S
    window_s: float = 60.0
    max_gap_s: float = DEFAULT_MAX_GAP_S
    directions: Mapping[str, Mapping[str, str]] | None = None
    short_hold_s: float = SHORT_HOLD_S
    low_quality_pct: float = LOW_QUALITY_PCT
    frequency: bool = True  # the full holdbeat.hrv table incl. HF/LF (else time domain only)
    # where a hold's band comes from (baseline_band.REFERENCES); None: what the session
    # used live (its header's settings), so the report agrees with the window
    reference: str | None = None

    @property
    def primary(self) -> str:
        return self.metrics[0]


# ---------------------------------------------------------------- result types


@dataclass(frozen=True)
class PhaseRow:
    index: int
    name: str
    kind: str
    mode: str
    start_s: float
    end_s: float
    duration_s: float
    planned_s: float | None
    n_beats: int
    corrected_pct: float
    low_quality: bool
    quality_reason: str
    hr_bpm: float
    rmssd_ms: float
    ln_rmssd: float
    sdnn_ms: float
    hf_ms2: float
    lf_ms2: float
    hrv_reason: str  # why the time-domain HRV is NaN
    freq_reason: str  # why HF/LF are NaN
    d_hr_bpm: float  # minus the baseline phase; NaN for the baseline itself / no baseline
    d_rmssd_ms: float
    d_ln_rmssd: float
    d_hf_ms2: float


@dataclass(frozen=True)
class MetricCatchUp:
    metric: str
    band: Band
    catchup: CatchUp
    fit: ExpFit


@dataclass(frozen=True)
class FeltLead:
    t_s: float
    lead_s: float  # felt time − catch-up time (t_left of the primary metric): > 0 body first
    reason: str = ""


@dataclass(frozen=True)
class HoldRow:
    index: int
    name: str
    mode: str
    target: str
    belief: str
    start_s: float
    end_s: float
    duration_s: float
    short: bool
    low_quality: bool
    catchups: tuple[MetricCatchUp, ...]
    lapses: int
    holding_s: float
    lapsed_s: float
    lapse_spans: tuple[tuple[float, float], ...]
    felt: tuple[FeltLead, ...]
    ratings: dict[str, int] = field(default_factory=dict)  # "pre belief" -> value
    reference_index: int | None = None  # the phase whose beats gave this hold its band

    def catchup_of(self, metric: str) -> MetricCatchUp | None:
        return next((c for c in self.catchups if c.metric == metric), None)


@dataclass(frozen=True)
class SessionReport:
    file: str
    session_id: str
    started_utc: str
    protocol: str
    duration_s: float
    method: str
    config: ReportConfig
    baseline_index: int | None
    bands: dict[str, Band]
    phases: tuple[PhaseRow, ...]
    holds: tuple[HoldRow, ...]
    caveats: tuple[str, ...]
    practice: PracticeSummary | None = None  # ratings, lapses, notes (analysis/practice.py)
    reference: str = "baseline"  # where the holds' bands come from (baseline_band.REFERENCES)


# ---------------------------------------------------------------- pieces


def _delta(x: float, base: float) -> float:
    return x - base if math.isfinite(x) and math.isfinite(base) else math.nan


def _hf_lf_reason(reason: str) -> str:
    """Only the HF/LF parts of holdbeat.hrv's frequency-domain reason."""
    parts = [p.strip() for p in reason.split(";")]
    return "; ".join(p for p in parts if p.startswith(("HF", "LF")))


def pd_isnan(x: object) -> bool:
    return not (isinstance(x, int | float) and math.isfinite(x))


def _hrv_rows(prep: Prepared, cfg: ReportConfig) -> list[dict[str, float | str]]:
    """Per-phase HRV: holdbeat.hrv's table (neurokit2 definitions) on the same corrected
    beats; without a correction (or with --no-frequency) the numpy time domain only."""
    rec = prep.rec
    if prep.corrected is not None and cfg.frequency:
        from holdbeat.hrv.table import phase_rows

        return [
            {
                "hr": float(r["HR_bpm"]),
                "rmssd": float(r["HRV_RMSSD"]),
                "ln": float(r["HRV_LnRMSSD"]),
                "sdnn": float(r["HRV_SDNN"]),
                "hf": float(r["HRV_HF"]),
                "lf": float(r["HRV_LF"]),
                "why_time": str(r["reason_time"])
                if any(pd_isnan(r[c]) for c in ("HR_bpm", "HRV_RMSSD", "HRV_SDNN"))
                else "",
                "why_freq": _hf_lf_reason(str(r["reason_frequency"])),
            }
            for r in phase_rows(rec, corrected=prep.corrected)
        ]
    out = []
    for ph in rec.phases:
        td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(ph))
        why = "not computed (--no-frequency)" if not cfg.frequency else "needs the correction"
        out.append(
            {
                "hr": td.hr_bpm,
                "rmssd": td.rmssd_ms,
                "ln": td.ln_rmssd,
                "sdnn": td.sdnn_ms,
                "hf": math.nan,
                "lf": math.nan,
                "why_time": td.reason,
                "why_freq": why,
            }
        )
    return out


def _phase_rows(prep: Prepared, cfg: ReportConfig, base_i: int | None) -> list[PhaseRow]:
    rows: list[PhaseRow] = []
    hrv = _hrv_rows(prep, cfg)
    rec = prep.rec
    for ph, h in zip(rec.phases, hrv, strict=True):
        q = phase_quality(prep, ph, cfg.low_quality_pct)
        if not math.isfinite(float(h["hr"])) and rec.hr_t_s.size:
            sel = (rec.hr_t_s >= ph.start_s) & (rec.hr_t_s < ph.end_s) & (rec.hr_bpm > 0)
            if sel.any():
                has_rr = bool(np.any((rec.beat_t_s >= ph.start_s) & (rec.beat_t_s < ph.end_s)))
                h = {**h, "hr": float(rec.hr_bpm[sel].mean())}
                h["why_time"] = (
                    f"{h['why_time']}; HR is the mean of the strap's HR field"
                    if has_rr
                    else "no RR: HR is the mean of the strap's HR field; no HRV"
                )
        rows.append(
            PhaseRow(
                index=ph.index,
                name=ph.name or ph.kind,
                kind=ph.kind,
                mode=ph.mode,
                start_s=ph.start_s,
                end_s=ph.end_s,
                duration_s=ph.duration_s,
                planned_s=ph.planned_s,
                n_beats=int(np.count_nonzero(prep.phase_mask(ph))),
                corrected_pct=q.changed_pct,
                low_quality=q.low,
                quality_reason=q.reason,
                hr_bpm=float(h["hr"]),
                rmssd_ms=float(h["rmssd"]),
                ln_rmssd=float(h["ln"]),
                sdnn_ms=float(h["sdnn"]),
                hf_ms2=float(h["hf"]),
                lf_ms2=float(h["lf"]),
                hrv_reason=str(h["why_time"]),
                freq_reason=str(h["why_freq"]),
                d_hr_bpm=math.nan,
                d_rmssd_ms=math.nan,
                d_ln_rmssd=math.nan,
                d_hf_ms2=math.nan,
            )
        )
    if base_i is not None:
        b = rows[base_i]
        rows = [
            r
            if i == base_i
            else replace(
                r,
                d_hr_bpm=_delta(r.hr_bpm, b.hr_bpm),
                d_rmssd_ms=_delta(r.rmssd_ms, b.rmssd_ms),
                d_ln_rmssd=_delta(r.ln_rmssd, b.ln_rmssd),
                d_hf_ms2=_delta(r.hf_ms2, b.hf_ms2),
            )
            for i, r in enumerate(rows)
        ]
    return rows


def bands_of(prep: Prepared, cfg: ReportConfig, pos: int | None) -> dict[str, Band]:
    """The catch-up metrics' bands over the phase at `pos` (the baseline, usually)."""
    return phase_bands(prep, pos, cfg.metrics, cfg.k, cfg.window_s)


def hold_catchups(
    prep: Prepared, ph: PhaseSpan, bands: Mapping[str, Band], cfg: ReportConfig, fit: bool = True
) -> tuple[MetricCatchUp, ...]:
    out = []
    roll = prep.catchup_rolling  # the live window's beats: report and window agree
    for metric in cfg.metrics:
        values = roll.metric(metric)
        band = bands[metric]
        d = expected_direction(metric, ph.mode, cfg.directions)
        cu = catch_up(roll.t_s, values, band, ph.start_s, d, cfg.dwell_s, ph.end_s, cfg.max_gap_s)
        ef = (
            fit_exponential(roll.t_s, values, ph.start_s, ph.end_s)
            if fit
            else ExpFit(math.nan, math.nan, math.nan, math.nan, math.nan, 0, "not fitted")
        )
        out.append(MetricCatchUp(metric, band, cu, ef))
    return tuple(out)


def _hold_rows(
    prep: Prepared, cfg: ReportConfig, bands: dict[str, Band], rows: list[PhaseRow]
) -> list[HoldRow]:
    rec = prep.rec
    out: list[HoldRow] = []
    base_i = baseline_position(rec.phases)
    reference = session_reference(prep, cfg.reference)
    for pos, (ph, row) in enumerate(zip(rec.phases, rows, strict=True)):
        if ph.kind != "hold":
            continue
        hbands, ref_i = hold_bands(prep, pos, reference, base_i, bands, cfg.k, cfg.window_s)
        cus = hold_catchups(prep, ph, hbands, cfg)
        n_lapse, spans = lapse_spans(rec.markers, ph.start_s, ph.end_s)
        lapsed = sum(b - a for a, b in spans)
        primary = cus[0].catchup
        felt = []
        for m in rec.markers:
            if m.kind != "felt" or not ph.start_s <= m.t_s < ph.end_s:
                continue
            if primary.reached:
                felt.append(FeltLead(m.t_s, m.t_s - primary.t_left_s))
            else:
                felt.append(
                    FeltLead(m.t_s, math.nan, f"no catch-up in {METRIC_LABELS[cfg.primary]}")
                )
        ratings = {f"{r.when} {r.scale}": r.value for r in rec.ratings if r.phase_index == ph.index}
        out.append(
            HoldRow(
                index=ph.index,
                name=row.name,
                mode=ph.mode,
                target=ph.target,
                belief=ph.belief,
                start_s=ph.start_s,
                end_s=ph.end_s,
                duration_s=ph.duration_s,
                short=ph.duration_s < cfg.short_hold_s,
                low_quality=row.low_quality,
                catchups=cus,
                lapses=n_lapse,
                holding_s=ph.duration_s - lapsed,
                lapsed_s=lapsed,
                lapse_spans=spans,
                felt=tuple(felt),
                ratings=ratings,
                reference_index=ref_i,
            )
        )
    return out


#: how a session that ran its whole protocol ends (an import has no protocol to run)
FINISHED = ("completed", "imported")


def _caveats(
    prep: Prepared,
    cfg: ReportConfig,
    base_i: int | None,
    bands: dict[str, Band],
    rows: list[PhaseRow],
    holds: list[HoldRow],
) -> list[str]:
    rec = prep.rec
    out: list[str] = []
    no_rr = rec.beat_t_s.size == 0
    if no_rr:
        out.append(
            "no RR intervals in this recording (the strap sent heart rate only): HRV, bands "
            "and catch-up are unavailable; HR per phase is the strap's own HR field."
        )
    if not no_rr and base_i is None:
        out.append("no baseline phase: no band, no deltas, no catch-up latencies.")
    elif not no_rr:
        for metric, band in bands.items():
            if not band.valid:
                out.append(f"baseline band for {METRIC_LABELS[metric]} unusable: {band.reason}.")
    for h in holds:
        if h.short:
            out.append(
                f"hold '{h.name}' lasted {format_duration(h.duration_s)} (< "
                f"{format_duration(cfg.short_hold_s)}): responses take tens of seconds to "
                "minutes, so a short hold may show nothing."
            )
        for c in h.catchups:
            if c.catchup.carried_over:
                out.append(
                    f"hold '{h.name}': {METRIC_LABELS[c.metric]} was already outside the band "
                    "at onset (carried over from before the hold): not a catch-up, no latency."
                )
    for r in rows:
        if r.low_quality and not no_rr:
            out.append(
                f"phase '{r.name}' is low quality ({r.quality_reason}): read its numbers with "
                "care; comparisons exclude it."
            )
    if rec.end is not None and rec.end.reason not in FINISHED:
        planned = rec.header.protocol.get("phases") if isinstance(rec.header.protocol, dict) else []
        missing = len(planned) - len(rec.phases) if isinstance(planned, list) else 0
        unreached = f"; {missing} of the protocol's {len(planned)} phases were not reached"
        out.append(
            f"the session ended early ({rec.end.reason}) at {format_duration(rec.end.t_s)}"
            f"{unreached if missing > 0 else ''}: the last phase may be cut short."
        )
    lost = [c for c in rec.connections if c.state == "lost"]
    if lost:
        out.append(f"the strap connection was lost {len(lost)} time(s): gaps are not interpolated.")
    out.append(
        f"rolling metrics use a trailing {cfg.window_s:g} s window, so a change shows up "
        "gradually: latencies and time constants include part of that lag."
    )
    out.extend(f"recording: {w}" for w in rec.warnings)
    return out


def build_report(prep: Prepared, cfg: ReportConfig | None = None) -> SessionReport:
    cfg = cfg or ReportConfig()
    for m in cfg.metrics:
        if m not in METRIC_LABELS:
            raise ValueError(f"unknown metric {m!r} (one of {', '.join(METRIC_LABELS)})")
    if cfg.reference is not None and cfg.reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {cfg.reference!r}")
    rec = prep.rec
    base_i = baseline_position(rec.phases)
    rows = _phase_rows(prep, cfg, base_i)
    bands = bands_of(prep, cfg, base_i)
    holds = _hold_rows(prep, cfg, bands, rows)
    return SessionReport(
        file=str(rec.path),
        session_id=rec.header.session_id,
        started_utc=rec.header.started_utc,
        protocol=str(rec.header.protocol.get("name", "")),
        duration_s=rec.duration_s,
        method=prep.method,
        config=cfg,
        baseline_index=base_i,
        bands=bands,
        phases=tuple(rows),
        holds=tuple(holds),
        caveats=tuple(_caveats(prep, cfg, base_i, bands, rows, holds)),
        practice=practice_summary(prep),
        reference=session_reference(prep, cfg.reference),
    )
