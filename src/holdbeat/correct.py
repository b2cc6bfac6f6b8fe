"""Offline RR artifact correction in the manner of Lipponen & Tarvainen (2019), in numpy
(a missed beat's parts are cut by the run's own rhythm model, `holdbeat.missed_split`).

Detection (`holdbeat.detect`) follows the paper (and Kubios); the correction acts on it.

Correction (where holdbeat departs from neurokit2 0.2.13's `signal_fixpeaks`, which leaves
most ectopic pairs and every edge artifact in place - NeuroKit issue #1062):

* missed: the long RR is split into k = round(RR / med) beats (k <= `max_missed` + 1), shaped
  by the rhythm around it (an AR model of the run, or the cubic through the clean beats
  where none can be fitted) with the same sum (`holdbeat.missed_split`; the paper's equal
  parts remove the beat-to-beat change inside the gap, i.e. HF power);
* extra: the short RR is merged with the neighbour that makes a normal beat;
* ectopic / misplaced beat: a short-long (or long-short) pair whose sum is ~2 normal beats is
  one misplaced R peak: both RR are re-estimated by interpolation from the neighbours and
  scaled to keep their sum, i.e. the peak moves back, time is conserved; a lone ectopic or
  long/short beat is replaced by the value interpolated from its clean neighbours;
* edges: the series is padded with its local median, so the first and last beats are judged
  and corrected like any other;
* detection runs again on the corrected series until nothing is found (at most `max_passes`)
  and the counts add up over all passes;
* RR still outside lo_ms..hi_ms after correction is marked `dropped` (kept out of the analysis,
  reported, never silently removed);
* contiguous runs (split by `gap_before`) are corrected separately: nothing is merged,
  split or interpolated across a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdbeat.detect import Detection, KubiosConfig, detect
from holdbeat.missed_split import (
    ArFit,
    ar_fill,
    ar_fit,
    ar_split,
    missed_parts,
    pair_deviation,
    robust_z,
    split_long_rr,
)

KINDS = ("missed", "extra", "ectopic", "longshort", "dropped")


@dataclass(frozen=True)
class Corrected:
    """The corrected beat series. Per-beat arrays are per *output* beat."""

    t_s: np.ndarray  # time of the beat that ends the interval (original clock)
    rr_ms: np.ndarray
    gap_before: np.ndarray
    kind: np.ndarray  # "" or the (last) correction that changed this beat's RR
    keep: np.ndarray  # False for `dropped` beats: never analysed
    source: np.ndarray  # index of the input beat this output beat ends with
    event_index: np.ndarray  # input beat index of each correction event (all passes)
    event_kind: np.ndarray  # its kind; a split into k beats is k - 1 `missed` events
    n_input: int
    passes: int

    @property
    def changed(self) -> np.ndarray:
        return self.kind != ""

    def counts(self, input_mask: np.ndarray | None = None) -> dict[str, int]:
        """Correction events by kind, optionally only those at input beats in a mask."""
        k = self.event_kind
        if input_mask is not None:
            k = k[np.asarray(input_mask, dtype=bool)[self.event_index]]
        return {name: int(np.sum(k == name)) for name in KINDS}


class _Interp:
    """RR at fractional beat positions, linear between the nearest good (unflagged) beats,
    flat beyond the ends."""

    def __init__(self, rr: np.ndarray, bad: np.ndarray) -> None:
        self.good = np.flatnonzero(~bad)
        self.good_rr = rr[self.good]
        self._rr = rr

    def __call__(self, at: list[float]) -> np.ndarray:
        if len(self.good) == 0:  # every beat flagged: the run's median
            return np.full(len(at), float(np.median(self._rr)))
        return np.interp(at, self.good, self.good_rr)

    def around(self, j: int) -> tuple[float | None, ...]:
        """RR at beats j - 2, j - 1, j + 1, j + 2 (interpolated where flagged); None where
        no good beat lies at or beyond that position on its side: nothing is extrapolated."""
        g = self.good
        at = [j - 2, j - 1, j + 1, j + 2]
        if len(g) == 0:
            return (None,) * 4
        vals = self(at)
        ok = [g[0] <= at[0], g[0] <= at[1], g[-1] >= at[2], g[-1] >= at[3]]
        return tuple(float(v) if o else None for v, o in zip(vals, ok, strict=True))


@dataclass
class _Edit:
    """Replace input beats [start, stop) by `rr` (with source, kind, anchored per new beat)."""

    start: int
    stop: int
    rr: list[float]
    src: list[int]
    kind: str
    anchored: list[bool]


def _correct_pass(
    rr: np.ndarray, det: Detection, cfg: KubiosConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """One correction pass over one run; Python work only at flagged beats.

    Returns per output beat (rr, source index, kind, anchored) and the events
    [(source index, kind)]. An anchored beat ends at its source beat's time; the others (a
    moved peak, the first pieces of a split beat) end one RR before the next beat.
    """
    n = len(rr)
    med, th2 = det.med_ms, det.th2_ms
    # Beats the paper's thresholds flag, plus beats clearly off the local median: the
    # latter are only touched when an artifact's arithmetic explains them (below), which
    # normal sinus rhythm does not produce; they matter when artifacts are many and have
    # inflated the quartile thresholds (at 5 % the paper's rule misses ~1/3 of ectopics).
    ratio = rr / np.where(med > 0, med, np.nan)
    candidate = det.any | (ratio < 1.0 - cfg.off_median) | (ratio > 1.0 + cfg.off_median)
    edits: list[_Edit] = []
    events: list[tuple[int, str]] = []
    interp = _Interp(rr, candidate)
    mrrs = det.subspaces["mrrs"]
    # a lone beat is replaced only when both of the paper's criteria mark it: far from the
    # local median (mRR) *and* an abrupt step in the dRR pattern (ectopic, long or short).
    # A breathing trough or crest on a low-variability heart is far from the median by mRR
    # alone (its negative side is doubled) yet is reached and left gradually.
    jump = det.any
    if "drrs" in det.subspaces:  # (a hand-made Detection may carry the flags only)
        drrs, s22 = det.subspaces["drrs"], det.subspaces["s22"]
        jump = det.ectopic | ((drrs > 1) & (s22 < -1)) | ((drrs < -1) & (s22 > 1))

    def near(v: float, ref: float, tol: float) -> bool:
        return abs(v - ref) < tol

    def scale(i: int) -> tuple[float, float, float, float, float]:
        """(median, tolerance of one beat, lo, hi, floor) at beat i.

        Th2 scales with the recording's variability; capped by a share of the median so that
        many artifacts (which inflate Th2) do not make "short"/"near" meaningless. A sum is
        compared with whole beats within at least min_sum_tolerance of the median per beat:
        an artifact's sum carries the sinus rhythm's own variation, which Th2 underrates on
        low-variability hearts. Short / long = half Th2 off the median, and at least
        min_departure (on a low-variability heart Th2 / 2 is ~25 ms, and the sum rules then
        "repair" ordinary breathing-driven pairs)."""
        m = float(med[i])
        tol = min(float(th2[i]), cfg.max_tolerance * m)
        floor = cfg.min_departure * m
        dev = max(tol / 2, floor)
        return m, max(tol, cfg.min_sum_tolerance * m), m - dev, m + dev, floor

    def premature_pair(a: int) -> bool:
        """Are beats a, a+1 a premature beat and its compensatory pause (one misplaced R
        peak)? Each beat is judged by its own local median: short / long by half Th2 and
        min_departure - or by min_departure alone when the paper's ectopic pattern marks
        the pair (after a clearly premature beat a breathing-driven lengthening by half Th2
        is rare, and Th2 is wide on a varied heart). Their sum must span two beats: the two
        local medians, or - under the ectopic pattern - the two clean beats around the
        pair (at a breathing swing the median lags the rhythm, the neighbours do not).
        Two beats, two beats' tolerance: breathing lengthens or shortens neighbouring beats
        together, so the pair's sum strays from two medians by up to twice what one beat
        does (as a beat split into k is judged by its k-th part, i.e. k tolerances)."""
        if a < 0 or a + 1 >= n:
            return False
        m0, tol0, lo0, _, floor0 = scale(a)
        m1, tol1, _, hi1, floor1 = scale(a + 1)
        # the pattern at a reads dRR from beat a-1: after an artifact just corrected there
        # it marks that artifact, not a premature beat at a
        marked = bool(det.ectopic[a : a + 2].any()) and done <= a - 1
        if not (rr[a] < (m0 - floor0 if marked else lo0)):
            return False
        if not (rr[a + 1] > (m1 + floor1 if marked else hi1)):
            return False
        total = float(rr[a] + rr[a + 1])
        if a >= 1 and done <= a - 1 and rr[a] >= rr[a - 1] - floor0:
            # not short against the beat before, even one the thresholds flag: the bottom
            # of a gradual dip (a sigh's steep descent is flagged), or a sinus beat before a
            # missed one. A premature beat comes abruptly (docs/hrv.md 4).
            return False
        if near(total, m0 + m1, tol0 + tol1):
            return True
        return bool(
            marked
            and a >= 1
            and a + 2 < n
            and not candidate[a - 1]
            and not candidate[a + 2]
            and near(total, float(rr[a - 1] + rr[a + 2]), tol0 + tol1)
        )

    def explained_forward(a: int) -> bool:
        """Is short beat a, with the beat after it, an extra beat or a premature beat and
        its pause? Then a long beat before it is ordinary rhythm, not a late peak."""
        if a + 1 >= n:
            return False
        m, tol_sum, *_ = scale(a)
        return one_beat(rr[a] + rr[a + 1], a, m, tol_sum) or premature_pair(a)

    made: dict[str, object] = {}  # the rhythm model and the pairs' z, made on first use

    def model() -> ArFit | None:
        if "fit" not in made:
            made["fit"] = ar_fit(rr, candidate, cfg.ar_order)
        return made["fit"]  # type: ignore[return-value]

    def filled() -> np.ndarray:
        """The run with its flagged beats interpolated: the context the model reads (asked
        only once there is a model, so the run has unflagged beats to interpolate from)."""
        if "filled" not in made:
            f = rr.copy()
            flagged = np.flatnonzero(candidate)
            f[flagged] = interp(flagged.tolist())
            made["filled"] = f
        return made["filled"]  # type: ignore[return-value]

    def context(j0: int, j1: int) -> tuple[ArFit, np.ndarray, np.ndarray] | None:
        """The model and the p beats (flagged ones interpolated) before beat j0 and after
        beat j1; None without a model or with fewer than p beats before (a short side
        after the gap: ar_split and ar_fill say None)."""
        fit = model()
        if fit is None or j0 < len(fit.phi):
            return None
        p, f = len(fit.phi), filled()
        return fit, f[j0 - p : j0], f[j1 + 1 : j1 + 1 + p]

    def expected_beat(j0: int, j1: int) -> float | None:
        """The one beat the rhythm model expects in place of beats j0..j1 (None: no model
        or no full context on a side)."""
        ctx = context(j0, j1)
        return None if ctx is None else ar_fill(ctx[1], ctx[2], ctx[0])

    def one_beat(total: float, j0: int, m: float, tol: float) -> bool:
        """Do beats j0, j0 + 1 (sum `total`) make one beat? By the local median, or - at a
        rate swing, where the 11-beat median lags - by the beat the rhythm expects there."""
        if near(total, m, tol):
            return True
        if not cfg.extra_by_rhythm:
            return False
        ref = expected_beat(j0, j0 + 1)
        return ref is not None and near(total, ref, tol)

    def pair_z() -> np.ndarray | None:
        """Per beat: how far below the model's split of its pair it lies, in robust SDs of
        the run's clean pairs (context: the flagged beats interpolated)."""
        if "z" not in made:
            fit, z = model(), None
            if fit is not None:  # (a model means the run has unflagged beats)
                clean = ~candidate
                clean[:-1] &= ~candidate[1:]
                z = robust_z(pair_deviation(rr, fit, filled()), clean)
            made["z"] = z
        return made["z"]  # type: ignore[return-value]

    def shaped(total: float, k: int, j0: int, j1: int, how: str) -> np.ndarray:
        """k parts of `total` replacing input beats j0..j1 (inclusive)."""
        b2, b1 = interp.around(j0)[:2]
        a1, a2 = interp.around(j1)[2:]
        ctx = context(j0, j1) if how == "ar" else None
        if ctx is not None:
            parts = ar_split(total, k, ctx[1], ctx[2], ctx[0])
            if parts is not None:
                return parts
        return split_long_rr(total, k, b1, a1, how, (b2, a2))

    def model_pair(a: int) -> bool:
        """Beats a, a+1 a premature beat and its pause by the rhythm model: beat a lies more
        than ar_pair_z robust SDs below the model's split of the pair's sum, is short against
        a clean beat before it, and the sum spans two beats. Catches a premature beat that
        replaced a long breath-peak beat and so lands near the local median, where the
        median-based tests cannot see it (docs/hrv.md 4)."""
        if not cfg.ar_pair_z or a < 1 or a + 1 >= n or candidate[a - 1]:
            return False
        z = pair_z()
        if z is None or not z[a] < -cfg.ar_pair_z:
            return False
        m0, tol0, _, _, floor0 = scale(a)
        m1, tol1, *_ = scale(a + 1)
        return bool(rr[a] < rr[a - 1] - floor0) and near(rr[a] + rr[a + 1], m0 + m1, tol0 + tol1)

    def pair(j: int, kind: str) -> _Edit:
        """Beats j, j+1 are one misplaced peak: interpolate both, keep their sum."""
        total = float(rr[j] + rr[j + 1])
        # two beats in the span of the pair, shaped like a missed beat's two parts (the
        # paper's setting, "equal", interpolates a pair: the line)
        how = "linear" if cfg.missed_split == "equal" else cfg.missed_split
        a, b = shaped(total, 2, j, j + 1, how)
        events.append((j, kind))
        # the first beat's peak moves: its time follows from the second's
        return _Edit(j, j + 2, [float(a), float(b)], [j, j + 1], kind, [False, True])

    done = 0  # input beats before this index are settled (emitted or edited)
    for j in np.flatnonzero(candidate):
        j = int(j)
        if j < done:
            continue
        v = float(rr[j])
        m, tol_sum, lo, hi, _ = scale(j)
        has_next = j + 1 < n
        # the previous beat is untouched and may be revised (merged or re-paired)
        prev_free = j >= 1 and done <= j - 1
        short = v < lo
        long_ = v > hi
        edit: _Edit | None = None
        if short and has_next and one_beat(v + rr[j + 1], j, m, tol_sum):
            edit = _Edit(j, j + 2, [v + rr[j + 1]], [j + 1], "extra", [True])
            events.append((j, "extra"))
        elif short and prev_free and one_beat(rr[j - 1] + v, j - 1, m, tol_sum):
            edit = _Edit(j - 1, j + 1, [rr[j - 1] + v], [j], "extra", [True])
            events.append((j, "extra"))
        else:
            clean_nb = 1 <= j < n - 1 and not (candidate[j - 1] or candidate[j + 1])
            nb = (float(rr[j - 1]), float(rr[j + 1])) if clean_nb else (None, None)
            k = missed_parts(v, m, tol_sum, cfg.max_missed, nb) if long_ else 0
            if k:
                # parts shaped by the rhythm around the gap, same sum (holdbeat.missed_split)
                parts = shaped(v, k, j, j, cfg.missed_split)
                anch = [i == k - 1 for i in range(k)]
                edit = _Edit(j, j + 1, list(parts), [j] * k, "missed", anch)
                events.extend([(j, "missed")] * (k - 1))
            elif premature_pair(j):
                edit = pair(j, "ectopic")  # premature beat, then the compensatory pause
            elif prev_free and premature_pair(j - 1):
                edit = pair(j - 1, "ectopic")  # the same pair, seen from its pause
            elif model_pair(j):
                edit = pair(j, "ectopic")  # premature by the rhythm, not by the median
            elif prev_free and model_pair(j - 1):
                edit = pair(j - 1, "ectopic")
            elif (
                long_
                and has_next
                and rr[j + 1] < lo
                and near(v + rr[j + 1], 2 * m, 2 * tol_sum)
                and not explained_forward(j + 1)
            ):
                # a late peak: long, then short - unless the short beat and the one after
                # it are an artifact by themselves (then the long beat is a slow breath's)
                edit = pair(j, "longshort")
            elif jump[j] and (short or long_) and abs(mrrs[j]) > cfg.mrrs_limit:
                (val,) = interp([j])
                kind = "ectopic" if det.ectopic[j] else "longshort"
                edit = _Edit(j, j + 1, [float(val)], [j], kind, [True])
                events.append((j, kind))
            # else: flagged by the dRR pattern though no artifact explains it - respiratory
            # sinus arrhythmia, or the neighbour of an artifact. Leave it.
        if edit is not None:
            edits.append(edit)
            done = edit.stop
    # assemble: untouched stretches as slices, edits in between
    parts_rr, parts_src, parts_kind, parts_anch = [], [], [], []
    pos = 0
    for e in edits:
        if e.start > pos:
            parts_rr.append(rr[pos : e.start])
            parts_src.append(np.arange(pos, e.start))
            parts_kind.append(np.full(e.start - pos, "", dtype=object))
            parts_anch.append(np.ones(e.start - pos, bool))
        parts_rr.append(np.asarray(e.rr, dtype=float))
        parts_src.append(np.asarray(e.src, dtype=int))
        parts_kind.append(np.full(len(e.rr), e.kind, dtype=object))
        parts_anch.append(np.asarray(e.anchored, dtype=bool))
        pos = e.stop
    if pos < n:
        parts_rr.append(rr[pos:n])
        parts_src.append(np.arange(pos, n))
        parts_kind.append(np.full(n - pos, "", dtype=object))
        parts_anch.append(np.ones(n - pos, bool))
    return (
        np.concatenate(parts_rr),
        np.concatenate(parts_src),
        np.concatenate(parts_kind),
        np.concatenate(parts_anch),
        events,
    )


def correct_run(
    rr_ms: np.ndarray, cfg: KubiosConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, str]], int]:
    """Correct one contiguous run.

    Returns (rr, kind, source, anchored, events, passes): per output beat its RR, the kind of
    correction that changed it, its input index and whether it ends at that input beat's
    time; events [(input index, kind)].
    """
    cfg = cfg or KubiosConfig()
    cur = np.asarray(rr_ms, dtype=float).copy()
    n = len(cur)
    kind = np.full(n, "", dtype=object)
    src = np.arange(n)
    anchored = np.ones(n, bool)
    events: list[tuple[int, str]] = []
    passes = 0
    if n < 4:
        return cur, kind, src, anchored, events, passes
    first = detect(cur, cfg)
    for _ in range(cfg.max_passes):
        det = first if not passes else detect(cur, cfg, (first.th1_ms[src], first.th2_ms[src]))
        if not det.any.any():
            break
        o_rr, o_src, o_kind, o_anchored, ev = _correct_pass(cur, det, cfg)
        if not ev:
            break
        passes += 1
        events += [(int(src[i]), k) for i, k in ev]
        kind = np.where(o_kind != "", o_kind, kind[o_src])
        anchored = o_anchored & anchored[o_src]
        src = src[o_src]
        cur = o_rr
    return cur, kind, src, anchored, events, passes


def correct(
    t_s: np.ndarray,
    rr_ms: np.ndarray,
    gap_before: np.ndarray | None = None,
    cfg: KubiosConfig | None = None,
) -> Corrected:
    """Correct a whole recording's beats, run by run (runs are split at `gap_before`).

    Non-finite or non-positive RR cannot be corrected: it ends a run and is `dropped`.
    """
    cfg = cfg or KubiosConfig()
    t = np.asarray(t_s, dtype=float)
    rr = np.asarray(rr_ms, dtype=float)
    n = len(rr)
    if len(t) != n:
        raise ValueError(f"t_s has {len(t)} values but rr_ms has {n}")
    gap = np.zeros(n, bool) if gap_before is None else np.asarray(gap_before, dtype=bool)
    if len(gap) != n:
        raise ValueError(f"gap_before has {len(gap)} values but rr_ms has {n}")
    finite = np.isfinite(rr) & np.isfinite(t) & (rr > 0)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("rr", "t", "gap", "kind", "src")}
    ev_idx: list[int] = []
    ev_kind: list[str] = []
    passes = 0
    run_start = np.zeros(n, bool)
    if n:
        run_start[0] = True
        run_start[1:] = gap[1:] | ~finite[:-1]
    run_start |= ~finite
    starts = np.flatnonzero(run_start)
    for a, b in zip(starts, [*starts[1:], n][: len(starts)], strict=True):
        if not finite[a]:
            out["rr"].append(rr[a : a + 1])
            out["t"].append(t[a : a + 1])
            out["gap"].append(np.array([bool(gap[a])]))
            out["kind"].append(np.array(["dropped"], dtype=object))
            out["src"].append(np.array([a]))
            ev_idx.append(int(a))
            ev_kind.append("dropped")
            continue
        c_rr, c_kind, c_src, c_anchored, events, p = correct_run(rr[a:b], cfg)
        passes = max(passes, p)
        g = np.zeros(len(c_rr), bool)
        g[0] = bool(gap[a]) or (a > 0 and not finite[a - 1])
        out["rr"].append(c_rr)
        # anchored beats keep their input beat's time; a moved peak or the first pieces of
        # a split beat end one (corrected) RR before the beat after them
        tt = t[a:b][c_src]
        for i in np.flatnonzero(~c_anchored)[::-1]:
            tt[i] = tt[i + 1] - c_rr[i + 1] / 1000.0
        out["t"].append(tt)
        out["gap"].append(g)
        out["kind"].append(c_kind)
        out["src"].append(c_src + a)
        ev_idx += [int(i) + int(a) for i, _ in events]
        ev_kind += [k for _, k in events]
    if n == 0:
        e = np.zeros(0)
        return Corrected(
            e,
            e,
            e.astype(bool),
            e.astype(object),
            e.astype(bool),
            e.astype(int),
            e.astype(int),
            e.astype(object),
            0,
            0,
        )
    out_rr = np.concatenate(out["rr"])
    out_kind = np.concatenate(out["kind"]).astype(object)
    src = np.concatenate(out["src"])
    bad = ~np.isfinite(out_rr) | (out_rr < cfg.lo_ms) | (out_rr > cfg.hi_ms)
    newly = bad & (out_kind != "dropped")
    ev_idx += [int(i) for i in src[newly]]
    ev_kind += ["dropped"] * int(newly.sum())
    out_kind = np.where(bad, "dropped", out_kind).astype(object)
    order = np.argsort(np.asarray(ev_idx, dtype=int), kind="stable")
    return Corrected(
        t_s=np.concatenate(out["t"]),
        rr_ms=out_rr,
        gap_before=np.concatenate(out["gap"]),
        kind=out_kind,
        keep=~bad,
        source=src,
        event_index=np.asarray(ev_idx, dtype=int)[order],
        event_kind=np.asarray(ev_kind, dtype=object)[order],
        n_input=n,
        passes=passes,
    )


def neurokit_kubios(rr_ms: np.ndarray, iterative: bool = True) -> np.ndarray:
    """neurokit2's `signal_fixpeaks(method="Kubios")` on an RR series, for comparison.

    RR become peak positions at 1 MHz, so rounding stays far below any correction.
    """
    import warnings

    import neurokit2 as nk

    rr = np.asarray(rr_ms, dtype=float)
    peaks = np.concatenate([[0], np.cumsum(np.round(rr * 1000.0).astype(np.int64))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fixed = nk.signal_fixpeaks(
            peaks, sampling_rate=1_000_000, method="Kubios", iterative=iterative
        )
    return np.diff(np.asarray(fixed, dtype=np.int64)) / 1000.0
