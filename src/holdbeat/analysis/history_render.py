"""`history` as text, CSV and JSON (rendering only; the numbers are history.py's)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from holdbeat.analysis.history import HoldDigest, SessionDigest, digest_to_dict
from holdbeat.analysis.history_trends import BY, TRENDS, groups_in, weekly
from holdbeat.analysis.textfmt import text_table
from holdbeat.session import format_duration
from holdbeat.textout import clean

DASH = "—"


def _n(x: float, spec: str) -> str:
    return DASH if not math.isfinite(x) else format(x, spec)


def _rating(pre: float, post: float) -> str:
    if not (math.isfinite(pre) or math.isfinite(post)):
        return DASH
    return f"{_n(pre, '.0f')}→{_n(post, '.0f')}"


def _catchup(h: HoldDigest) -> str:
    if h.catchup == "caught up":
        return f"{h.latency_s:.0f} s"
    return {"out at onset": "at onset", "not reached": "no", "no band": "no band"}.get(
        h.catchup, h.catchup
    )


def _join(holds: Sequence[HoldDigest], cell) -> str:
    return " / ".join(cell(h) for h in holds) or DASH


def when(d: SessionDigest) -> str:
    t = d.started_local
    return t.strftime("%a %Y-%m-%d %H:%M") if t is not None else clean(d.started_utc) or "?"


def _hold_cells(h: HoldDigest) -> list[str]:
    return [
        f"{h.mode} · {h.target or DASH}",
        _n(h.d_ln_rmssd, "+.2f") + ("*" if h.low_quality else ""),
        _n(h.d_hr, "+.1f"),
        _catchup(h),
        _n(100 * h.held_share, ".0f") + "%",
        str(h.lapses),
        _rating(h.belief_pre, h.belief_post),
        _rating(h.safety_pre, h.safety_post),
    ]


def format_history(digests: Sequence[SessionDigest], details: bool = True) -> str:
    """One entry per session: its first hold on the session's line, further holds on the
    lines below it, then what was said (situation, belief, notes, action), indented."""
    head = ["when", "protocol", "hold: mode · target", "ΔlnRMSSD", "ΔHR", "catch-up", "held"]
    head += ["lapses", "belief", "safety"]
    rows: list[list[str]] = []
    starts: list[int] = []  # row index where each session begins
    for d in digests:
        starts.append(len(rows))
        holds = d.holds or ()
        first = [when(d), clean(d.protocol)]
        if not holds:
            rows.append(first + ["(no holds)"] + [""] * (len(head) - 3))
        for k, h in enumerate(holds):
            rows.append((first if k == 0 else ["", ""]) + _hold_cells(h))
    table = text_table(head, rows, right=set(range(3, len(head))))
    out = table[:2]
    words = {s: _words(d) if details else [] for s, d in zip(starts, digests, strict=True)}
    ends = {s + max(1, len(d.holds)) - 1: s for s, d in zip(starts, digests, strict=True)}
    for r, line in enumerate(table[2:]):
        out.append(line)
        if r in ends:
            out += [f"    {w}" for w in words[ends[r]]]
    n_holds = sum(len(d.holds) for d in digests)
    out += [
        "",
        f"{len(digests)} sessions, {n_holds} holds. * = low-quality hold (> 5 % corrected "
        "beats), left out of the Δ ln RMSSD trend.",
        "catch-up: latency of ln RMSSD leaving the baseline band for good; 'at onset': "
        "already outside at the start; 'no band': baseline too short for one. "
        "belief, safety: ratings before→after.",
    ]
    return "\n".join(out)


def _words(d: SessionDigest) -> list[str]:
    out = []
    if d.situation:
        sug = f" → {clean(d.suggested)}" if d.suggested else ""
        out.append(f"situation: “{clean(d.situation)}”{sug}")
    beliefs = list(dict.fromkeys(h.belief for h in d.holds if h.belief))
    if beliefs:
        out.append("belief: " + " / ".join(f"“{clean(b)}”" for b in beliefs))
    out += [f"before: {clean(n)}" for n in d.notes_before]
    for text, done in d.actions:
        answer = {True: "done", False: "not done", None: "not answered"}[done]
        sat = [h.satisfaction for h in d.holds if math.isfinite(h.satisfaction)]
        s = f", satisfaction {sat[0]:.0f}/10" if sat else ""
        out.append(f"action: {clean(text) or '(not said)'} — {answer}{s}")
    out += [f"after: {clean(n)}" for n in d.notes_after]
    if d.end_reason != "completed":
        out.append(f"ended: {clean(d.end_reason)} ({format_duration(d.duration_s)})")
    return out


def format_trends(digests: Sequence[SessionDigest]) -> str:
    """Per week and mode / target, the mean of each measure (n holds in brackets)."""
    out = []
    for by in BY:
        groups = groups_in(digests, by)
        if not groups:
            continue
        weeks = sorted({d.week for d in digests if d.week is not None})
        out += ["", f"TRENDS BY {by.upper()} (weekly mean; n holds)"]
        for metric, (label, unit) in TRENDS.items():
            trend, _ = weekly(digests, metric, by)
            by_key = {(p.week, p.group): p for p in trend}
            head = [f"{label} ({unit})", *(w.strftime("wk %b %d") for w in weeks)]
            rows = []
            for g in groups:
                cells = [g]
                for w in weeks:
                    p = by_key.get((w, g))
                    cells.append(DASH if p is None else f"{p.mean:.3g} ({p.n})")
                rows.append(cells)
            out += ["", *text_table(head, rows)]
    return "\n".join(out)


CSV_COLS = [
    "started_utc",
    "file",
    "session_id",
    "protocol",
    "situation",
    "suggested",
    "note_before",
    "note_after",
    "action",
    "action_done",
    "hold_index",
    "hold",
    "mode",
    "target",
    "belief",
    "duration_s",
    "d_ln_rmssd",
    "d_hr",
    "catchup",
    "latency_s",
    "holding_s",
    "lapsed_s",
    "lapses",
    "lapse_dln",
    "belief_pre",
    "belief_post",
    "safety_pre",
    "safety_post",
    "satisfaction",
    "low_quality",
]


def history_csv_rows(digests: Sequence[SessionDigest]) -> list[list[object]]:
    """One row per hold (session fields repeated): ready for a spreadsheet."""

    def c(x: object) -> object:
        return "" if isinstance(x, float) and not math.isfinite(x) else x

    rows = []
    for d in digests:
        actions = d.actions
        done = {True: "yes", False: "no", None: ""}
        session = [
            d.started_utc,
            d.file,
            d.session_id,
            d.protocol,
            d.situation,
            d.suggested,
            " | ".join(d.notes_before),
            " | ".join(d.notes_after),
            " | ".join(a[0] for a in actions),
            " | ".join(done[a[1]] for a in actions),
        ]
        for h in d.holds or ():
            rows.append(
                [
                    *session,
                    h.index,
                    h.name,
                    h.mode,
                    h.target,
                    h.belief,
                    c(h.duration_s),
                    c(h.d_ln_rmssd),
                    c(h.d_hr),
                    h.catchup,
                    c(h.latency_s),
                    c(h.holding_s),
                    c(h.lapsed_s),
                    h.lapses,
                    c(h.lapse_dln),
                    c(h.belief_pre),
                    c(h.belief_post),
                    c(h.safety_pre),
                    c(h.safety_post),
                    c(h.satisfaction),
                    h.low_quality,
                ]
            )
        if not d.holds:
            rows.append(session + [""] * (len(CSV_COLS) - len(session)))
    return rows


def history_to_dict(digests: Sequence[SessionDigest], skipped: list[str]) -> dict:
    trends = {}
    for by in BY:
        trends[by] = {}
        for metric in TRENDS:
            trend, _ = weekly(digests, metric, by)
            trends[by][metric] = [
                {"week": p.week.isoformat(), "group": p.group, "n": p.n, "mean": p.mean}
                for p in trend
            ]
    return {
        "sessions": [digest_to_dict(d) for d in digests],
        "trends": trends,
        "skipped_files": skipped,
    }
