"""The simulated person: the protocol's timeline, lapses, markers, ratings and act-and-savor
answers. Pure and seeded; the body they drive is `sim.body`.

While holding, the person lapses now and then (at lapse_per_min, not in the first
LAPSE_AFTER_START_S or the last LAPSE_BEFORE_END_S of a hold), for LAPSE_S, and marks the
lapse and the rehold a moment later (MARK_DELAY_S). Once the body has caught up (drive >
FELT_DRIVE) they feel it, FELT_LAG_S later: "the body responds before the emotions do".
"""

from __future__ import annotations

import numpy as np

from holdbeat.events import ActionDone, ActionPlan, Rating, SessionEvent
from holdbeat.session import DEFAULT_ACTION_S, Phase, Protocol
from holdbeat.sim.body import SimConfig

LAPSE_AFTER_START_S = 20.0
LAPSE_BEFORE_END_S = 30.0
LAPSE_S = (8.0, 25.0)
MARK_DELAY_S = (0.5, 2.0)
FELT_DRIVE = 0.85
FELT_LAG_S = (10.0, 30.0)


def schedule(protocol: Protocol) -> list[tuple[float, float, Phase]]:
    """(start_s, end_s, phase) on the nominal timeline; open-ended actions get DEFAULT_ACTION_S."""
    out = []
    t = 0.0
    for p in protocol.phases:
        d = p.duration_s if p.duration_s is not None else DEFAULT_ACTION_S
        out.append((t, t + d, p))
        t += d
    return out


def hold_ratings(
    rng: np.random.Generator, t_s: float, idx: int, when: str, drive: float
) -> list[Rating]:
    """Belief and safety ratings before or after a hold (after: higher as the body caught up)."""
    base = 5.0 + (3.0 * drive if when == "post" else 0.0)
    return [
        Rating(t_s, idx, when, scale, round(min(10.0, max(0.0, base + rng.normal(0, 1.2)))))
        for scale in ("belief", "safety")
    ]


SIM_ACTIONS = (
    "send the email I have been putting off",
    "call the dentist",
    "say no to the extra shift",
    "reply to my sister",
    "clear the desk",
    "ask for the deadline to move",
)


def practice_events(protocol: Protocol, cfg: SimConfig) -> list[SessionEvent]:
    """act-and-savor as the simulated person answers it: the action (said as the action
    phase starts), whether it was done (after it), and how satisfying it was after the soft
    hold that lets it land. A separate random stream, so the body's beats do not change."""
    if not cfg.ratings:
        return []
    from holdbeat.practice import savor_holds

    rng = np.random.default_rng([cfg.seed, 2])
    sched = schedule(protocol)
    savor = savor_holds(protocol)
    out: list[SessionEvent] = []
    done = True
    for i, (start, stop, phase) in enumerate(sched):
        if phase.kind == "action":
            if cfg.action_plan:
                text = SIM_ACTIONS[int(rng.integers(len(SIM_ACTIONS)))]
                out.append(ActionPlan(start + float(rng.uniform(1, 4)), i, text))
            done = bool(rng.random() < 0.8)
            out.append(ActionDone(stop + float(rng.uniform(1, 3)), i, done))
        elif i in savor:
            base = 7.0 if done else 3.0
            value = round(min(10.0, max(0.0, base + rng.normal(0, 1.3))))
            out.append(Rating(stop + 1.5, i, "post", "satisfaction", value))
    return out
