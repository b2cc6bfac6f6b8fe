"""Artifact handling. Live: a causal check that flags doubtful RR, never drops them.

Offline correction (Lipponen & Tarvainen 2019) lives in `holdbeat.correct`.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, replace

from holdbeat.beats import Beat


@dataclass(frozen=True, slots=True)
class FlagConfig:
    lo_ms: float = 300.0
    hi_ms: float = 2000.0
    jump: float = 0.25  # max relative departure from the running median
    history: int = 9  # clean beats in the running median
    relearn: int = 5  # consecutive mutually-consistent "jumps" that mean HR really moved


class LiveFlagger:
    """Causal: a beat is judged only against beats before it."""

    def __init__(self, config: FlagConfig | None = None) -> None:
        self.config = config or FlagConfig()
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._pending: list[float] = []

    def reset(self) -> None:
        self._recent.clear()
        self._sorted.clear()
        self._pending.clear()

    def _remember(self, rr: float) -> None:
        self._recent.append(rr)
        bisect.insort(self._sorted, rr)
        if len(self._recent) > self.config.history:
            self._sorted.pop(bisect.bisect_left(self._sorted, self._recent.popleft()))

    def median(self) -> float | None:
        s = self._sorted
        if not s:
            return None
        n = len(s)
        return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])

    def flag(self, beat: Beat) -> Beat:
        c = self.config
        rr = beat.rr_ms
        if beat.gap_before:
            # After a gap the heart may be elsewhere: judge against new beats only.
            self.reset()
        if not c.lo_ms <= rr <= c.hi_ms:
            return replace(beat, flag="range")
        med = self.median()
        if med is not None and len(self._recent) >= 3 and abs(rr - med) > c.jump * med:
            self._pending.append(rr)
            pend = self._pending
            if len(pend) >= c.relearn:
                lo, hi = min(pend[-c.relearn :]), max(pend[-c.relearn :])
                if hi - lo <= c.jump * lo:
                    # A sustained, self-consistent shift is physiology, not artifact.
                    self.reset()
                    for r in pend[-c.relearn :]:
                        self._remember(r)
                    return beat
            return replace(beat, flag="jump")
        self._pending.clear()
        self._remember(rr)
        return beat
