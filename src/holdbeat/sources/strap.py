"""The live strap: bleak notifications in, session events out, reconnecting on its own.

`StrapSource` is an async iterator of SessionEvents, like every other source:
`Hrm` (raw 0x2A37 bytes + host time), `Battery`, `Connection` ("connected", "lost",
"restored", "contact_lost", "contact_restored") and `Tick` (time passes while nothing
arrives, so phases advance and a view can show "reconnecting..."). Times are seconds
on the injected session clock, rounded to the microsecond so recordings replay
bit-exact.

bleak calls back on the event loop; callbacks only stamp the time and enqueue, never
block. When the link drops the source emits `Connection("lost")`, keeps ticking, and
retries (scan for the strap, connect, resubscribe) with exponential backoff until it
is back (`Connection("restored")`) or the reconnect deadline passes (then an `End`
saying so). Nothing is invented across the gap (the Processor resets beat timing on
"lost") and nothing is duplicated after it: notifications from an earlier connection
are dropped by generation.

    async with StrapSource(StrapConfig(device="Polar H10"), clock) as strap:
        header = new_header(strap.device, ...)
        await run_session(strap, sinks, header, protocol)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from holdbeat.events import Battery, Connection, Device, End, Hrm, SessionEvent, Tick
from holdbeat.sources.gatt import (
    BATTERY_LEVEL_UUID,
    BODY_SENSOR_LOCATION_UUID,
    FIRMWARE_UUID,
    HR_MEASUREMENT_UUID,
    MANUFACTURER_UUID,
    MODEL_UUID,
    contact_change,
    measurement_contact,
    parse_battery,
    parse_body_location,
    parse_text,
)
from holdbeat.sources.scan import FoundStrap, matches, pick_strap, scan_straps
from holdbeat.sources.strap_errors import (
    NotAStrap,
    StrapError,
    connect_timeout,
    describe,
    strap_busy,
    strap_error_from,
)
from holdbeat.sources.strap_policy import StrapConfig, backoff_delays, give_up_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Lost:
    t_s: float
    gen: int


@dataclass(frozen=True, slots=True)
class _Restored:
    t_s: float
    gen: int
    gap_s: float = 0.0


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_CLOSE = object()  # aclose() wakes a waiting iterator with this


@dataclass
class _Link:
    """One connection: the client and what it offers."""

    client: Any
    gen: int
    hrm: Any
    battery: Any | None = None
    battery_notifies: bool = False
    subscribed: list[Any] = field(default_factory=list)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class StrapSource:
    """A connected strap as an async iterator of SessionEvents (see module doc)."""

    def __init__(
        self, config: StrapConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or StrapConfig()
        self.clock = clock  # session seconds; `hold` sets it when the session starts
        self.strap: FoundStrap | None = None
        self.device: Device | None = None
        self.battery_percent: int | None = None
        self.last_error = ""
        self.reconnects = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._link: _Link | None = None
        self._gen = 0
        self._closing = False
        self._closed = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._iter: AsyncIterator[SessionEvent] | None = None

    def now(self) -> float:
        return round(self.clock(), 6)

    @property
    def target(self) -> str:
        return describe(self.strap.name, self.strap.address) if self.strap else "the strap"

    # -- connecting

    async def __aenter__(self) -> StrapSource:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def connect(self) -> Device:
        """Find the strap, connect and read its details (header). Raises StrapError."""
        cfg = self.config
        want = cfg.device
        found = await scan_straps(
            cfg.scan_s,
            stop_when=(lambda s: matches(s, want)) if want else None,
            adapter=cfg.adapter,
        )
        self.strap = pick_strap(found, want, cfg.scan_s)
        link, info = await self._open(self.strap.ble_device)
        self._link = link
        self.battery_percent = info["battery"]
        self.device = Device(
            name=self.strap.name or info["name"] or "",
            address=self.strap.address,
            source="strap",
            body_location=info["body_location"],
            battery_percent=info["battery"],
            manufacturer=info["manufacturer"],
            model=info["model"],
            firmware=info["firmware"],
        )
        return self.device

    async def _open(self, ble_device: Any) -> tuple[_Link, dict[str, Any]]:
        """Connect once and read the details; the link is not subscribed yet."""
        from bleak import BleakClient

        cfg = self.config
        self._gen += 1
        gen = self._gen
        client = BleakClient(
            ble_device,
            disconnected_callback=partial(self._on_disconnect, gen),
            timeout=cfg.connect_timeout_s,
        )
        try:
            async with asyncio.timeout(cfg.connect_timeout_s):
                await client.connect()
        except TimeoutError as e:
            await self._quiet_disconnect(client)
            raise connect_timeout(self.target, cfg.connect_timeout_s) from e
        except Exception as e:
            await self._quiet_disconnect(client)
            err = strap_error_from(e, target=self.target, connecting=True)
            raise (err or strap_busy(self.target, _first_line(e))) from e
        try:
            services = client.services
            hrm = services.get_characteristic(HR_MEASUREMENT_UUID)
            if hrm is None:
                raise NotAStrap(
                    f"{self.target} has no Heart Rate Measurement characteristic (0x2A37): "
                    "it advertises the Heart Rate Service but is not a usable strap."
                )
            battery = services.get_characteristic(BATTERY_LEVEL_UUID)
            info: dict[str, Any] = {
                "name": getattr(client, "name", "") or "",
                "battery": parse_battery(await self._read(client, battery)),
                "body_location": parse_body_location(
                    await self._read(client, services.get_characteristic(BODY_SENSOR_LOCATION_UUID))
                ),
                "manufacturer": parse_text(
                    await self._read(client, services.get_characteristic(MANUFACTURER_UUID))
                ),
                "model": parse_text(
                    await self._read(client, services.get_characteristic(MODEL_UUID))
                ),
                "firmware": parse_text(
                    await self._read(client, services.get_characteristic(FIRMWARE_UUID))
                ),
            }
        except BaseException:
            await self._quiet_disconnect(client)
            raise
        link = _Link(
            client,
            gen,
            hrm,
            battery,
            battery_notifies=battery is not None and "notify" in battery.properties,
        )
        return link, info

    async def _read(self, client: Any, char: Any) -> bytes | None:
        """Read an optional characteristic; a strap that refuses it just lacks it."""
        if char is None or "read" not in char.properties:
            return None
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                return bytes(await client.read_gatt_char(char))
        except Exception as e:
            log.info("reading %s from %s failed: %s", char.uuid, self.target, e)
            return None

    async def _subscribe(self, link: _Link) -> None:
        # Listed before the await: a close racing with this still stops what was started.
        link.subscribed.append(link.hrm)
        await link.client.start_notify(link.hrm, partial(self._on_hrm, link.gen))
        if link.battery_notifies and not self._closing:
            link.subscribed.append(link.battery)
            try:
                await link.client.start_notify(link.battery, partial(self._on_battery, link.gen))
            except Exception as e:  # battery is a nicety
                link.subscribed.remove(link.battery)
                log.info("battery notifications from %s unavailable: %s", self.target, e)

    async def _quiet_disconnect(self, client: Any) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.config.close_timeout_s):
                await client.disconnect()

    # -- bleak callbacks: stamp and enqueue, nothing else

    def _on_hrm(self, gen: int, _char: Any, data: bytearray) -> None:
        if gen == self._gen and not self._closing:
            self._queue.put_nowait(Hrm(self.now(), bytes(data)))

    def _on_battery(self, gen: int, _char: Any, data: bytearray) -> None:
        pct = parse_battery(bytes(data))
        if gen == self._gen and not self._closing and pct is not None:
            self._queue.put_nowait(Battery(self.now(), pct))

    def _on_disconnect(self, gen: int, _client: Any) -> None:
        if gen == self._gen and not self._closing:
            self._queue.put_nowait(_Lost(self.now(), gen))

    # -- iteration

    def __aiter__(self) -> AsyncIterator[SessionEvent]:
        if self._iter is None:
            self._iter = self._events()
        return self._iter

    async def _events(self) -> AsyncIterator[SessionEvent]:
        link = self._link
        if link is None:
            raise RuntimeError("StrapSource: call connect() (or use `async with`) before iterating")
        cfg = self.config
        yield Connection(self.now(), "connected", self.target)
        try:
            await self._subscribe(link)
        except Exception as e:
            if self._closing:
                return
            if link.client.is_connected:
                err = strap_error_from(e, target=self.target)
                raise (err or StrapError(f"could not subscribe to {self.target}: {e}")) from e
            # the link dropped in between: its _Lost is queued; reconnect below
        contact: bool | None = None
        lost_at: float | None = None
        last_t = -math.inf
        while True:
            if lost_at is not None and self.now() - lost_at >= cfg.reconnect_deadline_s:
                await self._stop_reconnecting()
                yield End(self.now(), give_up_reason(cfg.reconnect_deadline_s, self.last_error))
                return
            try:
                async with asyncio.timeout(cfg.tick_s):
                    item = await self._queue.get()
            except TimeoutError:
                t = self.now()
                if t > last_t:
                    last_t = t
                    yield Tick(t)
                continue
            if isinstance(item, Hrm):
                now_contact = measurement_contact(item.raw)
                change = contact_change(contact, now_contact)
                if now_contact is not None:
                    contact = now_contact
                if change:
                    yield Connection(item.t_s, change)
                last_t = item.t_s
                yield item
            elif isinstance(item, Battery):
                self.battery_percent = item.percent
                last_t = item.t_s
                yield item
            elif isinstance(item, _Lost):
                if item.gen != self._gen or lost_at is not None:
                    continue
                lost_at = item.t_s
                self.last_error = "link lost"
                last_t = item.t_s
                yield Connection(item.t_s, "lost", "link dropped; reconnecting")
                await self._stop_reconnecting()
                self._reconnect_task = asyncio.create_task(self._reconnect(lost_at))
            elif isinstance(item, _Restored):
                if item.gen != self._gen or lost_at is None:
                    continue
                lost_at = None
                last_t = item.t_s
                yield Connection(item.t_s, "restored", f"after {item.gap_s:.1f} s")
            elif isinstance(item, _Failed):
                raise item.error
            elif item is _CLOSE:
                return

    async def _reconnect(self, lost_at: float) -> None:
        """Retry until connected and subscribed; the iterator enforces the deadline."""
        cfg = self.config
        assert self.strap is not None
        address = self.strap.address
        delays = backoff_delays(cfg.backoff_initial_s, cfg.backoff_factor, cfg.backoff_max_s)
        old = self._link
        self._link = None
        if old is not None:
            await self._quiet_disconnect(old.client)  # release the dead client's D-Bus connection
        try:
            while True:
                try:
                    found = await scan_straps(
                        cfg.reconnect_scan_s,
                        stop_when=lambda s: s.address == address,
                        adapter=cfg.adapter,
                    )
                    hit = next((s for s in found if s.address == address), None)
                    if hit is None:
                        self.last_error = "strap not in range"
                    else:
                        link, info = await self._open(hit.ble_device)
                        self._link = link
                        t = self.now()
                        self._queue.put_nowait(_Restored(t, link.gen, t - lost_at))
                        battery = info["battery"]
                        if battery is not None and battery != self.battery_percent:
                            self._queue.put_nowait(Battery(t, battery))
                        try:
                            await self._subscribe(link)
                        except Exception as e:
                            # Its disconnect is reported as a new loss, which restarts this loop.
                            self.last_error = _first_line(e)
                            await self._quiet_disconnect(link.client)
                            return
                        self.reconnects += 1
                        return
                except StrapError as e:
                    self.last_error = _first_line(e)
                except Exception as e:
                    err = strap_error_from(e, target=self.target)
                    self.last_error = _first_line(err or e)
                await asyncio.sleep(next(delays))
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # a bug, not a Bluetooth problem: end the session loudly
            self._queue.put_nowait(_Failed(e))

    async def _stop_reconnecting(self) -> None:
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- closing

    async def aclose(self) -> None:
        """Stop notifications and disconnect; safe to call more than once."""
        if self._closed:
            return
        self._closing = True
        self._closed = True
        await self._stop_reconnecting()
        self._queue.put_nowait(_CLOSE)  # an iterator waiting in another task ends
        if self._iter is not None:
            # RuntimeError: the iterator is running in another task; _CLOSE ends it there
            with contextlib.suppress(RuntimeError, Exception):
                await self._iter.aclose()  # type: ignore[attr-defined]
        link, self._link = self._link, None
        if link is None:
            return
        client = link.client
        if client.is_connected:
            for char in link.subscribed:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.config.close_timeout_s):
                        await client.stop_notify(char)
        await self._quiet_disconnect(client)


__all__ = ["StrapSource"]
