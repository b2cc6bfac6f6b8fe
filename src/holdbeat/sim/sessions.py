"""Beat-level simulated sessions in memory, vectorised: for calibration, benchmarks, docs.

The strap simulator's body, person and artifacts (`sim.body`, `sim.person`,
`sim.artifacts`), computed in arrays over the whole session: the catch-up drive on a 0.25 s
grid, the RR formula at the beat times. It skips the HRM packets, the pipeline and the
file, so a session costs about a millisecond instead of a few hundred; the random draws
differ from `sources.simulator.simulate()`, so the same seed gives a different (equally
valid) session with the same statistics (tests/test_sim.py).

`vary=True` also draws the person's day: resting HR and vagal amplitude differ from session
to session, as they do in life; a calibration that ignored this would be too easy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from holdbeat.events import Device, End, Header, Marker
from holdbeat.protocols import load_protocol
from holdbeat.recording import PhaseSpan, Recording
from holdbeat.session import Protocol
from holdbeat.sim import person
from holdbeat.sim.artifacts import array_artifacts
from holdbeat.sim.body import (
    NO_EFFECT,
    RESP_JITTER,
    REST_TAU_S,
    ModeResponse,
    SimConfig,
    approach_path,
    ar1,
    ar_innovation_sd,
    model_rr_ms,
    response_shift,
)
from holdbeat.sim.person import schedule

#: the beat times are a fixed point (RR depends on when the beat is): iterate until no beat
#: moves by more than this; a few iterations leave the breathing phase scrambled at the beats
#: and bias HR (tests/test_sim.py compares with the strap simulator, which has no such step)
FIXED_POINT_TOL_S = 1e-3
FIXED_POINT_MAX = 12


def _first_guess(hr_t: np.ndarray, gain_t: np.ndarray, ar: np.ndarray, dt: float) -> np.ndarray:
    """Beat times of the mean heart (beat k when the integral of HR reaches k) plus the
    noise's running sum: the waves then move each beat by tens of ms, not by seconds, and
    the fixed point is reached in a few steps."""
    beats_done = np.cumsum(hr_t / 60.0 * dt)  # beats completed by the end of each grid step
    k = np.arange(1, ar.size + 1)
    t_mean = np.interp(k, beats_done, dt * np.arange(1, hr_t.size + 1))
    if k.size and k[-1] > beats_done[-1]:  # past the grid: at the last HR
        over = k > beats_done[-1]
        t_mean[over] = hr_t.size * dt + (k[over] - beats_done[-1]) * 60.0 / hr_t[-1]
    gi = np.minimum((t_mean / dt).astype(int), hr_t.size - 1)
    return t_mean + np.cumsum(gain_t[gi] * ar) / 1000.0


def synth_recording(
    protocol: str | Protocol = "single",
    seed: int = 0,
    cfg: SimConfig | None = None,
    responses: Mapping[str, ModeResponse] | None = None,
    artifact_rate: float | None = None,
    vary: bool = True,
    flags: str = "live",
) -> Recording:
    """A simulated session as a Recording (no events list, no file).

    `responses` (or cfg.responses) plants the mode effects; `no_effect_responses()` removes
    them. `flags="live"` runs the live artifact check over the beats like a real load;
    `flags="truth"` flags exactly the injected artifacts (faster; for calibration).
    """
    proto = load_protocol(protocol) if isinstance(protocol, str) else protocol
    cfg = cfg or SimConfig(seed=seed)
    resp = dict(responses if responses is not None else cfg.responses)
    rate = cfg.artifact_rate if artifact_rate is None else artifact_rate
    rng = np.random.default_rng([seed, 8])
    sched = schedule(proto)
    end_s = sched[-1][1] if sched else 0.0
    hr0 = cfg.hr0_bpm
    vag = 1.0
    if vary:
        hr0 = float(rng.normal(cfg.hr0_bpm, 6.0))
        vag = float(np.exp(rng.normal(0.0, 0.2)))
    # -- lapses and markers on the nominal timeline
    markers: list[Marker] = []
    dt = 0.25
    grid = np.arange(0.0, end_s + 5.0, dt)
    target = np.zeros(grid.size)
    tau = np.full(grid.size, REST_TAU_S)
    dhr_of = np.zeros(grid.size)
    gain_of = np.ones(grid.size)
    last: ModeResponse | None = None
    for start, stop, ph in sched:
        sel = (grid >= start) & (grid < stop)
        if ph.is_hold:
            last = resp.get(ph.mode, NO_EFFECT)
            target[sel] = 1.0
            tau[sel] = last.tau_s
            if (
                cfg.markers
                and stop - start > person.LAPSE_AFTER_START_S + person.LAPSE_BEFORE_END_S
            ):
                t = start + person.LAPSE_AFTER_START_S
                while True:
                    t += float(rng.exponential(60.0 / max(cfg.lapse_per_min, 1e-9)))
                    if t >= stop - person.LAPSE_BEFORE_END_S:
                        break
                    length = float(rng.uniform(*person.LAPSE_S))
                    target[(grid >= t) & (grid < t + length)] = 0.0
                    t_lapse = round(t + float(rng.uniform(*person.MARK_DELAY_S)), 6)
                    markers.append(Marker(t_lapse, "lapse"))
                    t_rehold = round(t + length + float(rng.uniform(*person.MARK_DELAY_S)), 6)
                    markers.append(Marker(t_rehold, "rehold"))
                    t += length
        if last is not None:
            dhr_of[grid >= start] = last.dhr_bpm
            gain_of[grid >= start] = last.vagal_gain
    drive = approach_path(target, tau, dt)
    if cfg.markers:
        for start, stop, ph in sched:
            if not ph.is_hold:
                continue
            sel = np.flatnonzero((grid >= start) & (grid < stop) & (drive > person.FELT_DRIVE))
            if sel.size:
                t_felt = float(grid[sel[0]]) + float(rng.uniform(*person.FELT_LAG_S))
                if t_felt < stop:
                    markers.append(Marker(round(t_felt, 6), "felt"))
    markers.sort(key=lambda m: m.t_s)
    dhr_t, gain_t = response_shift(dhr_of, gain_of, drive)
    hr_t = hr0 + dhr_t
    gain_t = vag * gain_t
    # -- beats: RR from the model at the beat times (fixed point: RR depends on t)
    n = int(end_s * hr_t.max() / 60.0 * 1.15) + 10
    e = rng.normal(0.0, ar_innovation_sd(cfg.noise_ms), n)
    ar = ar1(e)
    resp_hz = cfg.resp_hz * float(rng.uniform(*RESP_JITTER))
    ph_r, ph_lf = rng.uniform(0, 2 * math.pi, 2)
    t_beat = _first_guess(hr_t, gain_t, ar, dt)
    for _ in range(FIXED_POINT_MAX):  # each beat's RR evaluated at its own time
        tb = np.clip(t_beat, 0.0, grid[-1])
        gi = np.minimum((tb / dt).astype(int), grid.size - 1)
        g = gain_t[gi]
        rsa_angle = 2 * math.pi * resp_hz * tb + ph_r
        rr = model_rr_ms(60000.0 / hr_t[gi], g, cfg.rsa_ms, rsa_angle, cfg.lf_ms, tb, ph_lf, ar)
        t_new = np.cumsum(rr) / 1000.0
        moved = float(np.max(np.abs(t_new - t_beat), initial=0.0))
        t_beat = t_new
        if moved < FIXED_POINT_TOL_S:
            break
    keep = t_beat < end_s
    rr = rr[keep]
    rr, bad = array_artifacts(rr, rate, np.random.default_rng([seed, 9]))
    t0 = float(rng.uniform(0.3, 1.0))
    bt = t0 + np.cumsum(rr) / 1000.0
    inside = bt < end_s
    bt, rr, bad = bt[inside], rr[inside], bad[inside]
    gap = np.zeros(bt.size, bool)
    if bt.size:
        gap[0] = True
    if flags == "truth":
        flag = np.where(bad, "artifact", "")
    elif flags == "live":
        flag = live_flags(rr, gap)
    else:
        raise ValueError(f"flags must be 'live' or 'truth', not {flags!r}")
    phases = [
        PhaseSpan(
            i,
            ph.name,
            ph.kind,
            ph.mode,
            start,
            stop,
            ph.duration_s,
            ph.prompt,
            ph.belief,
            ph.target,
        )
        for i, (start, stop, ph) in enumerate(sched)
    ]
    header = Header(
        session_id=f"synth-{seed}",
        started_utc="2025-01-01T00:00:00Z",
        device=Device(name="synthetic", address="SYNTH", source="simulator"),
        protocol=proto.to_dict(),
        settings={"window_s": 60.0, "seed": seed, "synthetic": True},
    )
    return Recording(
        path=Path(f"synth-{proto.name}-{seed}"),
        header=header,
        events=[],
        beat_t_s=bt,
        rr_ms=rr,
        gap_before=gap,
        flag=flag.astype(str) if flag.size else np.zeros(0, dtype="<U1"),
        hr_t_s=bt,
        hr_bpm=60000.0 / rr if rr.size else np.zeros(0),
        phases=phases,
        markers=markers,
        ratings=[],
        connections=[],
        end=End(end_s, "completed"),
        malformed=[],
    )


def live_flags(rr_ms: np.ndarray, gap_before: np.ndarray) -> np.ndarray:
    """The live artifact check (holdbeat.clean.LiveFlagger) over a beat series."""
    from holdbeat.clean import LiveFlagger

    judge = LiveFlagger().judge
    out = [judge(r, g) for r, g in zip(rr_ms.tolist(), gap_before.tolist(), strict=True)]
    return np.asarray(out, dtype=str) if out else np.zeros(0, dtype="<U1")


def recording_events(rec: Recording) -> list:
    """A synthetic recording as a strap session's events (phases, 1 s HRM packets carrying
    the beats since the last packet, markers, end), ready for RecordingWriter; loading
    the file re-parses the packets like any recording."""
    from holdbeat.events import Hrm, PhaseStart
    from holdbeat.hrs import encode_hrm

    events: list = [
        PhaseStart(
            p.start_s, p.index, p.name, p.kind, p.mode, p.planned_s, p.prompt, p.belief, p.target
        )
        for p in rec.phases
    ]
    end_s = rec.end.t_s if rec.end else float(rec.beat_t_s[-1]) if rec.beat_t_s.size else 0.0
    sec = np.ceil(rec.beat_t_s).astype(int)
    edges = np.searchsorted(sec, np.arange(1, math.ceil(end_s) + 1), side="right")
    start = 0
    recent: list[float] = []
    for i, stop in enumerate(edges, start=1):
        rr = [float(r) for r in rec.rr_ms[start:stop]]
        start = stop
        recent = (recent + rr)[-4:]
        if not recent:
            continue
        hr = round(60000.0 / (sum(recent) / len(recent)))
        t_host = round(min(i + 0.02, end_s), 6)
        events.append(Hrm(t_host, encode_hrm(hr, rr, contact=True, rr_flag=bool(rr))))
    events += list(rec.markers)
    events.sort(key=lambda e: e.t_s)
    events.append(End(end_s, "completed"))
    return events


def write_recording(directory: Path, rec: Recording, label: str = "synthetic") -> Path:
    """Write a synthetic recording as a real holdbeat/1 file (0600, never overwriting)."""
    from holdbeat.recording_writer import RecordingWriter

    w = RecordingWriter(Path(directory), rec.header, label, clock=lambda: 0.0)
    try:
        for ev in recording_events(rec):
            w.write(ev)
    finally:
        w.close()
    return w.path
