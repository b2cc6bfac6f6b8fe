"""An emulated BlueZ with emulated heart-rate straps, for testing through bleak's real backend.

bleak's BlueZ backend only talks D-Bus. So a private `dbus-daemon` (Debian package
`dbus`) stands in for the system bus (`DBUS_SYSTEM_BUS_ADDRESS`), and this module
publishes a minimal `org.bluez` on it with dbus-fast: an `Adapter1`, `Device1` objects
that appear (InterfacesAdded) only once discovery starts, and, after `Connect`, the GATT
services a strap has (Heart Rate 0x180D, Battery 0x180F, Device Information 0x180A).
A notification is a PropertiesChanged of a characteristic's `Value`, as in BlueZ.
No bluetoothd, kernel module, root or hardware is needed.

The emulator runs on its own thread and event loop, so the code under test may run
anywhere (an asyncio test, `asyncio.run` inside a CLI command, a subprocess). Every
public method is thread-safe and returns once the emulator has acted (its D-Bus
messages are sent). Tests synchronise with `wait_for(...)` / `until(...)` on emulator
state; timeouts there only guard against hangs.

    with DbusDaemon() as bus, BluezEmulator(bus.address) as bz:
        strap = bz.add_strap(name="Polar H10 0A1B2C3D", battery=87)
        ...code under test connects...
        strap.wait_notifying()
        strap.notify(bytes.fromhex("1648d803"))
        strap.drop_link(advertise=False)      # the link drops; strap out of range
        strap.start_advertising()             # back in range

Faults: `refuse_connections(...)` (e.g. "already connected elsewhere"),
`hang_connections()` (connect never completes), `stop_advertising()`,
`set_battery(...)`, `notify(any bytes)`, `BluezEmulator(adapter=False)` (no adapter),
`set_powered(False)`, `DbusDaemon(deny_bluez=True)` (the bus policy refuses org.bluez:
a real AccessDenied, as for a user without Bluetooth permission).

Facts learned the hard way: never assign `self.name` on a dbus-fast ServiceInterface
(it is the interface name); bleak runs `bluetoothctl --version` once and only warns when
it is missing; python-dbusmock's bluez5 template has no GATT.
"""

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from dbus_fast import DBusError, NameFlag, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusOptions = Annotated[dict[str, Any], DBusSignature("a{sv}")]

BLUEZ = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
GUARD_S = 10.0  # failure guard for waits; never reached when things work
T = TypeVar("T")


def uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HR_SERVICE = uuid16(0x180D)
HR_MEASUREMENT = uuid16(0x2A37)
BODY_SENSOR_LOCATION = uuid16(0x2A38)
BATTERY_SERVICE = uuid16(0x180F)
BATTERY_LEVEL = uuid16(0x2A19)
DEVICE_INFO_SERVICE = uuid16(0x180A)
MANUFACTURER_NAME = uuid16(0x2A29)
MODEL_NUMBER = uuid16(0x2A24)
FIRMWARE_REVISION = uuid16(0x2A26)


class EmulatorError(AssertionError):
    """A test drove the emulator wrongly, or waited in vain (an AssertionError: a test failure)."""


# ------------------------------------------------------------------------- dbus-daemon


class DbusDaemon:
    """A private dbus-daemon for this user, standing in for the system bus.

    `deny_bluez=True` adds a bus policy refusing messages to org.bluez, which is what
    a user without Bluetooth permission meets on a real system bus.
    """

    def __init__(self, deny_bluez: bool = False) -> None:
        self.deny_bluez = deny_bluez
        self.address = ""
        self._dir = ""
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> "DbusDaemon":
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise RuntimeError("dbus-daemon not found: install the Debian package 'dbus'")
        self._dir = tempfile.mkdtemp(prefix="hb-dbus-")  # short: unix socket paths are limited
        deny = '<deny send_destination="org.bluez"/>' if self.deny_bluez else ""
        conf = os.path.join(self._dir, "bus.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(
                '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
                ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                "<busconfig>\n"
                "  <type>session</type>\n"
                f"  <listen>unix:dir={self._dir}</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                '  <policy context="default">\n'
                '    <allow send_destination="*" eavesdrop="true"/>\n'
                '    <allow eavesdrop="true"/>\n'
                '    <allow own="*"/>\n'
                f"    {deny}\n"
                "  </policy>\n"
                "</busconfig>\n"
            )
        self._proc = subprocess.Popen(
            [exe, f"--config-file={conf}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()  # blocks until the bus listens
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {err.strip()}")
        self.address = line
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=GUARD_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = ""

    def __enter__(self) -> "DbusDaemon":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------- peripherals


@dataclass(frozen=True)
class PeripheralSpec:
    """What a peripheral advertises and (for a strap) which GATT it has.

    None for battery / body_location / manufacturer / model / firmware leaves that
    characteristic out, as straps differ.
    """

    address: str = "C0:FF:EE:00:00:01"
    name: str = "Polar H10 0A1B2C3D"
    rssi: int = -55
    uuids: tuple[str, ...] = (HR_SERVICE, BATTERY_SERVICE)  # advertised service UUIDs
    heart_rate: bool = True  # has the Heart Rate service (0x2A37, 0x2A38)
    body_location: int | None = 1  # 1 = chest
    battery: int | None = 87
    battery_notifies: bool = True
    manufacturer: str | None = "Polar Electro Oy"
    model: str | None = "H10"
    firmware: str | None = "5.0.0"

    @property
    def path(self) -> str:
        return f"{ADAPTER_PATH}/dev_{self.address.upper().replace(':', '_')}"


@dataclass
class _Char:
    uuid: str
    flags: list[str]
    value: bytes = b""
    notifying: bool = False
    path: str = ""
    iface: "_CharIface | None" = None


@dataclass
class _Service:
    uuid: str
    handle: int
    chars: list[_Char] = field(default_factory=list)
    path: str = ""
    iface: "_ServiceIface | None" = None


class _AdapterIface(ServiceInterface):
    def __init__(self, emu: "BluezEmulator") -> None:
        super().__init__("org.bluez.Adapter1")
        self._emu = emu

    @method()
    def SetDiscoveryFilter(self, filter: DBusOptions) -> None:
        self._emu._log("SetDiscoveryFilter")
        uuids = filter.get("UUIDs")
        self._emu._filter_uuids = [u.lower() for u in uuids.value] if uuids is not None else []

    @method()
    def StartDiscovery(self) -> None:
        self._emu._start_discovery()

    @method()
    def StopDiscovery(self) -> None:
        self._emu._stop_discovery()

    @method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        self._emu._remove_device(device)

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self._emu.adapter_address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "holdbeat-test"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return self._emu.powered

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self._emu.discovering

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> DBusStrList:
        return ["central", "peripheral"]


class _DeviceIface(ServiceInterface):
    def __init__(self, p: "EmulatedPeripheral") -> None:
        super().__init__("org.bluez.Device1")
        self._p = p

    @method()
    async def Connect(self) -> None:
        await self._p._connect()

    @method()
    async def Disconnect(self) -> None:
        self._p._disconnect()

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self._p.spec.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self._p.spec.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self._p.spec.name or self._p.spec.address.replace(":", "-")

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> DBusStrList:
        return list(self._p.spec.uuids)

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self._p.rssi

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self._p.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self._p.connected

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READWRITE)
    def Trusted(self) -> DBusBool:
        return False

    @Trusted.setter
    def Trusted(self, value: DBusBool) -> None:
        pass

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> DBusBool:
        return False


class _ServiceIface(ServiceInterface):
    def __init__(self, p: "EmulatedPeripheral", s: _Service) -> None:
        super().__init__("org.bluez.GattService1")
        self._p = p
        self._s = s

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._s.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self._p.spec.path


class _CharIface(ServiceInterface):
    def __init__(self, p: "EmulatedPeripheral", s: _Service, c: _Char) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._p = p
        self._s = s
        self._c = c

    @method()
    def ReadValue(self, options: DBusOptions) -> DBusBytes:
        return self._p._read(self._c)

    @method()
    def WriteValue(self, value: DBusBytes, options: DBusOptions) -> None:
        raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")

    @method()
    def StartNotify(self) -> None:
        self._p._start_notify(self._c)

    @method()
    def StopNotify(self) -> None:
        self._p._stop_notify(self._c)

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._c.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self._s.path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self._c.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self._c.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return list(self._c.flags)


ConnectMode = Literal["accept", "refuse", "hang"]


class EmulatedPeripheral:
    """One emulated device. Public methods are thread-safe; `_`-methods run on the emulator loop."""

    def __init__(self, emu: "BluezEmulator", spec: PeripheralSpec) -> None:
        self.emu = emu
        self._emu = emu
        self.spec = spec
        self.rssi = spec.rssi
        self.advertising = True
        self.exported = False
        self.connected = False
        self.connect_mode: ConnectMode = "accept"
        self.refusal = ("org.bluez.Error.Failed", "")
        self.calls: list[str] = []  # D-Bus calls received, e.g. "Connect", "StopNotify 2a37"
        self.sent: list[bytes] = []  # HRM notifications sent
        self.connects = 0  # successful connections
        # characteristics still notifying when the host called Disconnect (a clean host: none)
        self.notifying_at_disconnect: list[str] | None = None
        self._iface = _DeviceIface(self)
        self._pending: list[asyncio.Future[None]] = []
        self._services = self._build_gatt()

    # -- GATT layout (handles as a real strap might have them)

    def _build_gatt(self) -> list[_Service]:
        s = self.spec
        out: list[_Service] = []
        if s.heart_rate:
            hrs = _Service(HR_SERVICE, 0x0010, [_Char(HR_MEASUREMENT, ["notify"])])
            if s.body_location is not None:
                hrs.chars.append(_Char(BODY_SENSOR_LOCATION, ["read"], bytes([s.body_location])))
            out.append(hrs)
        if s.battery is not None:
            flags = ["read", "notify"] if s.battery_notifies else ["read"]
            out.append(
                _Service(BATTERY_SERVICE, 0x0020, [_Char(BATTERY_LEVEL, flags, bytes([s.battery]))])
            )
        dis = [
            _Char(uuid, ["read"], text.encode())
            for uuid, text in (
                (MANUFACTURER_NAME, s.manufacturer),
                (MODEL_NUMBER, s.model),
                (FIRMWARE_REVISION, s.firmware),
            )
            if text is not None
        ]
        if dis:
            out.append(_Service(DEVICE_INFO_SERVICE, 0x0030, dis))
        for svc in out:
            svc.path = f"{s.path}/service{svc.handle:04x}"
            for i, c in enumerate(svc.chars):
                c.path = f"{svc.path}/char{svc.handle + 1 + 2 * i:04x}"
        return out

    def _char(self, uuid: str) -> _Char:
        for svc in self._services:
            for c in svc.chars:
                if c.uuid == uuid:
                    return c
        raise EmulatorError(f"{self.spec.name or self.spec.address} has no characteristic {uuid}")

    # -- state, readable from any thread

    @property
    def hrm_notifying(self) -> bool:
        return self.connected and any(
            c.notifying for s in self._services for c in s.chars if c.uuid == HR_MEASUREMENT
        )

    def notifying(self, uuid: str) -> bool:
        return self.connected and self._char(uuid).notifying

    def count(self, call: str) -> int:
        return sum(1 for c in self.calls if c == call)

    # -- test API (thread-safe)

    def notify(self, data: bytes, *, force: bool = False) -> None:
        """Send one Heart Rate Measurement notification (any bytes, malformed too)."""
        self._emu._run(self._notify, HR_MEASUREMENT, bytes(data), force)

    def set_battery(self, percent: int) -> None:
        """Change the battery level; notified when the host subscribed to it."""
        self._emu._run(self._set_battery, percent)

    def drop_link(self, *, advertise: bool = True) -> None:
        """The link drops (out of range, strap taken off). `advertise=False`: it stays away."""
        self._emu._run(self._drop, advertise)

    def stop_advertising(self) -> None:
        """Out of range / taken off: invisible to scans, connects wait."""
        self._emu._run(self._set_advertising, False)

    def start_advertising(self) -> None:
        """Back in range: visible again; a waiting Connect completes."""
        self._emu._run(self._set_advertising, True)

    def refuse_connections(
        self,
        error: str = "org.bluez.Error.InProgress",
        message: str = "already connected elsewhere",
    ) -> None:
        """Connect fails with this BlueZ error (a strap held by a phone app, say)."""
        self._emu._run(self._set_mode, "refuse", (error, message))

    def hang_connections(self) -> None:
        """Connect never completes (until the client gives up and calls Disconnect)."""
        self._emu._run(self._set_mode, "hang", None)

    def accept_connections(self) -> None:
        self._emu._run(self._set_mode, "accept", None)

    def wait_notifying(self, timeout: float = GUARD_S) -> None:
        self._emu.wait_for(
            lambda: self.hrm_notifying, timeout, f"{self.spec.name}: HRM notifications on"
        )

    def wait_connected(self, timeout: float = GUARD_S) -> None:
        self._emu.wait_for(lambda: self.connected, timeout, f"{self.spec.name}: connected")

    def wait_disconnected(self, timeout: float = GUARD_S) -> None:
        self._emu.wait_for(lambda: not self.connected, timeout, f"{self.spec.name}: disconnected")

    async def until_notifying(self, timeout: float = GUARD_S) -> None:
        """wait_notifying for async tests (does not block the test's event loop)."""
        await asyncio.to_thread(self.wait_notifying, timeout)

    async def until_connected(self, timeout: float = GUARD_S) -> None:
        await asyncio.to_thread(self.wait_connected, timeout)

    async def until_disconnected(self, timeout: float = GUARD_S) -> None:
        await asyncio.to_thread(self.wait_disconnected, timeout)

    # -- emulator-loop side

    def _log(self, call: str) -> None:
        self.calls.append(call)
        self._emu._changed()

    def _announce(self) -> None:
        if not self.exported:
            self._emu._bus.export(self.spec.path, self._iface)  # -> InterfacesAdded
            self.exported = True
        else:
            self._iface.emit_properties_changed({"RSSI": self.rssi})

    def _forget(self) -> None:
        if self.exported:
            if self.connected:
                self._teardown()
            self._emu._bus.unexport(self.spec.path, self._iface)  # -> InterfacesRemoved
            self.exported = False

    async def _connect(self) -> None:
        self._log("Connect")
        if self.connected:
            return
        while True:
            if self.connect_mode == "refuse":
                raise DBusError(*self.refusal)
            if self.connect_mode == "accept" and self.advertising:
                break
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pending.append(fut)
            try:
                await fut  # a Disconnect cancels it with an error; coming back re-checks
            finally:
                with contextlib.suppress(ValueError):
                    self._pending.remove(fut)
        self._establish()

    def _establish(self) -> None:
        for svc in self._services:
            svc.iface = _ServiceIface(self, svc)
            self._emu._bus.export(svc.path, svc.iface)
            for c in svc.chars:
                c.notifying = False
                c.iface = _CharIface(self, svc, c)
                self._emu._bus.export(c.path, c.iface)
        self.connected = True
        self.connects += 1
        # Connected and ServicesResolved together, after the GATT objects (BlueZ order)
        self._iface.emit_properties_changed({"Connected": True, "ServicesResolved": True})
        self._emu._changed()

    def _teardown(self) -> None:
        self.connected = False
        for svc in self._services:
            for c in svc.chars:
                c.notifying = False
        self._iface.emit_properties_changed({"ServicesResolved": False, "Connected": False})
        for svc in self._services:
            for c in svc.chars:
                self._emu._bus.unexport(c.path)
                c.iface = None
            self._emu._bus.unexport(svc.path)
            svc.iface = None
        self._emu._changed()

    def _disconnect(self) -> None:
        if self.connected:
            self.notifying_at_disconnect = [
                c.uuid[4:8] for svc in self._services for c in svc.chars if c.notifying
            ]
        self._log("Disconnect")
        for fut in list(self._pending):
            if not fut.done():
                fut.set_exception(DBusError("org.bluez.Error.Failed", "Operation was cancelled"))
        if self.connected:
            self._teardown()

    def _wake_pending(self) -> None:
        for fut in list(self._pending):
            if not fut.done():
                fut.set_result(None)

    def _drop(self, advertise: bool) -> None:
        if not self.connected:
            raise EmulatorError(f"{self.spec.name}: drop_link() while not connected")
        self._teardown()
        self.advertising = advertise

    def _set_advertising(self, on: bool) -> None:
        self.advertising = on
        if on:
            if self._emu.discovering:
                self._announce()
            self._wake_pending()
        self._emu._changed()

    def _set_mode(self, mode: ConnectMode, refusal: tuple[str, str] | None) -> None:
        self.connect_mode = mode
        if refusal is not None:
            self.refusal = refusal
        self._wake_pending()
        self._emu._changed()

    def _read(self, c: _Char) -> bytes:
        self._log(f"ReadValue {c.uuid[4:8]}")
        if not self.connected:
            raise DBusError("org.bluez.Error.Failed", "Not connected")
        if "read" not in c.flags:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        return c.value

    def _start_notify(self, c: _Char) -> None:
        self._log(f"StartNotify {c.uuid[4:8]}")
        if not self.connected:
            raise DBusError("org.bluez.Error.Failed", "Not connected")
        if "notify" not in c.flags:
            raise DBusError("org.bluez.Error.NotSupported", "Operation is not supported")
        c.notifying = True
        if c.iface is not None:
            c.iface.emit_properties_changed({"Notifying": True})
        self._emu._changed()

    def _stop_notify(self, c: _Char) -> None:
        self._log(f"StopNotify {c.uuid[4:8]}")
        c.notifying = False
        if c.iface is not None:
            c.iface.emit_properties_changed({"Notifying": False})
        self._emu._changed()

    def _notify(self, uuid: str, data: bytes, force: bool) -> None:
        c = self._char(uuid)
        if not force and not (self.connected and c.notifying):
            raise EmulatorError(
                f"{self.spec.name}: notify() but the host has not subscribed to {uuid[4:8]}"
            )
        c.value = data
        if c.iface is not None:
            c.iface.emit_properties_changed({"Value": data})
        if uuid == HR_MEASUREMENT:
            self.sent.append(data)
        self._emu._changed()

    def _set_battery(self, percent: int) -> None:
        c = self._char(BATTERY_LEVEL)
        c.value = bytes([percent])
        if self.connected and c.notifying and c.iface is not None:
            c.iface.emit_properties_changed({"Value": c.value})
        self._emu._changed()


# ------------------------------------------------------------------------- the emulator


class BluezEmulator:
    """org.bluez on `bus_address`, on its own thread. Use as a context manager.

    adapter=False publishes org.bluez with no adapter (a machine without Bluetooth).
    honour_uuid_filter=False (default) reports every advertising device to discovery,
    as real BlueZ does when another app (a desktop Bluetooth panel) scans unfiltered;
    holdbeat must filter by service itself. While discovering, visible devices are
    reported again every advertising_interval_s (0 = only when discovery starts).
    """

    def __init__(
        self,
        bus_address: str,
        *,
        adapter: bool = True,
        powered: bool = True,
        adapter_address: str = "00:1A:7D:DA:71:13",
        honour_uuid_filter: bool = False,
        advertising_interval_s: float = 0.1,
    ) -> None:
        self.bus_address = bus_address
        self.advertising_interval_s = advertising_interval_s
        self.has_adapter = adapter
        self.powered = powered
        self.adapter_address = adapter_address
        self.honour_uuid_filter = honour_uuid_filter
        self.discovering = False
        self.calls: list[str] = []  # adapter calls: "StartDiscovery", ...
        self.discoveries = 0
        self.peripherals: list[EmulatedPeripheral] = []
        self._filter_uuids: list[str] = []
        self._advertiser: asyncio.Task[None] | None = None
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bus: MessageBus = None  # type: ignore[assignment]
        self._adapter = _AdapterIface(self)
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # -- lifecycle

    def start(self) -> "BluezEmulator":
        self._thread = threading.Thread(
            target=self._thread_main, name="bluez-emulator", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(GUARD_S):
            raise EmulatorError("the BlueZ emulator did not start")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(GUARD_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(GUARD_S)
        self._loop = None
        self._thread = None

    def __enter__(self) -> "BluezEmulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as e:  # surfaced by start()
            self._startup_error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self) -> None:
        self._bus = await MessageBus(bus_address=self.bus_address).connect()
        if self.has_adapter:
            self._bus.export(ADAPTER_PATH, self._adapter)
        reply = await self._bus.request_name(BLUEZ, NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            raise EmulatorError(f"could not own {BLUEZ} on {self.bus_address}: {reply}")

    async def _shutdown(self) -> None:
        if self._advertiser is not None:
            self._advertiser.cancel()
        with contextlib.suppress(Exception):
            await self._bus.release_name(BLUEZ)
        self._bus.disconnect()
        with contextlib.suppress(Exception):
            await self._bus.wait_for_disconnect()

    # -- thread plumbing

    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn(*args) on the emulator loop and return its result (or raise its error)."""
        if self._loop is None:
            raise EmulatorError("the BlueZ emulator is not running")
        if threading.current_thread() is self._thread:
            return fn(*args)

        async def call() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(GUARD_S)

    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _log(self, call: str) -> None:
        self.calls.append(call)
        self._changed()

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = GUARD_S, what: str = ""
    ) -> None:
        """Block until predicate() holds (re-checked on every emulator state change)."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise EmulatorError(
                    f"timed out after {timeout:g} s waiting for {what or predicate}"
                )

    async def until(
        self, predicate: Callable[[], bool], timeout: float = GUARD_S, what: str = ""
    ) -> None:
        """wait_for without blocking the caller's event loop."""
        await asyncio.to_thread(self.wait_for, predicate, timeout, what)

    # -- test API

    def add_strap(self, **spec: Any) -> EmulatedPeripheral:
        """A heart-rate strap; keyword arguments are PeripheralSpec fields."""
        return self.add(PeripheralSpec(**spec))

    def add_device(
        self, address: str, name: str, uuids: Iterable[str], rssi: int = -50
    ) -> EmulatedPeripheral:
        """A device that is not a heart-rate strap (a fitness band, headphones...)."""
        return self.add(
            PeripheralSpec(
                address=address,
                name=name,
                rssi=rssi,
                uuids=tuple(uuids),
                heart_rate=False,
                body_location=None,
                battery=None,
                manufacturer=None,
                model=None,
                firmware=None,
            )
        )

    def add(self, spec: PeripheralSpec) -> EmulatedPeripheral:
        def add() -> EmulatedPeripheral:
            p = EmulatedPeripheral(self, spec)
            self.peripherals.append(p)
            if self.discovering:
                p._announce()
            return p

        return self._run(add)

    def set_powered(self, on: bool) -> None:
        def power() -> None:
            self.powered = on
            self._adapter.emit_properties_changed({"Powered": on})
            self._changed()

        self._run(power)

    # -- emulator-loop side

    def _visible(self, p: EmulatedPeripheral) -> bool:
        if not p.advertising or p.connected:
            return False  # a connected strap stops advertising
        if self.honour_uuid_filter and self._filter_uuids:
            return any(u.lower() in self._filter_uuids for u in p.spec.uuids)
        return True

    def _start_discovery(self) -> None:
        self._log("StartDiscovery")
        if not self.powered:
            raise DBusError("org.bluez.Error.NotReady", "Resource Not Ready")
        self.discoveries += 1
        if not self.discovering:
            self.discovering = True
            self._adapter.emit_properties_changed({"Discovering": True})
        # Devices are announced once discovery runs, before the reply, so a scanner has
        # them as soon as its start() returns: scans in tests need no waiting. Then they
        # are seen again every advertising interval, as real advertisements are (a
        # scanner that registers its callback late, like bleak's find_device_by_address,
        # needs that).
        self._announce_visible()
        if self._advertiser is None and self.advertising_interval_s > 0:
            self._advertiser = asyncio.get_running_loop().create_task(self._advertise())
        self._changed()

    def _announce_visible(self) -> None:
        for p in self.peripherals:
            if self._visible(p):
                p._announce()

    async def _advertise(self) -> None:
        while self.discovering:
            await asyncio.sleep(self.advertising_interval_s)
            if self.discovering:
                self._announce_visible()

    def _stop_discovery(self) -> None:
        self._log("StopDiscovery")
        if not self.powered:
            raise DBusError("org.bluez.Error.NotReady", "Resource Not Ready")
        if not self.discovering:
            raise DBusError("org.bluez.Error.Failed", "No discovery started")
        self.discovering = False
        if self._advertiser is not None:
            self._advertiser.cancel()
            self._advertiser = None
        self._adapter.emit_properties_changed({"Discovering": False})
        for p in self.peripherals:
            if p.exported and not p.connected:
                # BlueZ drops RSSI when discovery ends; the next advertisement sets it again
                p._iface.emit_properties_changed({}, ["RSSI"])
        self._changed()

    def _remove_device(self, path: str) -> None:
        self._log("RemoveDevice")
        for p in self.peripherals:
            if p.spec.path == path and p.exported:
                p._forget()
                self._changed()
                return
        raise DBusError("org.bluez.Error.DoesNotExist", "Does Not Exist")


def run(coro: Coroutine[Any, Any, T], guard_s: float = GUARD_S) -> T:
    """asyncio.run with a failure guard: a hang fails the test instead of the suite."""

    async def guarded() -> T:
        async with asyncio.timeout(guard_s):
            return await coro

    return asyncio.run(guarded())


__all__ = [
    "BATTERY_LEVEL",
    "BATTERY_SERVICE",
    "BODY_SENSOR_LOCATION",
    "DEVICE_INFO_SERVICE",
    "FIRMWARE_REVISION",
    "HR_MEASUREMENT",
    "HR_SERVICE",
    "MANUFACTURER_NAME",
    "MODEL_NUMBER",
    "BluezEmulator",
    "DbusDaemon",
    "EmulatedPeripheral",
    "EmulatorError",
    "PeripheralSpec",
    "run",
    "uuid16",
]
