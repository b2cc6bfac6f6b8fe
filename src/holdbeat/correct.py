"""Offline RR artifact correction in the manner of Lipponen & Tarvainen (2019). Pure numpy.

Detection follows the paper (and Kubios): per beat n,

* dRR_n = RR_n - RR_{n-1}; Th1 = alpha * QD(|dRR|) over a centred window of 91 beats
  (QD = quartile deviation = (Q3 - Q1) / 2, alpha = 5.2); dRRs = dRR / Th1;
* mRR_n = RR_n - median11(RR)_n, negative values doubled; Th2 = alpha * QD(|mRR|) over 91
  beats; mRRs = mRR / Th2;
* subspaces S11 = dRRs_n; S12 = max(dRRs_{n-1}, dRRs_{n+1}) if dRRs_n > 0 else the min;
  S21 = dRRs_n; S22 = min(dRRs_{n+1}, dRRs_{n+2}) if dRRs_n >= 0 else the max;
* ectopic: (S11 > 1 and S12 < -c1 S11 - c2) or (S11 < -1 and S12 > -c1 S11 + c2), with
  c1 = 0.13, c2 = 0.17;
* long: S21 > 1 and S22 < -1; short: S21 < -1 and S22 > 1; either, or |mRRs| > 3, is a
  long/short beat, which is a *missed* beat when |RR_n / 2 - med_n| < Th2_n and an *extra*
  beat when |RR_n + RR_{n+1} - med_n| < Th2_n.

Correction (where holdbeat departs from neurokit2 0.2.13's `signal_fixpeaks`, which leaves
most ectopic pairs and every edge artifact in place - NeuroKit issue #1062):

* missed: the long RR is split into k = round(RR / med) equal beats (k <= `max_missed` + 1);
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

from dataclasses import dataclass, field

import numpy as np

KINDS = ("missed", "extra", "ectopic", "longshort", "dropped")


@dataclass(frozen=True)
class KubiosConfig:
    alpha: float = 5.2
    window: int = 91  # beats, for the quartile-deviation thresholds
    medfilt: int = 11  # beats, for the local median RR
    c1: float = 0.13
    c2: float = 0.17
    max_passes: int = 4
    max_missed: int = 3  # a long RR explained by at most this many missed beats is split
    min_threshold_ms: float = (
        5.0  # floor on Th1/Th2 so a near-constant RR series is not all artifacts
    )
    lo_ms: float = 300.0
    hi_ms: float = 2000.0
    pad: int = 3  # virtual median beats on each side of a run, so edges are judged too
    # A beat flagged only by the dRR pattern (no missed/extra/ectopic-pair arithmetic) is
    # replaced only when it is also this far from the local median (|mRR| / Th2, the
    # paper's long/short criterion): otherwise it is respiratory sinus arrhythmia.
    mrrs_limit: float = 3.0
    # Beats further than this share from the local median are candidates even when the
    # thresholds do not flag them (changed only when missed/extra/pair arithmetic fits).
    off_median: float = 0.15
    # "short", "long" and "near" use Th2, but at most this share of the local median.
    max_tolerance: float = 0.3
    min_sum_tolerance: float = 0.2
    min_departure: float = 0.06

    def __post_init__(self) -> None:
        if self.window < 3 or self.medfilt < 3 or not (self.window % 2 and self.medfilt % 2):
            raise ValueError("window and medfilt must be odd numbers of beats, at least 3")
        if not 0 < self.lo_ms < self.hi_ms:
            raise ValueError(f"need 0 < lo_ms < hi_ms, got {self.lo_ms!r}, {self.hi_ms!r}")
        if self.max_passes < 1 or self.max_missed < 1:
            raise ValueError("max_passes and max_missed must be at least 1")


@dataclass(frozen=True)
class Detection:
    """Per-beat classification of one run (one detection pass)."""

    ectopic: np.ndarray
    missed: np.ndarray
    extra: np.ndarray
    longshort: np.ndarray
    med_ms: np.ndarray  # local median RR
    th2_ms: np.ndarray  # the mRR threshold, ms
    th1_ms: np.ndarray  # the dRR threshold, ms
    subspaces: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def any(self) -> np.ndarray:
        return self.ectopic | self.missed | self.extra | self.longshort


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


RANK_FILTER_MIN_CELLS = 2_000_000  # beats x window: ~22,000 beats at the 91-beat window


def _rolling(x: np.ndarray, w: int, q: float) -> np.ndarray:
    """Centred rolling quantile (linear interpolation) over an odd window `w`, truncated
    at the ends: pandas' `rolling(w, center=True, min_periods=1).quantile(q)`."""
    return _rolling_quantiles(x, w, (q,))[0]


def _rolling_quantiles(x: np.ndarray, w: int, qs: tuple[float, ...]) -> list[np.ndarray]:
    """`_rolling` for several quantiles of the same series, from one sort of its windows.

    Equals pandas' `rolling(w, center=True, min_periods=1).quantile(q)` (what neurokit2
    uses; tests compare). Full windows: numpy sorts them in blocks for the usual session, so
    `report` imports neither pandas nor scipy.ndimage (0.3-0.5 s of start-up); scipy's rank
    filter once a series is so long (hours) that sorting costs more than that import.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    h = w // 2
    outs = [np.empty(n) for _ in qs]
    if n == 0:
        return outs
    ranks = [(int(np.floor((w - 1) * q)), (w - 1) * q - np.floor((w - 1) * q)) for q in qs]
    if n * w > RANK_FILTER_MIN_CELLS:
        from scipy import ndimage

        for out, (lo, frac) in zip(outs, ranks, strict=True):
            out[:] = ndimage.rank_filter(x, lo, size=w, mode="nearest")
            if frac:
                out += frac * (ndimage.rank_filter(x, lo + 1, size=w, mode="nearest") - out)
    elif n >= w:
        full = np.lib.stride_tricks.sliding_window_view(x, w)
        block = max(1, 262_144 // w)  # bounded memory
        for a in range(0, len(full), block):
            srt = np.sort(full[a : a + block], axis=1)
            for out, (lo, frac) in zip(outs, ranks, strict=True):
                v = srt[:, lo]
                if frac:
                    v = v + frac * (srt[:, lo + 1] - v)
                out[h + a : h + a + len(srt)] = v
    # Rows whose window is truncated by an end (min_periods=1): the quantile of the values
    # present, over a NaN-padded matrix of those windows.
    edge = np.flatnonzero((np.arange(n) < h) | (np.arange(n) >= n - h))
    if len(edge):
        padded = np.concatenate([np.full(h, np.nan), x, np.full(h, np.nan)])
        m = padded[edge[:, None] + np.arange(w)[None, :]]
        s_m = np.sort(m, axis=1)  # NaN sort last
        k = np.sum(~np.isnan(m), axis=1)
        for out, q in zip(outs, qs, strict=True):
            out[edge] = _row_quantile(s_m, k, q)
    return outs


def _row_quantile(s: np.ndarray, k: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile of the first k[i] values of each sorted row `s`
    (np.nanquantile is slow)."""
    pos = (k - 1) * q
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, k - 1)
    rows = np.arange(len(s))
    return s[rows, lo] + (pos - lo) * (s[rows, hi] - s[rows, lo])


def _qd_threshold(x: np.ndarray, cfg: KubiosConfig) -> np.ndarray:
    ax = np.abs(x)
    q75, q25 = _rolling_quantiles(ax, cfg.window, (0.75, 0.25))
    qd = (q75 - q25) / 2.0
    return np.maximum(cfg.alpha * qd, cfg.min_threshold_ms)


def detect(
    rr_ms: np.ndarray,
    cfg: KubiosConfig | None = None,
    thresholds_ms: tuple[np.ndarray, np.ndarray] | None = None,
) -> Detection:
    """Classify the beats of one contiguous run (see the module docstring).

    `thresholds_ms` = (Th1, Th2) per beat fixes the thresholds instead of estimating them
    from this series: later passes judge the corrected series by the *recording's*
    variability, not by that of an already-smoothed series.
    """
    cfg = cfg or KubiosConfig()
    rr = np.asarray(rr_ms, dtype=float)
    n = len(rr)
    p = cfg.pad
    if n == 0:
        z = np.zeros(0, bool)
        return Detection(z, z, z, z, np.zeros(0), np.zeros(0), np.zeros(0))
    # Pad both ends with the local median so dRR, S12 and S22 exist at the edges.
    head = np.median(rr[: cfg.medfilt])
    tail = np.median(rr[-cfg.medfilt :])
    x = np.concatenate([np.full(p, head), rr, np.full(p, tail)])
    drr = np.diff(x, prepend=x[0])
    med = _rolling(x, cfg.medfilt, 0.5)
    mrr = x - med
    mrr = np.where(mrr < 0, 2.0 * mrr, mrr)
    if thresholds_ms is None:
        th1 = _qd_threshold(drr, cfg)
        th2 = _qd_threshold(mrr, cfg)
    else:
        th1, th2 = (np.pad(np.asarray(a, float), p, mode="edge") for a in thresholds_ms)
    drrs = drr / th1
    mrrs = mrr / th2
    prev = np.concatenate([[drrs[0]], drrs[:-1]])
    nxt = np.concatenate([drrs[1:], [drrs[-1]]])
    nxt2 = np.concatenate([drrs[2:], [drrs[-1]] * 2])
    s12 = np.where(drrs > 0, np.maximum(prev, nxt), np.where(drrs < 0, np.minimum(prev, nxt), 0.0))
    s22 = np.where(drrs >= 0, np.minimum(nxt, nxt2), np.maximum(nxt, nxt2))
    c1, c2 = cfg.c1, cfg.c2
    ectopic = ((drrs > 1) & (s12 < -c1 * drrs - c2)) | ((drrs < -1) & (s12 > -c1 * drrs + c2))
    long_ = (drrs > 1) & (s22 < -1)
    short = (drrs < -1) & (s22 > 1)
    big = np.abs(mrrs) > 3
    ls = ~ectopic & (long_ | short | big)
    x_next = np.concatenate([x[1:], [x[-1]]])
    missed = ls & (long_ | (mrrs > 3)) & (np.abs(x / 2.0 - med) < th2)
    extra = ls & ~missed & (short | (mrrs < -3)) & (np.abs(x + x_next - med) < th2)
    longshort = ls & ~missed & ~extra
    real = slice(p, p + n)
    return Detection(
        ectopic=ectopic[real],
        missed=missed[real],
        extra=extra[real],
        longshort=longshort[real],
        med_ms=med[real],
        th2_ms=th2[real],
        th1_ms=th1[real],
        subspaces={"drrs": drrs[real], "mrrs": mrrs[real], "s12": s12[real], "s22": s22[real]},
    )


class _Interp:
    """RR at fractional beat positions, linear between the nearest good (unflagged) beats,
    flat beyond the ends."""

    def __init__(self, rr: np.ndarray, bad: np.ndarray) -> None:
        self.good = np.flatnonzero(~bad)
        self.good_rr = rr[self.good]
        self.fallback = float(np.median(rr))

    def __call__(self, at: list[float]) -> np.ndarray:
        if len(self.good) == 0:
            return np.full(len(at), self.fallback)
        return np.interp(at, self.good, self.good_rr)


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

    def near(v: float, ref: float, tol: float) -> bool:
        return abs(v - ref) < tol

    def pair(j: int, kind: str) -> _Edit:
        """Beats j, j+1 are one misplaced peak: interpolate both, keep their sum."""
        a, b = interp([j, j + 1])
        total = rr[j] + rr[j + 1]
        s = total / (a + b) if a + b > 0 else 0.5
        events.append((j, kind))
        # the first beat's peak moves: its time follows from the second's
        return _Edit(j, j + 2, [a * s, total - a * s], [j, j + 1], kind, [False, True])

    done = 0  # input beats before this index are settled (emitted or edited)
    for j in np.flatnonzero(candidate):
        j = int(j)
        if j < done:
            continue
        v = float(rr[j])
        m = float(med[j])
        # Th2 scales with the recording's variability; capped by a share of the median so
        # that many artifacts (which inflate Th2) do not make "short"/"near" meaningless.
        tol = min(float(th2[j]), cfg.max_tolerance * m)
        # How close a sum must come to one or two median beats: the same scale, but at
        # least min_sum_tolerance of the median - an ectopic pair's sum carries the sinus
        # rhythm's own variation, which Th2 underrates on low-variability hearts.
        tol_sum = max(tol, cfg.min_sum_tolerance * m)
        has_next = j + 1 < n
        # the previous beat is untouched and may be revised (merged or re-paired)
        prev_free = j >= 1 and done <= j - 1
        # clearly shorter / longer than the local median: half Th2, and at least
        # min_departure of the median (on a low-variability heart Th2 / 2 is ~25 ms, and
        # the sum rules below then "repair" ordinary breathing-driven pairs)
        dev = max(tol / 2, cfg.min_departure * m)
        lo, hi = m - dev, m + dev
        short = v < lo
        long_ = v > hi
        edit: _Edit | None = None
        if short and has_next and near(v + rr[j + 1], m, tol_sum):
            edit = _Edit(j, j + 2, [v + rr[j + 1]], [j + 1], "extra", [True])
            events.append((j, "extra"))
        elif short and prev_free and near(rr[j - 1] + v, m, tol_sum):
            edit = _Edit(j - 1, j + 1, [rr[j - 1] + v], [j], "extra", [True])
            events.append((j, "extra"))
        else:
            k = round(v / m) if m > 0 else 0
            if long_ and 2 <= k <= cfg.max_missed + 1 and near(v / k, m, tol_sum):
                # equal parts (as Kubios and neurokit2): on RR with respiratory swings this
                # beat interpolating from the neighbours (RMSSD bias -0.6 % vs -1.3 % at 5 %)
                parts = np.full(k, v / k)
                anch = [i == k - 1 for i in range(k)]
                edit = _Edit(j, j + 1, list(parts), [j] * k, "missed", anch)
                events.extend([(j, "missed")] * (k - 1))
            elif short and has_next and rr[j + 1] > hi and near(v + rr[j + 1], 2 * m, tol_sum):
                edit = pair(j, "ectopic")  # premature beat, then the compensatory pause
            elif long_ and prev_free and rr[j - 1] < lo and near(rr[j - 1] + v, 2 * m, tol_sum):
                edit = pair(j - 1, "ectopic")
            elif long_ and has_next and rr[j + 1] < lo and near(v + rr[j + 1], 2 * m, tol_sum):
                edit = pair(j, "longshort")  # a late peak: long, then short
            elif det.any[j] and (short or long_) and abs(mrrs[j]) > cfg.mrrs_limit:
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
