"""The one output writer: owner-only, atomic, never replaces a recording or anything that is
not a regular file, names the file in every error. Issue 16, items 1-3.

Run as root too (CI is root): root can replace any node in a folder it writes, so only the
writer's own checks stand between `--json /dev/null` and a broken system.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import demo_max, record_simulated, run_cli

# holdbeat.output is imported inside the tests that use it, so the command-level tests
# in this file also run (and fail) against a holdbeat without it.


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_simulated(tmp_path_factory.mktemp("rec"), "single")


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


def _null_device(path: Path) -> Path:
    """A character device equal to /dev/null (1, 3), in tmp: skip where mknod is forbidden."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("this machine does not allow creating device nodes (mknod)")
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _symlink(path: Path) -> Path:
    target = path.with_name("target.txt")
    target.write_text("kept")
    path.symlink_to(target)
    return path


MAKERS = {
    "fifo": (_fifo, stat.S_ISFIFO, "a FIFO"),
    "socket": (_socket, stat.S_ISSOCK, "a socket"),
    "device": (_null_device, stat.S_ISCHR, "a character device"),
    "folder": (_folder, stat.S_ISDIR, "a folder"),
    "symlink": (_symlink, stat.S_ISLNK, "a symbolic link"),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("force", [False, True])
def test_writer_never_replaces_a_non_regular_file(tmp_path: Path, kind: str, force: bool) -> None:
    from holdbeat.output import OutputError, write_file

    make, is_kind, words = MAKERS[kind]
    target = make(tmp_path / "out.json")
    before = os.lstat(target)
    with pytest.raises(OutputError, match=rf"{target}.* {words}"):
        write_file(target, b"{}", force=force)
    after = os.lstat(target)
    assert is_kind(after.st_mode) and (after.st_ino, after.st_mode) == (
        before.st_ino,
        before.st_mode,
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".holdbeat-")] == []


@pytest.mark.parametrize(
    ("kind", "argv"),
    [
        ("fifo", ["report", "{rec}", "--json", "{out}"]),
        ("device", ["report", "{rec}", "--png", "{out}"]),
        ("socket", ["report", "{rec}", "--csv", "{out}"]),
        ("device", ["export", "{rec}", "--to", "edf", "-o", "{out}", "--force"]),
        ("fifo", ["compare", "{rec}", "--csv", "{out}", "--resamples", "99", "--jobs", "1"]),
    ],
    ids=[
        "report-json-fifo",
        "report-png-device",
        "report-csv-socket",
        "export-device",
        "compare-fifo",
    ],
)
def test_commands_refuse_non_regular_outputs(
    tmp_path: Path, recorded: Path, kind: str, argv: list[str]
) -> None:
    make, is_kind, words = MAKERS[kind]
    target = make(tmp_path / "target")
    cmd = [a.format(rec=recorded, out=target) for a in argv]
    proc = run_cli(*cmd, timeout=120)  # a FIFO output must not block: the timeout fails it
    assert proc.returncode == 2, proc.stderr
    assert str(target) in proc.stderr and words in proc.stderr and "Traceback" not in proc.stderr
    assert is_kind(os.lstat(target).st_mode)


def test_report_json_to_dev_null_leaves_dev_null_a_device(tmp_path: Path, recorded: Path) -> None:
    """Issue 16 item 1 exactly. Guarded: the same command first runs against a copy of
    /dev/null in tmp, so a regression breaks the copy, never the machine's /dev/null."""
    copy = _null_device(tmp_path / "null")
    assert run_cli("report", str(recorded), "--json", str(copy)).returncode == 2
    assert stat.S_ISCHR(os.lstat(copy).st_mode), (
        "the writer replaced a device: not trying /dev/null"
    )
    before = os.lstat("/dev/null")
    proc = run_cli("report", str(recorded), "--json", "/dev/null")
    after = os.lstat("/dev/null")
    assert proc.returncode == 2 and "/dev/null is a character device" in proc.stderr
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino


@pytest.mark.parametrize("name", ["other.jsonl", "innocent.png", "notes.txt"])
def test_no_output_replaces_a_recording_found_by_content(
    tmp_path: Path, recorded: Path, name: str
) -> None:
    from holdbeat.output import OutputError, is_recording, write_file

    victim = tmp_path / name
    victim.write_bytes(recorded.read_bytes())
    victim.chmod(0o600)
    before = victim.read_bytes()
    assert is_recording(victim)
    with pytest.raises(OutputError, match="refusing to write over a recording"):
        write_file(victim, b"x", force=True)
    for argv in (
        ["export", str(recorded), "--to", "edf", "-o", str(victim), "--force"],
        ["report", str(recorded), "--png", str(victim)],
        [
            "demo",
            "--headless",
            "--speed",
            "max",
            "--out",
            str(tmp_path / "r"),
            "--screenshot",
            str(victim),
        ],
    ):
        proc = run_cli(*argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "refusing to write over a recording" in proc.stderr
        assert victim.read_bytes() == before
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").glob("*.jsonl"))


def test_recording_detection_is_by_content_not_name(tmp_path: Path, recorded: Path) -> None:
    from holdbeat.output import is_recording, write_file

    lines = recorded.read_bytes().split(b"\n")
    cases = {
        "full.bin": recorded.read_bytes(),
        "cut-header.x": lines[0][:40],  # a crash during the header: still a recording
        "spaced.x": b'{ "format" : "holdbeat/1", "session_id": "a"}\n',
        "json-lines.jsonl": b'{"format": "other/1"}\n{"t": 1}\n',
        "text.jsonl": b"hello\n",
        "empty.jsonl": b"",
        # keys in another order (a re-formatted header): "format" past the first 64 KiB
        "late-format.x": b'{"pad":"' + b"x" * 70_000 + b'","format":"holdbeat/1"}\n{"t":1}\n',
        "late-other.x": b'{"pad":"' + b"x" * 70_000 + b'","format":"other/1"}\n',
        "late-cut.x": b'{"pad":"' + b"x" * 200_000 + b'","format":"holdbeat/1","ses',  # crashed
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    found = {n for n in cases if is_recording(tmp_path / n)}
    assert found == {"full.bin", "cut-header.x", "spaced.x", "late-format.x", "late-cut.x"}
    # a .jsonl that is not a recording is an ordinary output (replaced with --force)
    write_file(tmp_path / "json-lines.jsonl", b"new", force=True)
    assert (tmp_path / "json-lines.jsonl").read_bytes() == b"new"


def test_writer_is_owner_only_atomic_and_follows_force(tmp_path: Path) -> None:
    from holdbeat.output import OutputError, OutputExists, write_file

    old_umask = os.umask(0)
    try:
        p = write_file(tmp_path / "a.csv", b"one")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.read_bytes() == b"one"
    with pytest.raises(OutputExists, match=r"a\.csv already exists.*--force"):
        write_file(p, b"two")
    inode = p.stat().st_ino
    write_file(p, b"two", force=True)
    assert p.read_bytes() == b"two" and p.stat().st_ino != inode  # renamed into place
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    with pytest.raises(OutputError, match=r"missing.*does not exist"):
        write_file(tmp_path / "missing" / "x.csv", b"1")
    with pytest.raises(OutputError, match=r"is an input of this command"):
        write_file(p, b"3", force=True, inputs=[p])

    def half(f) -> None:
        f.write(b"partial")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        write_file(p, half, force=True)
    assert p.read_bytes() == b"two"  # the old file, never half of the new one
    assert sorted(q.name for q in tmp_path.iterdir()) == ["a.csv"]


def test_every_write_error_names_the_file(tmp_path: Path, monkeypatch) -> None:
    from holdbeat import output
    from holdbeat.output import WriteFailed, write_file

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", full)
    target = tmp_path / "report.json"
    with pytest.raises(WriteFailed) as e:
        write_file(target, b"{}")
    assert str(e.value) == f"cannot write {target}: No space left on device"
    assert list(tmp_path.iterdir()) == []


@contextlib.contextmanager
def tiny_disk(path: Path) -> Iterator[Path]:
    """A 64 kB tmpfs at `path` (root only; skipped where mounting is not allowed)."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        ok = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True
            ).returncode
            == 0
        )
    except FileNotFoundError:
        ok = False
    if not ok:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_full_disk_error_names_the_output(tmp_path: Path, recorded: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        target = disk / "report.png"
        proc = run_cli("report", str(recorded), "--png", str(target), "--quiet")
        assert proc.returncode == 1, proc.stderr
        assert f"cannot write {target}: No space left on device" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert list(disk.iterdir()) == []  # no partial file, no temp file


def test_screenshot_goes_through_the_writer(tmp_path: Path) -> None:
    """The screenshot is owner-only (it shows HR, HRV and the belief) and atomic; with
    --headless it is rendered offscreen rather than silently skipped (item 13)."""
    shot = tmp_path / "shots" / "s.png"
    proc = demo_max(tmp_path / "rec", "--protocol", "single", "--screenshot", str(shot))
    assert proc.returncode == 0, proc.stderr
    assert f"screenshot: {shot}" in proc.stdout
    assert "propagateSizeHints" not in proc.stderr  # Qt's offscreen plugin's chatter
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    assert stat.S_IMODE(shot.stat().st_mode) == 0o600
    assert [p.name for p in shot.parent.iterdir()] == ["s.png"]


def test_cues_wav_goes_through_the_writer(tmp_path: Path, recorded: Path) -> None:
    """--cues-wav (issue 17's sound file) follows the same rules as every other output."""
    victim = tmp_path / "victim.jsonl"
    victim.write_bytes(recorded.read_bytes())
    before = victim.read_bytes()
    proc = demo_max(tmp_path / "r", "--cues-wav", str(victim))
    assert proc.returncode == 2 and "refusing to write over a recording" in proc.stderr
    assert victim.read_bytes() == before and not (tmp_path / "r").exists()
    wav = tmp_path / "cues.wav"
    proc = demo_max(tmp_path / "r", "--protocol", "quick", "--cues-wav", str(wav))
    assert proc.returncode == 0, proc.stderr
    assert wav.read_bytes()[:4] == b"RIFF" and stat.S_IMODE(wav.stat().st_mode) == 0o600


PROTOCOL_TOML = """name = "t"
[[phase]]
name = "b"
kind = "baseline"
mode = "neutral"
duration = "1m"
[[phase]]
name = "h"
kind = "hold"
mode = "soft"
duration = "1m"
belief = "x"
target = "self"
"""


@pytest.mark.parametrize("flag", ["--screenshot", "--cues-wav"])
def test_session_outputs_never_replace_the_protocol_file(tmp_path: Path, flag: str) -> None:
    proto = tmp_path / "p.toml"
    proto.write_text(PROTOCOL_TOML)
    proc = demo_max(tmp_path / "r", "--protocol", str(proto), flag, str(proto))
    assert proc.returncode == 2, proc.stderr
    assert f"{flag}: {proto} is an input of this command: refusing to write over it" in (
        proc.stderr
    )
    assert proto.read_text() == PROTOCOL_TOML and not (tmp_path / "r").exists()


def test_screenshot_and_cues_wav_may_not_be_one_file(tmp_path: Path) -> None:
    same = tmp_path / "same.png"
    proc = demo_max(tmp_path / "r", "--cues-wav", str(same), "--screenshot", str(same))
    assert proc.returncode == 2, proc.stderr
    assert f"--cues-wav: {same} is also the --screenshot: give two names" in proc.stderr
    assert not same.exists() and not (tmp_path / "r").exists()


def test_headless_screenshot_after_sound_cues(tmp_path: Path) -> None:
    """--bell/--cues open Qt's audio before the session's end; the --headless screenshot
    then draws on that same application (it was a bare QCoreApplication: a traceback, no
    screenshot, exit 1)."""
    shot = tmp_path / "s.png"
    proc = demo_max(tmp_path / "r", "--protocol", "quick", "--bell", "10", "--screenshot",
                    str(shot))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((tmp_path / "r").glob("*.jsonl"))) == 1


@pytest.mark.parametrize("flag", ["--json", "--csv", "--png"])
@pytest.mark.parametrize("command", ["report", "compare", "history"])
def test_an_output_name_ending_in_a_separator_or_empty_is_refused(
    tmp_path: Path, recorded: Path, command: str, flag: str
) -> None:
    """`--json newd/` meant a folder; Path() dropped the slash and wrote a file 'newd'."""
    for value, words in ((f"{tmp_path}/newd/", "names a folder: give a file name"),
                         ("", "an empty file name")):  # fmt: skip
        proc = run_cli(command, str(recorded), flag, value, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_screenshot_that_cannot_be_written_fails_the_command(tmp_path: Path) -> None:
    """The session is recorded whole; the screenshot it asked for is not: exit 1 (as a
    report whose --png cannot be written), not 0."""
    with tiny_disk(tmp_path / "disk") as disk:
        shot = disk / "s.png"  # a window screenshot is ~200 kB: it cannot fit in 64 kB
        proc = demo_max(tmp_path / "r", "--protocol", "quick", "--screenshot", str(shot))
        assert proc.returncode == 1, proc.stderr
        assert f"cannot save the screenshot: cannot write {shot}: No space left" in proc.stderr
        assert list(disk.iterdir()) == []
    from holdbeat.recording import load

    (rec,) = (tmp_path / "r").glob("*.jsonl")
    assert load(rec).end.reason == "completed"  # type: ignore[union-attr]


def test_a_cues_wav_that_cannot_be_written_fails_the_command(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        wav = disk / "cues.wav"  # minutes of sound: megabytes, not 64 kB
        proc = demo_max(tmp_path / "r", "--protocol", "quick", "--cues-wav", str(wav))
        assert proc.returncode == 1, proc.stderr
        assert f"cannot write {wav}: No space left on device" in proc.stderr
        assert "Traceback" not in proc.stderr and list(disk.iterdir()) == []
    from holdbeat.recording import load

    (rec,) = (tmp_path / "r").glob("*.jsonl")
    assert load(rec).end.reason == "completed"  # type: ignore[union-attr]
