"""Artifact handling. Live: a causal check that flags doubtful RR, never drops them.

Offline correction (Lipponen & Tarvainen 2019) lives in `holdbeat.correct`.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from holdbeat.beats import Beat


@dataclass(frozen=True, slots=True)
class FlagConfig:
    lo_ms: float = 300.0
    hi_ms: float = 2000.0
    jump: float = 0.25  # max relative departure from the running median
    history: int = 9  # clean beats in the running median
    relearn: int = 5  # consecutive mutually-consistent "jumps" that mean HR really moved
    # Ectopic pair: a short beat then a long one that together span ~2 median RR. The long
    # one is flagged "ectopic" when both depart by more than this (0 disables): catches
    # premature beats too mild for `jump`. Causal, so the short one is not re-flagged.
    pair_jump: float = 0.12
    # A long "jump" must also be abrupt: a step from the beat before (flagged or not) larger
    # than `step` of the median and than `spread_k` robust SDs of the recent successive
    # differences between clean beats (1.4826 x their median over the last
    # `spread_beats`). Breathing moves RR gradually, so a heart with strong sinus
    # arrhythmia is no longer flagged for it (MIT-BIH NSR: 4-6 % of beats flagged at a plain
    # 25 %, <= 0.9 % now), and a real rise in vagal HRV is not censored from the live
    # metrics it should raise. Short beats (split, premature) are judged by `jump` alone,
    # as before: breathing lengthens RR suddenly (a sigh), artifacts shorten it. 0 of 891
    # simulated artifact events missed. spread_k = 0 and step = 0 give the plain rule.
    spread_k: float = 4.5
    spread_beats: int = 31
    step: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.lo_ms < self.hi_ms:
            raise ValueError(f"need 0 < lo_ms < hi_ms, got {self.lo_ms!r}, {self.hi_ms!r}")
        if not 0 < self.jump < 1:
            raise ValueError(f"jump is a fraction of the median within (0, 1), got {self.jump!r}")
        if not 0 <= self.pair_jump < 1:
            raise ValueError(f"pair_jump must be within [0, 1), got {self.pair_jump!r}")
        if self.spread_k < 0 or self.spread_beats < 8:
            raise ValueError("spread_k must be >= 0 and spread_beats >= 8")
        if self.history < 3 or self.relearn < 2:
            raise ValueError("history must be >= 3 beats and relearn >= 2 beats")


class LiveFlagger:
    """Causal: a beat is judged only against beats before it.

    Flags: "range" (outside lo_ms..hi_ms), "jump" (departs from the running median of the
    last `history` clean beats by more than `jump`), "ectopic" (the long half of a
    short-long pair). A run of `relearn` mutually consistent jumps is a real change of heart
    rate: the median is relearned from them and the last one passes.
    """

    def __init__(self, config: FlagConfig | None = None) -> None:
        self.config = config or FlagConfig()
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._pending: list[float] = []
        self._short: float | None = None  # previous beat, when it was short (ectopic pair)
        self._last: float | None = None  # previous clean beat, for successive differences
        self._prev: float | None = None  # previous beat, flagged or not
        self._diffs: deque[float] = deque()
        self._sorted_diffs: list[float] = []

    def reset(self) -> None:
        self._recent.clear()
        self._sorted.clear()
        self._pending.clear()
        self._short = None
        self._last = None
        self._prev = None
        self._diffs.clear()
        self._sorted_diffs.clear()

    def _remember_diff(self, rr: float) -> None:
        if self._last is not None:
            d = abs(rr - self._last)
            self._diffs.append(d)
            bisect.insort(self._sorted_diffs, d)
            if len(self._diffs) > self.config.spread_beats:
                old = self._diffs.popleft()
                self._sorted_diffs.pop(bisect.bisect_left(self._sorted_diffs, old))
        self._last = rr

    def _abrupt(self, rr: float, prev: float | None, med: float) -> bool:
        lim = self.limit(med)
        return prev is None or lim <= 0 or abs(rr - prev) > lim

    def limit(self, med: float) -> float:
        """The largest step from the previous clean beat that is still physiology, ms."""
        c = self.config
        lim = c.step * med
        s = self._sorted_diffs
        if len(s) >= 8 and c.spread_k > 0:
            n = len(s)
            mad = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
            lim = max(lim, c.spread_k * 1.4826 * mad)
        return lim

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

    def _absorb(self, run: list[float], med_last: float) -> None:
        """The state after judging `run` clean, beat by beat (`med_last`: the median the
        last of them was judged against); for `flag_all`."""
        c = self.config
        last = self._last
        for r in run[-(c.spread_beats + 1) :]:
            if last is not None:
                self._diffs.append(abs(r - last))
            last = r
        while len(self._diffs) > c.spread_beats:
            self._diffs.popleft()
        self._sorted_diffs = sorted(self._diffs)
        self._recent.extend(run[-c.history :])
        while len(self._recent) > c.history:
            self._recent.popleft()
        self._sorted = sorted(self._recent)
        self._last = self._prev = run[-1]
        self._pending.clear()
        self._short = run[-1] if run[-1] < (1.0 - c.pair_jump) * med_last else None

    def flag(self, beat: Beat) -> Beat:
        why = self.judge(beat.rr_ms, beat.gap_before)
        return replace(beat, flag=why) if why else beat

    def judge(self, rr_ms: float, gap_before: bool = False) -> str:
        """The flag for the next beat ("" = clean), in plain floats: `flag` without the
        Beat objects, for loading a day of beats."""
        c = self.config
        rr = rr_ms
        if gap_before:
            # After a gap the heart may be elsewhere: judge against new beats only.
            self.reset()
        # the step is taken from the beat before, flagged or not: a beat that stays long
        # after a sudden lengthening (a sigh) is no new jump; the second half of a split
        # beat still is
        prev, self._prev = self._prev, rr
        if not c.lo_ms <= rr <= c.hi_ms:
            self._short = None
            return "range"
        med = self.median()
        short, self._short = self._short, None
        if med is not None and len(self._recent) >= 3 and rr < (1.0 - c.pair_jump) * med:
            self._short = rr
        if (
            short is not None
            and med is not None
            and c.pair_jump > 0
            and c.pair_jump * med < rr - med <= c.jump * med
            and abs(short + rr - 2.0 * med) <= c.pair_jump * med
        ):
            return "ectopic"
        if (
            med is not None
            and len(self._recent) >= 3
            and abs(rr - med) > c.jump * med
            and (rr < med or self._abrupt(rr, prev, med))
        ):
            self._pending.append(rr)
            pend = self._pending
            if len(pend) >= c.relearn:
                lo, hi = min(pend[-c.relearn :]), max(pend[-c.relearn :])
                if hi - lo <= c.jump * lo:
                    # A sustained, self-consistent shift is physiology, not artifact: the
                    # median is relearned from it (reset() empties the pending list, so
                    # take the run first).
                    run = pend[-c.relearn :]
                    self.reset()
                    for r in run:
                        self._remember(r)
                        self._remember_diff(r)
                    return ""
            return "jump"
        self._pending.clear()
        self._remember(rr)
        self._remember_diff(rr)
        return ""


# ---------------------------------------------------------------- a whole recording at once


def flag_all(
    rr_ms: np.ndarray,
    gap_before: np.ndarray,
    config: FlagConfig | None = None,
    flagger: LiveFlagger | None = None,
) -> list[str]:
    """`LiveFlagger.judge` over a whole recording, equal flag for flag (tested).

    Loading re-judges every beat as the live session did (a day is ~100,000 beats). Once
    the flagger has seen `spread_beats + 2` clean contiguous beats, its windows hold
    exactly the beats just before, so its verdict on the next beat is a function of the
    raw series: computed for every beat at once in numpy. The flagger then skips ahead
    over beats that verdict calls clean, and judges the others (and the beats after a
    flag, a gap or a relearn, until its windows are full again) one by one. `flagger`
    carries a flagger's state on (a recording written chunk by chunk).
    """
    f = flagger or LiveFlagger(config)
    c = f.config
    x = np.asarray(rr_ms, dtype=float)
    gap = np.asarray(gap_before, dtype=bool)
    n = int(x.size)
    out = [""] * n
    need = max(c.spread_beats, c.history) + 2
    need_med = c.history + 2
    if n <= need:
        return [f.judge(r, g) for r, g in zip(x.tolist(), gap.tolist(), strict=True)]
    med, clean, med_only = _verdicts(x, c, need, need_med)
    stops = [*np.flatnonzero(~clean | gap).tolist(), n]
    # with only the median window full, a long beat far from the median may still be a
    # breath (the step limit reads the differences window): such beats are judged
    stops_med = [*np.flatnonzero(~med_only | gap).tolist(), n]
    rr, gp = x.tolist(), gap.tolist()
    judge = f.judge
    streak, i = 0, 0  # streak: clean contiguous beats just judged
    while i < n:
        if streak >= need_med and not gp[i]:
            at = stops if streak >= need else stops_med
            j = at[bisect.bisect_left(at, i)]  # the next beat the verdict cannot vouch for
            if j > i:
                f._absorb(rr[i:j], float(med[j - 1]))
                streak += j - i
                i = j
                if i == n:
                    break
        why = out[i] = judge(rr[i], gp[i])
        # a clean beat is the newest in the windows, also after a gap (they restart at it)
        # and when it relearns the median (they refill from it and the flagged beats just
        # before: older than the streak, out of the windows once it is long enough)
        streak = 0 if why else (1 if gp[i] else streak + 1)
        i += 1
    return out


def _median_rows(win: np.ndarray) -> np.ndarray:
    """Each row's median as `LiveFlagger.median` takes it (middle one, or the mean of two)."""
    n = win.shape[1]
    h = n // 2
    if n % 2:
        return np.partition(win, h, axis=1)[:, h]
    p = np.partition(win, (h - 1, h), axis=1)
    return 0.5 * (p[:, h - 1] + p[:, h])


def _verdicts(
    x: np.ndarray, c: FlagConfig, need: int, need_med: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per beat: the running median; whether the beat is clean for a flagger whose last
    `need` beats were clean and contiguous (its windows then hold the raw beats); and
    whether it is clean without reading the differences window (not long and far from
    the median), for a flagger whose last `need_med` beats were (its median window)."""
    n = x.size
    view = np.lib.stride_tricks.sliding_window_view
    med = np.full(n, np.nan)
    med[c.history :] = _median_rows(view(x, c.history))[:-1]  # the beats before each
    clean = np.zeros(n, dtype=bool)
    med_only = np.zeros(n, dtype=bool)
    i = np.arange(need_med, n)
    xi, mi, prev = x[i], med[i], x[i - 1]
    bad = ~((c.lo_ms <= xi) & (xi <= c.hi_ms))
    if c.pair_jump > 0:
        short = prev < (1.0 - c.pair_jump) * med[i - 1]
        up = xi - mi
        bad |= (
            short
            & (c.pair_jump * mi < up)
            & (up <= c.jump * mi)
            & (np.abs(prev + xi - 2.0 * mi) <= c.pair_jump * mi)
        )
    far = np.abs(xi - mi) > c.jump * mi
    bad |= far & (xi < mi)
    long_far = far & ~(xi < mi)
    med_only[i] = ~bad & ~long_far
    long_far[: need - need_med] = False  # (the full windows: from `need` on)
    at_k = np.flatnonzero(long_far)
    if at_k.size:
        at = i[at_k]
        lim = c.step * mi[at_k]
        if c.spread_k > 0:
            d = np.abs(np.diff(x))  # d[k - 1] = |x[k] - x[k - 1]|
            win = view(d, c.spread_beats)[at - 1 - c.spread_beats]  # the diffs before `at`
            lim = np.maximum(lim, c.spread_k * 1.4826 * _median_rows(win))
        bad[at_k] |= (lim <= 0) | (np.abs(x[at] - x[at - 1]) > lim)
    clean[need:] = ~bad[need - need_med :]
    return med, clean, med_only
