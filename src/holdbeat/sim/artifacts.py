"""Artifacts as a strap or beat detector produces them, in one place. Pure and seeded.

Every kind keeps the sum of RR equal to the elapsed time (a beat is lost, found twice, or
early), so beat timing stays consistent:

* missed  - two successive RR reported as one (their sum);
* extra   - one RR split in two (a spurious beat inside it);
* ectopic - a premature beat: a short RR then a compensatory long one (the pair keeps the sum).

What each kind does to the intervals is written once (`missed`, `extra`, `ectopic`); where
they go is the user's: one beat at a time for the strap simulator (`stream_artifacts`),
vectorised for the in-memory sessions (`array_artifacts`), and spaced with the truth kept
for scoring detection and correction (`inject_artifacts`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

ARTIFACT_KINDS = ("missed", "extra", "ectopic")


@dataclass(frozen=True, slots=True)
class ArtifactShape:
    extra_split: tuple[float, float]  # where an extra beat falls inside the interval
    ectopic_short: tuple[float, float]  # a premature beat's RR as a fraction of the normal one


#: what a simulated strap reports (the strap simulator and the in-memory sessions)
STRAP_SHAPE = ArtifactShape(extra_split=(0.35, 0.65), ectopic_short=(0.6, 0.75))
#: wider, to test detection and correction at their edges (the HRV engine's validation)
VALIDATION_SHAPE = ArtifactShape(extra_split=(0.3, 0.7), ectopic_short=(0.6, 0.8))


def missed(rr_ms, next_rr_ms):
    """A missed beat: the two intervals around it reported as one."""
    return rr_ms + next_rr_ms


def extra(rr_ms, split):
    """A spurious beat at `split` of the interval: two intervals."""
    return rr_ms * split, rr_ms * (1 - split)


def ectopic(rr_ms, next_rr_ms, short):
    """A premature beat at `short` of the interval, then the compensatory pause."""
    early = rr_ms * short
    return early, next_rr_ms + (rr_ms - early)


def stream_artifacts(
    beats: Iterator[tuple[float, float, list]],
    rate: float,
    rng: np.random.Generator,
    shape: ArtifactShape = STRAP_SHAPE,
) -> Iterator[tuple[float, list[float], list]]:
    """(t, [RR reported], events) per true beat, as a strap reports them: each beat is an
    artifact with probability `rate`, the three kinds equally likely."""
    pending: float | None = None  # an RR held back to be merged with the next (missed beat)
    carry = 0.0  # ectopic: time to add to the next RR
    for t, rr, events in beats:
        if pending is not None:
            merged, pending = missed(pending, rr), None
            yield t, [merged], events
            continue
        rr += carry
        carry = 0.0
        u = rng.random()
        if u < rate:
            kind = int(rng.integers(0, 3))
            if kind == 0:  # missed beat: this RR and the next are reported as one
                pending = rr
                yield t, [], events
                continue
            if kind == 1:  # extra beat: the interval is split in two
                a, b = extra(rr, float(rng.uniform(*shape.extra_split)))
                yield t, [a, b], events
                continue
            short, long_ = ectopic(rr, 0.0, float(rng.uniform(*shape.ectopic_short)))
            carry = long_  # the pause lengthens the next interval
            yield t, [short], events
            continue
        yield t, [rr], events


def array_artifacts(
    rr: np.ndarray, rate: float, rng: np.random.Generator, shape: ArtifactShape = STRAP_SHAPE
) -> tuple[np.ndarray, np.ndarray]:
    """Artifacts at `rate` per beat over a whole series, not overlapping; returns
    (rr, is_artifact)."""
    n = rr.size
    if rate <= 0 or n < 4:
        return rr, np.zeros(n, dtype=bool)
    pos = np.flatnonzero(rng.random(n - 2) < rate)
    if pos.size:
        keep = np.r_[True, np.diff(pos) >= 3]  # artifacts do not overlap
        pos = pos[keep]
    kinds = rng.integers(0, 3, pos.size)
    fr = rng.uniform(*shape.extra_split, pos.size)
    pre = rng.uniform(*shape.ectopic_short, pos.size)
    rr = rr.copy()
    bad = np.zeros(n, bool)
    for p, k, f, s in zip(pos[::-1], kinds[::-1], fr[::-1], pre[::-1], strict=True):
        if k == 0:
            rr[p] = missed(rr[p], rr[p + 1])
            rr = np.delete(rr, p + 1)
            bad = np.delete(bad, p + 1)
            bad[p] = True
        elif k == 1:
            a, b = extra(rr[p], f)
            rr = np.insert(rr, p + 1, b)
            rr[p] = a
            bad = np.insert(bad, p + 1, True)
            bad[p] = True
        else:
            rr[p], rr[p + 1] = ectopic(rr[p], rr[p + 1], s)
            bad[p] = bad[p + 1] = True
    return rr, bad


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
    shape: ArtifactShape = VALIDATION_SHAPE,
) -> Injected:
    """Inject artifacts at `rate` events per beat (kinds equally likely), at least `margin`
    clean beats apart; or exactly at `positions` [(beat index in the clean series, kind)].
    The truth travels along (`kind` per output beat) to score detection and correction."""
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
            out_rr.append(missed(rr[i], rr[i + 1]))
            out_kind.append("missed")
            i += 2
        elif k == "extra":
            out_rr += extra(rr[i], float(rng.uniform(*shape.extra_split)))
            out_kind += ["extra", "extra"]
            i += 1
        elif k == "ectopic" and i + 1 < n:
            out_rr += ectopic(rr[i], rr[i + 1], float(rng.uniform(*shape.ectopic_short)))
            out_kind += ["ectopic", "ectopic"]
            i += 2
        else:
            out_rr.append(rr[i])
            out_kind.append("")
            i += 1
    orr = np.asarray(out_rr)
    return Injected(beat_times(orr, t0_s), orr, np.asarray(out_kind, dtype=object), rr)
