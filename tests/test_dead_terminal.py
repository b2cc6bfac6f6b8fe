"""A session never dies of its terminal (issue 16, items 4-6), tested with real processes.

A closed pipe (`holdbeat demo | head -1`), a terminal that vanishes without a hang-up (EIO),
a real hang-up of the controlling terminal, `nohup`, and replaying recordings that ended
by a signal or an error. Synchronised on the child's output, never on sleeps.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from tests.helpers import as_foreground_job, run_cli

from holdbeat.recording import load

# 150 s of session at 100x: ~1.5 s of wall time, one status line per session second at
# most every wall second: output keeps coming after the reader has gone.
PROTOCOL = """
name = "short"
[[phase]]
kind = "baseline"
duration = 60
[[phase]]
kind = "hold"
mode = "soft"
duration = 60
[[phase]]
kind = "recovery"
duration = 30
"""
SESSION_S = 150.0


@pytest.fixture(scope="module")
def protocol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("proto") / "short.toml"
    p.write_text(PROTOCOL)
    return p


def demo_argv(protocol: Path, out: Path, speed: str = "100") -> list[str]:
    return [
        sys.executable, "-m", "holdbeat", "demo", "--headless", "--protocol", str(protocol),
        "--seed", "3", "--speed", speed, "--out", str(out),
    ]  # fmt: skip


def complete(out: Path, reason: str = "completed") -> Path:
    (path,) = out.glob("*.jsonl")
    rec = load(path)
    assert rec.warnings == []
    assert rec.end is not None and rec.end.reason == reason
    if reason == "completed":
        assert rec.end.t_s == SESSION_S
        assert [p.kind for p in rec.phases] == ["baseline", "hold", "recovery"]
        assert len(rec.rr_ms) > 150
    return path


def test_closed_pipe_never_ends_the_recording(tmp_path: Path, protocol: Path) -> None:
    """`holdbeat demo … | head -1`: the reader leaves after one line."""
    proc = subprocess.Popen(
        demo_argv(protocol, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"holdbeat")
    proc.stdout.close()  # head -1 exits
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    complete(tmp_path)
    assert err.count("the console view stopped (BrokenPipeError") == 1
    assert "still recorded" in err and "Traceback" not in err


def test_terminal_gone_without_hangup_eio_never_ends_the_recording(
    tmp_path: Path, protocol: Path
) -> None:
    """The terminal disappears (writes fail with EIO) and no SIGHUP comes."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        demo_argv(protocol, tmp_path),
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # the pty is not its controlling terminal: no SIGHUP
    )
    os.close(slave)
    first = b""
    while b"\n" not in first:
        first += os.read(master, 1024)
    os.close(master)  # the terminal is gone: writes to it fail with EIO
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    complete(tmp_path)
    assert err.count("the console view stopped (OSError: [Errno 5]") == 1
    assert "Traceback" not in err


def _controlling_terminal(slave: int) -> None:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    as_foreground_job()  # (a suite run under nohup would pass SIGHUP on ignored)


def test_real_hangup_writes_end_and_exits_quietly(tmp_path: Path, protocol: Path) -> None:
    """The controlling terminal closes: SIGHUP, then every write to it fails with EIO."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        demo_argv(protocol, tmp_path, speed="20"),
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: _controlling_terminal(slave),
    )
    os.close(slave)
    seen = b""
    while seen.count(b"\n") < 4:  # header, keys, the baseline phase, a status line
        seen += os.read(master, 1024)
    os.close(master)  # the terminal window closes
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 128 + signal.SIGHUP, err
    path = complete(tmp_path, reason="hangup (SIGHUP)")
    assert json.loads(path.read_text().splitlines()[-1])["type"] == "end"
    assert "Traceback" not in err and "Exception ignored" not in err


def test_nohup_keeps_sighup_ignored(tmp_path: Path, protocol: Path) -> None:
    """`nohup holdbeat …`: SIGHUP was ignored at start and must stay ignored."""

    def nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen(
        demo_argv(protocol, tmp_path, speed="20"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=nohup,
    )
    assert proc.stdout is not None
    for _ in range(4):
        assert proc.stdout.readline()
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    complete(tmp_path)
    assert "session ended: completed" in out


@pytest.mark.parametrize(
    "reason",
    ["terminated (SIGTERM)", "hangup (SIGHUP)", "error: OSError: [Errno 5] Input/output error"],
)
def test_replay_of_a_recording_ended_by_a_signal_exits_0(
    tmp_path: Path, protocol: Path, reason: str
) -> None:
    proc = run_cli(*demo_argv(protocol, tmp_path, speed="max")[3:])
    assert proc.returncode == 0, proc.stderr
    path = complete(tmp_path)
    lines = path.read_text().splitlines()
    end = json.loads(lines[-1])
    end["reason"] = reason
    path.write_text("\n".join([*lines[:-1], json.dumps(end)]) + "\n")
    replay = run_cli("replay", str(path), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert f"session ended: {reason}" in replay.stdout  # the console still tells the story
    assert "session ended with" not in replay.stderr and "Traceback" not in replay.stderr
    # --record keeps the recorded end: the copy is the same session
    again = run_cli(
        "replay", str(path), "--headless", "--speed", "max", "--record", str(tmp_path / "copy")
    )
    assert again.returncode == 0, again.stderr
    (copy,) = (tmp_path / "copy").glob("*.jsonl")
    assert load(copy).end.reason == reason  # type: ignore[union-attr]


def test_report_into_a_closed_pipe_still_writes_its_files(tmp_path: Path, protocol: Path) -> None:
    """`holdbeat report R --json x --png y | true`: the table has no reader, the files
    are still written (they come after the table)."""
    assert run_cli(*demo_argv(protocol, tmp_path, speed="max")[3:]).returncode == 0
    (rec,) = tmp_path.glob("*.jsonl")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte
    proc = subprocess.run(
        [sys.executable, "-m", "holdbeat", "report", str(rec), "--json", str(tmp_path / "r.json"),
         "--png", str(tmp_path / "r.png")],
        stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
    )  # fmt: skip
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["phases"]
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def _holdbeat(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "holdbeat", *args], timeout=120, **kw)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory, protocol: Path) -> Path:
    out = tmp_path_factory.mktemp("rec")
    assert run_cli(*demo_argv(protocol, out, speed="max")[3:]).returncode == 0
    (rec,) = out.glob("*.jsonl")
    return rec


def test_a_full_stdout_never_costs_the_files_or_a_note_twice(
    tmp_path: Path, recording: Path
) -> None:
    """stdout on a full disk (/dev/full): the tables are lost, the files are not; a note
    that was added says so by exit 0 (a script retrying on failure would add it twice)."""
    with open("/dev/full", "w") as full:
        outs = {
            "history": ["history", str(recording.parent), "--json", str(tmp_path / "h.json")],
            "full": ["report", str(recording), "--full", "--json", str(tmp_path / "f.json")],
            "export": ["export", str(recording), "--to", "csv", "-o", str(tmp_path / "e.csv")],
        }
        for argv in outs.values():
            proc = _holdbeat(argv, stdout=full, stderr=subprocess.PIPE, text=True)
            assert proc.returncode == 0, proc.stderr
            assert "Traceback" not in proc.stderr
        copy = tmp_path / "n.jsonl"
        copy.write_bytes(recording.read_bytes())
        proc = _holdbeat(["note", str(copy), "calmer"], stdout=full, stderr=subprocess.PIPE)
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert json.loads((tmp_path / "h.json").read_text())
    assert json.loads((tmp_path / "f.json").read_text())
    assert (tmp_path / "e.csv").stat().st_size > 0
    assert [n.text for n in load(copy).notes] == ["calmer"]


def test_started_with_stdout_or_stderr_closed(tmp_path: Path, recording: Path) -> None:
    """`holdbeat … >&-` / `2>&-`: Python has no stream there. Nothing breaks, nothing lands
    on the wrong stream, and the exit code is the command's own."""
    closed = {"close_fds": True}
    out = _holdbeat(["protocols"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    pass_fds=(), **closed, preexec_fn=lambda: os.close(1))  # fmt: skip
    assert out.returncode == 0 and b"Traceback" not in out.stderr
    proc = _holdbeat(["report", str(tmp_path / "missing.jsonl")], stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, preexec_fn=lambda: os.close(2))  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == b""  # the error did not go to stdout
    proc = _holdbeat(["report", str(recording), "-q", "--json", str(tmp_path / "o.json")],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     preexec_fn=lambda: os.close(2))  # fmt: skip
    assert proc.returncode == 0 and proc.stdout == b""  # "wrote …" is stderr's
    assert json.loads((tmp_path / "o.json").read_text())


def test_sigterm_while_an_output_is_written_leaves_no_temp_file(tmp_path: Path) -> None:
    """A command killed by SIGTERM mid-write: the writer's cleanup runs, as for Ctrl-C, and
    the exit code says which signal (128 + 15). Sessions end themselves. (A process of its
    own: without the handler SIGTERM kills it, not the test run.)"""
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n820\n")
    out = tmp_path / "out"
    script = f"""
import os, signal, sys
import holdbeat.commands.import_ as imp
from holdbeat.cli import main
real = imp.write_lines
def killed_midway(f, *a, **kw):
    f.write(b'{{"format":"holdbeat/1"')  # part of the new file is on disk
    os.kill(os.getpid(), signal.SIGTERM)
    return real(f, *a, **kw)
imp.write_lines = killed_midway
before = signal.getsignal(signal.SIGTERM)
code = main(["import", {str(rr)!r}, "-o", {str(out) + "/"!r}])
assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
sys.exit(code)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(out.iterdir()) == []  # no hidden .holdbeat-*.part left behind


def test_sigterm_ends_a_window_left_open_after_the_session(tmp_path: Path, protocol: Path) -> None:
    """The session is over and the window stays for a look: an idle Qt loop ran no Python,
    so SIGTERM waited (for ever, in a window nobody sees) until something moved. (The window
    says nothing on stdout, so the test watches the recording for its `end` line - a short
    poll, the one readiness signal there is - and lets Qt fall idle before the signal.)"""
    import time

    # quick: a protocol with ratings, so the after-note dialog is open beside the window
    argv = [a for a in demo_argv(Path("quick"), tmp_path, speed="max") if a != "--headless"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(b'"type":"end"' in f.read_bytes() for f in tmp_path.glob("*.jsonl")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.5)  # the last redraws done: Qt idle, as a window left open becomes
        proc.send_signal(signal.SIGTERM)  # the session has ended; the window is open
        assert proc.wait(timeout=30) == 0  # the session was complete: closing the look is fine
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
    (rec,) = tmp_path.glob("*.jsonl")
    assert load(rec).end.reason == "completed"  # type: ignore[union-attr]
