"""`compare` as text, JSON and CSV, with the verdicts in words and the practice sections
(rating change, the body after lapses): rendering only; the numbers are
holdbeat.analysis.compare's, the figure is compare_figure's."""

from __future__ import annotations

import math
from pathlib import Path

from holdbeat.analysis.compare import Comparison
from holdbeat.analysis.groups import GroupStats
from holdbeat.analysis.stats import Contrast, Estimate
from holdbeat.analysis.textfmt import fmt_num, json_num, text_table
from holdbeat.safe_text import for_terminal as shown

#: what each compare metric is called and measured in (holdbeat.analysis.compare.METRICS)
METRIC_TEXT = {
    "dlnrmssd": ("Δ ln RMSSD", "ln(ms)"),
    "dhr": ("Δ HR", "bpm"),
    "drmssd": ("Δ RMSSD", "ms"),
    "latency": ("catch-up latency", "s"),
    "dbelief": ("belief rating change", "points"),
    "dsafety": ("felt-safety rating change", "points"),
    "lapse_dln": ("ln RMSSD change after a lapse", "ln(ms)"),
}


def _sure(p: float) -> str:
    if p < 0.001:
        return "very unlikely to be chance"
    if p < 0.01:
        return "unlikely to be chance"
    if p < 0.05:
        return "probably not chance, but more sessions would make it firm"
    return "could easily be chance"


def verdict(c: Contrast, metric: str) -> str:
    """One plain-language sentence for a contrast."""
    label, unit = METRIC_TEXT[metric]
    pair = f"{c.a} vs {c.b}" + (" (same sessions)" if c.paired else "")
    if not c.ok:
        return f"{pair}: can't say — {c.reason}."
    if c.excludes_zero:
        # say it the way round that needs no minus signs: "higher in X than in Y by d (CI)"
        hi, lo, d, a, b = (
            (c.a, c.b, c.diff, c.ci_lo, c.ci_hi)
            if c.diff > 0
            else (c.b, c.a, -c.diff, -c.ci_hi, -c.ci_lo)
        )
        return (
            f"{pair}: they differ — {label} is {d:.3g} {unit} higher in {hi} than in {lo} "
            f"(95 % CI {a:.3g} to {b:.3g}; p = {c.p:.2g}; g = {c.g:+.2f} for {c.a} − {c.b}); "
            f"{_sure(c.p)}."
        )
    n = f"n = {c.n_a}" + (" sessions" if c.paired else f" and {c.n_b} sessions")
    return (
        f"{pair}: no clear difference — {c.a} minus {c.b} = {c.diff:+.3g} {unit} (95 % CI "
        f"{c.ci_lo:+.3g} to {c.ci_hi:+.3g}, which includes zero; p = {c.p:.2g}; g = {c.g:+.2f}). "
        f"Consistent with no difference, or one too small to see with {n}."
    )


def format_comparison(cmp: Comparison) -> str:
    cfg = cmp.config
    label, unit = METRIC_TEXT[cfg.metric]
    out = [
        f"holdbeat compare · {cmp.n_sessions} recordings · {len(cmp.units)} holds used · "
        f"{len(cmp.excluded)} excluded",
        f"metric: {label} ({unit})"
        + ("" if cfg.metric == "latency" else ", hold phase minus the session's baseline phase")
        + f"; one value per session and {cfg.by.replace(',', ' and ')}",
        "",
        f"BY {cfg.by.upper().replace(',', ' AND ')} (95 % CI: bootstrap of the mean over sessions)",
    ]
    head = [cfg.by.replace(",", " · "), "sessions", "holds", "mean", "median", "95 % CI"]
    head += ["caught up", "median lat."]
    rows = []
    for m in cmp.modes:
        e = m.estimate
        ci = f"{e.ci_lo:+.3g} to {e.ci_hi:+.3g}" if e.ok else (e.reason if m.n_holds else "—")
        rows.append(
            [
                m.mode,
                str(m.n_sessions),
                str(m.n_holds),
                fmt_num(e.mean, "+.3g"),
                fmt_num(e.median, "+.3g"),
                ci,
                (f"{m.reached}/{m.band_ok}" if m.band_ok else "—")
                + (f" ({m.carried_over} out at onset)" if m.carried_over else ""),
                fmt_num(m.latency_median_s, ".0f")
                + (" s" if math.isfinite(m.latency_median_s) else ""),
            ]
        )
    out += text_table(head, rows, right={1, 2, 3, 4, 6, 7})
    what = {"mode": "modes", "target": "targets"}.get(cfg.by, "groups")
    for title, cs in (
        (f"BETWEEN {what.upper()} (all sessions; unpaired)", cmp.pairwise),
        (f"WITHIN SESSIONS (paired: sessions that held both {what})", cmp.paired),
    ):
        out += ["", title]
        head = ["contrast", "n", "difference", "95 % CI", "Hedges' g", "perm. p"]
        rows = []
        for c in cs:
            n = f"{c.n_a}" if c.paired else f"{c.n_a}/{c.n_b}"
            if c.ok:
                rows.append(
                    [
                        f"{c.a} − {c.b}",
                        n,
                        f"{c.diff:+.3g}",
                        f"{c.ci_lo:+.3g} to {c.ci_hi:+.3g}",
                        f"{c.g:+.2f}",
                        f"{c.p:.3g}",
                    ]
                )
            else:
                rows.append([f"{c.a} − {c.b}", n, "—", c.reason, "—", "—"])
        out += text_table(head, rows, right={1, 2, 4, 5})
    out += ["", "IN WORDS"]
    for unp, par in zip(cmp.pairwise, cmp.paired, strict=True):
        if unp.n_a == 0 and unp.n_b == 0:
            continue
        out.append("  • " + shown(verdict(unp, cfg.metric)))
        if par.n_a:
            out.append("  • " + shown(verdict(par, cfg.metric)))
    if not any(u.n_a or u.n_b for u in cmp.pairwise):
        out.append("  • no usable holds: nothing to compare.")
    out += format_practice_sections(cmp)
    out += ["", f"EXCLUDED HOLDS ({len(cmp.excluded)})"]
    if cmp.excluded:
        out += text_table(
            ["file", "phase", "mode", "reason"],
            [[Path(e.file).name, e.phase, e.mode, e.reason] for e in cmp.excluded],
            right=set(),
        )
    else:
        out.append("  none")
    out += ["", "NOTES"] + [f"  - {shown(n)}" for n in cmp.notes]
    return "\n".join(out)


def comparison_to_dict(cmp: Comparison) -> dict:
    cfg = cmp.config
    return {
        "config": {
            "by": cfg.by,
            "metric": cfg.metric,
            "include_low_quality": cfg.include_low_quality,
            "low_quality_pct": cfg.low_quality_pct,
            "min_hold_s": cfg.min_hold_s,
            "window_s": cfg.window_s,
            "k": cfg.k,
            "dwell_s": cfg.dwell_s,
            "resamples": cfg.n_resamples,
            "seed": cfg.seed,
        },
        "n_recordings": cmp.n_sessions,
        "modes": [
            {
                "mode": m.mode,  # the group: a mode, a target, or "mode · target" (see by)
                "sessions": m.n_sessions,
                "holds": m.n_holds,
                "mean": json_num(m.estimate.mean),
                "median": json_num(m.estimate.median),
                "sd": json_num(m.estimate.sd),
                "ci": [json_num(m.estimate.ci_lo), json_num(m.estimate.ci_hi)],
                "reason": m.estimate.reason,
                "caught_up": m.reached,
                "catch_up_computable": m.band_ok,
                "out_at_onset": m.carried_over,
                "median_latency_s": json_num(m.latency_median_s),
            }
            for m in cmp.modes
        ],
        "pairwise": [contrast_to_dict(c) for c in cmp.pairwise],
        "within_session": [contrast_to_dict(c) for c in cmp.paired],
        "trajectories": [
            {
                "event": t.event,
                "mode": t.mode,
                "sessions": t.n_sessions,
                "offset_s": [json_num(x) for x in t.offsets_s],
                "mean": [json_num(x) for x in t.mean],
                "ci_lo": [json_num(x) for x in t.lo],
                "ci_hi": [json_num(x) for x in t.hi],
                "n": [int(x) for x in t.n],
            }
            for t in cmp.trajectories
        ],
        "holds": [
            {
                **{k: (json_num(v) if isinstance(v, float) else v) for k, v in u.__dict__.items()},
                "dbelief": json_num(u.dbelief),
                "dsafety": json_num(u.dsafety),
            }
            for u in cmp.units
        ],
        "practice": {m: extra_to_dict(gs) for m, gs in cmp.extra.items()},
        "excluded": [e.__dict__ for e in cmp.excluded],
        "notes": list(cmp.notes),
    }


CSV_COLS = (
    "file",
    "session",
    "index",
    "name",
    "mode",
    "duration_s",
    "corrected_pct",
    "dhr",
    "drmssd",
    "dlnrmssd",
    "latency",
    "reached",
    "carried_over",
    # the practice (issue 17): when, what about, ratings, lapses
    "started_utc",
    "target",
    "belief_pre",
    "belief_post",
    "dbelief",
    "safety_pre",
    "safety_post",
    "dsafety",
    "satisfaction",
    "lapses",
    "lapsed_s",
    "lapse_dln",
    "included",
    "reason",
)


def comparison_csv_rows(cmp: Comparison) -> list[list[object]]:
    """One row per hold, included or excluded (with the reason); blank where unknown."""
    rows: list[list[object]] = []
    for u in cmp.units:
        row = []
        for c in CSV_COLS[:-2]:
            v = getattr(u, c)
            row.append("" if isinstance(v, float) and not math.isfinite(v) else v)
        rows.append([*row, True, ""])
    for e in cmp.excluded:
        idx, _, name = e.phase.lstrip("#").partition(" ")
        known = {
            "file": e.file,
            "started_utc": e.started_utc,
            "index": idx,
            "name": name,
            "mode": e.mode,
            "target": e.target,
        }
        rows.append([known.get(c, "") for c in CSV_COLS[:-2]] + [False, e.reason])
    return rows


def contrast_to_dict(c: Contrast) -> dict:
    return {
        "a": c.a,
        "b": c.b,
        "paired": c.paired,
        "n_a": c.n_a,
        "n_b": c.n_b,
        "diff": json_num(c.diff),
        "ci": [json_num(c.ci_lo), json_num(c.ci_hi)],
        "hedges_g": json_num(c.g),
        "p_permutation": json_num(c.p),
        "reason": c.reason,
    }


# ---------------------------------------------------------------- practice sections


TITLES = {
    "dbelief": "BELIEF RATING, after − before the hold (0–10 scale)",
    "dsafety": "FELT-SAFETY RATING, after − before the hold (0–10 scale)",
    "lapse_dln": "AFTER LAPSES: ln RMSSD 30–60 s after the lapse key − the 30 s before",
}


def _ci(e: Estimate) -> str:
    return f"{e.ci_lo:+.3g} to {e.ci_hi:+.3g}" if e.ok else e.reason


def lapse_sentence(group: str, e: Estimate) -> str:
    """'after lapses, ln RMSSD fell back by …' in words, with its interval."""
    if e.n == 0:
        return f"{group}: no measurable lapses."
    if not e.ok:
        return f"{group}: after lapses ln RMSSD changed by {e.mean:+.3g} on average ({e.reason})."
    way = "fell back" if e.mean < 0 else "rose"
    sure = (
        "clearly, the interval excludes zero"
        if e.excludes_zero
        else "the interval includes zero, so it could be no change"
    )
    return (
        f"{group}: after lapses, ln RMSSD {way} by {abs(e.mean):.3g} (95 % CI {_ci(e)}; "
        f"{e.n} sessions) — {sure}."
    )


def format_practice_sections(cmp: Comparison) -> list[str]:
    out: list[str] = []
    for metric, gs in cmp.extra.items():
        out += ["", TITLES.get(metric, METRIC_TEXT[metric][0].upper())]
        rows = []
        for g in gs.groups:
            e = g.estimate
            if not g.n_holds:
                continue
            rows.append(
                [g.mode, str(e.n), f"{e.mean:+.3g}" if e.n else "—", _ci(e) if e.n else "—"]
            )
        if not rows:
            out.append("  no values")
            continue
        out += text_table(["group", "sessions", "mean", "95 % CI"], rows, right={1, 2})
        if metric == "lapse_dln":
            out += [f"  • {lapse_sentence(g.mode, g.estimate)}" for g in gs.groups if g.n_holds]
        for unp, par in zip(gs.pairwise, gs.paired, strict=True):
            c = par if par.ok else unp
            if c.ok:
                out.append("  • " + verdict(c, metric))
    return out


def extra_to_dict(gs: GroupStats) -> dict:
    return {
        "metric": gs.metric,
        "by": gs.by,
        "groups": [
            {
                "group": g.mode,
                "sessions": g.estimate.n,
                "holds": g.n_holds,
                "mean": json_num(g.estimate.mean),
                "median": json_num(g.estimate.median),
                "ci": [json_num(g.estimate.ci_lo), json_num(g.estimate.ci_hi)],
                "reason": g.estimate.reason,
            }
            for g in gs.groups
        ],
        "pairwise": [contrast_to_dict(c) for c in gs.pairwise],
        "within_session": [contrast_to_dict(c) for c in gs.paired],
    }
