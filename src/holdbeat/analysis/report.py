"""One session's report: per-phase HRV and quality, per-hold catch-up, lapses, felt leads.

`build_report(prepared, config)` is pure (numbers in, dataclasses out); `format_text`,
`report_to_dict` and `report_csv_rows` render it. Every number is defined in
docs/analysis.md. The report says what it cannot tell (short holds, low quality, no
baseline) in `caveats` rather than over-reading noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from holdbeat.analysis.catchup import (
    DEFAULT_DWELL_S,
    DEFAULT_K,
    DEFAULT_MAX_GAP_S,
    Band,
    CatchUp,
    ExpFit,
    baseline_band,
    catch_up,
    expected_direction,
    fit_exponential,
)
from holdbeat.analysis.practice import (
    PracticeSummary,
    format_practice,
    practice_summary,
    practice_to_dict,
)
from holdbeat.analysis.prep import LOW_QUALITY_PCT, Prepared, phase_quality, time_domain
from holdbeat.analysis.textfmt import fmt_num, text_table
from holdbeat.recording import PhaseSpan
from holdbeat.safe_text import for_terminal as shown
from holdbeat.session import format_duration

SHORT_HOLD_S = 120.0
METRIC_LABELS = {
    "ln_rmssd": "ln RMSSD",
    "hr": "HR",
    "rmssd": "RMSSD",
    "sdnn": "SDNN",
}
METRIC_UNITS = {"ln_rmssd": "ln(ms)", "hr": "bpm", "rmssd": "ms", "sdnn": "ms"}


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


# ---------------------------------------------------------------- pieces


def lapse_spans(
    markers: list, start_s: float, end_s: float
) -> tuple[int, tuple[tuple[float, float], ...]]:
    """Lapse count and lapsed intervals within [start_s, end_s) from lapse/rehold markers.

    Holding is the state at onset; `lapse` starts a lapsed span (if holding), `rehold`
    ends it; a span still open at the end of the hold runs to the end.
    """
    count = 0
    spans: list[tuple[float, float]] = []
    lapsed_at: float | None = None
    for m in sorted((m for m in markers if start_s <= m.t_s < end_s), key=lambda m: m.t_s):
        if m.kind == "lapse":
            count += 1
            if lapsed_at is None:
                lapsed_at = m.t_s
        elif m.kind == "rehold" and lapsed_at is not None:
            spans.append((lapsed_at, m.t_s))
            lapsed_at = None
    if lapsed_at is not None:
        spans.append((lapsed_at, end_s))
    return count, tuple(spans)


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
            else _replace_deltas(
                r,
                _delta(r.hr_bpm, b.hr_bpm),
                _delta(r.rmssd_ms, b.rmssd_ms),
                _delta(r.ln_rmssd, b.ln_rmssd),
                _delta(r.hf_ms2, b.hf_ms2),
            )
            for i, r in enumerate(rows)
        ]
    return rows


def _replace_deltas(r: PhaseRow, dhr: float, drm: float, dln: float, dhf: float) -> PhaseRow:
    from dataclasses import replace

    return replace(r, d_hr_bpm=dhr, d_rmssd_ms=drm, d_ln_rmssd=dln, d_hf_ms2=dhf)


def baseline_position(phases: list[PhaseSpan]) -> int | None:
    """Position of the first baseline phase (the reference for bands and deltas)."""
    return next((i for i, p in enumerate(phases) if p.kind == "baseline"), None)


def bands_of(prep: Prepared, cfg: ReportConfig, base_i: int | None) -> dict[str, Band]:
    out: dict[str, Band] = {}
    for metric in cfg.metrics:
        if base_i is None:
            out[metric] = Band(math.nan, math.nan, cfg.k, 0, metric, "no baseline phase")
            continue
        ph = prep.rec.phases[base_i]
        roll = prep.catchup_rolling
        sel = roll.between(ph.start_s, ph.end_s)
        out[metric] = baseline_band(
            roll.metric(metric)[sel], cfg.k, metric, t_s=roll.t_s[sel], window_s=cfg.window_s
        )
    return out


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
    for ph, row in zip(rec.phases, rows, strict=True):
        if ph.kind != "hold":
            continue
        cus = hold_catchups(prep, ph, bands, cfg)
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
            )
        )
    return out


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
    )


# ---------------------------------------------------------------- rendering


def format_text(rep: SessionReport) -> str:
    cfg = rep.config
    out = [
        f"holdbeat report · {shown(rep.file)}",
        f"session {shown(rep.session_id)} · started {shown(rep.started_utc)} · "
        f"protocol {shown(rep.protocol)} · "
        f"{format_duration(rep.duration_s)}",
        f"beats: {rep.method}",
        "",
        "PHASES (Δ = phase − baseline)",
    ]
    head = ["phase", "mode", "dur", "beats", "corr%", "HR", "RMSSD", "lnRMSSD", "SDNN"]
    head += ["HF", "LF", "ΔHR", "ΔlnRMSSD", "ΔHF"]
    rows = []
    for r in rep.phases:
        q = fmt_num(r.corrected_pct, ".1f") + (" LOW" if r.low_quality else "")
        rows.append(
            [
                r.name,
                r.mode,
                format_duration(r.duration_s),
                str(r.n_beats),
                q,
                fmt_num(r.hr_bpm, ".1f"),
                fmt_num(r.rmssd_ms, ".1f"),
                fmt_num(r.ln_rmssd, ".2f"),
                fmt_num(r.sdnn_ms, ".1f"),
                fmt_num(r.hf_ms2, ".0f"),
                fmt_num(r.lf_ms2, ".0f"),
                fmt_num(r.d_hr_bpm, ".1f", True),
                fmt_num(r.d_ln_rmssd, ".2f", True),
                fmt_num(r.d_hf_ms2, ".0f", True),
            ]
        )
    out += text_table(head, rows, right=set(range(2, len(head))))
    by_reason: dict[str, list[str]] = {}
    for r in rep.phases:
        for why in dict.fromkeys((r.hrv_reason, r.freq_reason)):
            if why:
                by_reason.setdefault(why, []).append(r.name)
    notes = [
        f"  {'every phase' if len(names) == len(rep.phases) > 1 else shown(', '.join(names))}: "
        f"{why}"
        for why, names in by_reason.items()
    ]
    if notes:
        out += ["units: HR bpm, RMSSD/SDNN ms, HF/LF ms²; not computed:", *notes]
    else:
        out.append("units: HR bpm, RMSSD/SDNN ms, HF/LF ms²")
    out += [
        "",
        f"BASELINE BANDS (mean ± k·SD of independent {cfg.window_s:g}-s window estimates over "
        "the baseline; catch-up uses the live window's beats, as the window showed it)",
    ]
    for metric, b in rep.bands.items():
        label = METRIC_LABELS[metric]
        if b.valid:
            out.append(
                f"  {label}: {b.mean:.2f} ± {b.k:g}×{b.sd:.2f} → [{b.lo:.2f}, {b.hi:.2f}] "
                f"{METRIC_UNITS[metric]} (n = {b.n} windows)"
            )
        else:
            out.append(f"  {label}: none ({b.reason})")
    out += [
        "",
        f"HOLDS (catch-up: leaves the band in the expected direction and stays out "
        f"{cfg.dwell_s:g} s)",
    ]
    head = ["hold", "mode", "dur"]
    for m in cfg.metrics:
        head += [f"{METRIC_LABELS[m]} catch-up", "τ (R²)"]
    head += ["lapses", "holding", "lapsed"]
    rows = []
    for h in rep.holds:
        row = [h.name, h.mode, format_duration(h.duration_s)]
        for c in h.catchups:
            cu, fit = c.catchup, c.fit
            exp = {"both": "±", "up": "↑", "down": "↓"}[cu.expected]
            row.append(f"{cu.label} [{exp}]")
            row.append(f"{fit.tau_s:.0f} s ({fit.r2:.2f})" if fit.ok else "—")
        row += [str(h.lapses), format_duration(h.holding_s), format_duration(h.lapsed_s)]
        rows.append(row)
    if rows:
        out += text_table(head, rows, right=set(range(2, len(head))))
        out.append("  expected direction: ↑ up, ↓ down, ± either (reported)")
        fit_notes = [
            f"  {shown(h.name)} {METRIC_LABELS[c.metric]}: τ {c.fit.reason}"
            for h in rep.holds
            for c in h.catchups
            if not c.fit.ok
        ]
        poor = [
            f"  {shown(h.name)} {METRIC_LABELS[c.metric]}: τ fit is {c.fit.quality} "
            f"(R² {c.fit.r2:.2f})"
            for h in rep.holds
            for c in h.catchups
            if c.fit.ok and c.fit.quality == "poor"
        ]
        out += fit_notes + poor
    else:
        out.append("  (no holds)")
    felt = [(h, f) for h in rep.holds for f in h.felt]
    out += ["", "BODY BEFORE EMOTION (felt marker − catch-up; > 0: the body was first)"]
    if felt:
        for h, f in felt:
            at = format_duration(f.t_s - h.start_s)
            if math.isfinite(f.lead_s):
                who = "body first" if f.lead_s > 0 else "feeling first"
                out.append(f"  {shown(h.name)}: felt at +{at}: lead {f.lead_s:+.0f} s ({who})")
            else:
                out.append(f"  {shown(h.name)}: felt at +{at}: — ({f.reason})")
    else:
        out.append("  no 'felt' markers during holds")
    if rep.practice is not None:
        out += format_practice(rep.practice, text_table)
    out += ["", "CAVEATS"] + [f"  - {shown(c)}" for c in rep.caveats]
    return "\n".join(out)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def report_to_dict(rep: SessionReport) -> dict:
    """JSON-ready (NaN → null)."""
    cfg = rep.config

    def band(b: Band) -> dict:
        return {
            "metric": b.metric,
            "mean": _num(b.mean),
            "sd": _num(b.sd),
            "k": b.k,
            "lo": _num(b.lo),
            "hi": _num(b.hi),
            "n": b.n,
            "reason": b.reason,
        }

    def phase(r: PhaseRow) -> dict:
        d = {}
        for k, v in r.__dict__.items():
            d[k] = _num(v) if isinstance(v, float) else v
        return d

    def hold(h: HoldRow) -> dict:
        return {
            "index": h.index,
            "name": h.name,
            "mode": h.mode,
            "target": h.target,
            "belief": h.belief,
            "start_s": h.start_s,
            "end_s": h.end_s,
            "duration_s": h.duration_s,
            "short": h.short,
            "low_quality": h.low_quality,
            "catch_up": {
                c.metric: {
                    "expected": c.catchup.expected,
                    "reached": c.catchup.reached,
                    "latency_s": _num(c.catchup.latency_s),
                    "direction": c.catchup.direction,
                    "t_left_s": _num(c.catchup.t_left_s),
                    "t_confirmed_s": _num(c.catchup.t_confirmed_s),
                    "out_at_onset": c.catchup.out_at_onset,
                    "carried_over": c.catchup.carried_over,
                    "state": "caught up"
                    if c.catchup.reached
                    else "out of band at onset"
                    if c.catchup.carried_over
                    else "not reached",
                    "reason": c.catchup.reason,
                    "tau_s": _num(c.fit.tau_s),
                    "tau_se_s": _num(c.fit.tau_se_s),
                    "fit_r2": _num(c.fit.r2),
                    "fit_amplitude": _num(c.fit.amplitude),
                    "fit_quality": c.fit.quality,
                    "fit_reason": c.fit.reason,
                }
                for c in h.catchups
            },
            "lapses": h.lapses,
            "holding_s": h.holding_s,
            "lapsed_s": h.lapsed_s,
            "lapse_spans": [list(s) for s in h.lapse_spans],
            "felt": [{"t_s": f.t_s, "lead_s": _num(f.lead_s), "reason": f.reason} for f in h.felt],
            "ratings": h.ratings,
        }

    return {
        "file": rep.file,
        "session_id": rep.session_id,
        "started_utc": rep.started_utc,
        "protocol": rep.protocol,
        "duration_s": rep.duration_s,
        "beats": rep.method,
        "config": {
            "metrics": list(cfg.metrics),
            "k": cfg.k,
            "dwell_s": cfg.dwell_s,
            "window_s": cfg.window_s,
            "max_gap_s": cfg.max_gap_s,
            "short_hold_s": cfg.short_hold_s,
            "low_quality_pct": cfg.low_quality_pct,
        },
        "baseline_index": rep.baseline_index,
        "bands": {m: band(b) for m, b in rep.bands.items()},
        "phases": [phase(r) for r in rep.phases],
        "holds": [hold(h) for h in rep.holds],
        "caveats": list(rep.caveats),
        "practice": practice_to_dict(rep.practice) if rep.practice is not None else None,
    }


CSV_PHASE_COLS = [
    "index",
    "name",
    "kind",
    "mode",
    "start_s",
    "end_s",
    "duration_s",
    "n_beats",
    "corrected_pct",
    "low_quality",
    "hr_bpm",
    "rmssd_ms",
    "ln_rmssd",
    "sdnn_ms",
    "hf_ms2",
    "lf_ms2",
    "d_hr_bpm",
    "d_rmssd_ms",
    "d_ln_rmssd",
    "d_hf_ms2",
]


def report_csv_rows(rep: SessionReport) -> tuple[list[str], list[list[object]]]:
    """One row per phase; hold columns (catch-up per metric, τ, lapses) empty elsewhere."""
    cols = list(CSV_PHASE_COLS)
    for m in rep.config.metrics:
        cols += [f"{m}_catchup_s", f"{m}_direction", f"{m}_tau_s", f"{m}_fit_r2"]
    cols += ["lapses", "holding_s", "lapsed_s", "felt_lead_s"]
    holds = {h.index: h for h in rep.holds}
    out = []
    for r in rep.phases:
        row: list[object] = []
        for c in CSV_PHASE_COLS:
            v = getattr(r, c)
            row.append("" if isinstance(v, float) and not math.isfinite(v) else v)
        h = holds.get(r.index)
        if h is None:
            row += [""] * (4 * len(rep.config.metrics) + 4)
        else:
            for c in h.catchups:
                row += [
                    _csv(c.catchup.latency_s),
                    c.catchup.direction,
                    _csv(c.fit.tau_s),
                    _csv(c.fit.r2),
                ]
            leads = ";".join(f"{f.lead_s:.1f}" for f in h.felt if math.isfinite(f.lead_s))
            row += [h.lapses, round(h.holding_s, 3), round(h.lapsed_s, 3), leads]
        out.append(row)
    return cols, out


def _csv(x: float) -> object:
    return "" if not math.isfinite(x) else round(x, 4)
