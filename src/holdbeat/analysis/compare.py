"""Across sessions: does the body respond differently in fierce, soft and loving-kindness?

Two stages, both pure:

1. `summarize(prepared, cfg)` turns one recording into per-hold units (Δ HR, Δ RMSSD,
   Δ ln RMSSD from the session's own baseline; catch-up latency), the holds it had to
   exclude (with the reason), and event-locked trajectories (hold onset, lapse, rehold).
   It is small and picklable, so many files can be summarised in parallel.
2. `compare(summaries, cfg)` pools them: per mode n, mean, median, bootstrap 95 % CI;
   pairwise mode contrasts (CI of the difference, Hedges' g, permutation p); paired
   within-session contrasts for sessions holding several modes; mean trajectories with
   bootstrap bands.

Unit of analysis: one value per **session and mode** (the mean of that session's holds in
that mode). Holds within a session share a baseline and a day, so treating them as
independent would make intervals too narrow; tests/test_calibration.py checks coverage.
Rendering is beside it: text, JSON, CSV and the verdicts in words in compare_render, the
figure in compare_figure.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from holdbeat.analysis import stats
from holdbeat.analysis.baseline_band import DEFAULT_K, REFERENCES
from holdbeat.analysis.catchup import (
    DEFAULT_DWELL_S,
    DEFAULT_MAX_GAP_S,
    catch_up,
    expected_direction,
)
from holdbeat.analysis.groups import (
    GroupStats,
    GroupSummary,
    group_key,
    group_order,
    group_stats,
)
from holdbeat.analysis.hold_bands import (
    baseline_position,
    hold_bands,
    phase_bands,
    session_reference,
)
from holdbeat.analysis.lapses import baseline_noise, lapse_spans
from holdbeat.analysis.practice import hold_practice_fields, ratings_of
from holdbeat.analysis.prep import LOW_QUALITY_PCT, Prepared, phase_quality, time_domain
from holdbeat.analysis.trajectory import event_locked
from holdbeat.session import HOLD_MODES

METRICS = ("dlnrmssd", "dhr", "drmssd", "latency", "dbelief", "dsafety", "lapse_dln")
#: analysed next to the chosen metric, with the same statistics (`Comparison.extra`)
EXTRA_METRICS = ("dbelief", "dsafety", "lapse_dln")
#: rolling metric behind each comparison metric's trajectories
TRAJ_METRIC = {
    "dlnrmssd": "ln_rmssd",
    "dhr": "hr",
    "drmssd": "rmssd",
    "latency": "ln_rmssd",
    "dbelief": "ln_rmssd",
    "dsafety": "ln_rmssd",
    "lapse_dln": "ln_rmssd",
}
EVENTS = ("onset", "lapse", "rehold")
MIN_HOLD_S = 60.0


@dataclass(frozen=True)
class CompareConfig:
    metric: str = "dlnrmssd"
    include_low_quality: bool = False
    low_quality_pct: float = LOW_QUALITY_PCT
    min_hold_s: float = MIN_HOLD_S
    window_s: float = 60.0
    k: float = DEFAULT_K
    dwell_s: float = DEFAULT_DWELL_S
    max_gap_s: float = DEFAULT_MAX_GAP_S
    latency_metric: str = "ln_rmssd"  # the catch-up metric behind "latency"
    epochs: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "onset": (60.0, 180.0),
            "lapse": (30.0, 60.0),
            "rehold": (30.0, 60.0),
        }
    )
    step_s: float = 1.0
    n_resamples: int = stats.N_RESAMPLES
    traj_resamples: int = 1000
    seed: int = 0
    min_n: int = stats.MIN_N
    trajectories: bool = True
    by: str = "mode"  # mode | target | mode,target (holdbeat.analysis.groups)
    extra: bool = True  # also rating change and lapse response, same statistics
    reference: str | None = None  # a hold's band: REFERENCES; None = what each session used

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {self.metric!r}")
        if self.reference is not None and self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, not {self.reference!r}")
        group_key(self.by)  # raises on an unknown grouping

    @property
    def traj_metric(self) -> str:
        return TRAJ_METRIC[self.metric]


# ---------------------------------------------------------------- per session


@dataclass(frozen=True)
class HoldUnit:
    """One included hold."""

    session: str
    file: str
    index: int
    name: str
    mode: str
    duration_s: float
    corrected_pct: float
    low_quality: bool
    dhr: float
    drmssd: float
    dlnrmssd: float
    latency: float  # catch-up latency of cfg.latency_metric; NaN when not reached
    reached: bool
    band_ok: bool  # the baseline band for catch-up was usable (else latency is unknown)
    carried_over: bool = False  # out of band at onset, no catch-up of its own
    # the practice around it (NaN / "" where not given)
    started_utc: str = ""
    target: str = ""
    belief_pre: float = math.nan
    belief_post: float = math.nan
    safety_pre: float = math.nan
    safety_post: float = math.nan
    satisfaction: float = math.nan
    lapses: int = 0
    lapsed_s: float = 0.0
    lapse_dln: float = math.nan  # mean ln RMSSD change 30–60 s after this hold's lapses
    lapses_measured: int = 0

    @property
    def dbelief(self) -> float:
        return self.belief_post - self.belief_pre

    @property
    def dsafety(self) -> float:
        return self.safety_post - self.safety_pre

    def value(self, metric: str) -> float:
        return float(getattr(self, metric))


@dataclass(frozen=True)
class Exclusion:
    file: str
    phase: str  # "#index name"
    mode: str
    reason: str
    target: str = ""
    started_utc: str = ""


@dataclass(frozen=True)
class SessionSummary:
    session: str
    file: str
    holds: tuple[HoldUnit, ...]
    excluded: tuple[Exclusion, ...]
    # (event, mode) -> epochs (rows) of the trajectory metric minus the baseline mean
    epochs: dict[tuple[str, str], np.ndarray]
    offsets: dict[str, np.ndarray]


def summarize(prep: Prepared, cfg: CompareConfig | None = None) -> SessionSummary:
    cfg = cfg or CompareConfig()
    rec = prep.rec
    file = str(rec.path)
    session = rec.header.session_id or file
    holds: list[HoldUnit] = []
    excl: list[Exclusion] = []
    epochs: dict[tuple[str, str], list[np.ndarray]] = {}
    offsets = {
        ev: np.arange(-pre, post + cfg.step_s / 2, cfg.step_s)
        for ev, (pre, post) in cfg.epochs.items()
    }
    hold_phases = [p for p in rec.phases if p.kind == "hold"]
    if not hold_phases:
        return SessionSummary(session, file, (), (), {}, offsets)
    base_i = baseline_position(rec.phases)
    base_why = ""
    base_td = None
    if base_i is None:
        base_why = "no baseline phase in the session"
    else:
        bph = rec.phases[base_i]
        bm = prep.phase_mask(bph)
        base_td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, bm)
        bq = phase_quality(prep, bph, cfg.low_quality_pct)
        if base_td.reason:
            base_why = f"baseline HRV not computable ({base_td.reason})"
        elif not cfg.include_low_quality and bq.low:
            base_why = f"baseline is low quality ({bq.reason})"
    roll = prep.catchup_rolling
    tm = cfg.traj_metric
    rated = {r.index: r for r in ratings_of(rec)}
    base_span = rec.phases[base_i] if base_i is not None else None
    noise = baseline_noise(prep, base_span)
    band = lat_band = None
    if not base_why:
        bands = phase_bands(prep, base_i, (tm, cfg.latency_metric), cfg.k, cfg.window_s)
        band, lat_band = bands[tm], bands[cfg.latency_metric]
    reference = session_reference(prep, cfg.reference)
    for pos, (prev, ph) in enumerate(zip([None, *rec.phases[:-1]], rec.phases, strict=True)):
        if ph.kind != "hold":
            continue
        label = f"#{ph.index} {ph.name or ph.kind}"
        hold_band = lat_band
        if lat_band is not None:  # the baseline's, or the rest's before this hold
            lm = cfg.latency_metric
            hold_band = hold_bands(prep, pos, reference, base_i, {lm: lat_band}, cfg.k,
                                   cfg.window_s)[0][lm]  # fmt: skip
        q = phase_quality(prep, ph, cfg.low_quality_pct)
        pct = q.changed_pct
        why = ""
        if ph.mode not in HOLD_MODES:
            why = f"mode {ph.mode!r} is not one of {', '.join(HOLD_MODES)}"
        elif base_why:
            why = base_why
        elif ph.duration_s < cfg.min_hold_s:
            why = f"too short ({ph.duration_s:.0f} s < {cfg.min_hold_s:g} s)"
        elif not cfg.include_low_quality and q.low:
            why = f"low quality ({q.reason})"
        td = None
        if not why:
            td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(ph))
            if td.reason:
                why = f"HRV not computable ({td.reason})"
        if not why and cfg.metric == "latency" and not (hold_band is not None and hold_band.valid):
            why = f"no usable baseline band for catch-up ({hold_band.reason if hold_band else ''})"
        if why or td is None or base_td is None:
            excl.append(Exclusion(file, label, ph.mode, why, ph.target, rec.header.started_utc))
            continue
        cu = catch_up(
            roll.t_s,
            roll.metric(cfg.latency_metric),
            hold_band,  # type: ignore[arg-type]
            ph.start_s,
            expected_direction(cfg.latency_metric, ph.mode),
            cfg.dwell_s,
            ph.end_s,
            cfg.max_gap_s,
        )
        holds.append(
            HoldUnit(
                session=session,
                file=file,
                index=ph.index,
                name=ph.name or ph.kind,
                mode=ph.mode,
                duration_s=ph.duration_s,
                corrected_pct=pct,
                low_quality=q.low,
                dhr=td.hr_bpm - base_td.hr_bpm,
                drmssd=td.rmssd_ms - base_td.rmssd_ms,
                dlnrmssd=td.ln_rmssd - base_td.ln_rmssd,
                latency=cu.latency_s,
                reached=cu.reached,
                band_ok=bool(hold_band is not None and hold_band.valid),
                carried_over=cu.carried_over,
                **hold_practice_fields(prep, ph, rated.get(ph.index), base_span, noise),
            )
        )
        if cfg.trajectories and band is not None and math.isfinite(band.mean):
            values = roll.metric(tm) - band.mean
            lim_lo = prev.start_s if prev is not None else ph.start_s
            ev_times: dict[str, list[float]] = {"onset": [ph.start_s]}
            _, spans = lapse_spans(rec.markers, ph.start_s, ph.end_s)
            ev_times["lapse"] = [a for a, _ in spans]
            ev_times["rehold"] = [b for _, b in spans if b < ph.end_s]
            for ev, times in ev_times.items():
                if ev not in cfg.epochs:
                    continue
                pre, post = cfg.epochs[ev]
                limit = (lim_lo, ph.end_s) if ev == "onset" else (ph.start_s, ph.end_s)
                for t in times:
                    e = event_locked(roll.t_s, values, t, pre, post, cfg.step_s, limit)
                    epochs.setdefault((ev, ph.mode), []).append(e)
    stacked = {k: np.vstack(v) for k, v in epochs.items()}
    return SessionSummary(session, file, tuple(holds), tuple(excl), stacked, offsets)


# ---------------------------------------------------------------- pooled


ModeSummary = GroupSummary  # one group of a grouping (a mode, by default)


@dataclass(frozen=True)
class Trajectory:
    event: str
    mode: str
    offsets_s: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: np.ndarray  # sessions contributing per offset
    n_sessions: int


@dataclass(frozen=True)
class Comparison:
    config: CompareConfig
    n_sessions: int
    units: tuple[HoldUnit, ...]
    excluded: tuple[Exclusion, ...]
    modes: tuple[ModeSummary, ...]
    pairwise: tuple[stats.Contrast, ...]
    paired: tuple[stats.Contrast, ...]
    trajectories: tuple[Trajectory, ...]
    notes: tuple[str, ...]
    # rating change and lapse response by the same grouping, same statistics
    extra: dict[str, GroupStats] = field(default_factory=dict)


def _nanmean0(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        return np.nanmean(x, axis=0)


def _streams(seed: int) -> Iterator[np.random.Generator]:
    """Independent, reproducible random streams, one per result, made as needed."""
    ss = np.random.SeedSequence(seed)
    while True:
        yield np.random.default_rng(ss.spawn(1)[0])


def compare(summaries: Sequence[SessionSummary], cfg: CompareConfig | None = None) -> Comparison:
    cfg = cfg or CompareConfig()
    units = tuple(u for s in summaries for u in s.holds)
    excluded = tuple(e for s in summaries for e in s.excluded)
    key = group_key(cfg.by)
    modes_present = [g for g in group_order(units, cfg.by) if any(key(u) == g for u in units)]
    streams = _streams(cfg.seed)
    main = group_stats(units, cfg.metric, cfg.by, streams, cfg.n_resamples, cfg.min_n)
    modes, pairwise, paired = list(main.groups), main.pairwise, main.paired
    trajectories = []
    if cfg.trajectories:
        for ev in EVENTS:
            if ev not in cfg.epochs:
                continue
            pre, post = cfg.epochs[ev]
            offs = np.arange(-pre, post + cfg.step_s / 2, cfg.step_s)
            for m in HOLD_MODES:
                rows = []
                for s in summaries:
                    e = s.epochs.get((ev, m))
                    if e is not None and e.size:
                        rows.append(_nanmean0(e))  # one row per session
                if not rows:
                    continue
                x = np.vstack(rows)
                mean, lo, hi, n = stats.mean_band(
                    x, next(streams), cfg.traj_resamples, min_n=cfg.min_n
                )
                trajectories.append(Trajectory(ev, m, offs, mean, lo, hi, n, len(rows)))
    extra = {}
    if cfg.extra:
        # own streams: adding these never changes the main metric's numbers
        x_streams = _streams(cfg.seed + 1)
        for m in EXTRA_METRICS:
            if m != cfg.metric:
                extra[m] = group_stats(units, m, cfg.by, x_streams, cfg.n_resamples, cfg.min_n)
    notes = _notes(cfg, summaries, modes, modes_present, excluded)
    return Comparison(
        config=cfg,
        n_sessions=len(summaries),
        units=units,
        excluded=excluded,
        modes=tuple(modes),
        pairwise=tuple(pairwise),
        paired=tuple(paired),
        trajectories=tuple(trajectories),
        notes=tuple(notes),
        extra=extra,
    )


def _notes(
    cfg: CompareConfig,
    summaries: Sequence[SessionSummary],
    modes: list[ModeSummary],
    present: list[str],
    excluded: tuple[Exclusion, ...],
) -> list[str]:
    out = []
    if not summaries:
        out.append("no recordings: nothing to compare.")
    what = {"mode": "modes", "target": "targets"}.get(cfg.by, "groups")
    if len(present) < 2:
        out.append(
            f"fewer than two {what} have usable holds: there is nothing to compare between {what}."
        )
    for m in modes:
        if m.n_holds and m.estimate.few and m.estimate.ok:
            out.append(
                f"{m.mode}: only {m.estimate.n} sessions — the interval is wide and approximate."
            )
    if cfg.metric == "latency":
        out.append(
            "latency is compared over holds that caught up only; how many did is in 'reached'."
        )
    if excluded:
        low = sum("low quality" in e.reason for e in excluded)
        if low and not cfg.include_low_quality:
            out.append(
                f"{low} hold(s) excluded for quality (> {cfg.low_quality_pct:g} % corrected "
                "beats); --include-low-quality keeps them."
            )
    out.append(
        f"one value per session and {cfg.by.replace(',', ' and ')} (mean of its holds); "
        "sessions holding several appear in more than one group, which makes the unpaired "
        "intervals conservative — the paired within-session contrast is the sharper test "
        "for those."
    )
    if cfg.extra:
        out.append(
            "ratings and lapse responses are analysed over the same included holds as the "
            "physiology (a hold excluded for quality leaves out its ratings too)."
        )
    return out
