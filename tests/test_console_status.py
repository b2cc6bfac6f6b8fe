"""The console view's status line, from hand-made events: the phase and its time left, HR
(the rolling mean, or the strap's own HR field before any beat), the last RR intervals,
ln RMSSD and the connection state, as a person reads them in a terminal."""

from __future__ import annotations

import io

from holdbeat.events import Connection, Device, End, Hrm, PhaseStart, Tick
from holdbeat.hrs import encode_hrm
from holdbeat.process import Processor
from holdbeat.recording_writer import new_header
from holdbeat.session import Phase, Protocol
from holdbeat.sinks.console import ConsoleSink

PROTOCOL = Protocol(
    "one-hold", (Phase("calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self"),)
)
HOLD = PhaseStart(0.0, 0, "calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self")


def started() -> tuple[ConsoleSink, io.StringIO]:
    out = io.StringIO()
    sink = ConsoleSink(out, every_s=1.0)
    sink.start(
        new_header(Device(name="strap", address="AA", source="ble"), PROTOCOL.to_dict()), PROTOCOL
    )
    sink.handle(HOLD, None)
    return sink, out


def status_lines(out: io.StringIO) -> list[str]:
    return [ln for ln in out.getvalue().splitlines() if " HR " in ln and " bpm  RR " in ln]


def test_strap_hr_field_and_lost_connection_before_any_beat():
    sink, out = started()
    proc = Processor(60.0)
    sink.handle(Connection(1.0, "lost", "timeout"), None)
    ev = Hrm(2.0, encode_hrm(72, [], contact=True))
    sink.handle(ev, proc.on_hrm(ev))
    phase = "calm hold [soft] 04:58 left"
    assert status_lines(out) == [f"00:02  {phase:<34} HR  72 bpm  RR {'—':<17} ln RMSSD —  [lost]"]
    sink.handle(Connection(2.5, "restored"), None)
    sink.handle(Tick(3.0), None)
    assert status_lines(out)[-1] == (
        f"00:03  {'calm hold [soft] 04:57 left':<34} HR  72 bpm  RR {'—':<17} ln RMSSD —"
    )


def test_rolling_hr_last_rr_and_ln_rmssd_from_beats():
    """RR 937.5 / 1062.5 ms in turn (exact in 1/1024 s): mean RR 1000 ms -> 60 bpm; every
    successive difference 125 ms -> ln RMSSD ln(125) = 4.83."""
    sink, out = started()
    proc = Processor(60.0)
    t = 0.0
    for i in range(90):
        rr = 937.5 if i % 2 == 0 else 1062.5
        t += rr / 1000.0
        ev = Hrm(t, encode_hrm(60, [rr], contact=True))
        sink.handle(ev, proc.on_hrm(ev))
    assert t == 90.0
    sink.handle(Connection(90.2, "contact_lost"), None)
    sink.handle(Tick(91.0), None)
    want = f"01:31  {'calm hold [soft] 03:29 left':<34} HR  60 bpm  RR {'1062 ms':<17}"
    assert status_lines(out)[-1] == f"{want} ln RMSSD 4.83 ln(ms)  [contact_lost]"
    sink.finish(End(92.0))
    assert out.getvalue().splitlines()[-1] == "01:32  ── session ended: completed"
