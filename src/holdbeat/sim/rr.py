"""Stationary RR series from the body model, for validating and benchmarking the HRV engine.

Pure and seeded: mean + RSA + the 0.1 Hz wave + a slow (hourly) drift + AR(1) noise, at
rest (no hold, vagal gain 1), held inside 400-1600 ms. Beat times are approximated by the
mean RR, which suffices for the waves. Artifacts with the truth kept: `sim.artifacts`.
"""

from __future__ import annotations

import numpy as np

from holdbeat.sim.body import ar1, ar_innovation_sd, model_rr_ms

RR_RANGE_MS = (400.0, 1600.0)


def synthetic_rr(
    n_beats: int,
    seed: int = 0,
    hr_bpm: float = 65.0,
    rsa_ms: float = 35.0,
    lf_ms: float = 20.0,
    noise_ms: float = 12.0,
    slow_ms: float = 60.0,
    resp_hz: float = 0.25,
) -> np.ndarray:
    """RR (ms): mean + respiratory sinus arrhythmia + 0.1 Hz wave + AR(1) noise + slow drift."""
    if n_beats < 0:
        raise ValueError(f"n_beats must be >= 0, got {n_beats}")
    rng = np.random.default_rng(seed)
    mean = 60000.0 / hr_bpm
    t = np.arange(n_beats) * mean / 1000.0  # approximate beat times suffice for the waves
    ar = ar1(rng.normal(0.0, ar_innovation_sd(noise_ms), n_beats))
    ph = rng.uniform(0, 2 * np.pi, 3)
    return model_rr_ms(
        mean,
        1.0,
        rsa_ms,
        2 * np.pi * resp_hz * t + ph[0],
        lf_ms,
        t,
        ph[1],
        ar,
        drift_ms=slow_ms * np.sin(2 * np.pi * t / 3600.0 + ph[2]),
        rr_range_ms=RR_RANGE_MS,
    )
