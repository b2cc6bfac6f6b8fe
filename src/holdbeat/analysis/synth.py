"""Beat-level simulated sessions in memory, vectorised: for calibration, benchmarks, docs.

Same physiological model and parameters as `holdbeat.sources.simulator` (SimConfig,
ModeResponse): RR = mean RR(HR shift) + vagal gain × RSA + 0.1 Hz wave + vagal gain ×
AR(1) noise; a first-order catch-up drive toward 1 while a belief is held (toward 0 when
lapsed or not holding) with the mode's time constant; artifacts that keep the sum of RR
(missed / extra / ectopic). It skips the HRM packets, the pipeline and the file, so a
session costs about a millisecond instead of a few hundred; the random draws differ from
`simulate()`, so the same seed gives a different (equally valid) session.

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
from holdbeat.sources.simulator import ModeResponse, SimConfig, schedule

NO_EFFECT = ModeResponse(dhr_bpm=0.0, vagal_gain=1.0, tau_s=45.0)
REST_TAU_S = 45.0


def no_effect_responses() -> dict[str, ModeResponse]:
    """Holding changes nothing, in any mode."""
    return {m: NO_EFFECT for m in ("fierce", "soft", "loving-kindness")}


def _drive(grid: np.ndarray, target: np.ndarray, tau: np.ndarray, dt: float) -> np.ndarray:
    """First-order approach to `target` with time constant `tau`, piecewise closed form."""
    out = np.empty(grid.size)
    change = np.flatnonzero(np.r_[True, (target[1:] != target[:-1]) | (tau[1:] != tau[:-1])])
    ends = np.r_[change[1:], grid.size]
    y = 0.0
    for a, b in zip(change, ends, strict=True):
        decay = np.exp(-dt * np.arange(1, b - a + 1) / tau[a])
        seg = target[a] + (y - target[a]) * decay
        out[a:b] = seg
        y = float(seg[-1])
    return out


def _artifacts(
    rr: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Missed / extra / ectopic beats, each keeping the sum of RR; returns (rr, is_artifact)."""
    n = rr.size
    kind = np.zeros(n, dtype=np.int8)
    if rate <= 0 or n < 4:
        return rr, kind.astype(bool)
    pos = np.flatnonzero(rng.random(n - 2) < rate)
    if pos.size:
        keep = np.r_[True, np.diff(pos) >= 3]  # artifacts do not overlap
        pos = pos[keep]
    kinds = rng.integers(0, 3, pos.size)
    fr = rng.uniform(0.35, 0.65, pos.size)
    pre = rng.uniform(0.6, 0.75, pos.size)
    rr = rr.copy()
    bad = np.zeros(n, bool)
    for p, k, f, s in zip(pos[::-1], kinds[::-1], fr[::-1], pre[::-1], strict=True):
        if k == 0:  # missed: two intervals reported as one
            rr[p] += rr[p + 1]
            rr = np.delete(rr, p + 1)
            bad = np.delete(bad, p + 1)
            bad[p] = True
        elif k == 1:  # extra: one interval split in two
            rr = np.insert(rr, p + 1, rr[p] * (1 - f))
            rr[p] *= f
            bad = np.insert(bad, p + 1, True)
            bad[p] = True
        else:  # ectopic: premature beat, compensatory pause
            short = rr[p] * s
            rr[p + 1] += rr[p] - short
            rr[p] = short
            bad[p] = bad[p + 1] = True
    return rr, bad


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
            if cfg.markers and stop - start > 50:
                t = start + 20.0
                while True:
                    t += float(rng.exponential(60.0 / max(cfg.lapse_per_min, 1e-9)))
                    if t >= stop - 30.0:
                        break
                    length = float(rng.uniform(8, 25))
                    target[(grid >= t) & (grid < t + length)] = 0.0
                    markers.append(Marker(round(t + float(rng.uniform(0.5, 2.0)), 6), "lapse"))
                    markers.append(
                        Marker(round(t + length + float(rng.uniform(0.5, 2.0)), 6), "rehold")
                    )
                    t += length
        if last is not None:
            dhr_of[grid >= start] = last.dhr_bpm
            gain_of[grid >= start] = last.vagal_gain
    drive = _drive(grid, target, tau, dt)
    if cfg.markers:
        for start, stop, ph in sched:
            if not ph.is_hold:
                continue
            sel = np.flatnonzero((grid >= start) & (grid < stop) & (drive > 0.85))
            if sel.size:
                t_felt = float(grid[sel[0]]) + float(rng.uniform(10, 30))
                if t_felt < stop:
                    markers.append(Marker(round(t_felt, 6), "felt"))
    markers.sort(key=lambda m: m.t_s)
    hr_t = hr0 + dhr_of * drive
    gain_t = vag * (1.0 + (gain_of - 1.0) * drive)
    # -- beats: RR from the model at the beat times (fixed point: RR depends on t)
    n = int(end_s * hr_t.max() / 60.0 * 1.15) + 10
    e = rng.normal(0.0, cfg.noise_ms * math.sqrt(1 - 0.25), n)
    ar = np.convolve(e, 0.5 ** np.arange(48))[:n]  # AR(1), φ = 0.5 (0.5**48 ≈ 4e-15)
    resp_hz = cfg.resp_hz * float(rng.uniform(0.9, 1.1))
    ph_r, ph_lf = rng.uniform(0, 2 * math.pi, 2)
    t_beat = np.arange(1, n + 1) * 60.0 / hr0
    for _ in range(4):
        tb = np.clip(t_beat, 0.0, grid[-1])
        gi = np.minimum((tb / dt).astype(int), grid.size - 1)
        g = gain_t[gi]
        rr = (
            60000.0 / hr_t[gi]
            + g * cfg.rsa_ms * np.sin(2 * math.pi * resp_hz * tb + ph_r)
            + cfg.lf_ms * np.sin(2 * math.pi * 0.1 * tb + ph_lf)
            + g * ar
        )
        rr = np.clip(rr, 350.0, 1800.0)
        t_beat = np.cumsum(rr) / 1000.0
    keep = t_beat < end_s
    rr = rr[keep]
    rr, bad = _artifacts(rr, rate, np.random.default_rng([seed, 9]))
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
