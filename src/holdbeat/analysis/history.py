"""One recording as a row of `holdbeat history`: a small, pure, JSON-ready digest.

`digest(prep, cfg)` keeps what the practice over weeks needs and nothing heavy: when, which
protocol, the situation and notes, the action, and per hold the mode, target, belief, the
change from the session's baseline (Δ ln RMSSD, Δ HR: the same numpy time-domain HRV on the
same corrected beats as `compare`), the catch-up state and latency of ln RMSSD (computed by
`report`'s own functions, so history and report always agree), how long the hold was held
or lapsed, the lapses and what ln RMSSD did after them, and the ratings. Digests are cached
per file content (history_cache.py), so `history` over years of sessions loads each
recording once.

`DIGEST_VERSION` and the holdbeat version go into the cache key: bump DIGEST_VERSION
whenever what a digest holds or means changes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from holdbeat import __version__
from holdbeat.analysis.baseline_band import DEFAULT_K
from holdbeat.analysis.catchup import DEFAULT_DWELL_S
from holdbeat.quality import MAX_CHANGED_PCT as LOW_QUALITY_PCT  # prep's low-quality limit

if TYPE_CHECKING:
    from holdbeat.analysis.prep import Prepared

DIGEST_VERSION = 3
NAN = math.nan


@dataclass(frozen=True)
class HistoryConfig:
    window_s: float = 60.0
    k: float = DEFAULT_K
    dwell_s: float = DEFAULT_DWELL_S
    low_quality_pct: float = LOW_QUALITY_PCT

    def key(self) -> str:
        """Digests made with other settings, or by other code, are other digests (the cache
        keeps them apart): a fix to the correction between two releases must not leave a
        person looking at digests the old rule made."""
        from holdbeat.analysis.cache import code_fingerprint

        return (
            f"v{DIGEST_VERSION};holdbeat {__version__};code {code_fingerprint()[:16]};"
            f"w{self.window_s:g};k{self.k:g};d{self.dwell_s:g};q{self.low_quality_pct:g}"
        )


@dataclass(frozen=True)
class HoldDigest:
    index: int
    name: str
    mode: str
    target: str
    belief: str
    duration_s: float
    d_ln_rmssd: float
    d_hr: float
    catchup: str  # caught up | out at onset | not reached | no band | no data
    latency_s: float  # NaN unless caught up
    holding_s: float
    lapsed_s: float
    lapses: int
    lapse_dln: float  # mean ln RMSSD change 30–60 s after this hold's lapses
    belief_pre: float
    belief_post: float
    safety_pre: float
    safety_post: float
    satisfaction: float
    low_quality: bool
    quality: str = ""  # why low quality / why the deltas are NaN

    @property
    def held_share(self) -> float:
        return self.holding_s / self.duration_s if self.duration_s > 0 else NAN

    @property
    def lapses_per_10min(self) -> float:
        return 600.0 * self.lapses / self.duration_s if self.duration_s > 0 else NAN

    @property
    def d_belief(self) -> float:
        return self.belief_post - self.belief_pre

    @property
    def d_safety(self) -> float:
        return self.safety_post - self.safety_pre


@dataclass(frozen=True)
class SessionDigest:
    file: str
    session_id: str
    started_utc: str
    protocol: str
    duration_s: float
    end_reason: str
    situation: str = ""
    suggested: str = ""  # "loving-kindness with remembrance" etc.
    notes_before: tuple[str, ...] = ()
    notes_after: tuple[str, ...] = ()
    actions: tuple[tuple[str, bool | None], ...] = ()  # (what, done)
    holds: tuple[HoldDigest, ...] = field(default_factory=tuple)

    @property
    def started_local(self) -> datetime | None:
        return parse_utc(self.started_utc)

    @property
    def week(self) -> date | None:
        """Monday of the session's (local) week."""
        t = self.started_local
        return None if t is None else (t.date() - timedelta(days=t.weekday()))


def parse_utc(text: str) -> datetime | None:
    """'2026-03-02T19:30:00Z' -> that moment in this computer's time zone (None if bad)."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return t.astimezone() if t.tzinfo else t


def _catchup(prep: Prepared, ph, bands, rcfg) -> tuple[str, float]:
    """The report's catch-up of ln RMSSD for this hold (same band, beats and rule)."""
    from holdbeat.analysis.report import hold_catchups

    band = bands["ln_rmssd"]
    if not band.valid:
        return "no band", NAN
    cu = hold_catchups(prep, ph, bands, rcfg, fit=False)[0].catchup
    if cu.reached:
        return "caught up", cu.latency_s
    if cu.carried_over:
        return "out at onset", NAN
    no_data = "never valid" in cu.reason or "no samples" in cu.reason
    return ("no data" if no_data else "not reached"), NAN


def digest(prep: Prepared, cfg: HistoryConfig | None = None) -> SessionDigest:
    # imported here: reading digests from the cache needs none of the analysis stack
    from holdbeat.analysis.hold_bands import baseline_position, hold_bands, session_reference
    from holdbeat.analysis.lapses import baseline_noise
    from holdbeat.analysis.practice import actions_of, hold_practice_fields, ratings_of
    from holdbeat.analysis.prep import phase_quality, time_domain
    from holdbeat.analysis.report import ReportConfig, bands_of

    cfg = cfg or HistoryConfig()
    rec = prep.rec

    base_i = baseline_position(rec.phases)
    base = rec.phases[base_i] if base_i is not None else None
    base_td = None
    if base is not None:
        base_td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(base))
    rcfg = ReportConfig(
        metrics=("ln_rmssd",),
        k=cfg.k,
        dwell_s=cfg.dwell_s,
        window_s=cfg.window_s,
        low_quality_pct=cfg.low_quality_pct,
        frequency=False,
    )
    bands = bands_of(prep, rcfg, base_i)
    reference = session_reference(prep, None)  # what the session used live
    rated = {r.index: r for r in ratings_of(rec)}
    noise = baseline_noise(prep, base)
    holds = []
    for pos, ph in enumerate(rec.phases):
        if ph.kind != "hold":
            continue
        td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(ph))
        q = phase_quality(prep, ph, cfg.low_quality_pct)
        ok = base_td is not None and not base_td.reason and not td.reason
        why = q.reason if q.low else ""
        if base is None:
            why = "no baseline phase"
        elif not ok:
            why = td.reason or (base_td.reason if base_td else "") or why
        # the band the session used live: the baseline's, or the rest's before this hold
        hbands = hold_bands(prep, pos, reference, base_i, bands, rcfg.k, rcfg.window_s)[0]
        state, latency = _catchup(prep, ph, hbands, rcfg)
        fields = hold_practice_fields(prep, ph, rated.get(ph.index), base, noise)
        holds.append(
            HoldDigest(
                index=ph.index,
                name=ph.name or ph.kind,
                mode=ph.mode,
                target=ph.target,
                belief=ph.belief,
                duration_s=ph.duration_s,
                d_ln_rmssd=td.ln_rmssd - base_td.ln_rmssd if ok and base_td else NAN,
                d_hr=td.hr_bpm - base_td.hr_bpm if ok and base_td else NAN,
                catchup=state,
                latency_s=latency,
                holding_s=ph.duration_s - fields["lapsed_s"],
                lapsed_s=fields["lapsed_s"],
                lapses=fields["lapses"],
                lapse_dln=fields["lapse_dln"],
                belief_pre=fields["belief_pre"],
                belief_post=fields["belief_post"],
                safety_pre=fields["safety_pre"],
                safety_post=fields["safety_post"],
                satisfaction=fields["satisfaction"],
                low_quality=q.low,
                quality=why,
            )
        )
    practice = rec.header.practice or {}
    sug = practice.get("suggestion") if isinstance(practice.get("suggestion"), dict) else {}
    label = ""
    if sug.get("rule") == "default":
        label = "no clear cue"
    elif sug:
        label = str(sug.get("mode", "")) + (f" with {sug['stance']}" if sug.get("stance") else "")
    return SessionDigest(
        file=str(rec.path),
        session_id=rec.header.session_id,
        started_utc=rec.header.started_utc,
        protocol=str(rec.header.protocol.get("name", "")),
        duration_s=rec.duration_s,
        end_reason=rec.end.reason if rec.end else "no end (cut off)",
        situation=str(practice.get("situation", "")),
        suggested=label,
        notes_before=tuple(n.text for n in rec.notes if n.when == "before"),
        notes_after=tuple(n.text for n in rec.notes if n.when == "after"),
        actions=tuple((a.text, a.done) for a in actions_of(rec)),
        holds=tuple(holds),
    )


# ---------------------------------------------------------------- JSON (the cache, --json)


def _enc(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def digest_to_dict(d: SessionDigest) -> dict:
    out = asdict(d)
    out["holds"] = [{k: _enc(v) for k, v in h.items()} for h in out["holds"]]
    out["actions"] = [list(a) for a in d.actions]
    out["notes_before"] = list(d.notes_before)
    out["notes_after"] = list(d.notes_after)
    return out


def _f(x) -> float:
    return NAN if x is None else float(x)


_FLOATS = {
    "duration_s",
    "d_ln_rmssd",
    "d_hr",
    "latency_s",
    "holding_s",
    "lapsed_s",
    "lapse_dln",
    "belief_pre",
    "belief_post",
    "safety_pre",
    "safety_post",
    "satisfaction",
}


def digest_from_dict(d: dict) -> SessionDigest:
    """Inverse of digest_to_dict. Raises KeyError/TypeError/ValueError on a bad entry."""
    holds = tuple(
        HoldDigest(**{k: (_f(v) if k in _FLOATS else v) for k, v in h.items()}) for h in d["holds"]
    )
    return SessionDigest(
        file=str(d["file"]),
        session_id=str(d["session_id"]),
        started_utc=str(d["started_utc"]),
        protocol=str(d["protocol"]),
        duration_s=float(d["duration_s"]),
        end_reason=str(d["end_reason"]),
        situation=str(d.get("situation", "")),
        suggested=str(d.get("suggested", "")),
        notes_before=tuple(d.get("notes_before", ())),
        notes_after=tuple(d.get("notes_after", ())),
        actions=tuple((str(a[0]), a[1]) for a in d.get("actions", ())),
        holds=holds,
    )
