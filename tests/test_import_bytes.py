"""An import's recording lines, built in one batch, equal what the live Processor and
RecordingWriter's event_to_dict make of the same events (the reference, written here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.events import Connection, Hrm
from holdbeat.interop.batch_lines import recording_bytes
from holdbeat.interop.imported_rr import ImportedRR
from holdbeat.interop.imported_session import build_recording
from holdbeat.process import Processor
from holdbeat.recording_lines import event_to_dict, header_to_dict

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def reference(header, events) -> list[dict]:
    proc = Processor()
    out = [header_to_dict(header)]
    for ev in events:
        processed = None
        if isinstance(ev, Hrm):
            processed = proc.on_hrm(ev)
        elif isinstance(ev, Connection):
            proc.on_connection(ev)
        out.append(event_to_dict(ev, processed))
    return json.loads(json.dumps(out))


def check(rr_ms: list[float], gaps: list[bool] | None = None) -> None:
    stamps = None
    if gaps is not None:
        t = np.cumsum(rr_ms) / 1000.0 + np.cumsum(np.where(gaps, 6.0, 0.0))
        stamps = tuple(datetime(2026, 3, 1, 9, 30) + np.timedelta64(int(x * 1e6), "us") for x in t)
    imp = ImportedRR("rr-txt", tuple(rr_ms), tuple(range(1, len(rr_ms) + 1)), "ms", stamps)
    built = build_recording(imp, started=START, mode="soft")
    data = recording_bytes(built.header, built.events)
    got = [orjson.loads(x) for x in data.splitlines()]
    want = reference(built.header, built.events)
    assert got == want
    assert [list(d) for d in got] == [list(d) for d in want]  # same keys, same order


def test_a_long_series_with_artifacts_and_gaps() -> None:
    rng = np.random.default_rng(0)
    rr = 850 + 50 * np.sin(np.arange(3000) / 3) + rng.normal(0, 20, 3000)
    rr[rng.integers(0, 3000, 60)] *= rng.choice([0.5, 1.6, 2.0], 60)
    gaps = (rng.random(3000) < 0.003).tolist()
    gaps[0] = False
    check(rr.tolist(), gaps)
    check(rr[:50].tolist())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([250.0, 600.0, 820.0, 860.0, 1300.0, 2200.0]), min_size=1,
                max_size=300))  # fmt: skip
def test_random_rr_sequences(rr: list[float]) -> None:
    check(rr)


def packetize_reference(units, t_beats, segs):
    """The per-beat implementation packetize replaced (kept as the reference)."""
    from holdbeat.interop.notifications import MAX_RR_PER_PACKET, PACKET_UNITS, Packet, _hr

    packets = []
    hr = 0
    for k_seg, seg in enumerate(segs):
        u = units[seg.start : seg.stop]
        cum = np.cumsum(u) - u[0]
        slot = -(-cum // PACKET_UNITS)
        bounds = np.flatnonzero(np.diff(slot)) + 1
        groups = np.split(np.arange(len(u)), bounds)
        prev_slot = -1
        for g in groups:
            s = int(slot[g[0]])
            for empty in range(prev_slot + 1, s):
                t_empty = seg.first_beat_s + empty * PACKET_UNITS / 1024
                packets.append(Packet(round(t_empty, 6), (), hr, k_seg))
            prev_slot = s
            for c in range(0, len(g), MAX_RR_PER_PACKET):
                chunk = g[c : c + MAX_RR_PER_PACKET]
                rr = tuple(int(x) for x in u[chunk])
                hr = _hr(rr)
                t_last = float(t_beats[seg.start + chunk[-1]])
                packets.append(Packet(round(t_last, 6), rr, hr, k_seg))
    return packets


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(60, 4000), min_size=1, max_size=400),
    st.lists(st.integers(1, 399), max_size=4),
)
def test_packetize_equals_the_per_beat_reference(units: list[int], cuts: list[int]) -> None:
    from holdbeat.interop.notifications import Segment, beat_times, packetize

    u = np.array(units, dtype=np.int64)
    starts = sorted({0, *(c for c in cuts if c < len(u))})
    segs = [
        Segment(a, b, 0.5 + 40.0 * k)
        for k, (a, b) in enumerate(zip(starts, [*starts[1:], len(u)], strict=True))
    ]
    t = beat_times(u, segs)
    assert packetize(u, t, segs) == packetize_reference(u, t, segs)


def test_chunk_boundaries_carry_the_timer_and_flagger(monkeypatch) -> None:
    """Decoded in chunks of 7 events: beat timing and live flags continue across chunks."""
    import holdbeat.interop.batch_lines as synth

    monkeypatch.setattr(synth, "CHUNK_EVENTS", 7)
    rng = np.random.default_rng(3)
    rr = 850 + 60 * np.sin(np.arange(400) / 2.5) + rng.normal(0, 25, 400)
    rr[rng.integers(0, 400, 12)] *= 1.8
    gaps = (rng.random(400) < 0.01).tolist()
    gaps[0] = False
    check(rr.tolist(), gaps)
