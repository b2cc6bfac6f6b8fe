"""Find straps: every device advertising the Heart Rate Service, whatever its brand.

Discovery is by service UUID 0x180D only, never by name, so any standard strap works
(Polar, Garmin, Wahoo, CooSpo, Decathlon, Suunto, Movesense...). The advertisement is
checked here too, not only by the OS filter: on Linux other apps' scans make BlueZ
report every nearby device to every client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from holdbeat.sources.strap_errors import (
    StrapListing,
    no_strap_found,
    several_straps,
    strap_error_from,
)

HR_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
DEFAULT_SCAN_S = 10.0


@dataclass(frozen=True, slots=True)
class FoundStrap:
    name: str  # "" when the strap does not advertise a name
    address: str  # MAC on Linux/Windows, a UUID on macOS
    rssi_dbm: int | None
    ble_device: Any = field(default=None, compare=False, repr=False)  # bleak BLEDevice, to connect

    @property
    def listing(self) -> StrapListing:
        return StrapListing(self.name, self.address, self.rssi_dbm)


def advertises_hr(service_uuids: Sequence[str]) -> bool:
    return any(u.lower() == HR_SERVICE_UUID for u in service_uuids)


def by_signal(found: Sequence[FoundStrap]) -> list[FoundStrap]:
    """Strongest first; unknown RSSI last; ties by address so the order is stable."""
    return sorted(found, key=lambda s: (s.rssi_dbm is None, -(s.rssi_dbm or 0), s.address))


def matches(strap: FoundStrap, device: str) -> bool:
    """--device matches an address (any case, ':' or '-') or a name (exact, any case)."""
    want = device.strip().lower()
    return strap.address.lower().replace("-", ":") == want.replace("-", ":") or (
        bool(strap.name) and strap.name.lower() == want
    )


def pick_strap(found: Sequence[FoundStrap], device: str | None, scan_s: float) -> FoundStrap:
    """The strap to use: the one matching --device, or the only one in range."""
    ordered = by_signal(found)
    if device:
        hits = [s for s in ordered if matches(s, device)]
        if not hits:
            raise no_strap_found(scan_s, device, [s.listing for s in ordered])
        if len(hits) > 1:  # two straps with the same name: make the user pick an address
            raise several_straps([s.listing for s in hits])
        return hits[0]
    if not ordered:
        raise no_strap_found(scan_s)
    if len(ordered) > 1:
        raise several_straps([s.listing for s in ordered])
    return ordered[0]


async def scan_straps(
    timeout_s: float = DEFAULT_SCAN_S,
    *,
    stop_when: Callable[[FoundStrap], bool] | None = None,
    adapter: str | None = None,
) -> list[FoundStrap]:
    """Scan for `timeout_s` (or until `stop_when` accepts a strap); strongest first.

    Raises StrapError subclasses for adapter / permission problems.
    """
    from bleak import BleakScanner  # imported late: `holdbeat --help` must not need bleak

    seen: dict[str, FoundStrap] = {}
    done = asyncio.Event()

    def on_adv(device: Any, adv: Any) -> None:  # bleak callback: record only, never block
        if not advertises_hr(adv.service_uuids):
            return
        prev = seen.get(device.address)
        name = adv.local_name or device.name or (prev.name if prev else "")
        strap = FoundStrap(name or "", device.address, adv.rssi, device)
        seen[device.address] = strap
        if stop_when is not None and stop_when(strap):
            done.set()

    kwargs: dict[str, Any] = {"service_uuids": [HR_SERVICE_UUID]}
    if adapter:
        kwargs["bluez"] = {"adapter": adapter}
    try:
        async with BleakScanner(on_adv, **kwargs):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout_s)
    except Exception as e:
        err = strap_error_from(e)
        if err is None:
            raise
        raise err from e
    return by_signal(list(seen.values()))


__all__ = [
    "DEFAULT_SCAN_S",
    "HR_SERVICE_UUID",
    "FoundStrap",
    "advertises_hr",
    "by_signal",
    "matches",
    "pick_strap",
    "scan_straps",
]
