"""What a session adds around the physiology: the note before, the action of an
act-and-savor session and the sound-cue schedule, as events at their time. Pure.

`PracticePlanner` is the session runner's planner (holdbeat.pipeline.Planner): given at the
start what the person said before the session, it emits the events in order with the
phases, so they are recorded like everything else and replay reproduces them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from holdbeat.cues import CueConfig, PhaseTiming, phase_cues
from holdbeat.events import ActionPlan, Cue, End, PhaseStart, SessionEvent, SessionNote
from holdbeat.session import Protocol, rehold_cue


def savor_holds(protocol: Protocol) -> set[int]:
    """Soft holds that follow an action phase: where the satisfaction is meant to land, so
    their 'after' rating asks for satisfaction too (act-and-savor)."""
    out: set[int] = set()
    acted = False
    for i, p in enumerate(protocol.phases):
        if p.kind == "action":
            acted = True
        elif p.is_hold and p.mode == "soft" and acted:
            out.add(i)
    return out


def rating_scales(protocol: Protocol | None, slot: tuple[int, str]) -> tuple[str, ...]:
    """What a rating dialog asks: belief and safety; after a savoring soft hold, also
    satisfaction."""
    if protocol is not None and slot[1] == "post" and slot[0] in savor_holds(protocol):
        return ("belief", "safety", "satisfaction")
    return ("belief", "safety")


def open_lapse(markers, start_s: float, now_s: float) -> float | None:
    """When the lapse still open in a hold that began at start_s began (no rehold since),
    or None: what the re-hold cue is shown for."""
    lapsed_at = None
    for m in markers:
        if not start_s <= m.t_s <= now_s:
            continue
        if m.kind == "lapse" and lapsed_at is None:
            lapsed_at = m.t_s
        elif m.kind == "rehold":
            lapsed_at = None
    return lapsed_at


def phase_rehold_cue(protocol: Protocol | None, index: int, mode: str) -> str:
    """The re-hold cue of phase `index`: the protocol's own (when it is the phase that ran),
    else the mode's default."""
    if protocol is not None and 0 <= index < len(protocol.phases):
        p = protocol.phases[index]
        if p.mode == mode:
            return p.rehold_cue
    return rehold_cue(mode)


@dataclass(frozen=True, slots=True)
class PracticePlan:
    note_before: str = ""  # the situation, in the person's words
    action: str = ""  # act-and-savor: what the action will be, if known before
    cues: CueConfig | None = None  # None: no sound cues

    @property
    def empty(self) -> bool:
        return not (self.note_before or self.action or self.cues)


class PracticePlanner:
    def __init__(self, plan: PracticePlan) -> None:
        self.plan = plan
        self._prev: PhaseTiming | None = None
        self._action_given = False

    def at_start(self) -> list[SessionEvent]:
        text = self.plan.note_before.strip()
        return [SessionNote(0.0, "before", text)] if text else []

    def at_phase(self, ev: PhaseStart) -> list[SessionEvent]:
        ph = PhaseTiming(ev.index, ev.kind, ev.t_s, ev.duration_s)
        out: list[SessionEvent] = []
        if self.plan.cues is not None:
            out += phase_cues(ph, self._prev, self.plan.cues)
        if ev.kind == "action" and self.plan.action.strip() and not self._action_given:
            self._action_given = True
            out.append(ActionPlan(ev.t_s, ev.index, self.plan.action.strip()))
        self._prev = ph
        return out

    def at_end(self, end: End) -> list[SessionEvent]:
        if self.plan.cues is None or self._prev is None:
            return []
        return [Cue(end.t_s, "end", self._prev.index)]
