"""One session's practice as `report` shows it: text sections and JSON (rendering only; the
numbers are holdbeat.analysis.practice's)."""

from __future__ import annotations

import math

from holdbeat.analysis.practice import PracticeSummary
from holdbeat.analysis.textfmt import json_num, text_table
from holdbeat.textout import clean


def _v(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.0f}"


def _d(x: float) -> str:
    return "" if not math.isfinite(x) else f" ({x:+.0f})"


def format_practice(ps: PracticeSummary) -> list[str]:
    """Text sections for `report`."""
    out: list[str] = []
    if ps.situation or ps.notes_before or ps.notes_after or ps.actions:
        out += ["", "THE PRACTICE"]
        if ps.situation:
            out.append(f"  situation: “{clean(ps.situation)}”")
            if ps.suggestion:
                label = ps.suggestion.get("mode", "")
                if ps.suggestion.get("stance"):
                    label += f" with {ps.suggestion['stance']}"
                why = clean(ps.suggestion.get("reason", ""))
                out.append(f"    suggested: {clean(label)} — {why}")
        out += [f"  note before: {clean(n)}" for n in ps.notes_before]
        for a in ps.actions:
            done = {True: "done", False: "not done", None: "not answered"}[a.done]
            out.append(f"  action: {clean(a.text) or '(not said)'} — {done}")
        out += [f"  note after: {clean(n)}" for n in ps.notes_after]
    out += ["", "RATINGS (0–10; before → after, change)"]
    rows = [
        [
            r.name,
            r.mode,
            f"{_v(r.belief_pre)} → {_v(r.belief_post)}{_d(r.d_belief)}",
            f"{_v(r.safety_pre)} → {_v(r.safety_post)}{_d(r.d_safety)}",
            _v(r.satisfaction),
        ]
        for r in ps.ratings
    ]
    if rows:
        head = ["hold", "mode", "belief", "felt safety", "satisfaction"]
        out += text_table(head, rows, right=set())
    else:
        out.append("  (no holds)")
    out += ["", "AFTER EACH LAPSE (ln RMSSD 30–60 s after the key − the 30 s before it)"]
    if not ps.lapses:
        out.append("  no lapses marked")
        return out
    band = ps.noise.ci_half
    for lr in ps.lapses:
        m, sec = divmod(int(lr.t_s), 60)
        at = f"{m}:{sec:02d}"
        if not math.isfinite(lr.change_ln):
            out.append(f"  {at} ({lr.mode}): — ({lr.reason})")
            continue
        way = {True: "toward the baseline", False: "away from the baseline", None: ""}[
            lr.toward_baseline
        ]
        noise = (
            f" ± {band:.2f} at rest; {'beyond' if lr.beyond_noise else 'within'} the noise"
            if math.isfinite(band)
            else ""
        )
        out.append(
            f"  {at} ({lr.mode}): ln RMSSD {lr.pre_ln:.2f} → {lr.post_ln:.2f} "
            f"({lr.change_ln:+.2f}{noise}){', ' + way if way else ''}; HR {lr.change_hr:+.1f} bpm"
        )
    if not math.isfinite(band):
        out.append(f"  uncertainty unknown: {ps.noise.reason}")
    else:
        out.append(
            f"  ± is 1.96·√2 × the SD of a 30 s window over the baseline "
            f"({ps.noise.sd_ln:.3f}, {ps.noise.n_windows} windows): a change at rest stays "
            "inside it 95 % of the time"
        )
    return out


def practice_to_dict(ps: PracticeSummary) -> dict:
    return {
        "situation": ps.situation,
        "suggestion": ps.suggestion,
        "notes_before": list(ps.notes_before),
        "notes_after": list(ps.notes_after),
        "actions": [{"phase": a.phase_index, "text": a.text, "done": a.done} for a in ps.actions],
        "ratings": [
            {
                "index": r.index,
                "name": r.name,
                "mode": r.mode,
                "target": r.target,
                "belief_pre": json_num(r.belief_pre),
                "belief_post": json_num(r.belief_post),
                "safety_pre": json_num(r.safety_pre),
                "safety_post": json_num(r.safety_post),
                "satisfaction": json_num(r.satisfaction),
                "d_belief": json_num(r.d_belief),
                "d_safety": json_num(r.d_safety),
            }
            for r in ps.ratings
        ],
        "lapses": [
            {
                "t_s": lr.t_s,
                "hold_index": lr.hold_index,
                "mode": lr.mode,
                "pre_ln_rmssd": json_num(lr.pre_ln),
                "post_ln_rmssd": json_num(lr.post_ln),
                "change_ln_rmssd": json_num(lr.change_ln),
                "change_hr_bpm": json_num(lr.change_hr),
                "toward_baseline": lr.toward_baseline,
                "noise_ci_half": json_num(lr.ci_half_ln),
                "reason": lr.reason,
            }
            for lr in ps.lapses
        ],
        "lapse_noise": {
            "sd_ln_rmssd": json_num(ps.noise.sd_ln),
            "windows": ps.noise.n_windows,
            "reason": ps.noise.reason,
        },
        "cues": ps.cues,
    }
