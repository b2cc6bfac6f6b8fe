"""The holdbeat/1 recording format: JSON Lines, header then one event per line.

Writing is append-only, one flushed line per event, fsync at least every 2 s and at
every phase change and at the end. Files are created exclusively (never overwritten)
with mode 0600: they are health data. Loading re-parses the raw notification bytes,
so parser fixes re-apply to old recordings.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from holdbeat import FORMAT, __version__
from holdbeat.beats import BeatTimer
from holdbeat.clean import LiveFlagger
from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Battery,
    Connection,
    Cue,
    Device,
    End,
    Header,
    Hrm,
    Marker,
    PhaseStart,
    PracticeEvent,
    Rating,
    SessionEvent,
    SessionNote,
)
from holdbeat.header_check import header_problem, seconds_problem
from holdbeat.hrs import parse_hrm_batch
from holdbeat.inputs import iter_lines, open_regular
from holdbeat.limits import (
    MAX_HEADER_BYTES,
    MAX_LINE_BYTES,
    MAX_SESSION_S,
    MAX_SESSION_TEXT,
    seconds_ok,
)
from holdbeat.process import Processed

FORMAT_FAMILY = "holdbeat/"
SUFFIX = ".jsonl"
FSYNC_EVERY_S = 2.0


class RecordingError(ValueError):
    """A file is not a readable holdbeat recording; the message says why."""


class NotARecording(RecordingError):
    pass


class UnsupportedVersion(RecordingError):
    pass


# ---------------------------------------------------------------- event <-> JSON


def _t(t_s: float) -> float:
    return round(float(t_s), 6)


def header_to_dict(h: Header) -> dict:
    d = asdict(h)
    d = {"format": d.pop("format"), **d}
    d["beliefs"] = list(h.beliefs)
    if not d["practice"]:
        del d["practice"]  # headers without practice details stay as they always were
    return d


def header_from_dict(d: dict) -> Header:
    dev = d.get("device") or {}
    if not isinstance(dev, dict):
        dev = {}
    known = set(Device.__dataclass_fields__)
    device = Device(**{k: v for k, v in dev.items() if k in known})
    return Header(
        session_id=str(d.get("session_id", "")),
        started_utc=str(d.get("started_utc", "")),
        device=device,
        protocol=d.get("protocol") if isinstance(d.get("protocol"), dict) else {},
        beliefs=tuple(b for b in d.get("beliefs") or () if isinstance(b, dict)),
        software=d.get("software") if isinstance(d.get("software"), dict) else {},
        settings=d.get("settings") if isinstance(d.get("settings"), dict) else {},
        format=str(d.get("format", FORMAT)),
        practice=d.get("practice") if isinstance(d.get("practice"), dict) else {},
    )


def event_to_dict(ev: SessionEvent, processed: Processed | None = None) -> dict:
    """One recording line. For `hrm`, decoded values are for people; `raw` is the truth."""
    if isinstance(ev, Hrm):
        d: dict = {"t": _t(ev.t_s), "type": "hrm", "raw": ev.raw.hex()}
        if processed is not None:
            if processed.error:
                d["error"] = processed.error
            elif processed.measurement is not None:
                m = processed.measurement
                d["hr"] = m.hr_bpm
                d["rr"] = [round(r, 3) for r in m.rr_ms]
                if m.contact is not None:
                    d["contact"] = m.contact
                if m.energy_kj is not None:
                    d["energy"] = m.energy_kj
                flags = [b.flag for b in processed.beats]
                if any(flags):
                    d["flags"] = flags
        return d
    if isinstance(ev, PhaseStart):
        return {
            "t": _t(ev.t_s),
            "type": "phase",
            "index": ev.index,
            "name": ev.name,
            "kind": ev.kind,
            "mode": ev.mode,
            "duration_s": ev.duration_s,
            "prompt": ev.prompt,
            "belief": ev.belief,
            "target": ev.target,
        }
    if isinstance(ev, Marker):
        return {"t": _t(ev.t_s), "type": "marker", "kind": ev.kind, "text": ev.text}
    if isinstance(ev, Rating):
        return {
            "t": _t(ev.t_s),
            "type": "rating",
            "phase": ev.phase_index,
            "when": ev.when,
            "scale": ev.scale,
            "value": ev.value,
        }
    if isinstance(ev, Connection):
        return {"t": _t(ev.t_s), "type": "connection", "state": ev.state, "detail": ev.detail}
    if isinstance(ev, Battery):
        return {"t": _t(ev.t_s), "type": "battery", "percent": ev.percent}
    if isinstance(ev, End):
        return {"t": _t(ev.t_s), "type": "end", "reason": ev.reason}
    if isinstance(ev, Cue | SessionNote | ActionPlan | ActionDone):
        return _practice_to_dict(ev)
    raise TypeError(f"not a recordable event: {ev!r}")


def _practice_to_dict(ev: PracticeEvent) -> dict:
    """The event types added for the practice (cues, notes, act-and-savor); docs/format.md."""
    if isinstance(ev, Cue):
        return {
            "t": _t(ev.t_s),
            "type": "cue",
            "kind": ev.kind,
            "phase": ev.phase_index,
            "detail": ev.detail,
        }
    if isinstance(ev, SessionNote):
        return {"t": _t(ev.t_s), "type": "session_note", "when": ev.when, "text": ev.text}
    if isinstance(ev, ActionPlan):
        return {"t": _t(ev.t_s), "type": "action", "phase": ev.phase_index, "text": ev.text}
    return {"t": _t(ev.t_s), "type": "action_done", "phase": ev.phase_index, "done": ev.done}


NOTE_WHEN = ("before", "after")


def _practice_from_dict(kind: str, t: float, d: dict) -> SessionEvent:
    if kind == "cue":
        return Cue(t, str(d["kind"]), int(d["phase"]), str(d.get("detail", "")))
    if kind == "session_note":
        when = str(d["when"])
        if when not in NOTE_WHEN:
            raise ValueError(f"note 'when' must be one of {', '.join(NOTE_WHEN)}, not {when!r}")
        return SessionNote(t, when, str(d["text"]))
    if kind == "action":
        return ActionPlan(t, int(d["phase"]), str(d["text"]))
    if kind == "action_done":
        if not isinstance(d["done"], bool):
            raise TypeError("action_done 'done' must be true or false")
        return ActionDone(t, int(d["phase"]), d["done"])
    raise ValueError(f"unknown event type {kind!r}")


def event_from_dict(d: dict) -> SessionEvent:
    """Raise KeyError/TypeError/ValueError on a line that is not a valid event."""
    kind = d["type"]
    t = float(d["t"])
    if not seconds_ok(t):
        raise ValueError(f"time {t!r} is outside a session (0 to {MAX_SESSION_TEXT})")
    if kind == "hrm":
        raw = d["raw"]
        if not isinstance(raw, str):
            raise TypeError("raw must be a hex string")
        return Hrm(t, bytes.fromhex(raw))
    if kind == "phase":
        dur = d.get("duration_s")
        if dur is not None and (why := seconds_problem(dur, "duration_s")):
            raise ValueError(why)
        return PhaseStart(
            t_s=t,
            index=int(d["index"]),
            name=str(d.get("name", "")),
            kind=str(d["kind"]),
            mode=str(d.get("mode", "neutral")),
            duration_s=None if dur is None else float(dur),
            prompt=str(d.get("prompt", "")),
            belief=str(d.get("belief", "")),
            target=str(d.get("target", "")),
        )
    if kind == "marker":
        return Marker(t, str(d["kind"]), str(d.get("text", "")))
    if kind == "rating":
        return Rating(t, int(d["phase"]), str(d["when"]), str(d["scale"]), int(d["value"]))
    if kind == "connection":
        return Connection(t, str(d["state"]), str(d.get("detail", "")))
    if kind == "battery":
        return Battery(t, int(d["percent"]))
    if kind == "end":
        return End(t, str(d.get("reason", "")))
    return _practice_from_dict(kind, t, d)


# ---------------------------------------------------------------- writing


def new_header(
    device: Device,
    protocol: dict | None = None,
    beliefs: Iterable[dict] = (),
    settings: dict | None = None,
    started: datetime | None = None,
    practice: dict | None = None,
) -> Header:
    started = started or datetime.now(UTC)
    return Header(
        session_id=str(uuid.uuid4()),
        started_utc=started.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        device=device,
        protocol=protocol or {},
        beliefs=tuple(beliefs),
        software={"name": "holdbeat", "version": __version__},
        settings=settings or {},
        practice=practice or {},
    )


def session_filename(started: datetime, label: str) -> str:
    local = started.astimezone()
    safe = (
        "".join(c if c.isalnum() or c in "-_" else "-" for c in label.lower()).strip("-")
        or "session"
    )
    return f"{local:%Y-%m-%d_%H%M%S}_{safe}"


def create_exclusive(directory: Path, stem: str) -> tuple[Path, int]:
    """Create a new 0600 file that did not exist; add -2, -3... rather than overwrite."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for n in range(1, 10_000):
        name = f"{stem}{SUFFIX}" if n == 1 else f"{stem}-{n}{SUFFIX}"
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except FileExistsError:
            continue
        os.fchmod(fd, 0o600)  # umask can only remove bits; make sure it is exactly 0600
        return path, fd
    raise RecordingError(f"could not find a free file name for {stem!r} in {directory}")


class RecordingWriter:
    """Append-only writer. Every line is flushed; fsync every FSYNC_EVERY_S and on demand."""

    def __init__(
        self,
        directory: Path,
        header: Header,
        label: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        started = datetime.fromisoformat(header.started_utc.replace("Z", "+00:00"))
        self.path, fd = create_exclusive(Path(directory), session_filename(started, label))
        self._f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._clock = clock
        self._last_sync = clock()
        self.closed = False
        self.lines = 0
        self._line(header_to_dict(header))
        self.sync()

    def _line(self, d: dict) -> None:
        self._f.write(json.dumps(d, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._f.flush()
        self.lines += 1

    def write(self, ev: SessionEvent, processed: Processed | None = None) -> None:
        if self.closed:
            raise RecordingError(f"{self.path} is already closed")
        self._line(event_to_dict(ev, processed))
        if (
            isinstance(ev, PhaseStart | End | Connection)
            or self._clock() - self._last_sync >= FSYNC_EVERY_S
        ):
            self.sync()

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._last_sync = self._clock()
        if os.fstat(self._f.fileno()).st_nlink == 0:
            # Someone deleted the file: writing on would only fill an invisible inode.
            raise FileNotFoundError(errno.ENOENT, "the file was removed while recording")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sync()
            # After a failed write the buffer may still hold the line the disk refused;
            # closing retries it and fails again. The fd is released either way.
            with contextlib.suppress(OSError):
                self._f.close()


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
    events: list[SessionEvent]
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


def load_stream(path: Path, f: BinaryIO, live_flags: bool = True) -> Recording:
    """`load` of an open binary file (`path` only names it in messages).

    `live_flags=False` skips re-judging every beat with the live flagger (all flags ""):
    only for checks that read the RR back, such as `import` verifying what it wrote.
    """
    try:
        return _load(path, f, live_flags)
    except OSError as e:
        raise RecordingError(f"{path}: cannot read: {e.strerror or e}") from None


def _load(path: Path, f: BinaryIO, live_flags: bool = True) -> Recording:
    first = f.readline(MAX_HEADER_BYTES + 1)
    if not first.strip():
        raise NotARecording(f"{path}: empty file, not a holdbeat recording")
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
    warnings: list[str] = []
    events: list[SessionEvent] = []
    t_last = -math.inf
    t_phase = -math.inf
    loads = orjson.loads
    for n, raw, complete in iter_lines(f, MAX_LINE_BYTES):
        lineno = n + 1
        if raw is None:
            warnings.append(
                f"line {lineno}: skipped, longer than {MAX_LINE_BYTES >> 20} MiB (not an event)"
            )
            continue
        try:
            d = loads(raw)
            # the usual line, a notification, without the general parser's dispatch (a
            # day has ~90,000 of them); anything unusual takes the general path
            if (
                type(d) is dict
                and d.get("type") == "hrm"
                and type(hx := d.get("raw")) is str
                and type(t := d.get("t")) is float
                and 0.0 <= t <= MAX_SESSION_S
            ):
                ev: SessionEvent = Hrm(t, bytes.fromhex(hx))
            elif not isinstance(d, dict):
                raise TypeError("not a JSON object")
            else:
                ev = event_from_dict(d)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError) as e:
            if not raw.strip():
                continue
            if not complete:
                warnings.append(
                    f"line {lineno}: truncated last line ignored (the session was cut off)"
                )
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                warnings.append(f"line {lineno}: skipped, not UTF-8 text (damaged bytes)")
                continue
            warnings.append(f"line {lineno}: skipped, not a valid event ({type(e).__name__}: {e})")
            continue
        if type(ev) is PhaseStart:
            if ev.t_s < t_phase:
                warnings.append(
                    f"line {lineno}: skipped, phase {ev.name!r} starts at {ev.t_s} s, before "
                    f"the previous phase ({t_phase} s)"
                )
                continue
            t_phase = ev.t_s
        if ev.t_s < t_last:
            warnings.append(f"line {lineno}: time goes backwards ({ev.t_s} after {t_last})")
        t_last = ev.t_s
        events.append(ev)
    return from_events(path, header, events, warnings, live_flags)


def from_events(
    path: Path,
    header: Header,
    events: list[SessionEvent],
    warnings: list[str],
    live_flags: bool = True,
) -> Recording:
    """Rebuild beats and flags from the events exactly as the live pipeline
    (`holdbeat.process`) did, through the same BeatTimer and LiveFlagger, but with the
    packets parsed in one batch and no per-beat objects: a day loads in well under 1 s."""
    raws: list[bytes] = []
    t_hrm: list[float] = []
    lost_before: list[int] = []  # packet indices preceded by a lost connection
    starts: list[PhaseStart] = []
    markers: list[Marker] = []
    ratings: list[Rating] = []
    conns: list[Connection] = []
    practice: dict[type, list] = {Cue: [], SessionNote: [], ActionPlan: []}
    end: End | None = None
    for ev in events:
        if isinstance(ev, Hrm):
            raws.append(ev.raw)
            t_hrm.append(ev.t_s)
        elif isinstance(ev, Connection):
            if ev.state == "lost":
                lost_before.append(len(raws))
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
    batch = parse_hrm_batch(raws)
    malformed = [(t_hrm[i], msg) for i, msg in sorted(batch.errors.items())]
    t_packet = np.asarray(t_hrm, dtype=float)

    # A lost connection resets the timer (Processor.on_connection) before the next packet
    # that has RR: reset where the count of losses so far grows.
    with_rr = np.flatnonzero(np.diff(batch.rr_start) > 0)
    reset = np.diff(np.searchsorted(lost_before, with_rr, side="right"), prepend=0) > 0
    timer, flagger = BeatTimer(), LiveFlagger()
    rr_all = batch.rr_ms.tolist()  # plain floats: the live path sums Python floats
    lo, hi = batch.rr_start[with_rr].tolist(), batch.rr_start[with_rr + 1].tolist()
    bt: list[float] = []
    packet_gap: list[bool] = []
    time_packet, judge = timer.time, flagger.judge
    for i, a, b, r in zip(with_rr.tolist(), lo, hi, reset.tolist(), strict=True):
        if r:
            timer.reset()
        times, g = time_packet(t_hrm[i], rr_all[a:b])
        bt += times
        packet_gap.append(g)
    gap = np.zeros(len(rr_all), dtype=bool)
    gap[lo] = packet_gap  # only a packet's first beat can follow a gap
    flag = list(map(judge, rr_all, gap.tolist())) if live_flags else [""] * len(rr_all)
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
