"""Imported RR -> the notifications a strap would have sent -> holdbeat/1 lines. Pure.

No raw strap bytes exist for an imported file, so we make them: every RR is rounded to the
Heart Rate Measurement unit (1/1024 s, nearest unit, so |Δ| ≤ 0.48828125 ms per RR) and the
beats are packed into standard 0x2A37 notifications with `encode_hrm`, so replay, reports and
comparisons run the same code as for a live strap.

Timing, like a strap: beats are timed by the cumulative sum of the encoded RR, with session
time 0 at the start of the first interval. Notifications go out on a 1 s grid anchored at the
first beat; each carries the beats of its second (at most 9, a strap's 20-byte limit) and is
stamped with the time of its last beat (a host time ≥ every beat it carries, with zero
latency, so the beat timer reproduces the cumulative sum exactly). A second without a beat
gets a heart-rate-only notification, as real straps send. Where a file has timestamps (Polar
Sensor Logger) and they jump more than GAP_S beyond the RR, the connection was lost: the gap
is recorded explicitly (`connection lost` / `restored`) and the next beat is re-anchored at
its timestamp, never interpolated.
"""

from __future__ import annotations

import heapq
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

import numpy as np

from holdbeat.events import Connection, Device, End, Header, Hrm, PhaseStart, SessionEvent
from holdbeat.hrs import RR_UNITS_PER_S, encode_hrm
from holdbeat.interop.importers import ImportedRR, ImportFormatError
from holdbeat.interop.phases_file import PhasesFileError, PhaseSpec
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT
from holdbeat.recording_lines import event_to_dict, header_to_dict
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_PROMPTS, Phase, Protocol, beliefs_of, with_beliefs

PACKET_UNITS = 1024  # notification period: 1 s in 1/1024 s units
MAX_RR_PER_PACKET = 9  # 1 flags + 1 HR + 9 x 2 RR = 20 bytes, the default BLE payload
GAP_S = 3.0
HALF_UNIT_MS = 1000.0 / RR_UNITS_PER_S / 2  # 0.48828125 ms: the rounding bound per RR

FORMAT_TITLES = {
    "polar-sensor-logger": "Polar Sensor Logger",
    "elite-hrv": "Elite HRV",
    "rr-txt": "plain RR text",
    "hrv-logger": "HRV Logger",
    "fit": "Garmin FIT",
    "edf": "EDF",
    "edf-ecg": "EDF ECG",
}


def rr_to_units(rr_ms: np.ndarray | list[float] | tuple[float, ...]) -> np.ndarray:
    """Nearest 1/1024 s unit (the same rounding as hrs.ms_to_rr_units)."""
    return np.rint(np.asarray(rr_ms, dtype=float) * RR_UNITS_PER_S / 1000.0).astype(np.int64)


def units_to_ms(units: np.ndarray) -> np.ndarray:
    return np.asarray(units, dtype=float) * (1000.0 / RR_UNITS_PER_S)


@dataclass(frozen=True)
class Segment:
    """Beats [start, stop) timed contiguously from `first_beat_s` (a new anchor after a gap)."""

    start: int
    stop: int
    first_beat_s: float


def segments(imported: ImportedRR, units: np.ndarray) -> tuple[list[Segment], list[str]]:
    """Split at gaps the file's timestamps reveal; without timestamps there is one segment."""
    n = len(units)
    first = units[0] / RR_UNITS_PER_S
    if imported.first_beat_s is not None:  # the file knows when the first beat was
        first = imported.first_beat_s
    if imported.stamp_s is None or not len(imported.stamp_s):
        return [Segment(0, n, first)], []
    warnings: list[str] = []
    rel = np.asarray(imported.stamp_s, dtype=float) + first
    step = np.diff(rel) - units[1:] / RR_UNITS_PER_S
    back = rel[1:] < rel[:-1] - 1.0
    gap = step > GAP_S
    if imported.gap_before is not None:  # beats the file marks as missing (FIT, EDF+)
        gap |= np.asarray(imported.gap_before, dtype=bool)[1:]
    starts = [0, *(np.flatnonzero(~back & gap) + 1).tolist()]
    backwards = int(np.count_nonzero(back))
    if backwards:
        warnings.append(
            f"{backwards} timestamp(s) go back in time by more than 1 s (phone clock changed?); "
            "beats are timed from the RR sum there"
        )
    segs: list[Segment] = []
    last_beat = 0.0
    for k, s in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n
        anchor = first if s == 0 else max(float(rel[s]), last_beat + units[s] / RR_UNITS_PER_S)
        segs.append(Segment(s, stop, anchor))
        last_beat = anchor + int(units[s + 1 : stop].sum()) / RR_UNITS_PER_S
    if last_beat > MAX_SESSION_S:
        raise ImportFormatError(
            "the imported file",
            None,
            f"with its timestamps' gaps the beats span {last_beat / 86400:.1f} days, longer "
            f"than one session can be ({MAX_SESSION_TEXT}): split the file",
        )
    return segs, warnings


def beat_times(units: np.ndarray, segs: list[Segment]) -> np.ndarray:
    """Session time of every beat: segment anchor + exact cumulative sum of the encoded RR."""
    t = np.empty(len(units), dtype=float)
    for seg in segs:
        cum = np.cumsum(units[seg.start : seg.stop]) - units[seg.start]
        t[seg.start : seg.stop] = seg.first_beat_s + cum / RR_UNITS_PER_S
    return t


@dataclass(frozen=True)
class Packet:
    t_s: float
    rr_units: tuple[int, ...]
    hr_bpm: int
    segment: int


def _hr(units: tuple[int, ...]) -> int:
    mean_ms = sum(units) * 1000.0 / RR_UNITS_PER_S / len(units)
    return max(1, min(0xFFFF, round(60_000.0 / mean_ms)))


def iter_packets(units: np.ndarray, t_beats: np.ndarray, segs: list[Segment]) -> Iterator[Packet]:
    """Beats grouped into ~1 s notifications, stamped with their last beat's time, in time
    order, generated one by one (an import of days never holds them all).

    Beats whose time since the segment's first beat falls in (k-1, k] s go out in packet k,
    at most MAX_RR_PER_PACKET to a packet; a second without a beat gets an HR-only packet
    (the last HR). Grouping and each packet's HR (`_hr`) are computed in numpy per segment
    (tested equal to doing it packet by packet)."""
    hr = 0
    for k_seg, seg in enumerate(segs):
        u = units[seg.start : seg.stop]
        n = len(u)
        cum = np.cumsum(u) - u[0]  # integer units since the segment's first beat
        slot = -(-cum // PACKET_UNITS)  # ceil: beats in (T_k-1, T_k] go out at T_k
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = slot[1:] != slot[:-1]
        group_start = np.flatnonzero(new_group)
        pos = np.arange(n) - group_start[np.cumsum(new_group) - 1]
        cs = np.flatnonzero(pos % MAX_RR_PER_PACKET == 0)  # chunk starts
        ce = np.append(cs[1:], n)
        # _hr for every chunk at once: the same operations in the same order
        mean_ms = np.add.reduceat(u, cs) * 1000.0 / RR_UNITS_PER_S / (ce - cs)
        hrs = np.clip(np.rint(60_000.0 / mean_ms), 1, 0xFFFF).astype(np.int64).tolist()
        t_last = [round(x, 6) for x in t_beats[seg.start + ce - 1].tolist()]
        slots = slot[cs].tolist()
        opens = new_group[cs].tolist()
        ul, csl, cel = u.tolist(), cs.tolist(), ce.tolist()
        prev_slot = -1
        for j in range(len(csl)):
            if opens[j]:
                s = slots[j]
                for empty in range(prev_slot + 1, s):  # seconds without a beat: HR only
                    t_empty = seg.first_beat_s + empty * PACKET_UNITS / RR_UNITS_PER_S
                    yield Packet(round(t_empty, 6), (), hr, k_seg)
                prev_slot = s
            hr = hrs[j]
            yield Packet(t_last[j], tuple(ul[csl[j] : cel[j]]), hr, k_seg)


def packetize(units: np.ndarray, t_beats: np.ndarray, segs: list[Segment]) -> list[Packet]:
    return list(iter_packets(units, t_beats, segs))


def packet_bytes(p: Packet) -> bytes:
    return encode_hrm(p.hr_bpm, [u * 1000.0 / RR_UNITS_PER_S for u in p.rr_units], rr_flag=True)


# ---------------------------------------------------------------- phases


def phases_protocol(
    specs: list[PhaseSpec] | None,
    *,
    mode: str | None,
    belief: str | None,
    target: str | None,
    end_s: float,
    origin: str,
) -> tuple[Protocol | None, list[tuple[float, float]]]:
    """The protocol (for the header) and each phase's (start_s, end_s).

    Without a phases file, --mode makes the whole session one hold (no baseline, so it shows
    up in reports but comparisons exclude it, saying why).
    """
    if specs is None:
        if mode is None:
            if belief is not None or target is not None:
                raise PhasesFileError(origin, None, "--belief/--target need --mode or --phases")
            return None, []
        specs = [PhaseSpec(f"{mode} hold", "hold", mode, 0.0, max(end_s, 1e-6))]
    blanks = [s for s in specs if s.kind == "hold" and not s.mode]
    if blanks and mode is None:
        raise PhasesFileError(
            origin,
            blanks[0].line or None,
            "this hold has no mode: give it in the file or with --mode fierce|soft|loving-kindness",
        )
    phases = []
    for s in specs:
        m = s.mode or (mode if s.kind == "hold" else "neutral") or "neutral"
        name = s.name if s.mode or s.kind != "hold" or s.name != "hold" else f"{m} hold"
        prompt = DEFAULT_PROMPTS.get(f"hold:{m}" if s.kind == "hold" else s.kind, "")
        phases.append(Phase(name, s.kind, m, s.end_s - s.start_s, prompt, s.belief, s.target))
    protocol = Protocol(
        name="imported",
        phases=tuple(phases),
        description=f"phases of an imported session ({origin})",
        source=origin,
    )
    # Blank modes were filled above; otherwise --mode overrides a single hold, like `hold`.
    protocol = with_beliefs(protocol, mode=None if blanks else mode, belief=belief, target=target)
    return protocol, [(s.start_s, s.end_s) for s in specs]


# ---------------------------------------------------------------- the recording


@dataclass
class Built:
    header: Header
    rr_units: np.ndarray
    beat_t_s: np.ndarray
    max_rounding_ms: float
    gaps: int
    warnings: list[str] = field(default_factory=list)
    segs: list[Segment] = field(default_factory=list)
    phase_starts: list[PhaseStart] = field(default_factory=list)
    end: End | None = None
    extra_events: tuple[SessionEvent, ...] = ()  # markers, ratings (an EDF+ read back)

    @property
    def rr_ms(self) -> np.ndarray:
        return units_to_ms(self.rr_units)

    def iter_events(self) -> Iterator[SessionEvent]:
        """Every event in time order, generated as it goes: (time, order) with a phase
        starting before data at the same time and a gap closing before it."""

        def data() -> Iterator[tuple[float, int, SessionEvent]]:
            prev: Packet | None = None
            for p in iter_packets(self.rr_units, self.beat_t_s, self.segs):
                if prev is not None and p.segment != prev.segment:
                    gap_s = p.t_s - prev.t_s
                    detail = f"gap of {gap_s:.1f} s in the imported file"
                    yield prev.t_s, 3, Connection(prev.t_s, "lost", detail)
                    yield p.t_s, 1, Connection(p.t_s, "restored", "")
                yield p.t_s, 2, Hrm(p.t_s, packet_bytes(p))
                prev = p

        phases = ((ev.t_s, 0, ev) for ev in self.phase_starts)
        extra = sorted(((ev.t_s, 2, ev) for ev in self.extra_events), key=lambda x: x[0])
        ends = [] if self.end is None else [(self.end.t_s, 9, self.end)]
        merged = heapq.merge(data(), phases, extra, ends, key=lambda x: (x[0], x[1]))
        for _, _, ev in merged:
            yield ev

    @property
    def events(self) -> list[SessionEvent]:
        return list(self.iter_events())


def resolve_start(
    imported: ImportedRR, start: datetime | None, file_mtime: datetime | None
) -> tuple[datetime, str]:
    """Session start (aware, UTC) and where it came from; naive times are taken as local time."""
    rr_total = timedelta(milliseconds=float(np.sum(imported.rr_ms)))
    if start is not None:
        chosen, why = start, "--start"
    elif imported.start is not None:
        chosen, why = imported.start, imported.start_from
    elif file_mtime is not None:
        chosen, why = (
            file_mtime - rr_total,
            "file modification time minus the RR duration (approximate)",
        )
    else:
        chosen, why = datetime(1970, 1, 1, tzinfo=UTC), "unknown"
    try:
        return chosen.astimezone(UTC), why
    except (OverflowError, ValueError):
        raise ImportFormatError(
            "the import", None, f"the start time {chosen} ({why}) is out of range"
        ) from None


def build_recording(
    imported: ImportedRR,
    *,
    started: datetime,
    start_from: str = "",
    specs: list[PhaseSpec] | None = None,
    mode: str | None = None,
    belief: str | None = None,
    target: str | None = None,
    source_name: str = "",
    source_sha256: str = "",
    phases_name: str = "",
    extra_events: tuple[SessionEvent, ...] = (),
    extra_settings: dict | None = None,
) -> Built:
    """The whole imported session as events (pure; `started` must be timezone-aware)."""
    units = rr_to_units(imported.rr_ms)
    deltas = np.abs(units_to_ms(units) - np.asarray(imported.rr_ms, dtype=float))
    segs, warnings = segments(imported, units)
    t_beats = beat_times(units, segs)
    data_end = round(float(t_beats[-1]), 6)  # the last notification carries the last beat
    protocol, spans = phases_protocol(
        specs,
        mode=mode,
        belief=belief,
        target=target,
        end_s=data_end,
        origin=phases_name or "--mode",
    )
    phase_starts: list[PhaseStart] = []
    end_s = data_end
    if protocol is not None:
        for i, ((s, e), ph) in enumerate(zip(spans, protocol.phases, strict=True)):
            phase_starts.append(
                PhaseStart(
                    round(s, 6),
                    i,
                    ph.name,
                    ph.kind,
                    ph.mode,
                    e - s,
                    ph.prompt,
                    ph.belief,
                    ph.target,
                )
            )
        last_end = spans[-1][1]
        first_beat = float(t_beats[0])
        if spans[0][0] > first_beat:
            warnings.append(
                f"the first phase starts at {spans[0][0]:g} s; "
                "the beats before it belong to no phase"
            )
        if data_end > last_end + 1.0:
            warnings.append(
                f"the RR data run {data_end - last_end:.1f} s past the last phase's end "
                f"({last_end:g} s): phase {protocol.phases[-1].name!r} runs on to the end of the "
                "data; add a phase to label it"
            )
        elif last_end > data_end + 5.0:
            warnings.append(
                f"the phases run to {last_end:g} s but the RR data end at {data_end:.1f} s"
            )
        if spans[0][0] >= data_end:
            warnings.append(
                "every phase starts after the last beat: check the phases' times (seconds)"
            )
        end_s = max(data_end, last_end)
        if not any(p.kind == "baseline" for p in protocol.phases):
            warnings.append(
                "no baseline phase: reports show the session, comparisons need a baseline"
            )
    title = FORMAT_TITLES.get(imported.format, imported.format)
    settings = {
        "import": {
            "file": source_name,
            "format": imported.format,
            "sha256": source_sha256,
            "units": imported.units,
            "rr_count": len(units),
            "rr_resolution": "1/1024 s (Heart Rate Measurement unit)",
            "max_rounding_ms": round(float(deltas.max()), 6),
            "packet_s": PACKET_UNITS / RR_UNITS_PER_S,
            "start_from": start_from,
            "phases_file": phases_name,
            "gaps": len(segs) - 1,
            "notes": list(imported.notes),
            **(extra_settings or {}),
        }
    }
    header = new_header(
        Device(name=f"{title} import", source="imported"),
        protocol=protocol.to_dict() if protocol else {},
        beliefs=beliefs_of(protocol) if protocol else (),
        settings=settings,
        started=started,
    )
    return Built(
        header=header,
        rr_units=units,
        beat_t_s=t_beats,
        max_rounding_ms=float(deltas.max()),
        gaps=len(segs) - 1,
        warnings=warnings,
        segs=segs,
        phase_starts=phase_starts,
        end=End(round(end_s, 6), "imported"),
        extra_events=tuple(extra_events),
    )


#: one encoder, made once: json.dumps with arguments builds a new one per call
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
CHUNK_EVENTS = 4096  # events decoded per batch: memory stays bounded, numpy does the work


def _line(d: dict) -> bytes:
    return (_ENCODE(d) + "\n").encode("utf-8")


class _Decoder:
    """What the live Processor puts on a recording line (HR, RR, contact, energy, flags),
    for a chunk of events at a time: packets parsed in one numpy batch, beats timed and
    judged by the same BeatTimer.time / LiveFlagger.judge the loader uses (tested equal to
    the Processor), state carried from chunk to chunk, no live HRV (a line never holds it)."""

    def __init__(self) -> None:
        from holdbeat.beats import BeatTimer
        from holdbeat.clean import LiveFlagger

        self.timer = BeatTimer()
        self.flagger = LiveFlagger()

    def lines(self, events: list[SessionEvent]) -> Iterator[bytes]:
        from holdbeat.hrs import parse_hrm_batch

        hrms = [ev for ev in events if isinstance(ev, Hrm)]
        batch = parse_hrm_batch([ev.raw for ev in hrms])
        ok, hr = batch.ok.tolist(), batch.hr_bpm.tolist()
        contact, energy = batch.contact.tolist(), batch.energy_kj.tolist()
        rr_all, starts = batch.rr_ms.tolist(), batch.rr_start.tolist()
        k = 0
        for ev in events:
            if isinstance(ev, Connection):
                if ev.state == "lost":
                    self.timer.reset()  # as Processor.on_connection
                yield _line(event_to_dict(ev))
                continue
            if not isinstance(ev, Hrm):
                yield _line(event_to_dict(ev))
                continue
            d = event_to_dict(ev)  # t, type, raw
            if not ok[k]:
                d["error"] = batch.errors[k]
            else:
                a, b = starts[k], starts[k + 1]
                d["hr"] = hr[k]
                rr = rr_all[a:b]
                d["rr"] = [round(r, 3) for r in rr]
                if contact[k] >= 0:
                    d["contact"] = bool(contact[k])
                if energy[k] >= 0:
                    d["energy"] = energy[k]
                if rr:
                    _, gap = self.timer.time(ev.t_s, rr)
                    judge = self.flagger.judge
                    flags = [judge(r, gap and i == 0) for i, r in enumerate(rr)]
                    if any(flags):
                        d["flags"] = flags
            k += 1
            yield _line(d)


def write_lines(
    f: BinaryIO, header: Header, events: Iterable[SessionEvent], window_s: float = 60.0
) -> None:
    """Write exactly the lines RecordingWriter writes, chunk by chunk: memory does not grow
    with the session. `window_s` is unused (a recording line has no rolling HRV)."""
    f.write(_line(header_to_dict(header)))
    decoder = _Decoder()
    chunk: list[SessionEvent] = []
    for ev in events:
        chunk.append(ev)
        if len(chunk) >= CHUNK_EVENTS:
            f.writelines(decoder.lines(chunk))
            chunk = []
    if chunk:
        f.writelines(decoder.lines(chunk))


def recording_bytes(
    header: Header, events: Iterable[SessionEvent], window_s: float = 60.0
) -> bytes:
    """The whole recording in memory (small imports and tests); see write_lines."""
    buf = io.BytesIO()
    write_lines(buf, header, events, window_s)
    return buf.getvalue()


def label_for(built: Built) -> str:
    modes = sorted(
        {p["mode"] for p in built.header.protocol.get("phases", []) if p.get("kind") == "hold"}
    )
    return f"import-{modes[0]}" if len(modes) == 1 else "import"
