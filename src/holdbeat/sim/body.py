"""The one body model every simulated heart uses: the strap simulator beat by beat
(`sources.simulator`), the fast in-memory sessions in arrays (`sim.sessions`) and the
stationary RR series that validate the HRV engine (`sim.rr`).

Beat-to-beat RR = mean RR + respiratory sinus arrhythmia (RSA, ~0.25 Hz) + a 0.1 Hz
baroreflex wave + AR(1) noise, with the vagal terms (RSA and noise) scaled together by one
gain. Holding a belief drives a first-order "catch-up" state toward 1 with a mode-dependent
time constant (toward 0 when lapsed or not holding); the state shifts HR and scales the
vagal gain in the mode's direction (DESIGN.md §3: soft and loving-kindness lower HR and raise
RMSSD; fierce raises HR while vagal HRV may still rise). Artifacts are in `sim.artifacts`,
the simulated person (timeline, lapses, markers, ratings) in `sim.person`.

Each law is written once and works on a float (one beat) or on arrays (a whole session):
the users differ only in how they draw the random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


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

NO_EFFECT = ModeResponse(dhr_bpm=0.0, vagal_gain=1.0, tau_s=45.0)
REST_TAU_S = 45.0  # the drive's time constant outside a hold (decay after it)


def no_effect_responses() -> dict[str, ModeResponse]:
    """Holding changes nothing, in any mode."""
    return {m: NO_EFFECT for m in ("fierce", "soft", "loving-kindness")}


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulated session: the body (HR, RSA, wave, noise, responses), the person
    (lapses, markers, ratings) and the strap (artifacts, contact, battery, packets)."""

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


LF_HZ = 0.1  # the baroreflex (Mayer) wave
AR_PHI = 0.5  # AR(1) coefficient of the beat-to-beat noise
RESP_JITTER = (0.9, 1.1)  # each session breathes at resp_hz times a factor drawn from this
RR_RANGE_MS = (350.0, 1800.0)  # the body's RR never leaves this


def ar_innovation_sd(noise_ms: float) -> float:
    """Innovation SD that gives the AR(1) noise a stationary SD of `noise_ms`."""
    return noise_ms * math.sqrt(1 - AR_PHI**2)


def ar1(innovations: np.ndarray) -> np.ndarray:
    """AR(1) noise from its innovations: x[i] = AR_PHI * x[i-1] + e[i], x[-1] = 0 (the same
    operations as `AR_PHI * x + e` beat by beat, done by scipy's filter)."""
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -AR_PHI], np.asarray(innovations, dtype=float))


def approach(drive: float, target: float, dt_s: float, tau_s: float) -> float:
    """The catch-up drive after dt_s of first-order approach to `target` (exact for a
    constant target over the step)."""
    return drive + (target - drive) * (1 - math.exp(-dt_s / tau_s))


def approach_path(target: np.ndarray, tau_s: np.ndarray, dt_s: float) -> np.ndarray:
    """`approach` over a grid of step dt_s from drive 0, in closed form per piece where
    target and tau are constant; out[i] is the drive at the end of step i."""
    out = np.empty(target.size)
    change = np.flatnonzero(np.r_[True, (target[1:] != target[:-1]) | (tau_s[1:] != tau_s[:-1])])
    ends = np.r_[change[1:], target.size]
    y = 0.0
    for a, b in zip(change, ends, strict=True):
        decay = np.exp(-dt_s * np.arange(1, b - a + 1) / tau_s[a])
        seg = target[a] + (y - target[a]) * decay
        out[a:b] = seg
        y = float(seg[-1])
    return out


def response_shift(dhr_bpm, vagal_gain, drive):
    """(HR shift in bpm, vagal gain) of a response at this drive (floats or arrays): the
    full effect at drive 1, none at drive 0."""
    return dhr_bpm * drive, 1.0 + (vagal_gain - 1.0) * drive


def model_rr_ms(
    mean_rr_ms,
    gain,
    rsa_ms: float,
    rsa_angle,
    lf_ms: float,
    t_s,
    lf_phase: float,
    ar_ms,
    *,
    drift_ms=0.0,
    rr_range_ms: tuple[float, float] = RR_RANGE_MS,
    sin: Callable = np.sin,
):
    """RR of a beat at time t_s (floats, or arrays of beats): mean + gain x RSA + the 0.1 Hz
    wave + an optional slow drift + gain x AR noise, held inside rr_range_ms. `sin` is
    math.sin for one beat (the strap simulator's stream), np.sin for arrays."""
    lf_angle = 2 * math.pi * LF_HZ * t_s + lf_phase
    rsa = gain * rsa_ms * sin(rsa_angle)
    rr = mean_rr_ms + rsa + lf_ms * sin(lf_angle) + drift_ms + gain * ar_ms
    lo, hi = rr_range_ms
    if isinstance(rr, float):
        return min(max(rr, lo), hi)
    return np.clip(rr, lo, hi)


class BeatBody:
    """The body beat by beat, for a streaming simulator: `approach` the drive, then draw the
    next RR. Draws from `rng` in a fixed order (phases at start; one normal per beat)."""

    def __init__(self, cfg: SimConfig, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.rng = rng
        self.step_s = 60.0 / cfg.hr0_bpm  # time since the last beat (the first: a resting one)
        self.lf_phase = float(rng.uniform(0, 2 * math.pi))
        self.resp_hz = cfg.resp_hz * float(rng.uniform(*RESP_JITTER))
        self.drive = 0.0
        self.ar = 0.0
        self.innovation_sd = ar_innovation_sd(cfg.noise_ms)

    def approach(self, target: float, tau_s: float) -> float:
        self.drive = approach(self.drive, target, self.step_s, tau_s)
        return self.drive

    def next_rr(self, t_s: float, response: ModeResponse | None) -> float:
        """RR (ms) of the beat starting at t_s, under `response` (None: no hold yet)."""
        cfg = self.cfg
        dhr, gain = 0.0, 1.0
        if response is not None:
            dhr, gain = response_shift(response.dhr_bpm, response.vagal_gain, self.drive)
        mean_rr = 60000.0 / (cfg.hr0_bpm + dhr)
        self.ar = AR_PHI * self.ar + self.rng.normal(0, self.innovation_sd)
        rsa_angle = 2 * math.pi * self.resp_hz * t_s  # breathing runs in time, not in beats
        rr = model_rr_ms(
            mean_rr, gain, cfg.rsa_ms, rsa_angle, cfg.lf_ms, t_s, self.lf_phase, self.ar,
            sin=math.sin,
        )  # fmt: skip
        self.step_s = rr / 1000.0
        return float(rr)
