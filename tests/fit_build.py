"""A minimal, valid Garmin FIT activity file with beat-to-beat (HRV) messages, built by hand.

Provenance: written for holdbeat's tests from the FIT protocol as Garmin publishes it (FIT
SDK "FIT Protocol" document: 14-byte file header with ".FIT" and a CRC, definition messages
(record header bit 6) and data messages, little-endian fields, the FIT CRC-16 over the whole
file) and the Global FIT Profile (file_id = 0: type, manufacturer, time_created; record = 20:
timestamp 253, heart_rate 3; hrv = 78: time 0, uint16 array, scale 1000, seconds). No
device wrote these bytes; fitdecode (an independent decoder) reads them and checks both CRCs.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip
UINT8, ENUM, UINT16, UINT32 = 0x02, 0x00, 0x84, 0x86
INVALID_U16 = 0xFFFF


def crc16(data: bytes, crc: int = 0) -> int:
    for byte in data:
        tmp = _CRC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[byte & 0xF]
        tmp = _CRC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[(byte >> 4) & 0xF]
    return crc


def _definition(local: int, global_num: int, fields: list[tuple[int, int, int]]) -> bytes:
    out = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    return out + b"".join(struct.pack("<BBB", *f) for f in fields)


def fit_timestamp(when: datetime) -> int:
    return int((when - FIT_EPOCH).total_seconds())


def build_fit(
    rr_s: list[float | None],
    start: datetime,
    per_message: int = 5,
    bad_crc: bool = False,
    truncate: int = 0,
) -> bytes:
    """An activity: file_id, one record at `start`, then hrv messages of `per_message` RR
    (None = the invalid value 0xFFFF; the last message padded with invalid values)."""
    body = b""
    body += _definition(0, 0, [(0, 1, ENUM), (1, 2, UINT16), (4, 4, UINT32)])
    body += struct.pack("<BBHI", 0, 4, 255, fit_timestamp(start))  # activity, development
    body += _definition(1, 20, [(253, 4, UINT32), (3, 1, UINT8)])
    body += struct.pack("<BIB", 1, fit_timestamp(start), 60)
    body += _definition(2, 78, [(0, 2 * per_message, UINT16)])
    for i in range(0, len(rr_s), per_message):
        chunk = list(rr_s[i : i + per_message])
        chunk += [None] * (per_message - len(chunk))
        units = [INVALID_U16 if x is None else round(x * 1000) for x in chunk]
        body += struct.pack("<B" + "H" * per_message, 2, *units)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", crc16(header))
    data = header + body
    crc = crc16(data) ^ (1 if bad_crc else 0)
    data += struct.pack("<H", crc)
    return data[: len(data) - truncate] if truncate else data
