"""A simulated chest strap: real encoded HRM packets from a small physiological model.

Beat-to-beat RR = mean RR + respiratory sinus arrhythmia (RSA, ~0.25 Hz) + a 0.1 Hz
baroreflex wave + AR(1) noise, with the vagal terms scaled together. Holding a belief
drives a first-order "catch-up" state toward 1 with a mode-dependent time constant;
the state shifts HR and scales vagal variability in the mode's direction (DESIGN.md §3:
soft and loving-kindness lower HR and raise RMSSD; fierce raises HR while vagal HRV may
still rise). Lapses pull the drive back. Packets go out once per strap second with
the RR of the beats since the last one (0-3), arriving at the host a few ms later.
Pure and seeded: the same config gives the same events, independent of any clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Battery,
    Hrm,
    Marker,
    Rating,
    SessionEvent,
    Tick,
)
from holdbeat.hrs import encode_hrm
from holdbeat.session import DEFAULT_ACTION_S, Phase, Protocol


@dataclass(frozen=True, slots=True)
class ModeResponse:
    dhr_bpm: float  # HR shift when fully caught up
    vagal_gain: float  # multiplier on vagal (RSA + noise) amplitude when caught up
    tau_s: float  # catch-up time constant


DEFAULT_RESPONSES = {
    "fierce": ModeResponse(dhr_bpm=+3.0, vagal_gain=1.25, tau_s=40.0),
    "soft": ModeResponse(dhr_bpm=-4.0, vagal_gain=1.45, tau_s=55.0),
    "loving-kindness": ModeResponse(dhr_bpm=-5.0, vagal_gain=1.6, tau_s=70.0),
}

#: A body that responds clearly: effects large enough to clear a baseline band calibrated
#: on real resting hearts (docs/analysis.md: at the default k and dwell, ln RMSSD +0.7 or
#: HR -9 bpm is caught in most real holds, +0.3 / -3 bpm in a quarter). For tests and
#: demonstrations of the catch-up mechanics; DEFAULT_RESPONSES stay modest.
CLEAR_RESPONSES = {
    "fierce": ModeResponse(dhr_bpm=+8.0, vagal_gain=1.9, tau_s=40.0),
    "soft": ModeResponse(dhr_bpm=-9.0, vagal_gain=2.2, tau_s=55.0),
    "loving-kindness": ModeResponse(dhr_bpm=-10.0, vagal_gain=2.4, tau_s=70.0),
}


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int = 0
    hr0_bpm: float = 68.0
    rsa_ms: float = 28.0
    lf_ms: float = 14.0
    noise_ms: float = 11.0
    resp_hz: float = 0.25
    responses: dict[str, ModeResponse] = field(default_factory=lambda: dict(DEFAULT_RESPONSES))
    artifact_rate: float = 0.01  # per beat: missed / extra / ectopic, equally likely
    lapse_per_min: float = 0.4  # during holds
    markers: bool = True  # emit simulated lapse/rehold/felt markers
    ratings: bool = True  # emit simulated pre/post hold ratings
    action_plan: bool = True  # act-and-savor: the simulated person says what the action is
    contact: bool | None = True
    battery_percent: int = 87
    latency_s: tuple[float, float] = (0.015, 0.060)
    packet_s: float = 1.0


def schedule(protocol: Protocol) -> list[tuple[float, float, Phase]]:
    """(start_s, end_s, phase) on the nominal timeline; open-ended actions get DEFAULT_ACTION_S."""
    out = []
    t = 0.0
    for p in protocol.phases:
        d = p.duration_s if p.duration_s is not None else DEFAULT_ACTION_S
        out.append((t, t + d, p))
        t += d
    return out


def _beats(
    protocol: Protocol, cfg: SimConfig, rng: np.random.Generator
) -> Iterator[tuple[float, float, list]]:
    """Yield (beat time, true RR ms, events due around then) beat by beat until the end."""
    sched = schedule(protocol)
    end_s = sched[-1][1] if sched else 0.0
    t = 0.0
    drive = 0.0
    ar = 0.0
    lf_phase = rng.uniform(0, 2 * math.pi)
    resp_hz = cfg.resp_hz * rng.uniform(0.9, 1.1)
    resp_phase = 0.0
    lapse_until = -1.0
    felt_done: set[int] = set()
    idx = -1
    while t < end_s:
        events: list = []
        while idx + 1 < len(sched) and t >= sched[idx + 1][0]:
            if idx >= 0 and sched[idx][2].is_hold and cfg.ratings:
                events += _ratings(rng, sched[idx][1] + 1.0, idx, "post", drive)
            idx += 1
            if sched[idx][2].is_hold and cfg.ratings:
                events += _ratings(rng, sched[idx][0] + float(rng.uniform(2, 6)), idx, "pre", 0.0)
        start, stop, phase = sched[idx]
        hold = phase.is_hold
        resp = cfg.responses.get(phase.mode) if hold else None
        lapsed = t < lapse_until
        if (
            hold
            and not lapsed
            and cfg.markers
            and start + 20 < t < stop - 30
            and rng.random() < cfg.lapse_per_min / 60.0 * (60.0 / cfg.hr0_bpm)
        ):
            lapse_until = t + float(rng.uniform(8, 25))
            events.append(Marker(t + float(rng.uniform(0.5, 2.0)), "lapse"))
            events.append(Marker(lapse_until + float(rng.uniform(0.5, 2.0)), "rehold"))
            lapsed = True
        target = 1.0 if (hold and not lapsed) else 0.0
        tau = resp.tau_s if resp else 45.0
        drive += (target - drive) * (1 - math.exp(-(60.0 / cfg.hr0_bpm) / tau))
        if hold and cfg.markers and idx not in felt_done and drive > 0.85:
            felt_done.add(idx)
            # The felt shift lags the body (DESIGN.md: "the body responds before the emotions do").
            events.append(Marker(t + float(rng.uniform(10, 30)), "felt"))
        # After a hold the response decays with the last hold's direction.
        last = resp or _last_hold_response(sched, idx, cfg)
        dhr, gain = 0.0, 1.0
        if last is not None:
            dhr = last.dhr_bpm * drive
            gain = 1.0 + (last.vagal_gain - 1.0) * drive
        mean_rr = 60000.0 / (cfg.hr0_bpm + dhr)
        ar = 0.5 * ar + rng.normal(0, cfg.noise_ms * math.sqrt(1 - 0.25))
        resp_phase += 2 * math.pi * resp_hz * (mean_rr / 1000.0)
        rr = (
            mean_rr
            + gain * cfg.rsa_ms * math.sin(resp_phase)
            + cfg.lf_ms * math.sin(2 * math.pi * 0.1 * t + lf_phase)
            + gain * ar
        )
        rr = float(min(max(rr, 350.0), 1800.0))
        t += rr / 1000.0
        yield t, rr, events


def _ratings(
    rng: np.random.Generator, t_s: float, idx: int, when: str, drive: float
) -> list[Rating]:
    base = 5.0 + (3.0 * drive if when == "post" else 0.0)
    return [
        Rating(t_s, idx, when, scale, round(min(10.0, max(0.0, base + rng.normal(0, 1.2)))))
        for scale in ("belief", "safety")
    ]


def _last_hold_response(sched, idx: int, cfg: SimConfig) -> ModeResponse | None:
    for _, _, p in reversed(sched[: idx + 1]):
        if p.is_hold:
            return cfg.responses.get(p.mode)
    return None


def _with_artifacts(
    beats: Iterator[tuple[float, float, list]], cfg: SimConfig, rng: np.random.Generator
):
    """Apply missed / extra / ectopic artifacts as a strap would report them.

    Each keeps the sum of RR equal to the elapsed time, so beat timing stays consistent.
    """
    pending: float | None = None  # an RR held back to be merged with the next (missed beat)
    carry = 0.0  # ectopic: time to add to the next RR
    for t, rr, events in beats:
        if pending is not None:
            merged, pending = pending + rr, None
            yield t, [merged], events
            continue
        rr += carry
        carry = 0.0
        u = rng.random()
        if u < cfg.artifact_rate:
            kind = int(rng.integers(0, 3))
            if kind == 0:  # missed beat: this RR and the next are reported as one
                pending = rr
                yield t, [], events
                continue
            if kind == 1:  # extra beat: the interval is split in two
                f = float(rng.uniform(0.35, 0.65))
                yield t, [rr * f, rr * (1 - f)], events
                continue
            # ectopic: premature beat then compensatory pause
            short = rr * float(rng.uniform(0.6, 0.75))
            carry = rr - short
            yield t, [short], events
            continue
        yield t, [rr], events


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


def simulate(protocol: Protocol, cfg: SimConfig | None = None) -> Iterator[SessionEvent]:
    """Time-ordered events of a simulated session: Hrm packets, markers, ratings, battery."""
    cfg = cfg or SimConfig()
    rng = np.random.default_rng(cfg.seed)
    art_rng = np.random.default_rng([cfg.seed, 1])
    end_s = schedule(protocol)[-1][1] if protocol.phases else 0.0
    queue: list[SessionEvent] = [Battery(0.0, cfg.battery_percent)]
    queue += practice_events(protocol, cfg)
    next_send = float(rng.uniform(0.2, cfg.packet_s))
    rr_buf: list[float] = []
    recent: list[float] = []
    battery = cfg.battery_percent
    for t, rrs, events in _with_artifacts(_beats(protocol, cfg, rng), cfg, art_rng):
        queue.extend(events)
        while t > next_send:
            latency = float(rng.uniform(*cfg.latency_s))
            t_host = round(next_send + latency, 6)
            if recent:  # a strap starts notifying once it has seen a beat
                hr = round(60000.0 / (sum(recent[-4:]) / len(recent[-4:])))
                queue.append(
                    Hrm(t_host, encode_hrm(hr, rr_buf, contact=cfg.contact, rr_flag=bool(rr_buf)))
                )
            rr_buf = []
            if int(next_send) % 1200 == 0 and next_send > 1 and battery > 1:
                battery -= 1
                queue.append(Battery(t_host, battery))
            next_send += cfg.packet_s
        for r in rrs:
            rr_buf.append(r)
            recent.append(r)
            if len(recent) > 8:
                del recent[0]
        # release events that can no longer be preceded by anything
        queue.sort(key=lambda e: e.t_s)
        horizon = next_send - cfg.packet_s
        while queue and queue[0].t_s <= horizon:
            ev = queue.pop(0)
            if ev.t_s < end_s:
                yield ev
    queue.sort(key=lambda e: e.t_s)
    for ev in queue:
        if ev.t_s < end_s:
            yield ev
    yield Tick(end_s)  # time reaches the end of the protocol: the session completes
