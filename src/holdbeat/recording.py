"""Loading a holdbeat/1 recording (JSON Lines: header, then one event per line) into beats.

Loading re-parses the raw notification bytes, so parser fixes re-apply to old recordings,
and rebuilds beats and live flags exactly as the live pipeline made them. Lines are read by
`recording_lines`; `recording_writer` writes them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from holdbeat import FORMAT, __version__
from holdbeat.beats import BeatTimer, time_all
from holdbeat.clean import LiveFlagger, flag_all
from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Connection,
    Cue,
    End,
    Header,
    Marker,
    PhaseStart,
    Rating,
    SessionEvent,
    SessionNote,
)
from holdbeat.header_check import header_problem
from holdbeat.hrs import HrmBatch, parse_hrm_batch
from holdbeat.inputs import open_regular
from holdbeat.limits import (
    MAX_HEADER_BYTES,
)
from holdbeat.recording_lines import header_from_dict
from holdbeat.recording_scan import Scanned, scan, scanned

FORMAT_FAMILY = "holdbeat/"
SUFFIX = ".jsonl"


class RecordingError(ValueError):
    """A file is not a readable holdbeat recording; the message says why."""


class NotARecording(RecordingError):
    pass


class UnsupportedVersion(RecordingError):
    pass


# ---------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    index: int
    name: str
    kind: str
    mode: str
    start_s: float
    end_s: float
    planned_s: float | None
    prompt: str = ""
    belief: str = ""
    target: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class Recording:
    path: Path
    header: Header
    events: Sequence[SessionEvent]  # a list, or (loaded) `recording_scan.Events`
    beat_t_s: np.ndarray
    rr_ms: np.ndarray
    gap_before: np.ndarray  # bool
    flag: np.ndarray  # str: "" clean, else the live check's reason
    hr_t_s: np.ndarray
    hr_bpm: np.ndarray
    phases: list[PhaseSpan]
    markers: list[Marker]
    ratings: list[Rating]
    connections: list[Connection]
    end: End | None
    malformed: list[tuple[float, str]]  # (t_s, error) for notifications that did not parse
    warnings: list[str] = field(default_factory=list)
    # the practice: sound cues given, notes before/after, act-and-savor action and outcome
    cues: list[Cue] = field(default_factory=list)
    notes: list[SessionNote] = field(default_factory=list)
    actions: list[ActionPlan | ActionDone] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        if self.end is not None:
            return self.end.t_s
        return self.events[-1].t_s if self.events else 0.0

    @property
    def artifact(self) -> np.ndarray:
        return self.flag != ""


def _parse_header(path: Path, raw: bytes) -> dict:
    """Line 1 as a dict, or NotARecording saying why (never a RecursionError)."""
    try:
        head = orjson.loads(raw)  # depth-limited: a deeply nested line is an error, not a crash
    except orjson.JSONDecodeError:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotARecording(
                f"{path}: not a holdbeat recording (line 1 is not UTF-8 text)"
            ) from None
        try:
            head = json.loads(text)  # NaN / Infinity, which old files may hold; checked below
        except (json.JSONDecodeError, RecursionError):
            raise NotARecording(
                f"{path}: not a holdbeat recording (line 1 is not a JSON header)"
            ) from None
    return head


def load(path: str | os.PathLike) -> Recording:
    """Read a recording, re-parse every raw notification, rebuild the beats.

    Only a regular file is read (a FIFO would block forever), line by line in bounded
    memory. Each line is decoded on its own: a line with bad bytes (a crash inside a
    multi-byte character), bad JSON, a bad event, an absurd time or more than
    MAX_LINE_BYTES is skipped with a warning naming its line; the rest still loads.
    """
    path = Path(path)
    with open_regular(path, "holdbeat recording", RecordingError) as f:
        return load_stream(path, f)


def load_stream(path: Path, f: BinaryIO, live: bool = True) -> Recording:
    """`load` of an open binary file (`path` only names it in messages).

    `live=False` skips re-timing and re-judging every beat as the live session did (beat
    times NaN, flags ""): only for checks that read the RR back, such as `import`
    verifying what it wrote.
    """
    try:
        return _load(path, f, live)
    except OSError as e:
        raise RecordingError(f"{path}: cannot read: {e.strerror or e}") from None


def _load(path: Path, f: BinaryIO, live: bool = True) -> Recording:
    first = f.readline(MAX_HEADER_BYTES + 1)
    if not first:
        raise NotARecording(f"{path}: empty file, not a holdbeat recording")
    if not first.strip():
        raise NotARecording(f"{path}: not a holdbeat recording (line 1 is blank, not a header)")
    if len(first) > MAX_HEADER_BYTES:
        raise NotARecording(
            f"{path}: not a holdbeat recording (line 1 is longer than {MAX_HEADER_BYTES >> 20} MiB)"
        )
    head = _parse_header(path, first)
    fmt = head.get("format") if isinstance(head, dict) else None
    if not isinstance(fmt, str) or not fmt.startswith(FORMAT_FAMILY):
        raise NotARecording(
            f"{path}: not a holdbeat recording (no 'format': 'holdbeat/N' in line 1)"
        )
    if fmt != FORMAT:
        raise UnsupportedVersion(
            f"{path}: format {fmt!r} is newer than this holdbeat ({__version__}) understands "
            f"({FORMAT}); upgrade holdbeat to read it"
        )
    problem = header_problem(head)
    if problem:
        raise RecordingError(f"{path}: line 1 (the header): {problem}")
    header = header_from_dict(head)
    return from_scan(path, header, scan(f), live)


def from_events(
    path: Path, header: Header, events: list[SessionEvent], warnings: list[str], live: bool = True
) -> Recording:
    """`from_scan` of events already in hand (an import, a test)."""
    return from_scan(path, header, scanned(events, warnings), live)


def live_beats(
    batch: HrmBatch,
    t_packet: np.ndarray,
    lost_before: list[int],
    timer: BeatTimer,
    flagger: LiveFlagger,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every beat's time, gap mark and live flag from parsed notifications, as the live
    Processor made them: a lost connection (before the packet index in `lost_before`)
    resets the timer before the next packet with RR (Processor.on_connection). `timer` and
    `flagger` carry their state on, for a recording written chunk by chunk; a loss after the
    last packet with RR resets the timer for the next chunk."""
    with_rr = np.flatnonzero(np.diff(batch.rr_start) > 0)
    reset = np.diff(np.searchsorted(lost_before, with_rr, side="right"), prepend=0) > 0
    first = batch.rr_start[with_rr]
    bounds = np.append(first, batch.rr_start[-1])
    times, packet_gap = time_all(
        timer, t_packet[with_rr].tolist(), batch.rr_ms, bounds, reset.tolist()
    )
    if lost_before and (not with_rr.size or lost_before[-1] > with_rr[-1]):
        timer.reset()
    gap = np.zeros(batch.rr_ms.size, dtype=bool)
    gap[first] = packet_gap  # only a packet's first beat can follow a gap
    return times, gap, flag_all(batch.rr_ms, gap, flagger=flagger)


def from_scan(path: Path, header: Header, sc: Scanned, live: bool = True) -> Recording:
    """Rebuild beats and flags from the events exactly as the live pipeline
    (`holdbeat.process`) did, through the same BeatTimer and LiveFlagger, but with the
    packets parsed in one batch and no per-beat objects: a day loads in well under 1 s."""
    events, warnings, t_hrm, lost_before = sc.events, sc.warnings, sc.t_hrm, sc.lost_before
    starts: list[PhaseStart] = []
    markers: list[Marker] = []
    ratings: list[Rating] = []
    conns: list[Connection] = []
    practice: dict[type, list] = {Cue: [], SessionNote: [], ActionPlan: []}
    end: End | None = None
    for ev in sc.others:
        if isinstance(ev, Connection):
            conns.append(ev)
        elif isinstance(ev, PhaseStart):
            starts.append(ev)
        elif isinstance(ev, Marker):
            markers.append(ev)
        elif isinstance(ev, Rating):
            ratings.append(ev)
        elif isinstance(ev, End):
            end = ev
        elif isinstance(ev, ActionDone):
            practice[ActionPlan].append(ev)
        elif type(ev) in practice:
            practice[type(ev)].append(ev)
    batch = parse_hrm_batch(sc.raws)
    malformed = [(t_hrm[i], msg) for i, msg in sorted(batch.errors.items())]
    t_packet = np.asarray(t_hrm, dtype=float)

    if live:
        bt, gap, flag = live_beats(batch, t_packet, lost_before, BeatTimer(), LiveFlagger())
    else:  # RR only: no beat times, no flags
        n = batch.rr_ms.size
        bt, gap, flag = np.full(n, math.nan), np.zeros(n, dtype=bool), [""] * n
    if end is None and events:
        warnings.append("no 'end' event: the session did not finish cleanly (crash or power loss?)")
    t_stop = end.t_s if end else (events[-1].t_s if events else 0.0)
    phases = [
        PhaseSpan(
            index=s.index,
            name=s.name,
            kind=s.kind,
            mode=s.mode,
            start_s=s.t_s,
            end_s=starts[i + 1].t_s if i + 1 < len(starts) else max(t_stop, s.t_s),
            planned_s=s.duration_s,
            prompt=s.prompt,
            belief=s.belief,
            target=s.target,
        )
        for i, s in enumerate(starts)
    ]
    return Recording(
        path=path,
        header=header,
        events=events,
        beat_t_s=np.asarray(bt, dtype=float),
        rr_ms=batch.rr_ms,
        gap_before=gap,
        flag=np.asarray(flag, dtype=str) if flag else np.zeros(0, dtype="<U1"),
        hr_t_s=t_packet[batch.ok],
        hr_bpm=batch.hr_bpm[batch.ok].astype(float),
        phases=phases,
        markers=markers,
        ratings=ratings,
        connections=conns,
        end=end,
        malformed=malformed,
        warnings=warnings,
        cues=practice[Cue],
        notes=practice[SessionNote],
        actions=practice[ActionPlan],
    )
