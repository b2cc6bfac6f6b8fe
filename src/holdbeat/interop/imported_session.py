"""Imported RR + phases -> a whole session: header, phase starts, notifications, end. Pure.

The beats become strap notifications (`interop.notifications`); the phases file or --mode
becomes the protocol; the start time comes from --start, the file, or its modification time.
`Built.iter_events` yields every event in time order, generated as it goes, ready for
`interop.batch_lines`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from holdbeat.events import Connection, Device, End, Header, Hrm, PhaseStart, SessionEvent
from holdbeat.hrs import RR_UNITS_PER_S
from holdbeat.interop.imported_rr import ImportedRR, ImportFormatError
from holdbeat.interop.notifications import (
    PACKET_UNITS,
    Packet,
    Segment,
    beat_times,
    iter_packets,
    packet_bytes,
    rr_to_units,
    segments,
    units_to_ms,
)
from holdbeat.interop.phases_file import PhasesFileError, PhaseSpec
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_PROMPTS, Phase, Protocol, beliefs_of, with_beliefs

FORMAT_TITLES = {
    "polar-sensor-logger": "Polar Sensor Logger",
    "elite-hrv": "Elite HRV",
    "rr-txt": "plain RR text",
    "hrv-logger": "HRV Logger",
    "fit": "Garmin FIT",
    "edf": "EDF",
    "edf-ecg": "EDF ECG",
}

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

        # the few other events, in the order heapq.merge(data, phases, extra, ends) would
        # give them (stable: on equal keys, data first, then phases, extra, the end); merged
        # by hand because a day is ~90,000 data events and a keyed heap costs per event
        phases = [(ev.t_s, 0, ev) for ev in self.phase_starts]
        extra = sorted(((ev.t_s, 2, ev) for ev in self.extra_events), key=lambda x: x[0])
        ends = [] if self.end is None else [(self.end.t_s, 9, self.end)]
        others = sorted([*phases, *extra, *ends], key=lambda x: (x[0], x[1]))
        i, n = 0, len(others)
        for t, order, ev in data():
            while i < n and (others[i][0], others[i][1]) < (t, order):
                yield others[i][2]
                i += 1
            yield ev
        for _, _, ev in others[i:]:
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


def label_for(built: Built) -> str:
    modes = sorted(
        {p["mode"] for p in built.header.protocol.get("phases", []) if p.get("kind") == "hold"}
    )
    return f"import-{modes[0]}" if len(modes) == 1 else "import"
