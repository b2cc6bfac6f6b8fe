"""Recording -> two CSV tables a spreadsheet opens: one row per beat, one row per event. Pure.

Plain RFC 4180 CSV: comma-separated, `.` as decimal point, CRLF line ends, UTF-8 with a byte
order mark so spreadsheet programs show belief texts in any language correctly (pandas and
R's readr skip the mark; Python's csv module wants `encoding="utf-8-sig"`).

RR values are written exactly (the 1/1024 s unit in ms has at most 7 decimals), times to the
microsecond the recording keeps. Every beat is listed, artifacts included and marked: the
`artifact` column is the live check's verdict (1 = doubtful, with its reason in `flag`).
Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
get a leading apostrophe (OWASP's advice against CSV injection); numbers are untouched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import numpy as np

from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Battery,
    Connection,
    Cue,
    End,
    Marker,
    PhaseStart,
    Rating,
    SessionNote,
)
from holdbeat.recording import PhaseSpan, Recording
from holdbeat.safe_text import for_spreadsheet

BEAT_COLUMNS = (
    "t_s",
    "rr_ms",
    "hr_bpm",
    "artifact",
    "flag",
    "gap_before",
    "phase_index",
    "phase",
    "kind",
    "mode",
    "belief",
    "target",
)
EVENT_COLUMNS = (
    "t_s",
    "type",
    "kind",
    "phase_index",
    "phase",
    "mode",
    "end_s",
    "value",
    "when",
    "target",
    "text",
)


def exact(x: float) -> str:
    """Shortest text that reads back as the same float (exact for RR in 1/1024 s units)."""
    return np.format_float_positional(float(x), unique=True, trim="-")


def time_text(t_s: float) -> str:
    return f"{t_s:.6f}"


def phase_index_at(phases: Sequence[PhaseSpan], t_s: np.ndarray) -> np.ndarray:
    """Index into `phases` of the phase running at each time, -1 outside every phase.

    A phase runs over [start_s, end_s); the last one includes its end (the session's end).
    """
    t_s = np.asarray(t_s, dtype=float)
    if not phases:
        return np.full(t_s.shape, -1, dtype=int)
    starts = np.array([p.start_s for p in phases])
    ends = np.array([p.end_s for p in phases])
    idx = np.searchsorted(starts, t_s, side="right") - 1
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    last = safe == len(phases) - 1
    inside = np.where(last, t_s <= ends[safe], t_s < ends[safe])
    return np.where(ok & inside, idx, -1)


def beat_rows(rec: Recording) -> list[list[str]]:
    phases = rec.phases
    where = phase_index_at(phases, rec.beat_t_s)
    rows = []
    for i in range(len(rec.rr_ms)):
        rr = float(rec.rr_ms[i])
        flag = str(rec.flag[i])
        k = int(where[i])
        ph = phases[k] if k >= 0 else None
        rows.append(
            [
                time_text(float(rec.beat_t_s[i])),
                exact(rr),
                f"{60_000.0 / rr:.3f}" if rr > 0 else "",
                "1" if flag else "0",
                flag,
                "1" if rec.gap_before[i] else "0",
                str(ph.index) if ph else "",
                ph.name if ph else "",
                ph.kind if ph else "",
                ph.mode if ph else "",
                ph.belief if ph else "",
                ph.target if ph else "",
            ]
        )
    return rows


def event_rows(rec: Recording) -> list[list[str]]:
    """Phases, markers, ratings, connection changes, battery and the end, in time order."""
    by_start = {(p.index, p.start_s): p for p in rec.phases}
    timed = [
        ev
        for ev in rec.events
        if isinstance(
            ev,
            PhaseStart
            | Marker
            | Rating
            | Connection
            | Battery
            | End
            | SessionNote
            | ActionPlan
            | ActionDone
            | Cue,
        )
    ]
    where = phase_index_at(rec.phases, np.array([ev.t_s for ev in timed]))
    rows = []
    for ev, k in zip(timed, where, strict=True):
        ph = rec.phases[int(k)] if k >= 0 else None
        row = dict.fromkeys(EVENT_COLUMNS, "")
        row["t_s"] = time_text(ev.t_s)
        if ph is not None:
            row.update(phase_index=str(ph.index), phase=ph.name, mode=ph.mode)
        if isinstance(ev, PhaseStart):
            span = by_start.get((ev.index, ev.t_s))
            row.update(
                type="phase",
                kind=ev.kind,
                phase_index=str(ev.index),
                phase=ev.name,
                mode=ev.mode,
                end_s=time_text(span.end_s) if span else "",
                target=ev.target,
                text=ev.belief,
            )
        elif isinstance(ev, Marker):
            row.update(type="marker", kind=ev.kind, text=ev.text)
        elif isinstance(ev, Rating):
            row.update(type="rating", kind=ev.scale, value=str(ev.value), when=ev.when)
            rated = next((p for p in rec.phases if p.index == ev.phase_index), None)
            row.update(phase_index=str(ev.phase_index), phase=rated.name if rated else "")
            if rated:
                row["mode"] = rated.mode
        elif isinstance(ev, Connection):
            row.update(type="connection", kind=ev.state, text=ev.detail)
        elif isinstance(ev, Battery):
            row.update(type="battery", value=str(ev.percent))
        elif isinstance(ev, SessionNote):
            row.update(type="session_note", when=ev.when, text=ev.text)
        elif isinstance(ev, ActionPlan | ActionDone | Cue):
            row.update(_practice_row(ev, rec))
        else:
            row.update(type="end", text=ev.reason)
        rows.append([row[c] for c in EVENT_COLUMNS])
    return rows


def _practice_row(ev: ActionPlan | ActionDone | Cue, rec: Recording) -> dict[str, str]:
    """act-and-savor's action and outcome, and the sound cues, as event rows."""
    ph = next((p for p in rec.phases if p.index == ev.phase_index), None)
    row = {"phase_index": str(ev.phase_index), "phase": ph.name if ph else ""}
    if isinstance(ev, ActionPlan):
        row.update(type="action", text=ev.text)
    elif isinstance(ev, ActionDone):
        row.update(type="action_done", value="yes" if ev.done else "no")
    else:
        row.update(type="cue", kind=ev.kind, text=ev.detail)
    return row


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    w.writerows([for_spreadsheet(c) for c in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


def export_csv(rec: Recording) -> tuple[bytes, bytes]:
    """(beats CSV, events CSV)."""
    return csv_bytes(BEAT_COLUMNS, beat_rows(rec)), csv_bytes(EVENT_COLUMNS, event_rows(rec))
