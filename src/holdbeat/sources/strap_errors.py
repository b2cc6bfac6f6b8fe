"""What can go wrong between holdbeat and a strap, in words a user can act on.

bleak reports Bluetooth trouble as a handful of exception types plus raw D-Bus error
names (on Linux). `strap_error_from` turns those into `StrapError` subclasses whose
message says what happened and what to do; the CLI prints the message and exits with
`EXIT_BLUETOOTH`. Pure: no Bluetooth access here, only exception inspection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

#: exit code of `scan` / `hold` for "no strap or a Bluetooth problem" (documented in docs/strap.md)
EXIT_BLUETOOTH = 3

PERMISSION_HELP = """\
  Linux:   bluetoothd must be running (systemctl status bluetooth) and your user allowed to
           use it: add yourself to the 'bluetooth' group (sudo usermod -aG bluetooth $USER,
           then log out and in) or allow org.bluez via polkit. In a container, share the
           host's system D-Bus socket (/run/dbus/system_bus_socket).
  macOS:   System Settings > Privacy & Security > Bluetooth: allow the app you run holdbeat
           from (Terminal, iTerm, VS Code...), then restart that app.
  Windows: Settings > Privacy & security > Radios / Bluetooth: let desktop apps use
           Bluetooth, and make sure Bluetooth is on. No pairing is needed."""

NOT_FOUND_HINTS = """\
  - Wear the strap and moisten the electrodes: most straps only advertise while worn
    and sensing a heartbeat.
  - A strap connected to a phone or watch app (Polar Beat, Garmin, Wahoo, Zwift...)
    stops advertising: close that app or switch off the phone's Bluetooth.
  - Move closer (within a few metres) and run `holdbeat scan` again."""

BUSY_HINT = (
    "The strap is probably connected to another app or device (a phone or watch app, "
    "Zwift, a gym receiver...). Close that app or switch off Bluetooth on that device, "
    "then try again."
)

# D-Bus errors that mean "not allowed" (bus policy, polkit) rather than "broken".
_DENIED = {
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.freedesktop.DBus.Error.AuthFailed",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
}
# Nobody owns org.bluez: bluetoothd is not running, so there is no adapter to use.
_NO_BLUEZ = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
}


class StrapError(Exception):
    """A strap / Bluetooth problem with a message meant for the user."""

    exit_code = EXIT_BLUETOOTH


class NoAdapter(StrapError):
    pass


class AdapterOff(StrapError):
    pass


class PermissionDenied(StrapError):
    pass


class NoStrapFound(StrapError):
    pass


class SeveralStraps(StrapError):
    pass


class StrapBusy(StrapError):
    pass


class ConnectTimeout(StrapError):
    pass


class NotAStrap(StrapError):
    """The device connected but has no Heart Rate Measurement characteristic."""


@dataclass(frozen=True, slots=True)
class StrapListing:
    """Enough to name a strap in a message (scan results convert to this)."""

    name: str
    address: str
    rssi_dbm: int | None


def describe(name: str, address: str) -> str:
    return f"{name} ({address})" if name else address


def format_listing(straps: Sequence[StrapListing]) -> str:
    lines = []
    for s in straps:
        rssi = "   ?" if s.rssi_dbm is None else f"{s.rssi_dbm:4d}"
        lines.append(f"  {rssi} dBm  {s.address:<17}  {s.name or '(no name)'}")
    return "\n".join(lines)


def no_adapter(detail: str = "") -> NoAdapter:
    extra = f" ({detail})" if detail else ""
    return NoAdapter(
        f"No Bluetooth adapter found{extra}.\n"
        "  Use a computer with Bluetooth 4.0+ (Low Energy) or plug in a BLE USB adapter.\n"
        "  Linux: check that bluetoothd is running (systemctl status bluetooth) and that "
        "`bluetoothctl list` shows an adapter; `rfkill list` shows whether it is blocked."
    )


def adapter_off() -> AdapterOff:
    return AdapterOff(
        "Bluetooth is switched off.\n"
        "  Linux:   bluetoothctl power on   (if that fails: rfkill unblock bluetooth)\n"
        "  macOS:   Control Centre > Bluetooth > on\n"
        "  Windows: Settings > Bluetooth & devices > Bluetooth: On"
    )


def permission_denied(detail: str = "") -> PermissionDenied:
    extra = f" ({detail})" if detail else ""
    return PermissionDenied(f"Permission to use Bluetooth was denied{extra}.\n{PERMISSION_HELP}")


def no_strap_found(
    scan_s: float, device: str | None = None, seen: Sequence[StrapListing] = ()
) -> NoStrapFound:
    if device:
        head = (
            f"No strap matching {device!r} found (scanned {scan_s:g} s for the Heart Rate Service)."
        )
        if seen:
            head += (
                "\nStraps in range:\n" + format_listing(seen) + "\nPass one of these to --device."
            )
    else:
        head = (
            f"No heart-rate strap found (scanned {scan_s:g} s for the Heart Rate Service 0x180D)."
        )
    return NoStrapFound(f"{head}\n{NOT_FOUND_HINTS}")


def several_straps(straps: Sequence[StrapListing]) -> SeveralStraps:
    return SeveralStraps(
        f"{len(straps)} heart-rate straps are in range; choose one with --device ADDRESS or NAME:\n"
        + format_listing(straps)
    )


def strap_busy(target: str, detail: str) -> StrapBusy:
    return StrapBusy(f"{target} refused the connection ({detail}).\n  {BUSY_HINT}")


def connect_timeout(target: str, timeout_s: float) -> ConnectTimeout:
    return ConnectTimeout(
        f"Connecting to {target} timed out after {timeout_s:g} s.\n  {BUSY_HINT}\n"
        "  Otherwise move closer, moisten the electrodes and try again."
    )


def strap_error_from(
    exc: BaseException, *, target: str = "the strap", connecting: bool = False
) -> StrapError | None:
    """Translate a bleak / D-Bus / OS exception; None when it is not a Bluetooth problem we know.

    `connecting`: the error came from connecting to a strap that was just seen
    advertising. Then a refusal almost always means another central holds the strap.
    """
    if isinstance(exc, StrapError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = exc.reason
        if reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return adapter_off()
        if reason in (
            BleakBluetoothNotAvailableReason.DENIED_BY_USER,
            BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
            BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN,
        ):
            return permission_denied(str(exc.args[0]))
        if reason is BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
            return no_adapter("the adapter does not support Bluetooth Low Energy")
        return no_adapter(str(exc.args[0]).rstrip("."))
    if isinstance(exc, BleakDBusError):
        name = exc.dbus_error
        if name in _DENIED:
            return permission_denied(name)
        if name in _NO_BLUEZ:
            return no_adapter("the Bluetooth service bluetoothd is not running")
        if name == "org.bluez.Error.NotReady":
            return adapter_off()
        if name == "org.freedesktop.DBus.Error.UnknownObject":
            return NoStrapFound(
                f"{target} disappeared before holdbeat could connect.\n{NOT_FOUND_HINTS}"
            )
        if connecting:
            return strap_busy(target, str(exc))
        return None
    if isinstance(exc, BleakDeviceNotFoundError):
        return NoStrapFound(f"{target} is no longer in range.\n{NOT_FOUND_HINTS}")
    if isinstance(exc, PermissionError):
        return permission_denied(str(exc))
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        # no system D-Bus socket: no BlueZ stack to talk to
        return no_adapter(f"cannot reach the system D-Bus: {exc}")
    if isinstance(exc, BleakError) and "adapter" in str(exc) and "not found" in str(exc):
        return no_adapter(str(exc))
    if connecting and isinstance(exc, BleakError):
        return strap_busy(target, str(exc))
    if isinstance(exc, TimeoutError | asyncio.TimeoutError) and connecting:
        return None  # the caller knows the timeout it used: connect_timeout(...)
    return None
