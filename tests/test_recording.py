"""holdbeat/1 files: round trip, truncation, versions, foreign files, no overwrite, 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.beat_reference import reference_times

from holdbeat.events import (
    Battery,
    Connection,
    Device,
    End,
    Hrm,
    Marker,
    PhaseStart,
    Rating,
    Tick,
)
from holdbeat.hrs import encode_hrm
from holdbeat.recording import NotARecording, UnsupportedVersion, load
from holdbeat.recording_writer import RecordingWriter, create_exclusive, new_header

HEADER = new_header(
    Device(name="Polar H10 1234", address="AA:BB", source="strap"), {"name": "x", "phases": []}
)


def write_session(directory: Path) -> Path:
    w = RecordingWriter(directory, HEADER, "fierce", clock=lambda: 0.0)
    w.write(PhaseStart(0.0, 0, "baseline", "baseline", "neutral", 60.0))
    w.write(Battery(0.1, 80))
    t = 0.0
    for i in range(60):
        t += 1.0
        w.write(Hrm(t, encode_hrm(70, [800 + (i % 5) * 10, 820], contact=True)))
    w.write(Marker(60.2, "lapse"))
    w.write(Rating(60.3, 1, "pre", "belief", 6))
    w.write(Connection(60.4, "lost"))
    w.write(Connection(60.5, "restored"))
    w.write(End(61.0, "completed"))
    w.close()
    return w.path


def test_round_trip_reparses_raw_bytes(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    rec = load(path)
    assert rec.header.device.name == "Polar H10 1234"
    assert len(rec.rr_ms) == 120
    assert np.all(np.diff(rec.beat_t_s) > 0)
    assert rec.rr_ms[1] == pytest.approx(820, abs=0.5)
    assert rec.markers == [Marker(60.2, "lapse")]
    assert rec.ratings[0].value == 6
    assert rec.end == End(61.0, "completed")
    assert [c.state for c in rec.connections] == ["lost", "restored"]
    assert rec.phases[0].end_s == 61.0
    assert rec.warnings == []


def test_raw_bytes_are_the_source_of_truth(tmp_path: Path) -> None:
    """Decoded fields in the file are for people; loading re-parses `raw`."""
    path = write_session(tmp_path)
    lines = path.read_text().splitlines()
    ev = json.loads(lines[3])
    assert ev["type"] == "hrm"
    ev["rr"] = [1.0]  # a wrong decoded value must not matter
    lines[3] = json.dumps(ev)
    path.write_text("\n".join(lines) + "\n")
    assert load(path).rr_ms[0] > 700


def test_file_is_owner_only_and_flushed_per_line(tmp_path: Path) -> None:
    w = RecordingWriter(tmp_path, HEADER, "soft", clock=lambda: 0.0)
    w.write(Hrm(1.0, encode_hrm(60, [1000])))
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o600
    # flushed: another reader sees both lines before close
    assert len(w.path.read_text().splitlines()) == 2
    w.close()


def test_every_folder_made_for_a_recording_is_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    """Path.mkdir(parents=True, mode=0o700) gives the parents the umask's mode: under umask
    000 the folder above the recordings was 0777, and anyone could swap the recordings
    folder for their own."""
    deep = tmp_path / "a" / "b" / "recordings"
    old = os.umask(0)
    try:
        w = RecordingWriter(deep, HEADER, "soft", clock=lambda: 0.0)
        w.close()
    finally:
        os.umask(old)
    for d in (tmp_path / "a", tmp_path / "a" / "b", deep):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    from holdbeat.output import private_dirs

    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        private_dirs(tmp_path / "file")  # a file where a folder must be: an error
    private_dirs(deep)  # all there: nothing to do


def test_never_overwrites(tmp_path: Path) -> None:
    p1, fd1 = create_exclusive(tmp_path, "2026-01-01_000000_fierce")
    os.write(fd1, b"precious")
    os.close(fd1)
    p2, fd2 = create_exclusive(tmp_path, "2026-01-01_000000_fierce")
    os.close(fd2)
    assert p1 != p2 and p2.name.endswith("-2.jsonl")
    assert p1.read_bytes() == b"precious"


def test_truncated_last_line_is_tolerated_with_warning(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    data = path.read_bytes()
    cut = data[: -len(b'"completed"}\n') - 5]  # power loss mid-line
    path.write_bytes(cut)
    rec = load(path)
    assert any("truncated" in w for w in rec.warnings)
    assert any("no 'end' event" in w for w in rec.warnings)
    assert rec.end is None
    assert len(rec.rr_ms) == 120


def test_unknown_future_version_is_refused(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    lines = path.read_text().splitlines()
    head = json.loads(lines[0])
    head["format"] = "holdbeat/2"
    path.write_text("\n".join([json.dumps(head), *lines[1:]]) + "\n")
    with pytest.raises(UnsupportedVersion, match=r"holdbeat/2.*upgrade"):
        load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"time,rr\n1,800\n", b'{"hello": "world"}\n', b"\xff\xfe\x00binary", b"[1,2,3]\n"],
)
def test_foreign_files_get_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "foreign.jsonl"
    path.write_bytes(content)
    with pytest.raises(NotARecording, match=r"not a holdbeat recording|empty file"):
        load(path)


def test_missing_file_is_a_recording_error(tmp_path: Path) -> None:
    from holdbeat.recording import RecordingError

    with pytest.raises(RecordingError, match="cannot read"):
        load(tmp_path / "nope.jsonl")


def test_corrupt_middle_line_is_skipped_with_its_line_number(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    lines = path.read_text().splitlines()
    lines[10] = '{"t": 9, "type": "hrm", "raw": "zz"}'
    lines[11] = "garbage"
    path.write_text("\n".join(lines) + "\n")
    rec = load(path)
    assert any(w.startswith("line 11:") for w in rec.warnings)
    assert any(w.startswith("line 12:") for w in rec.warnings)
    assert len(rec.rr_ms) == 116


def test_malformed_notification_is_kept_and_reported(tmp_path: Path) -> None:
    w = RecordingWriter(tmp_path, HEADER, "x", clock=lambda: 0.0)
    w.write(Hrm(1.0, bytes([0x10, 70, 0x00])))
    w.close()
    rec = load(w.path)
    assert rec.malformed and "odd trailing byte" in rec.malformed[0][1]
    assert "10 46 00" in rec.malformed[0][1]


def _live(events: list) -> tuple[list, list, list, list, list, list]:
    """What the live pipeline made of these events: the reference `load` must equal."""
    from holdbeat.process import Processor

    proc = Processor()
    t, rr, gap, flag, hr, bad = [], [], [], [], [], []
    for ev in events:
        if isinstance(ev, Connection):
            proc.on_connection(ev)
        elif isinstance(ev, Hrm):
            p = proc.on_hrm(ev)
            if p.error:
                bad.append((ev.t_s, p.error))
                continue
            hr.append((p.hr.t_s, float(p.hr.hr_bpm)))
            for b in p.beats:
                t.append(b.t_s), rr.append(b.rr_ms), gap.append(b.gap_before), flag.append(b.flag)
    return t, rr, gap, flag, hr, bad


def _packet_events(steps: list[tuple[float, int, list[int], str]]) -> list:
    events: list = [PhaseStart(0.0, 0, "hold", "hold", "fierce", None)]
    t = 0.0
    for dt, hr, rr_units, what in steps:
        t += dt
        if what == "lost":
            events.append(Connection(t, "lost"))
            events.append(Connection(t, "restored"))
        elif what == "malformed":
            events.append(Hrm(t, bytes([0x10, hr & 0xFF, 0x01])))
        else:
            events.append(Hrm(t, encode_hrm(hr, [u * 1000 / 1024 for u in rr_units])))
    return events


_steps = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.05, 0.9, 1.0, 1.1, 3.5]),  # bursts, normal, late, gaps
        st.integers(30, 220),
        st.lists(st.sampled_from([250, 600, 700, 820, 840, 860, 1000, 1300, 2200]), max_size=4),
        st.sampled_from(["hrm"] * 8 + ["lost", "malformed"]),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(_steps)
def test_loading_rebuilds_exactly_what_the_live_pipeline_made(steps: list) -> None:
    """`from_events` is the live Processor batched (one numpy parse, no Beat objects):
    beat times, RR, gaps, flags, HR and malformed packets must be identical, bit for bit."""
    from holdbeat.recording import from_events

    events = _packet_events(steps)
    rec = from_events(Path("x.jsonl"), HEADER, events, [])
    t, rr, gap, flag, hr, bad = _live(events)
    assert rec.beat_t_s.tolist() == t
    assert rec.rr_ms.tolist() == rr
    assert rec.gap_before.tolist() == gap
    assert rec.flag.tolist() == flag
    assert list(zip(rec.hr_t_s.tolist(), rec.hr_bpm.tolist(), strict=True)) == hr
    assert rec.malformed == bad
    # both run the same BeatTimer: check the times against an independent implementation
    want = reference_times(_reference_packets(steps))
    assert rec.gap_before.tolist() == [g for _, _, g in want]
    assert rec.beat_t_s.tolist() == pytest.approx([t for t, _, _ in want], abs=1e-9)
    # RR only (import's read-back check): the same RR, HR and errors; no times, gaps, flags
    bare = from_events(Path("x.jsonl"), HEADER, events, [], live=False)
    assert bare.rr_ms.tolist() == rr and bare.malformed == bad
    assert list(zip(bare.hr_t_s.tolist(), bare.hr_bpm.tolist(), strict=True)) == hr
    assert len(bare.beat_t_s) == len(rr) and np.isnan(bare.beat_t_s).all()
    assert not bare.gap_before.any() and len(bare.gap_before) == len(rr)
    assert bare.flag.tolist() == [""] * len(rr)


def _reference_packets(steps: list) -> list[tuple[float, list[float] | None]]:
    out: list[tuple[float, list[float] | None]] = []
    t = 0.0
    for dt, _hr, rr_units, what in steps:
        t += dt
        if what == "lost":
            out.append((t, None))
        elif what != "malformed":
            out.append((t, [u * 1000 / 1024 for u in rr_units]))
    return out


def test_loaded_beat_times_by_hand(tmp_path: Path) -> None:
    """Beat times, RR and gaps of a small file worked out by hand: continuing RR, a late
    burst, a packet ahead of the timeline, a lost connection, a hole of lost beats."""
    w = RecordingWriter(tmp_path, HEADER, "hand", clock=lambda: 0.0)
    for t, rr in ((1.0, [1000]), (2.0, [1000]), (4.25, [875, 875]), (4.65, [1000])):
        w.write(Hrm(t, encode_hrm(70, rr)))
    w.write(Connection(5.0, "lost"))
    w.write(Connection(9.0, "restored"))
    for t, rr in ((10.0, [1000]), (14.0, [1000]), (15.125, [1125]), (16.0, [])):
        w.write(Hrm(t, encode_hrm(70, rr)))
    w.write(End(16.5, "completed"))
    w.close()
    rec = load(w.path)
    assert rec.beat_t_s.tolist() == [1.0, 2.0, 2.875, 3.75, 4.65, 10.0, 14.0, 15.125]
    assert rec.rr_ms.tolist() == [1000, 1000, 875, 875, 1000, 1000, 1000, 1125]
    assert rec.gap_before.tolist() == [True, False, False, False, False, True, True, False]
    assert rec.flag.tolist() == [""] * 8
    assert rec.hr_t_s.tolist() == [1.0, 2.0, 4.25, 4.65, 10.0, 14.0, 15.125, 16.0]


def test_a_simulated_session_with_drop_outs_loads_as_it_was_live(tmp_path: Path) -> None:
    """The same on a real file: the alternating protocol with 3 % artifacts, and the
    strap lost for 20 s every 5 minutes (its packets removed, lost/restored marked)."""
    from tests.helpers import sim_header

    from holdbeat.protocols import load_protocol
    from holdbeat.sim.body import SimConfig
    from holdbeat.sources.simulator import simulate

    proto = load_protocol("alternating")
    events: list = []
    for ev in simulate(proto, SimConfig(seed=7, artifact_rate=0.03)):
        out = ev.t_s % 300.0 < 20.0 and ev.t_s > 60.0
        if out and not (events and isinstance(events[-1], Connection)):
            events.append(Connection(ev.t_s, "lost"))
        if not out and events and isinstance(events[-1], Connection):
            events.append(Connection(ev.t_s, "restored"))
        if not (out and isinstance(ev, Hrm)):
            events.append(ev)
    w = RecordingWriter(tmp_path, sim_header(proto), "sim", clock=lambda: 0.0)
    for ev in events:
        if not isinstance(ev, Tick):
            w.write(ev)
    w.close()
    rec = load(w.path)
    t, rr, gap, flag, hr, _ = _live(rec.events)
    assert len(t) > 500 and any(flag) and sum(gap) > 3
    assert rec.beat_t_s.tolist() == t and rec.rr_ms.tolist() == rr
    assert rec.gap_before.tolist() == gap and rec.flag.tolist() == flag
    assert len(rec.hr_t_s) == len(hr)
