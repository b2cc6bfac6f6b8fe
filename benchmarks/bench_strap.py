"""Strap source through bleak's real BlueZ backend against the emulated BlueZ (needs dbus-daemon).

1. Notification path: emulator -> D-Bus -> bleak -> StrapSource events, against the obvious
   alternative, a bare bleak start_notify callback. Ratio = what the source costs on top.
2. Link loss: how fast a drop is noticed (emits "lost") and how fast a strap that comes
   back is reconnected ("restored"), with the default backoff and with the test settings.
Not asserted anywhere; the tests prove behaviour, this measures it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bluez_emulator import HR_MEASUREMENT, BluezEmulator, DbusDaemon
from holdbeat.events import Connection, Hrm
from holdbeat.hrs import encode_hrm
from holdbeat.sources.strap import StrapSource
from holdbeat.sources.strap_policy import StrapConfig

N = 2000
ADDR = "C0:FF:EE:00:00:01"
PACKET = encode_hrm(70, [857.0, 850.0], contact=True)


async def bare_bleak(bz: BluezEmulator) -> float:
    from bleak import BleakClient, BleakScanner

    strap = bz.peripherals[0]
    dev = await BleakScanner.find_device_by_address(ADDR, timeout=5)
    got = 0
    done = asyncio.Event()

    def cb(_c: object, _d: bytearray) -> None:
        nonlocal got
        got += 1
        if got == N:
            done.set()

    async with BleakClient(dev) as client:
        await client.start_notify(HR_MEASUREMENT, cb)
        await bz.until(lambda: strap.hrm_notifying)
        t = time.perf_counter()
        await asyncio.to_thread(lambda: [strap.notify(PACKET) for _ in range(N)])
        await done.wait()
        return time.perf_counter() - t


async def through_source(bz: BluezEmulator) -> float:
    strap = bz.peripherals[0]

    def send() -> None:
        strap.wait_notifying()
        for _ in range(N):
            strap.notify(PACKET)

    async with StrapSource(StrapConfig(device=ADDR, scan_s=5)) as src:
        it = aiter(src)
        await anext(it)  # "connected"; the next step subscribes
        first = 0.0

        async def consume() -> float:
            nonlocal first
            n = 0
            async for ev in it:
                if isinstance(ev, Hrm):
                    first = first or time.perf_counter()
                    n += 1
                    if n == N:
                        break
            return time.perf_counter()

        last, _ = await asyncio.gather(consume(), asyncio.to_thread(send))
        return last - first


async def link_loss(bz: BluezEmulator, cfg: StrapConfig, away_s: float) -> tuple[float, float]:
    """(drop -> 'lost' seconds, back in range -> 'restored' seconds)."""
    strap = bz.peripherals[0]
    seen: dict[str, float] = {}
    lost, restored = asyncio.Event(), asyncio.Event()

    async def consume(src: StrapSource) -> None:
        async for ev in src:
            if isinstance(ev, Connection) and ev.state in ("lost", "restored"):
                seen[ev.state] = time.perf_counter()
                (lost if ev.state == "lost" else restored).set()

    async with StrapSource(cfg) as src:
        consumer = asyncio.ensure_future(consume(src))
        await asyncio.to_thread(strap.wait_notifying)
        t_drop = time.perf_counter()
        await asyncio.to_thread(strap.drop_link, advertise=False)
        await lost.wait()
        await asyncio.sleep(away_s)
        t_back = time.perf_counter()
        await asyncio.to_thread(strap.start_advertising)
        await restored.wait()
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    return seen["lost"] - t_drop, seen["restored"] - t_back


def main() -> None:
    with DbusDaemon() as bus, BluezEmulator(bus.address) as bz:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
        bz.add_strap(address=ADDR)
        bare = min(asyncio.run(bare_bleak(bz)) for _ in range(3))
        src = min(asyncio.run(through_source(bz)) for _ in range(3))
        print(f"notifications: {N} packets emulator -> D-Bus -> bleak")
        print(f"{'path':<28}{'per packet':>12}{'packets/s':>12}{'ratio':>8}")
        for name, s in (("bare bleak callback", bare), ("StrapSource events", src)):
            print(f"{name:<28}{s / N * 1e6:>9.0f} µs{N / s:>12.0f}{s / bare:>8.2f}")

        default = StrapConfig(device=ADDR, scan_s=5)
        fast = replace(
            default, tick_s=0.02, reconnect_scan_s=0.05, backoff_initial_s=0.01, backoff_max_s=0.05
        )
        print("\nlink loss (median of 5): drop -> 'lost', back in range -> 'restored'")
        print(f"{'settings':<34}{'away':>6}{'lost after':>12}{'restored after':>16}")
        for name, cfg, away in (
            ("default (scan 5 s, backoff 0.5-10)", default, 0.3),
            ("default (scan 5 s, backoff 0.5-10)", default, 3.0),
            ("tests (scan 0.05 s, backoff <=0.05)", fast, 0.3),
        ):
            runs = [asyncio.run(link_loss(bz, cfg, away)) for _ in range(5)]
            lost = statistics.median(r[0] for r in runs)
            back = statistics.median(r[1] for r in runs)
            print(f"{name:<34}{away:>5.1f}s{lost * 1e3:>9.1f} ms{back * 1e3:>13.1f} ms")


if __name__ == "__main__":
    main()
