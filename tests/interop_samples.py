"""A small, fully known holdbeat/1 recording for the interop tests (RecordingWriter + encode_hrm).

Three phases (baseline 60 s, fierce hold 90 s with a non-ASCII belief, recovery 60 s), markers,
ratings, a battery reading, one implausible RR (flagged by the live check) and a 4 s
connection gap. Packets go out once per strap second, 30 ms after their last beat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from holdbeat.events import Battery, Connection, Device, End, Hrm, Marker, PhaseStart, Rating
from holdbeat.hrs import encode_hrm
from holdbeat.process import Processor
from holdbeat.recording_writer import RecordingWriter, new_header
from holdbeat.session import Phase, Protocol, beliefs_of

BELIEF = "Ça ne me définit pas — 不"
STARTED = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)
PROTOCOL = Protocol(
    name="interop-sample",
    phases=(
        Phase("baseline", "baseline", "neutral", 60.0, "Sit still."),
        Phase("fierce hold", "hold", "fierce", 90.0, "Hold it.", BELIEF, "self"),
        Phase("recovery", "recovery", "neutral", 60.0, "Let go."),
    ),
)
PHASE_STARTS = (0.0, 60.0, 150.0)
END_S = 210.0
GAP = (130.0, 134.0)  # no notifications in between; `lost` / `restored` around it
ARTIFACT_RR_MS = 340.0


def sample_rr_units(seed: int = 7) -> np.ndarray:
    """~260 RR in 1/1024 s units: 0.85 s mean, RSA-like wave, noise, one short artifact."""
    rng = np.random.default_rng(seed)
    n = 260
    k = np.arange(n)
    rr_ms = 850 + 40 * np.sin(2 * np.pi * k / 4.5) + rng.normal(0, 12, n)
    rr_ms[90] = ARTIFACT_RR_MS
    return np.rint(rr_ms * 1.024).astype(int)


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def write_sample_recording(directory: Path, seed: int = 7) -> Path:
    units = sample_rr_units(seed)
    header = new_header(
        Device(name="Test strap", address="AA:BB:CC:DD:EE:FF", source="strap"),
        protocol=PROTOCOL.to_dict(),
        beliefs=beliefs_of(PROTOCOL),
        settings={"window_s": 60.0},
        started=STARTED,
    )
    events: list = [Battery(0.0, 87)]
    for i, (t, ph) in enumerate(zip(PHASE_STARTS, PROTOCOL.phases, strict=True)):
        events.append(
            PhaseStart(
                t, i, ph.name, ph.kind, ph.mode, ph.duration_s, ph.prompt, ph.belief, ph.target
            )
        )
    events += [
        Rating(58.0, 1, "pre", "belief", 4),
        Marker(100.0, "lapse"),
        Marker(110.0, "rehold"),
        Marker(120.0, "felt", "warmth, chest"),
        Rating(151.0, 1, "post", "belief", 7),
        Connection(GAP[0], "lost", "test gap"),
        Connection(GAP[1], "restored"),
    ]
    # Strap: beats from the RR sum; a notification each strap second with its beats.
    t_beat = np.cumsum(units) / 1024.0
    slot = np.ceil(t_beat).astype(int)
    for s in np.unique(slot):
        idx = np.flatnonzero(slot == s)
        t_host = round(float(t_beat[idx[-1]]) + 0.03, 6)
        if GAP[0] <= t_host < GAP[1] or t_host >= END_S:
            continue
        rr = [u * 1000 / 1024 for u in units[idx]]
        events.append(Hrm(t_host, encode_hrm(round(60000 / np.mean(rr)), rr, contact=True)))
    order = {PhaseStart: 0, Connection: 1, Hrm: 2, Battery: 3, Rating: 4, Marker: 5}
    events.sort(key=lambda e: (e.t_s, order[type(e)]))
    clock = _Clock()
    w = RecordingWriter(directory, header, "sample", clock=clock)
    proc = Processor()
    for ev in events:
        clock.t = ev.t_s
        processed = None
        if isinstance(ev, Hrm):
            processed = proc.on_hrm(ev)
        elif isinstance(ev, Connection):
            proc.on_connection(ev)
        w.write(ev, processed)
    w.write(End(END_S, "completed"))
    w.close()
    return w.path
