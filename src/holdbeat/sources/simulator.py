"""A simulated chest strap: real encoded HRM packets from the one body model (`sim.body`).

The body beats (`BeatBody`), the person holds, lapses, marks and rates (`sim.person`), the
strap drops, doubles or mistimes a beat now and then (`sim.artifacts`), and packets go out
once per strap second with the RR of the beats since the last one (0-3), arriving at the
host a few ms later. Pure and seeded: the same config gives the same events, independent of
any clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from holdbeat.events import Battery, Hrm, Marker, SessionEvent, Tick
from holdbeat.hrs import encode_hrm
from holdbeat.session import Protocol
from holdbeat.sim import person
from holdbeat.sim.artifacts import stream_artifacts
from holdbeat.sim.body import REST_TAU_S, BeatBody, ModeResponse, SimConfig
from holdbeat.sim.person import hold_ratings, practice_events, schedule


def _beats(
    protocol: Protocol, cfg: SimConfig, rng: np.random.Generator
) -> Iterator[tuple[float, float, list]]:
    """Yield (beat time, true RR ms, events due around then) beat by beat until the end."""
    sched = schedule(protocol)
    end_s = sched[-1][1] if sched else 0.0
    t = 0.0
    body = BeatBody(cfg, rng)
    lapse_until = -1.0
    felt_done: set[int] = set()
    idx = -1
    while t < end_s:
        events: list = []
        while idx + 1 < len(sched) and t >= sched[idx + 1][0]:
            if idx >= 0 and sched[idx][2].is_hold and cfg.ratings:
                events += hold_ratings(rng, sched[idx][1] + 1.0, idx, "post", body.drive)
            idx += 1
            if sched[idx][2].is_hold and cfg.ratings:
                t_pre = sched[idx][0] + float(rng.uniform(2, 6))
                events += hold_ratings(rng, t_pre, idx, "pre", 0.0)
        start, stop, phase = sched[idx]
        hold = phase.is_hold
        resp = cfg.responses.get(phase.mode) if hold else None
        lapsed = t < lapse_until
        if (
            hold
            and not lapsed
            and cfg.markers
            and start + person.LAPSE_AFTER_START_S < t < stop - person.LAPSE_BEFORE_END_S
            and rng.random() < cfg.lapse_per_min / 60.0 * body.step_s  # a rate in time
        ):
            lapse_until = t + float(rng.uniform(*person.LAPSE_S))
            events.append(Marker(t + float(rng.uniform(*person.MARK_DELAY_S)), "lapse"))
            events.append(Marker(lapse_until + float(rng.uniform(*person.MARK_DELAY_S)), "rehold"))
            lapsed = True
        target = 1.0 if (hold and not lapsed) else 0.0
        drive = body.approach(target, resp.tau_s if resp else REST_TAU_S)
        if hold and cfg.markers and idx not in felt_done and drive > person.FELT_DRIVE:
            felt_done.add(idx)
            events.append(Marker(t + float(rng.uniform(*person.FELT_LAG_S)), "felt"))
        # After a hold the response decays with the last hold's direction.
        rr = body.next_rr(t, resp or _last_hold_response(sched, idx, cfg))
        t += rr / 1000.0
        yield t, rr, events


def _last_hold_response(sched, idx: int, cfg: SimConfig) -> ModeResponse | None:
    for _, _, p in reversed(sched[: idx + 1]):
        if p.is_hold:
            return cfg.responses.get(p.mode)
    return None


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
    beats = stream_artifacts(_beats(protocol, cfg, rng), cfg.artifact_rate, art_rng)
    for t, rrs, events in beats:
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
