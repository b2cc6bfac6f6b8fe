"""One session's report as text, JSON and CSV (rendering only; the numbers are
holdbeat.analysis.report's, the figure is report_figure's)."""

from __future__ import annotations

import math

from holdbeat.analysis.baseline_band import Band
from holdbeat.analysis.practice_render import format_practice, practice_to_dict
from holdbeat.analysis.report import METRIC_LABELS, HoldRow, PhaseRow, SessionReport
from holdbeat.analysis.textfmt import fmt_num, json_num, text_table
from holdbeat.safe_text import for_terminal as shown
from holdbeat.session import format_duration

METRIC_UNITS = {"ln_rmssd": "ln(ms)", "hr": "bpm", "rmssd": "ms", "sdnn": "ms"}


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
    if rep.reference == "rest":
        out.append(
            "  each hold's band comes from the rest just before it (reference rest): "
            + ", ".join(
                f"{shown(h.name)} ← {shown(rep.phases[h.reference_index].name)}"
                for h in rep.holds
                if h.reference_index is not None
            )
        )
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
        out += format_practice(rep.practice)
    out += ["", "CAVEATS"] + [f"  - {shown(c)}" for c in rep.caveats]
    return "\n".join(out)


def report_to_dict(rep: SessionReport) -> dict:
    """JSON-ready (NaN → null)."""
    cfg = rep.config

    def band(b: Band) -> dict:
        return {
            "metric": b.metric,
            "mean": json_num(b.mean),
            "sd": json_num(b.sd),
            "k": b.k,
            "lo": json_num(b.lo),
            "hi": json_num(b.hi),
            "n": b.n,
            "reason": b.reason,
        }

    def phase(r: PhaseRow) -> dict:
        d = {}
        for k, v in r.__dict__.items():
            d[k] = json_num(v) if isinstance(v, float) else v
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
            "reference_index": h.reference_index,
            "catch_up": {
                c.metric: {
                    "band": band(c.band),
                    "expected": c.catchup.expected,
                    "reached": c.catchup.reached,
                    "latency_s": json_num(c.catchup.latency_s),
                    "direction": c.catchup.direction,
                    "t_left_s": json_num(c.catchup.t_left_s),
                    "t_confirmed_s": json_num(c.catchup.t_confirmed_s),
                    "out_at_onset": c.catchup.out_at_onset,
                    "carried_over": c.catchup.carried_over,
                    "state": "caught up"
                    if c.catchup.reached
                    else "out of band at onset"
                    if c.catchup.carried_over
                    else "not reached",
                    "reason": c.catchup.reason,
                    "tau_s": json_num(c.fit.tau_s),
                    "tau_se_s": json_num(c.fit.tau_se_s),
                    "fit_r2": json_num(c.fit.r2),
                    "fit_amplitude": json_num(c.fit.amplitude),
                    "fit_quality": c.fit.quality,
                    "fit_reason": c.fit.reason,
                }
                for c in h.catchups
            },
            "lapses": h.lapses,
            "holding_s": h.holding_s,
            "lapsed_s": h.lapsed_s,
            "lapse_spans": [list(s) for s in h.lapse_spans],
            "felt": [
                {"t_s": f.t_s, "lead_s": json_num(f.lead_s), "reason": f.reason} for f in h.felt
            ],
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
            "reference": rep.reference,
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
