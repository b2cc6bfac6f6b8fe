"""The strap source and scan through bleak's real BlueZ backend against an emulated BlueZ.

Nothing in bleak is mocked: bleak talks D-Bus to tests/bluez_emulator.py on a private
dbus-daemon. Tests synchronise on events (what the source yielded, what the emulator
saw); timeouts only guard against hangs. Short scan / backoff / tick times come from
StrapConfig, so the suite stays fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bluez_emulator import (
    BATTERY_SERVICE,
    GUARD_S,
    HR_SERVICE,
    BluezEmulator,
    DbusDaemon,
    EmulatedPeripheral,
    run,
    uuid16,
)
from holdbeat.events import Battery, Connection, End, Hrm, SessionEvent, Tick
from holdbeat.hrs import encode_hrm
from holdbeat.sources.scan import scan_straps
from holdbeat.sources.strap import StrapSource
from holdbeat.sources.strap_errors import (
    AdapterOff,
    ConnectTimeout,
    NoAdapter,
    NoStrapFound,
    PermissionDenied,
    SeveralStraps,
    StrapBusy,
)
from holdbeat.sources.strap_policy import StrapConfig
from strap_config import ADDR, FAST

pytest_plugins = ["strap_fixtures"]


def config(**changes: object) -> StrapConfig:
    from dataclasses import replace

    return replace(FAST, **changes)  # type: ignore[arg-type]


class FakeClock:
    """The session clock, moved only by the test: event times are exact."""

    def __init__(self, t_s: float = 0.0) -> None:
        self.t_s = t_s

    def __call__(self) -> float:
        return self.t_s


class Drain:
    """Consumes a source in the background; tests wait on what has arrived."""

    def __init__(self, source: AsyncIterator[SessionEvent]) -> None:
        self.events: list[SessionEvent] = []
        self._cond = asyncio.Condition()
        self.task = asyncio.create_task(self._consume(source))

    async def _consume(self, source: AsyncIterator[SessionEvent]) -> None:
        try:
            async for ev in source:
                async with self._cond:
                    self.events.append(ev)
                    self._cond.notify_all()
        finally:
            async with self._cond:
                self._cond.notify_all()

    async def until(self, pred: Callable[[list[SessionEvent]], bool], what: str) -> None:
        async with asyncio.timeout(GUARD_S):
            async with self._cond:
                await self._cond.wait_for(lambda: pred(self.events) or self.task.done())
        if not pred(self.events):
            if self.task.done() and self.task.exception():
                raise AssertionError(f"source failed before {what}") from self.task.exception()
            raise AssertionError(f"source ended before {what}: {self.events}")

    def of(self, *kinds: type) -> list[SessionEvent]:
        return [e for e in self.events if isinstance(e, kinds)]

    def states(self) -> list[str]:
        return [e.state for e in self.events if isinstance(e, Connection)]

    def raws(self) -> list[bytes]:
        return [e.raw for e in self.events if isinstance(e, Hrm)]


def n_hrm(n: int) -> Callable[[list[SessionEvent]], bool]:
    return lambda evs: sum(isinstance(e, Hrm) for e in evs) >= n


def has_state(state: str, count: int = 1) -> Callable[[list[SessionEvent]], bool]:
    return lambda evs: sum(isinstance(e, Connection) and e.state == state for e in evs) >= count


# ------------------------------------------------------------------ scanning


def test_scan_finds_hr_straps_by_service_not_name_strongest_first(bluez: BluezEmulator) -> None:
    bluez.add_strap(address="C0:FF:EE:00:00:01", name="Polar H10 0A1B2C3D", rssi=-70)
    # a strap with no name at all: still a strap, found by its service
    bluez.add_strap(address="C0:FF:EE:00:00:02", name="", rssi=-48, uuids=(HR_SERVICE,))
    # loudest device around, named like a strap, but no Heart Rate Service: ignored
    bluez.add_device("11:22:33:44:55:66", "HRM-Pro Heart Band", [uuid16(0xFEE0)], rssi=-30)
    bluez.add_device("11:22:33:44:55:77", "Battery thing", [BATTERY_SERVICE], rssi=-35)

    found = run(scan_straps(0.2))

    assert [(s.address, s.name, s.rssi_dbm) for s in found] == [
        ("C0:FF:EE:00:00:02", "", -48),
        ("C0:FF:EE:00:00:01", "Polar H10 0A1B2C3D", -70),
    ]
    assert "SetDiscoveryFilter" in bluez.calls  # the OS filter was asked for 0x180D too
    assert bluez.calls.count("StartDiscovery") == bluez.calls.count("StopDiscovery") == 1


def test_scan_stops_early_when_the_wanted_strap_is_seen(bluez: BluezEmulator) -> None:
    bluez.add_strap()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        found = await scan_straps(GUARD_S, stop_when=lambda s: s.address == ADDR)
        assert [s.address for s in found] == [ADDR]
        return loop.time() - t0

    assert run(main()) < GUARD_S / 2  # did not scan the whole (guard-long) timeout


def test_scan_with_nothing_around_returns_empty(bluez: BluezEmulator) -> None:
    bluez.add_device("11:22:33:44:55:66", "Headphones", [uuid16(0x110B)])
    assert run(scan_straps(0.05)) == []


def test_no_bluetooth_adapter(make_bluez: Callable[..., BluezEmulator]) -> None:
    make_bluez(adapter=False)
    with pytest.raises(NoAdapter, match="No Bluetooth adapter found"):
        run(scan_straps(0.05))


def test_bluetoothd_not_running_means_no_adapter(system_bus: DbusDaemon) -> None:
    with pytest.raises(NoAdapter, match="bluetoothd is not running"):
        run(scan_straps(0.05))


def test_adapter_powered_off(make_bluez: Callable[..., BluezEmulator]) -> None:
    bz = make_bluez(powered=False)
    bz.add_strap()
    with pytest.raises(AdapterOff, match="switched off") as e:
        run(scan_straps(0.05))
    assert "bluetoothctl power on" in str(e.value)


def test_permission_denied_names_what_to_do_on_each_os(monkeypatch: pytest.MonkeyPatch) -> None:
    with DbusDaemon(deny_bluez=True) as bus, BluezEmulator(bus.address) as bz:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
        bz.add_strap()
        with pytest.raises(PermissionDenied) as e:
            run(scan_straps(0.05))
    msg = str(e.value)
    assert "AccessDenied" in msg
    for os_name in ("Linux:", "macOS:", "Windows:"):
        assert os_name in msg
    assert "bluetooth' group" in msg


# ------------------------------------------------------------------ connecting


def test_connect_reads_device_information_battery_and_location(strap: EmulatedPeripheral) -> None:
    async def main() -> None:
        async with StrapSource(FAST, FakeClock()) as src:
            d = src.device
            assert d is not None
            assert (d.name, d.address, d.source) == ("Polar H10 0A1B2C3D", ADDR, "strap")
            assert (d.battery_percent, d.body_location) == (87, "chest")
            assert (d.manufacturer, d.model, d.firmware) == ("Polar Electro Oy", "H10", "5.0.0")
            assert strap.connected

    run(main())
    assert not strap.connected


def test_strap_without_optional_characteristics(bluez: BluezEmulator) -> None:
    bluez.add_strap(name="CooSpo H6", battery=None, body_location=None, manufacturer=None,
                    model=None, firmware=None, uuids=(HR_SERVICE,))  # fmt: skip

    async def main() -> None:
        async with StrapSource(FAST, FakeClock()) as src:
            d = src.device
            assert d is not None and d.name == "CooSpo H6"
            assert (d.battery_percent, d.body_location, d.manufacturer, d.model, d.firmware) == (
                None,
                None,
                None,
                None,
                None,
            )

    run(main())


def test_only_strap_in_range_is_used_without_device(bluez: BluezEmulator) -> None:
    bluez.add_strap(name="TICKR 1234")
    bluez.add_device("11:22:33:44:55:66", "Band", [uuid16(0xFEE0)])

    async def main() -> str:
        async with StrapSource(config(device=None, scan_s=0.1), FakeClock()) as src:
            assert src.device is not None
            return src.device.name

    assert run(main()) == "TICKR 1234"


def test_several_straps_are_listed_and_device_picks_one(bluez: BluezEmulator) -> None:
    bluez.add_strap(address="C0:FF:EE:00:00:01", name="Polar H10 A", rssi=-60)
    bluez.add_strap(address="C0:FF:EE:00:00:02", name="HRM-Dual B", rssi=-50)
    with pytest.raises(SeveralStraps) as e:
        run(StrapSource(config(device=None, scan_s=0.1), FakeClock()).connect())
    msg = str(e.value)
    assert "--device" in msg and "Polar H10 A" in msg and "HRM-Dual B" in msg
    assert msg.index("HRM-Dual B") < msg.index("Polar H10 A")  # strongest first

    async def by_name() -> str:
        async with StrapSource(config(device="hrm-dual b"), FakeClock()) as src:
            assert src.device is not None
            return src.device.address

    assert run(by_name()) == "C0:FF:EE:00:00:02"


def test_nothing_found_gives_the_practical_hints(bluez: BluezEmulator) -> None:
    with pytest.raises(NoStrapFound) as e:
        run(StrapSource(config(device=None, scan_s=0.05), FakeClock()).connect())
    msg = str(e.value)
    assert "moisten" in msg and "worn" in msg and "phone" in msg


def test_named_strap_not_found_lists_what_is_there(strap: EmulatedPeripheral) -> None:
    with pytest.raises(NoStrapFound) as e:
        run(StrapSource(config(device="Garmin HRM", scan_s=0.05), FakeClock()).connect())
    assert "'Garmin HRM'" in str(e.value) and ADDR in str(e.value)


def test_strap_connected_elsewhere_is_reported_busy(strap: EmulatedPeripheral) -> None:
    strap.refuse_connections("org.bluez.Error.InProgress", "already connected elsewhere")
    with pytest.raises(StrapBusy) as e:
        run(StrapSource(FAST, FakeClock()).connect())
    msg = str(e.value)
    assert "already connected elsewhere" in msg and "another app" in msg
    assert strap.count("Connect") == 1


def test_connection_timeout_is_a_clear_error(strap: EmulatedPeripheral) -> None:
    strap.hang_connections()
    with pytest.raises(ConnectTimeout, match=r"timed out after 0\.2 s"):
        run(StrapSource(config(connect_timeout_s=0.2), FakeClock()).connect())
    # bleak cancelled the pending BlueZ connect on the way out
    assert strap.count("Disconnect") >= 1 and not strap.connected


# ------------------------------------------------------------------ streaming


PACKETS = [
    encode_hrm(72, [833.0], contact=True),  # uint8 HR, one RR
    encode_hrm(71, [], contact=True),  # HR only
    encode_hrm(300, [200.0, 201.0, 202.0], energy_kj=12),  # uint16 HR, energy, 3 RR
    bytes.fromhex("10"),  # malformed: flags only. Must still reach the recorder as sent.
    encode_hrm(70, [850.0, 845.0], contact=True),
]


def test_notifications_arrive_byte_exact_with_session_times(strap: EmulatedPeripheral) -> None:
    clock = FakeClock(0.0)

    async def main() -> Drain:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            for i, raw in enumerate(PACKETS):
                clock.t_s = 1.0 + i + 1e-7 * (i + 1)  # below a microsecond: quantised away
                strap.notify(raw)
                await drain.until(n_hrm(i + 1), f"packet {i}")
            drain.task.cancel()
            return drain

    drain = run(main())
    hrms = drain.of(Hrm)
    assert [h.raw for h in hrms] == PACKETS
    assert [h.t_s for h in hrms] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert drain.events[0] == Connection(0.0, "connected", f"Polar H10 0A1B2C3D ({ADDR})")
    assert strap.sent == PACKETS


def test_battery_notifications_become_battery_events(strap: EmulatedPeripheral) -> None:
    clock = FakeClock(3.5)

    async def main() -> list[SessionEvent]:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            await strap.emu.until(lambda: strap.notifying(uuid16(0x2A19)), what="battery notify")
            strap.set_battery(64)
            await drain.until(lambda evs: any(isinstance(e, Battery) for e in evs), "battery")
            drain.task.cancel()
            return drain.of(Battery)

    assert run(main()) == [Battery(3.5, 64)]


def test_contact_loss_and_return_are_reported_on_transitions(strap: EmulatedPeripheral) -> None:
    clock = FakeClock()
    seq = [True, True, False, False, True, None, True]

    async def main() -> Drain:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            for i, contact in enumerate(seq):
                clock.t_s = float(i + 1)
                strap.notify(encode_hrm(70, [857.0], contact=contact))
                await drain.until(n_hrm(i + 1), f"packet {i}")
            drain.task.cancel()
            return drain

    drain = run(main())
    contact_events = [e for e in drain.of(Connection) if e.state.startswith("contact")]
    assert contact_events == [Connection(3.0, "contact_lost"), Connection(5.0, "contact_restored")]
    # the state change comes just before the packet that shows it
    i = drain.events.index(Connection(3.0, "contact_lost"))
    assert isinstance(drain.events[i + 1], Hrm) and drain.events[i + 1].t_s == 3.0


def test_ticks_keep_the_clock_running_while_nothing_arrives(strap: EmulatedPeripheral) -> None:
    clock = FakeClock(0.0)

    async def main() -> list[SessionEvent]:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            clock.t_s = 1.25
            await drain.until(lambda evs: any(isinstance(e, Tick) for e in evs), "a tick")
            drain.task.cancel()
            return drain.of(Tick)

    ticks = run(main())
    assert ticks[0] == Tick(1.25) and len(ticks) == 1  # no repeated ticks at a frozen time


# ------------------------------------------------------------------ link loss


def test_drop_is_a_gap_and_reconnect_resumes_without_duplicates(strap: EmulatedPeripheral) -> None:
    clock = FakeClock(0.0)
    before = [encode_hrm(70 + i, [850.0 + i], contact=True) for i in range(3)]
    after = [encode_hrm(80 + i, [750.0 + i], contact=True) for i in range(3)]

    async def main() -> Drain:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            for i, raw in enumerate(before):
                clock.t_s = 1.0 + i
                strap.notify(raw)
                await drain.until(n_hrm(i + 1), "packets before the drop")
            clock.t_s = 3.5
            strap.drop_link(advertise=False)  # out of range
            await drain.until(has_state("lost"), "lost")
            clock.t_s = 6.0  # time passes while away: ticks carry it
            await drain.until(
                lambda evs: any(isinstance(e, Tick) and e.t_s == 6.0 for e in evs), "tick"
            )
            await strap.emu.until(lambda: strap.emu.discoveries >= 3, what="reconnect scans")
            clock.t_s = 8.0
            strap.start_advertising()  # back in range
            await drain.until(has_state("restored"), "restored")
            await strap.until_notifying()
            for i, raw in enumerate(after):
                clock.t_s = 9.0 + i
                strap.notify(raw)
                await drain.until(n_hrm(len(before) + i + 1), "packets after")
            assert src.reconnects == 1
            drain.task.cancel()
            return drain

    drain = run(main())
    assert drain.raws() == before + after  # nothing lost while linked, nothing duplicated
    lost = next(e for e in drain.of(Connection) if e.state == "lost")
    restored = next(e for e in drain.of(Connection) if e.state == "restored")
    assert lost.t_s == 3.5 and restored.t_s == 8.0 and restored.detail == "after 4.5 s"
    i_lost, i_restored = drain.events.index(lost), drain.events.index(restored)
    gap = drain.events[i_lost + 1 : i_restored]
    assert gap and all(isinstance(e, Tick) for e in gap)  # only time passes in the gap
    assert all(3.5 <= e.t_s <= 8.0 for e in gap)
    assert strap.connects == 2
    times = [e.t_s for e in drain.events]
    assert times == sorted(times)


def test_strap_that_never_returns_ends_the_stream_with_a_clear_reason(
    strap: EmulatedPeripheral,
) -> None:
    clock = FakeClock(0.0)

    async def main() -> Drain:
        async with StrapSource(config(reconnect_deadline_s=300.0), clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            clock.t_s = 10.0
            strap.drop_link(advertise=False)
            await drain.until(has_state("lost"), "lost")
            await strap.emu.until(lambda: strap.emu.discoveries >= 3, what="reconnect scans")
            clock.t_s = 309.9
            await drain.until(
                lambda evs: any(isinstance(e, Tick) and e.t_s == 309.9 for e in evs), "tick"
            )
            assert not drain.task.done()  # still trying just before the deadline
            clock.t_s = 310.0
            await drain.until(lambda evs: any(isinstance(e, End) for e in evs), "end")
            await drain.task
            return drain

    drain = run(main())
    end = drain.events[-1]
    assert isinstance(end, End) and end.t_s == 310.0
    assert end.reason == "strap lost: not back within 5 min (last: strap not in range)"
    assert strap.connects == 1 and not strap.connected


def test_reconnect_keeps_trying_while_the_strap_refuses(strap: EmulatedPeripheral) -> None:
    clock = FakeClock(0.0)

    async def main() -> Drain:
        async with StrapSource(FAST, clock) as src:
            drain = Drain(src)
            await strap.until_notifying()
            strap.refuse_connections("org.bluez.Error.Failed", "le-connection-abort-by-remote")
            strap.drop_link(advertise=True)
            await drain.until(has_state("lost"), "lost")
            await strap.emu.until(lambda: strap.count("Connect") >= 3, what="refused retries")
            assert "refused the connection" in src.last_error
            strap.accept_connections()
            await drain.until(has_state("restored"), "restored")
            await strap.until_notifying()
            strap.notify(encode_hrm(66, [900.0]))
            await drain.until(n_hrm(1), "packet after")
            drain.task.cancel()
            return drain

    drain = run(main())
    assert drain.states() == ["connected", "lost", "restored"]


# ------------------------------------------------------------------ closing


def test_close_stops_notifications_and_disconnects(strap: EmulatedPeripheral) -> None:
    async def main() -> None:
        src = StrapSource(FAST, FakeClock())
        await src.connect()
        drain = Drain(src)
        await strap.until_notifying()
        await strap.emu.until(lambda: strap.notifying(uuid16(0x2A19)), what="battery notify")
        await src.aclose()
        await src.aclose()  # idempotent
        await asyncio.wait_for(drain.task, GUARD_S)

    run(main())
    assert strap.count("StopNotify 2a37") == 1 and strap.count("StopNotify 2a19") == 1
    assert strap.calls[-1] == "Disconnect" and strap.notifying_at_disconnect == []
    assert not strap.connected


def test_cancelled_consumer_still_disconnects_cleanly(strap: EmulatedPeripheral) -> None:
    """What Ctrl-C does: the consuming task is cancelled, the context manager cleans up."""

    async def main() -> None:
        async with StrapSource(FAST, FakeClock()) as src:
            drain = Drain(src)
            await strap.until_notifying()
            drain.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await drain.task

    run(main())
    assert strap.count("StopNotify 2a37") == 1 and strap.count("Disconnect") == 1
    assert strap.calls[-1] == "Disconnect" and strap.notifying_at_disconnect == []
    assert not strap.connected


def test_close_during_reconnect_cancels_it(strap: EmulatedPeripheral) -> None:
    async def main() -> None:
        async with StrapSource(FAST, FakeClock()) as src:
            drain = Drain(src)
            await strap.until_notifying()
            strap.hang_connections()
            strap.drop_link(advertise=True)
            await drain.until(has_state("lost"), "lost")
            await strap.emu.until(lambda: strap.count("Connect") >= 2, what="a pending connect")
        # leaving the block closed the source while a connect was pending
        await asyncio.wait_for(drain.task, GUARD_S)

    run(main())
    assert not strap.connected and strap.count("Disconnect") >= 1
