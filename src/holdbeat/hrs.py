"""Bluetooth Heart Rate Measurement (0x2A37) bytes <-> HeartRateMeasurement. Pure.

Layout (Heart Rate Service 1.0): one flags byte, then HR (uint8, or uint16 LE when
flags bit 0), Energy Expended uint16 LE (bit 3), then zero or more RR intervals as
uint16 LE in 1/1024 s (bit 4). Bits 1-2 are sensor contact: bit 2 = supported,
bit 1 = detected. Bits 5-7 are reserved and ignored so future flags don't break us.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass

RR_UNITS_PER_S = 1024.0
_MS_PER_UNIT = 1000.0 / RR_UNITS_PER_S
_LITTLE = sys.byteorder == "little"

FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10


class MalformedMeasurement(ValueError):
    """The notification bytes do not form a valid Heart Rate Measurement."""

    def __init__(self, data: bytes, reason: str) -> None:
        self.data = bytes(data)
        self.reason = reason
        shown = self.data.hex(" ") if self.data else "(empty)"
        super().__init__(f"malformed Heart Rate Measurement [{shown}]: {reason}")


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    hr_bpm: int
    rr_ms: tuple[float, ...] = ()
    contact: bool | None = None
    energy_kj: int | None = None


def rr_units_to_ms(units: int) -> float:
    return units * 1000.0 / RR_UNITS_PER_S


def ms_to_rr_units(rr_ms: float) -> int:
    return round(rr_ms * RR_UNITS_PER_S / 1000.0)


def parse_hrm(data: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode one notification; raise MalformedMeasurement (never anything else)."""
    data = bytes(data)
    if not data:
        raise MalformedMeasurement(data, "empty notification")
    flags = data[0]
    pos = 1
    if flags & FLAG_HR_UINT16:
        if len(data) < pos + 2:
            raise MalformedMeasurement(
                data, "flags say uint16 heart rate but fewer than 2 bytes follow"
            )
        hr = data[1] | data[2] << 8
        pos += 2
    else:
        if len(data) < pos + 1:
            raise MalformedMeasurement(data, "heart rate value missing")
        hr = data[pos]
        pos += 1
    contact: bool | None = None
    if flags & FLAG_CONTACT_SUPPORTED:
        contact = bool(flags & FLAG_CONTACT_DETECTED)
    energy: int | None = None
    if flags & FLAG_ENERGY:
        if len(data) < pos + 2:
            raise MalformedMeasurement(
                data, "flags say energy expended present but it is truncated"
            )
        energy = data[pos] | data[pos + 1] << 8
        pos += 2
    rr: tuple[float, ...] = ()
    rest = len(data) - pos
    if flags & FLAG_RR:
        if rest % 2:
            raise MalformedMeasurement(data, f"odd trailing byte in RR intervals ({rest} bytes)")
        units = (
            memoryview(data)[pos:].cast("H")
            if _LITTLE
            else struct.unpack_from(f"<{rest // 2}H", data, pos)
        )
        rr = tuple([u * _MS_PER_UNIT for u in units])
    # Bytes after the known fields with no RR flag belong to fields a future revision may
    # add: ignore them (forward compatible), as with the reserved flag bits.
    return HeartRateMeasurement(hr_bpm=hr, rr_ms=rr, contact=contact, energy_kj=energy)


def encode_hrm(
    hr_bpm: int,
    rr_ms: tuple[float, ...] | list[float] = (),
    contact: bool | None = None,
    energy_kj: int | None = None,
    *,
    hr_uint16: bool | None = None,
    rr_flag: bool | None = None,
) -> bytes:
    """Encode a measurement as a strap would. RR are rounded to 1/1024 s units.

    hr_uint16=None picks uint16 only when the value needs it; rr_flag=None sets the RR
    bit only when RR values are given (a strap may set it with none, hence the override).
    """
    if not 0 <= hr_bpm <= 0xFFFF:
        raise ValueError(f"hr_bpm {hr_bpm} out of range 0..65535")
    wide = hr_bpm > 0xFF if hr_uint16 is None else hr_uint16
    if not wide and hr_bpm > 0xFF:
        raise ValueError(f"hr_bpm {hr_bpm} does not fit uint8")
    has_rr = bool(rr_ms) if rr_flag is None else rr_flag
    flags = 0
    if wide:
        flags |= FLAG_HR_UINT16
    if contact is not None:
        flags |= FLAG_CONTACT_SUPPORTED | (FLAG_CONTACT_DETECTED if contact else 0)
    if energy_kj is not None:
        flags |= FLAG_ENERGY
    if has_rr:
        flags |= FLAG_RR
    out = bytearray([flags])
    out += struct.pack("<H", hr_bpm) if wide else bytes([hr_bpm])
    if energy_kj is not None:
        if not 0 <= energy_kj <= 0xFFFF:
            raise ValueError(f"energy_kj {energy_kj} out of range 0..65535")
        out += struct.pack("<H", energy_kj)
    for r in rr_ms:
        units = ms_to_rr_units(r)
        if not 0 <= units <= 0xFFFF:
            raise ValueError(f"RR {r} ms does not fit uint16 in 1/1024 s")
        out += struct.pack("<H", units)
    return bytes(out)
