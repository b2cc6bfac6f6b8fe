"""Disk faults: a full disk, an unusable folder, a file removed mid-session.

Each gives a clear error, stops recording safely, and what was written stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import demo_max, run_cli, sim_header

from holdbeat.pipeline import run_session
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink, RecordingFailed
from holdbeat.sources.simulator import simulate


def limit_file_size() -> None:
    # The kernel refuses writes past 12 kB (EFBIG), as a full disk refuses them (ENOSPC).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (12_000, 12_000))


def no_room_for_a_header() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))  # a header is a few kB


def test_a_disk_full_before_the_header_leaves_no_empty_recording(tmp_path: Path) -> None:
    """A recording without its header is no recording: the file is removed, so `report
    latest`, `history` and `compare` are not stopped by an empty .jsonl afterwards."""
    proc = demo_max(tmp_path, preexec_fn=no_room_for_a_header)
    assert proc.returncode == 1
    assert f"cannot create a recording in {tmp_path}: File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


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


@pytest.mark.parametrize("target", ["file", "/dev/null"])
def test_a_file_given_as_the_folder_is_named_as_such(tmp_path: Path, target: str) -> None:
    out = tmp_path / "a-file" if target == "file" else Path(target)
    if target == "file":
        out.write_text("mine\n")
    proc = demo_max(out)
    assert proc.returncode == 2  # refused with the arguments, before any session
    assert f"argument --out: {out} is not a folder (give a folder: --out" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("hold", "--headless", env={**os.environ, "HOLDBEAT_RECORDINGS": str(out)})
    assert proc.returncode == 2  # no strap sought first
    assert f"{out} is not a folder" in proc.stderr and "looking for your strap" not in proc.stderr
    if target == "file":
        assert out.read_text() == "mine\n"


@contextlib.contextmanager
def read_only_folder(path: Path, how: str) -> Iterator[None]:
    """Make `path` a folder nobody, root included, can create files in.

    "chmod" (mode 0500) binds everyone but root (EACCES); root, as CI runs, gets a
    read-only tmpfs mounted there (EROFS, as a locked card or a remounted disk) or the
    immutable attribute (EPERM). A way this machine does not allow is skipped.
    """
    path.mkdir()
    if how == "chmod":
        if os.geteuid() == 0:
            pytest.skip("root writes through mode 0500")
        path.chmod(0o500)
        yield
        path.chmod(0o700)
        return
    if os.geteuid() != 0:
        pytest.skip(f"{how} needs root")
    on, off = {
        "ro-mount": (["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"], ["umount"]),
        "immutable": (["chattr", "+i"], ["chattr", "-i"]),
    }[how]
    try:
        done = subprocess.run([*on, str(path)], capture_output=True).returncode == 0
    except FileNotFoundError:
        done = False
    if not done:
        pytest.skip(f"this machine does not allow {' '.join(on)}")
    try:
        yield
    finally:
        subprocess.run([*off, str(path)], check=True)


@pytest.mark.parametrize("how", ["chmod", "ro-mount", "immutable"])
def test_read_only_folder_is_a_clear_error(tmp_path: Path, how: str) -> None:
    ro = tmp_path / "ro"
    with read_only_folder(ro, how):
        with pytest.raises(OSError):
            (ro / "probe").touch()  # the folder really refuses files
        proc = demo_max(ro)
    assert proc.returncode == 1 and "cannot create a recording in" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not any(ro.iterdir())


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


def test_the_recorder_names_a_file_where_its_folder_should_be(tmp_path: Path) -> None:
    """(A folder swapped for a file after the arguments were checked.)"""
    blocker = tmp_path / "recs"
    blocker.write_text("mine\n")
    with pytest.raises(RecordingFailed, match=r"recs: it is not a folder \(give a folder"):
        RecorderSink(blocker).start(sim_header(load_protocol("quick")), None)
    assert blocker.read_text() == "mine\n"
