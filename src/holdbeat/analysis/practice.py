"""One session's practice, next to its physiology: what the person said and rated.

The situation (and the mode it suggested), notes before and after, the act-and-savor action
and whether it was done, the ratings before and after each hold with their change, and
what the body did after each lapse (holdbeat.analysis.lapses). Pure; practice_render renders
it for `report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from holdbeat.analysis.lapses import (
    LapseResponse,
    Noise,
    baseline_noise,
    lapse_responses,
    lapse_spans,
)
from holdbeat.analysis.prep import Prepared
from holdbeat.events import ActionDone, ActionPlan
from holdbeat.recording import Recording

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
