"""A real `holdbeat demo` process killed mid-session never loses what it flushed.

SIGKILL: the file stays loadable and its events are an exact prefix of an uninterrupted
run with the same seed (at most the last line cut). SIGINT / SIGTERM: the recording ends
cleanly with an `end` event. Synchronised on the process's output, never on sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import as_foreground_job, run_cli

from holdbeat.recording import load

ARGS = ["demo", "--headless", "--protocol", "single", "--seed", "4"]


def start(out: Path, speed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "holdbeat", *ARGS, "--speed", speed, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        preexec_fn=as_foreground_job,
    )


def wait_lines(proc: subprocess.Popen, n: int) -> list[str]:
    assert proc.stdout is not None
    lines = []
    for _ in range(n):
        line = proc.stdout.readline()
        if not line:
            pytest.fail("demo ended before it could be interrupted")
        lines.append(line)
    return lines


def events(path: Path) -> list[str]:
    return path.read_text().split("\n")[1:]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("ref")
    assert run_cli(*ARGS, "--speed", "max", "--out", str(out)).returncode == 0
    (path,) = out.glob("*.jsonl")
    lines = [x for x in events(path) if x]
    assert json.loads(lines[-1])["type"] == "end"
    return lines[:-1]  # everything but `end`


def test_sigkill_at_random_moments_loses_nothing_flushed(
    tmp_path: Path, reference: list[str]
) -> None:
    rng = np.random.default_rng(2026)
    for i, k in enumerate(rng.integers(3, 22, size=6)):
        out = tmp_path / f"run{i}"
        proc = start(out, "300")
        shown = wait_lines(proc, int(k))
        proc.kill()
        proc.wait(timeout=30)
        (path,) = out.glob("*.jsonl")
        rec = load(path)  # loadable, whatever the moment
        got = events(path)
        complete, last = got[:-1], got[-1]  # text after the final newline (normally "")
        assert complete == reference[: len(complete)], f"run {i}: events differ from the reference"
        assert last == "" or reference[len(complete)].startswith(last)  # at most the last line cut
        # the recorder is the first sink: whatever the console showed is already on disk
        phases_shown = sum("── " in x for x in shown)
        phases_saved = sum('"type":"phase"' in x for x in complete)
        assert phases_saved >= phases_shown >= 1
        assert rec.end is None and any("did not finish cleanly" in w for w in rec.warnings)
        assert (path.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    "sig,reason,code",
    [(signal.SIGINT, "interrupted", 130), (signal.SIGTERM, "terminated (SIGTERM)", 143)],
)
def test_sigint_sigterm_end_cleanly(
    tmp_path: Path, reference: list[str], sig: int, reason: str, code: int
) -> None:
    proc = start(tmp_path, "100")
    wait_lines(proc, 6)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == code
    (path,) = tmp_path.glob("*.jsonl")
    rec = load(path)
    assert rec.warnings == []
    assert rec.end is not None and rec.end.reason == reason
    body = [x for x in events(path) if x][:-1]
    assert body == reference[: len(body)]
