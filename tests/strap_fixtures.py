"""pytest fixtures for the emulated BlueZ (see bluez_emulator.py).

Use from a test module with `pytest_plugins = ["strap_fixtures"]` (or register once in
conftest.py). Each test gets its own private dbus-daemon as the system bus
(`DBUS_SYSTEM_BUS_ADDRESS`), so tests cannot see each other's devices or state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bluez_emulator import BluezEmulator, DbusDaemon, EmulatedPeripheral


@pytest.fixture
def system_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[DbusDaemon]:
    """A private dbus-daemon standing in for the system bus, for bleak and the emulator."""
    with DbusDaemon() as bus:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
        yield bus


@pytest.fixture
def make_bluez(system_bus: DbusDaemon) -> Iterator[Callable[..., BluezEmulator]]:
    """Start an emulator with options: make_bluez(adapter=False), make_bluez(powered=False)."""
    started: list[BluezEmulator] = []

    def make(**options: Any) -> BluezEmulator:
        bz = BluezEmulator(system_bus.address, **options).start()
        started.append(bz)
        return bz

    yield make
    for bz in started:
        bz.stop()


@pytest.fixture
def bluez(make_bluez: Callable[..., BluezEmulator]) -> BluezEmulator:
    """A powered adapter with no devices yet."""
    return make_bluez()


@pytest.fixture
def strap(bluez: BluezEmulator) -> EmulatedPeripheral:
    """One emulated Polar-like strap with battery, body location and device information."""
    return bluez.add_strap()
