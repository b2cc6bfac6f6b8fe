"""Disk faults: a full disk, an unusable folder, a file removed mid-session.

Each gives a clear error, stops recording safely, and what was written stays readable.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
from pathlib import Path

import pytest
from tests.helpers import demo_max, sim_header

from holdbeat.pipeline import run_session
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.sinks.recorder import RecorderSink, RecordingFailed
from holdbeat.sources.simulator import SimConfig, simulate


def limit_file_size() -> None:
    # The kernel refuses writes past 12 kB (EFBIG), as a full disk refuses them (ENOSPC).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (12_000, 12_000))


def test_disk_full_stops_recording_with_clear_error(tmp_path: Path) -> None:
    proc = demo_max(tmp_path, preexec_fn=limit_file_size)
    assert proc.returncode == 1
    assert "recording stopped: cannot write" in proc.stderr
    assert "everything before this point is saved" in proc.stderr
    assert "Traceback" not in proc.stderr
    (path,) = tmp_path.glob("*.jsonl")
    assert path.stat().st_size <= 12_000
    rec = load(path)  # what was written stays readable
    assert len(rec.rr_ms) > 20
    assert rec.end is None


def test_unusable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    proc = demo_max(blocker / "rec")
    assert proc.returncode == 1
    assert "cannot create a recording in" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    proc = demo_max(ro)
    assert proc.returncode == 1 and "cannot create a recording in" in proc.stderr


def test_file_removed_mid_session_stops_recording(tmp_path: Path) -> None:
    proto = load_protocol("single")
    sink = RecorderSink(tmp_path)

    async def source():
        for ev in simulate(proto, SimConfig(seed=1)):
            if ev.t_s > 100 and sink.path is not None and sink.path.exists():
                sink.path.unlink()  # the user (or a cleaner) deletes the file
            yield ev

    with pytest.raises(RecordingFailed, match="removed while recording"):
        asyncio.run(run_session(source(), [sink], sim_header(proto), proto))
    assert sink.writer is not None and sink.writer.closed
    assert not any(tmp_path.iterdir())  # nothing resurrected behind the user's back
