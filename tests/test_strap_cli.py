"""`holdbeat scan` and `holdbeat hold` end to end against the emulated BlueZ, through bleak.

`scan` and most `hold` runs go through `holdbeat.cli.main` in this process (hold in a
worker thread, since it runs its own event loop until the session ends). The session
clock of those `hold` runs is a fake the test moves, and a spy sink reports what the
pipeline saw, so every step waits on an event, never on time. Ctrl-C is tested on a
real subprocess with a real SIGINT.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from tests.helpers import as_foreground_job

from bluez_emulator import (
    GUARD_S,
    BluezEmulator,
    DbusDaemon,
    EmulatedPeripheral,
    uuid16,
)
from holdbeat import cli
from holdbeat.commands import hold as hold_cmd
from holdbeat.events import Connection, End, Hrm, PhaseStart, SessionEvent, Tick
from holdbeat.hrs import encode_hrm
from holdbeat.recording import load

pytest_plugins = ["strap_fixtures"]

from strap_config import ADDR  # noqa: E402

PROTOCOL = """
name = "short"

[[phase]]
kind = "baseline"
duration = 2

[[phase]]
kind = "hold"
mode = "soft"
duration = 2
belief = "I acted, and it counts."

[[phase]]
kind = "recovery"
duration = 2
"""


# ------------------------------------------------------------------ scan


def test_scan_lists_hr_straps_strongest_first(
    bluez: BluezEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    bluez.add_strap(address="C0:FF:EE:00:00:01", name="Polar H10 0A1B2C3D", rssi=-71)
    bluez.add_strap(address="C0:FF:EE:00:00:02", name="TICKR 7F00", rssi=-52)
    bluez.add_device("11:22:33:44:55:66", "Mi Smart Band", [uuid16(0xFEE0)], rssi=-30)

    code = cli.main(["scan", "--timeout", "0.1"])

    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines() == [
        "    RSSI  ADDRESS            NAME",
        " -52 dBm  C0:FF:EE:00:00:02  TICKR 7F00",
        " -71 dBm  C0:FF:EE:00:00:01  Polar H10 0A1B2C3D",
    ]
    assert "Mi Smart Band" not in out + err
    assert "holdbeat hold --device C0:FF:EE:00:00:02" in err


def test_scan_with_no_strap_exits_3_with_hints(
    bluez: BluezEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["scan", "--timeout", "0.05"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "No heart-rate strap found" in err
    assert "moisten the electrodes" in err and "only advertise while worn" in err
    assert "phone or watch app" in err


def test_scan_without_permission_exits_3_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with DbusDaemon(deny_bluez=True) as bus, BluezEmulator(bus.address):
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
        assert cli.main(["scan", "--timeout", "0.05"]) == 3
    err = capsys.readouterr().err
    assert "Permission to use Bluetooth was denied" in err
    assert "Linux:" in err and "macOS:" in err and "Windows:" in err


def test_scan_with_bluetooth_off_exits_3(
    make_bluez: Callable[..., BluezEmulator], capsys: pytest.CaptureFixture[str]
) -> None:
    make_bluez(powered=False)
    assert cli.main(["scan", "--timeout", "0.05"]) == 3
    assert "Bluetooth is switched off" in capsys.readouterr().err


# ------------------------------------------------------------------ hold, in process


class FakeSessionClock:
    speed = 1.0

    def __init__(self) -> None:
        self.t_s = 0.0

    def now_s(self) -> float:
        return round(self.t_s, 6)


class Spy:
    """A sink that lets the test thread wait for what the pipeline has seen."""

    def __init__(self) -> None:
        self.events: list[SessionEvent] = []
        self._cond = threading.Condition()

    def start(self, header: object, protocol: object) -> None:
        pass

    def handle(self, ev: SessionEvent, processed: object) -> None:
        with self._cond:
            self.events.append(ev)
            self._cond.notify_all()

    def finish(self, end: End) -> None:
        with self._cond:
            self.events.append(end)
            self._cond.notify_all()

    def wait(self, pred: Callable[[list[SessionEvent]], bool], what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: pred(self.events), GUARD_S):
                raise AssertionError(f"timed out waiting for {what}: {self.events[-5:]}")

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)


class HoldRun:
    """`holdbeat hold ...` via cli.main on a worker thread, with a fake clock and a spy."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
        self.clock = FakeSessionClock()
        self.spy = Spy()
        self.code: int | None = None
        self.error: BaseException | None = None
        monkeypatch.setattr(hold_cmd, "SessionClock", lambda *a, **k: self.clock)
        fast = hold_cmd.strap_config
        monkeypatch.setattr(
            hold_cmd,
            "strap_config",
            lambda args: replace(
                fast(args),
                tick_s=0.02,
                reconnect_scan_s=0.05,
                backoff_initial_s=0.01,
                backoff_max_s=0.05,
            ),
        )
        build = hold_cmd.build_plan

        def build_with_spy(*a: object, **k: object):
            plan = build(*a, **k)  # type: ignore[arg-type]
            plan.extra_sinks.append(self.spy)
            return plan

        monkeypatch.setattr(hold_cmd, "build_plan", build_with_spy)
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no keys typed
        self.thread = threading.Thread(target=self._main, args=(argv,), daemon=True)
        self.thread.start()

    def _main(self, argv: list[str]) -> None:
        try:
            self.code = cli.main(argv)
        except BaseException as e:  # surfaced by join()
            self.error = e

    def join(self) -> int:
        self.thread.join(GUARD_S)
        assert not self.thread.is_alive(), "holdbeat hold did not finish"
        if self.error is not None:
            raise self.error
        assert self.code is not None
        return self.code


def hold_argv(tmp_path: Path, *extra: str) -> list[str]:
    proto = tmp_path / "short.toml"
    proto.write_text(PROTOCOL)
    return [
        "hold",
        "--headless",
        "--device",
        ADDR,
        "--protocol",
        str(proto),
        "--out",
        str(tmp_path / "rec"),
        "--scan-timeout",
        "5",
        *extra,
    ]


def recording_in(tmp_path: Path) -> Path:
    files = list((tmp_path / "rec").glob("*.jsonl"))
    assert len(files) == 1, files
    return files[0]


def test_hold_records_a_session_through_a_gap_to_the_end(
    strap: EmulatedPeripheral, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [encode_hrm(70, [857.0], contact=True), encode_hrm(72, [833.0, 830.0], contact=True)]
    after = [encode_hrm(64, [937.0], contact=True), bytes.fromhex("0648")]  # no RR: HR only
    run = HoldRun(monkeypatch, hold_argv(tmp_path))
    clock, spy = run.clock, run.spy

    strap.wait_notifying()
    for i, raw in enumerate(before):
        clock.t_s = 0.5 + i * 0.5
        strap.notify(raw)
        spy.wait(lambda evs, n=i + 1: sum(isinstance(e, Hrm) for e in evs) >= n, "packets")
    clock.t_s = 1.5
    strap.drop_link(advertise=False)
    spy.wait(lambda evs: Connection(1.5, "lost", "link dropped; reconnecting") in evs, "lost")
    clock.t_s = 2.5  # the hold phase starts while the strap is away
    spy.wait(lambda evs: any(isinstance(e, PhaseStart) and e.index == 1 for e in evs), "phase")
    strap.emu.wait_for(lambda: strap.emu.discoveries >= 3, what="reconnect scans")
    clock.t_s = 3.0
    strap.start_advertising()
    spy.wait(lambda evs: any(getattr(e, "state", "") == "restored" for e in evs), "restored")
    strap.wait_notifying()
    for i, raw in enumerate(after):
        clock.t_s = 3.5 + i * 0.5
        strap.notify(raw)
        n = len(before) + i + 1
        spy.wait(lambda evs, n=n: spy.count(Hrm) >= n, "packets after")
    clock.t_s = 6.5  # past the protocol's end: the next tick ends the session
    assert run.join() == 0

    rec = load(recording_in(tmp_path))
    assert oct(recording_in(tmp_path).stat().st_mode & 0o777) == "0o600"
    dev = rec.header.device
    assert (dev.name, dev.address, dev.source) == ("Polar H10 0A1B2C3D", ADDR, "strap")
    assert (dev.battery_percent, dev.body_location, dev.model) == (87, "chest", "H10")
    assert [e.raw for e in rec.events if isinstance(e, Hrm)] == before + after
    assert [e.t_s for e in rec.events if isinstance(e, Hrm)] == [0.5, 1.0, 3.5, 4.0]
    assert [(c.t_s, c.state) for c in rec.connections] == [
        (0.0, "connected"),
        (1.5, "lost"),
        (3.0, "restored"),
    ]
    assert [p.kind for p in rec.phases] == ["baseline", "hold", "recovery"]
    assert rec.phases[1].start_s == 2.0  # phases advanced on the clock during the gap
    assert rec.end is not None and (rec.end.t_s, rec.end.reason) == (6.0, "completed")
    # beats: 1 + 2 before the drop, 1 after; the one after starts a new segment
    assert rec.gap_before.tolist() == [True, False, False, True]
    assert not any(1.5 < t < 3.0 for t in rec.beat_t_s)  # nothing invented in the gap
    assert not any(isinstance(e, Tick) for e in rec.events)  # ticks are never recorded
    # clean shutdown: notifications stopped, then disconnected
    assert strap.calls[-1] == "Disconnect" and strap.notifying_at_disconnect == []
    assert "StopNotify 2a37" in strap.calls
    assert not strap.connected


def test_hold_gives_up_after_the_reconnect_deadline(
    strap: EmulatedPeripheral,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proto = tmp_path / "long.toml"
    proto.write_text('name = "long"\n[[phase]]\nkind = "baseline"\nduration = "1h"\n')
    argv = hold_argv(tmp_path, "--reconnect-deadline", "120")
    argv[argv.index("--protocol") + 1] = str(proto)
    run = HoldRun(monkeypatch, argv)
    clock, spy = run.clock, run.spy
    strap.wait_notifying()
    clock.t_s = 1.0
    strap.notify(encode_hrm(70, [857.0]))
    spy.wait(lambda evs: spy.count(Hrm) == 1, "a packet")
    clock.t_s = 10.0
    strap.drop_link(advertise=False)
    spy.wait(lambda evs: any(getattr(e, "state", "") == "lost" for e in evs), "lost")
    strap.emu.wait_for(lambda: strap.emu.discoveries >= 3, what="reconnect scans")
    clock.t_s = 129.0
    spy.wait(lambda evs: Tick(129.0) in evs, "a tick just before the deadline")
    assert not any(isinstance(e, End) for e in spy.events)
    clock.t_s = 130.0
    assert run.join() == 3

    rec = load(recording_in(tmp_path))
    assert rec.end is not None and rec.end.t_s == 130.0
    assert rec.end.reason == "strap lost: not back within 2 min (last: strap not in range)"
    assert [e.raw for e in rec.events if isinstance(e, Hrm)] == [encode_hrm(70, [857.0])]
    err = capsys.readouterr().err
    assert "the session ended early: strap lost: not back within 2 min" in err
    assert "Everything up to then is saved" in err
    assert not strap.connected


def test_hold_on_a_busy_strap_exits_3_and_records_nothing(
    strap: EmulatedPeripheral, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strap.refuse_connections("org.bluez.Error.InProgress", "already connected elsewhere")
    assert cli.main(hold_argv(tmp_path)) == 3
    err = capsys.readouterr().err
    assert "refused the connection" in err and "another app or device" in err
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


def test_hold_with_two_straps_and_no_device_asks_to_choose(
    bluez: BluezEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bluez.add_strap(address="C0:FF:EE:00:00:01", name="Polar H10 A")
    bluez.add_strap(address="C0:FF:EE:00:00:02", name="Polar H10 B")
    argv = hold_argv(tmp_path)
    i = argv.index("--device")
    del argv[i : i + 2]
    argv[argv.index("--scan-timeout") + 1] = "0.1"
    assert cli.main(argv) == 3
    err = capsys.readouterr().err
    assert "choose one with --device" in err and "Polar H10 A" in err and "Polar H10 B" in err


# ------------------------------------------------------------------ hold, Ctrl-C


def test_ctrl_c_stops_notifications_disconnects_and_ends_the_recording(
    strap: EmulatedPeripheral, system_bus: DbusDaemon, tmp_path: Path
) -> None:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address)
    argv = [sys.executable, "-m", "holdbeat", *hold_argv(tmp_path)]
    argv[argv.index("--protocol") + 1] = "single"  # 11 minutes: only Ctrl-C ends it
    proc = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=as_foreground_job,
    )
    try:
        strap.wait_notifying(timeout=30)  # the subprocess imports numpy, bleak...
        sent = [encode_hrm(70 + i, [850.0 + i]) for i in range(3)]
        for raw in sent:
            strap.notify(raw)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()
    rec = load(recording_in(tmp_path))
    raws = [e.raw for e in rec.events if isinstance(e, Hrm)]
    assert raws == sent[: len(raws)]  # what arrived before Ctrl-C, in order, exact
    assert rec.end is not None and rec.end.reason == "interrupted"
    assert rec.events[-1] == rec.end
    # Ctrl-C may land before the battery subscription: whatever was started is stopped
    assert strap.calls[-1] == "Disconnect" and strap.notifying_at_disconnect == []
    assert "StopNotify 2a37" in strap.calls
    assert not strap.connected


def test_hold_with_the_live_window_connects_in_the_qt_loop(
    strap: EmulatedPeripheral, system_bus: DbusDaemon, tmp_path: Path
) -> None:
    """The default (windowed) path: bleak runs on qasync's loop; --screenshot closes it."""
    proto = tmp_path / "one.toml"
    proto.write_text('name = "one"\n[[phase]]\nkind = "baseline"\nduration = 1\n')
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address, QT_QPA_PLATFORM="offscreen")
    shot = tmp_path / "shot.png"
    argv = [sys.executable, "-m", "holdbeat", *hold_argv(tmp_path, "--screenshot", str(shot))]
    argv.remove("--headless")
    argv[argv.index("--protocol") + 1] = str(proto)
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        strap.wait_notifying(timeout=30)
        # force: under heavy load the 1 s session may already be over (then nobody listens)
        strap.notify(encode_hrm(70, [857.0], contact=True), force=True)
        _, err = proc.communicate(timeout=30)  # the 1 s protocol ends the session
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    rec = load(recording_in(tmp_path))
    assert rec.header.device.name == "Polar H10 0A1B2C3D"
    assert rec.end is not None and rec.end.reason == "completed"
    assert [e.raw for e in rec.events if isinstance(e, Hrm)] in (
        [],
        [encode_hrm(70, [857.0], contact=True)],
    )
    assert shot.stat().st_size > 0
    assert strap.calls[-1] == "Disconnect" and strap.notifying_at_disconnect == []
