"""One session's practice, next to its physiology: what the person said and rated.

The situation (and the mode it suggested), notes before and after, the act-and-savor action
and whether it was done, the ratings before and after each hold with their change, and
what the body did after each lapse (holdbeat.analysis.lapses). Pure; `report` renders it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from holdbeat.analysis.lapses import LapseResponse, Noise, baseline_noise, lapse_responses
from holdbeat.analysis.prep import Prepared
from holdbeat.events import ActionDone, ActionPlan
from holdbeat.recording import Recording
from holdbeat.textout import clean

SCALES = ("belief", "safety", "satisfaction")
NAN = math.nan


@dataclass(frozen=True, slots=True)
class HoldRatings:
    index: int
    name: str
    mode: str
    target: str
    belief_pre: float
    belief_post: float
    safety_pre: float
    safety_post: float
    satisfaction: float  # after the hold (act-and-savor's soft hold); NaN when not asked

    @property
    def d_belief(self) -> float:
        return self.belief_post - self.belief_pre

    @property
    def d_safety(self) -> float:
        return self.safety_post - self.safety_pre


@dataclass(frozen=True, slots=True)
class Action:
    phase_index: int
    text: str
    done: bool | None  # None: not answered


@dataclass(frozen=True)
class PracticeSummary:
    situation: str
    suggestion: dict
    notes_before: tuple[str, ...]
    notes_after: tuple[str, ...]
    actions: tuple[Action, ...]
    ratings: tuple[HoldRatings, ...]
    lapses: tuple[LapseResponse, ...]
    noise: Noise
    cues: int  # sound cues given


def ratings_of(rec: Recording) -> tuple[HoldRatings, ...]:
    """Per hold, the last rating given for each (when, scale); NaN where none."""
    last: dict[tuple[int, str, str], int] = {}
    for r in rec.ratings:
        last[(r.phase_index, r.when, r.scale)] = r.value

    def get(i: int, when: str, scale: str) -> float:
        v = last.get((i, when, scale))
        return NAN if v is None else float(v)

    return tuple(
        HoldRatings(
            ph.index,
            ph.name or ph.kind,
            ph.mode,
            ph.target,
            get(ph.index, "pre", "belief"),
            get(ph.index, "post", "belief"),
            get(ph.index, "pre", "safety"),
            get(ph.index, "post", "safety"),
            get(ph.index, "post", "satisfaction"),
        )
        for ph in rec.phases
        if ph.kind == "hold"
    )


def actions_of(rec: Recording) -> tuple[Action, ...]:
    plans: dict[int, str] = {}
    done: dict[int, bool] = {}
    for ev in rec.actions:
        if isinstance(ev, ActionPlan):
            plans[ev.phase_index] = ev.text
        elif isinstance(ev, ActionDone):
            done[ev.phase_index] = ev.done
    idx = sorted(set(plans) | set(done) | {p.index for p in rec.phases if p.kind == "action"})
    return tuple(Action(i, plans.get(i, ""), done.get(i)) for i in idx)


def practice_summary(prep: Prepared) -> PracticeSummary:
    rec = prep.rec
    practice = rec.header.practice or {}
    base = next((p for p in rec.phases if p.kind == "baseline"), None)
    holds = [p for p in rec.phases if p.kind == "hold"]
    noise = baseline_noise(prep, base)
    sug = practice.get("suggestion")
    return PracticeSummary(
        situation=str(practice.get("situation", "")),
        suggestion=sug if isinstance(sug, dict) else {},
        notes_before=tuple(n.text for n in rec.notes if n.when == "before"),
        notes_after=tuple(n.text for n in rec.notes if n.when == "after"),
        actions=actions_of(rec),
        ratings=ratings_of(rec),
        lapses=tuple(lapse_responses(prep, holds, base, noise)),
        noise=noise,
        cues=len(rec.cues),
    )


def hold_practice_fields(prep: Prepared, ph, rated, base, noise) -> dict:
    """A hold's ratings, lapses and lapse response (compare's HoldUnit fields)."""
    from holdbeat.analysis.report import lapse_spans  # report imports this module

    n_lapse, spans = lapse_spans(prep.rec.markers, ph.start_s, ph.end_s)
    resp = [
        r.change_ln for r in lapse_responses(prep, [ph], base, noise) if math.isfinite(r.change_ln)
    ]
    nan = math.nan
    return {
        "started_utc": prep.rec.header.started_utc,
        "target": ph.target,
        "belief_pre": rated.belief_pre if rated else nan,
        "belief_post": rated.belief_post if rated else nan,
        "safety_pre": rated.safety_pre if rated else nan,
        "safety_post": rated.safety_post if rated else nan,
        "satisfaction": rated.satisfaction if rated else nan,
        "lapses": n_lapse,
        "lapsed_s": sum(b - a for a, b in spans),
        "lapse_dln": float(np.mean(resp)) if resp else nan,
        "lapses_measured": len(resp),
    }


# ---------------------------------------------------------------- rendering


def _v(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.0f}"


def _d(x: float) -> str:
    return "" if not math.isfinite(x) else f" ({x:+.0f})"


def format_practice(ps: PracticeSummary, table) -> list[str]:
    """Text sections for `report`; `table` is report.text_table."""
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
        out += table(["hold", "mode", "belief", "felt safety", "satisfaction"], rows, right=set())
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


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


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
                "belief_pre": _num(r.belief_pre),
                "belief_post": _num(r.belief_post),
                "safety_pre": _num(r.safety_pre),
                "safety_post": _num(r.safety_post),
                "satisfaction": _num(r.satisfaction),
                "d_belief": _num(r.d_belief),
                "d_safety": _num(r.d_safety),
            }
            for r in ps.ratings
        ],
        "lapses": [
            {
                "t_s": lr.t_s,
                "hold_index": lr.hold_index,
                "mode": lr.mode,
                "pre_ln_rmssd": _num(lr.pre_ln),
                "post_ln_rmssd": _num(lr.post_ln),
                "change_ln_rmssd": _num(lr.change_ln),
                "change_hr_bpm": _num(lr.change_hr),
                "toward_baseline": lr.toward_baseline,
                "noise_ci_half": _num(lr.ci_half_ln),
                "reason": lr.reason,
            }
            for lr in ps.lapses
        ],
        "lapse_noise": {
            "sd_ln_rmssd": _num(ps.noise.sd_ln),
            "windows": ps.noise.n_windows,
            "reason": ps.noise.reason,
        },
        "cues": ps.cues,
    }
