"""Synthetic RR series and known artifacts, for validating and benchmarking the HRV engine.

Pure and seeded. Artifacts are injected the way a strap or detector produces them, and every
one keeps the sum of RR equal to the elapsed time (a beat is lost, found twice, or early):

* missed  - two successive RR reported as one (their sum);
* extra   - one RR split in two (a spurious beat inside it);
* ectopic - a premature beat: a short RR then a compensatory long one (the pair keeps the sum).

The truth travels along (`kind` per output beat) so tests can score detection and correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARTIFACT_KINDS = ("missed", "extra", "ectopic")


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
    e = rng.normal(0.0, noise_ms * np.sqrt(1 - 0.5**2), n_beats)
    ar = np.empty(n_beats)
    acc = 0.0
    for i in range(n_beats):  # AR(1); n up to ~1e5, fine
        acc = 0.5 * acc + e[i]
        ar[i] = acc
    ph = rng.uniform(0, 2 * np.pi, 3)
    rr = (
        mean
        + rsa_ms * np.sin(2 * np.pi * resp_hz * t + ph[0])
        + lf_ms * np.sin(2 * np.pi * 0.1 * t + ph[1])
        + slow_ms * np.sin(2 * np.pi * t / 3600.0 + ph[2])
        + ar
    )
    return np.clip(rr, 400.0, 1600.0)


def beat_times(rr_ms: np.ndarray, t0_s: float = 0.0) -> np.ndarray:
    """Time of the beat that ends each interval."""
    return t0_s + np.cumsum(np.asarray(rr_ms, dtype=float)) / 1000.0


@dataclass(frozen=True)
class Injected:
    t_s: np.ndarray
    rr_ms: np.ndarray
    kind: np.ndarray  # "" clean, else the artifact kind this output beat belongs to
    clean_rr_ms: np.ndarray  # the series before injection

    def count(self, kind: str) -> int:
        """Number of artifact events of one kind (an extra/ectopic event spans two beats)."""
        n = int(np.sum(self.kind == kind))
        return n if kind == "missed" else n // 2


def inject_artifacts(
    rr_ms: np.ndarray,
    rate: float,
    seed: int = 0,
    kinds: tuple[str, ...] = ARTIFACT_KINDS,
    t0_s: float = 0.0,
    margin: int = 3,
    positions: list[tuple[int, str]] | None = None,
) -> Injected:
    """Inject artifacts at `rate` events per beat (kinds equally likely), at least `margin`
    clean beats apart; or exactly at `positions` [(beat index in the clean series, kind)]."""
    for k in kinds:
        if k not in ARTIFACT_KINDS:
            raise ValueError(f"unknown artifact kind {k!r}; known: {ARTIFACT_KINDS}")
    rr = np.asarray(rr_ms, dtype=float)
    n = len(rr)
    rng = np.random.default_rng(seed)
    if positions is None:
        events: list[tuple[int, str]] = []
        i = margin
        while i < n - margin - 1:
            if rng.random() < rate:
                events.append((i, kinds[int(rng.integers(len(kinds)))]))
                i += 2 + margin
            else:
                i += 1
    else:
        events = sorted(positions)
    out_rr: list[float] = []
    out_kind: list[str] = []
    at = {i: k for i, k in events}
    i = 0
    while i < n:
        k = at.get(i)
        if k == "missed" and i + 1 < n:
            out_rr.append(rr[i] + rr[i + 1])
            out_kind.append("missed")
            i += 2
        elif k == "extra":
            f = float(rng.uniform(0.3, 0.7))
            out_rr += [rr[i] * f, rr[i] * (1 - f)]
            out_kind += ["extra", "extra"]
            i += 1
        elif k == "ectopic" and i + 1 < n:
            p = float(rng.uniform(0.6, 0.8))
            short = rr[i] * p
            out_rr += [short, rr[i + 1] + rr[i] - short]
            out_kind += ["ectopic", "ectopic"]
            i += 2
        else:
            out_rr.append(rr[i])
            out_kind.append("")
            i += 1
    orr = np.asarray(out_rr)
    return Injected(beat_times(orr, t0_s), orr, np.asarray(out_kind, dtype=object), rr)
