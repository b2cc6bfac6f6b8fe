"""Small builders shared by tests: simulated sessions recorded to real files."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from holdbeat.events import Device
from holdbeat.pipeline import from_iterable, run_session
from holdbeat.protocols import load_protocol
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_ACTION_S, Protocol, beliefs_of
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.simulator import simulate


def sim_header(protocol: Protocol, seed: int = 0):
    return new_header(
        Device(name="sim", address="SIM", source="simulator"),
        protocol=protocol.to_dict(),
        beliefs=beliefs_of(protocol),
        settings={"window_s": 60.0, "seed": seed},
    )


def record_simulated(
    out_dir: Path,
    protocol: str | Protocol = "single",
    cfg: SimConfig | None = None,
    extra_sinks: list | None = None,
) -> Path:
    """Run the simulator through the real pipeline at max speed into a real file."""
    proto = load_protocol(protocol) if isinstance(protocol, str) else protocol
    cfg = cfg or SimConfig()
    rec = RecorderSink(out_dir)
    asyncio.run(
        run_session(
            from_iterable(simulate(proto, cfg)),
            [rec, *(extra_sinks or [])],
            sim_header(proto, cfg.seed),
            proto,
            open_phase_s=DEFAULT_ACTION_S,
        )
    )
    assert rec.path is not None
    return rec.path


def as_foreground_job() -> None:
    """preexec_fn: Ctrl-C reaches the child as it would a command typed in a terminal.

    A shell starts background jobs with SIGINT ignored, and `nohup` ignores SIGHUP; Python,
    asyncio and holdbeat then leave them ignored (as they should). A test run launched that
    way must still test Ctrl-C and a closing terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_cli(*args: str, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess:
    """`holdbeat ARGS` as a real process (this interpreter), output captured as text.

    The environment is os.environ as the tests set it: something in the test process
    (readline, once loaded) sets COLUMNS=80 in the C environment behind os.environ's back,
    and output fitted to 80 columns is not what most tests read."""
    kw.setdefault("env", dict(os.environ))
    return subprocess.run(
        [sys.executable, "-m", "holdbeat", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,  # type: ignore[arg-type]
    )


def demo_max(out: Path | str, *extra: str, **kw: object) -> subprocess.CompletedProcess:
    """A headless demo at max speed recording into `out`."""
    return run_cli("demo", "--headless", "--speed", "max", "--out", str(out), *extra, **kw)


def aged_file(folder: Path, name: str, age_s: float, now_s: float, mode: int = 0o600) -> Path:
    """A small file in `folder` last written `age_s` before `now_s`, with `mode` (the cache
    pruning tests)."""
    p = folder / name
    p.write_bytes(b"{}")
    p.chmod(mode)
    os.utime(p, (now_s - age_s, now_s - age_s))
    return p
