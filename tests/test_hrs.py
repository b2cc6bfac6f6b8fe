"""Heart Rate Measurement parsing: every flag combination, malformed input, round trip."""

from __future__ import annotations

import itertools
import re
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from holdbeat.hrs import (
    HeartRateMeasurement,
    MalformedMeasurement,
    encode_hrm,
    ms_to_rr_units,
    parse_hrm,
    parse_hrm_batch,
    rr_units_to_ms,
)


def build(flags: int, hr: int, energy: int | None = None, rr_units: list[int] = ()) -> bytes:
    out = bytes([flags])
    out += struct.pack("<H", hr) if flags & 1 else bytes([hr])
    if energy is not None:
        out += struct.pack("<H", energy)
    for u in rr_units:
        out += struct.pack("<H", u)
    return out


@pytest.mark.parametrize(
    "wide,contact_bits,energy,n_rr",
    list(itertools.product([0, 1], [0b00, 0b01, 0b10, 0b11], [0, 1], [0, 1, 3])),
)
def test_every_flag_combination(wide: int, contact_bits: int, energy: int, n_rr: int) -> None:
    flags = wide | (contact_bits << 1) | (energy << 3) | ((1 if n_rr else 0) << 4)
    hr = 300 if wide else 72
    rr_units = [1024, 800, 1100][:n_rr]
    data = build(flags, hr, 1234 if energy else None, rr_units)
    m = parse_hrm(data)
    assert m.hr_bpm == hr
    assert m.energy_kj == (1234 if energy else None)
    assert m.rr_ms == tuple(u * 1000 / 1024 for u in rr_units)
    supported, detected = bool(contact_bits & 0b10), bool(contact_bits & 0b01)
    assert m.contact == (detected if supported else None)


def test_rr_units_are_1024ths_of_a_second() -> None:
    m = parse_hrm(bytes([0x10, 60, 0x00, 0x04, 0x00, 0x02]))  # 1024 and 512 units
    assert m.rr_ms == (1000.0, 500.0)


def test_uint16_heart_rate_little_endian() -> None:
    assert parse_hrm(bytes([0x01, 0x2C, 0x01])).hr_bpm == 300


def test_reserved_flag_bits_are_ignored() -> None:
    m = parse_hrm(bytes([0xE0 | 0x10, 70, 0x00, 0x04]))
    assert m == HeartRateMeasurement(70, (1000.0,), None, None)


def test_rr_flag_with_no_values_is_valid() -> None:
    assert parse_hrm(bytes([0x10, 70])).rr_ms == ()


@pytest.mark.parametrize(
    "data,needle",
    [
        (b"", "empty"),
        (bytes([0x01, 0x48]), "uint16"),
        (bytes([0x00]), "heart rate value missing"),
        (bytes([0x08, 70, 0x01]), "energy"),
        (bytes([0x10, 70, 0x00, 0x04, 0x05]), "odd trailing byte"),
    ],
)
def test_malformed_input_names_the_bytes(data: bytes, needle: str) -> None:
    with pytest.raises(MalformedMeasurement) as exc:
        parse_hrm(data)
    msg = str(exc.value)
    assert needle in msg
    assert (data.hex(" ") if data else "(empty)") in msg
    assert isinstance(exc.value, ValueError)


def test_encode_picks_uint16_only_when_needed() -> None:
    assert encode_hrm(72)[0] & 1 == 0
    assert encode_hrm(256)[0] & 1 == 1
    with pytest.raises(ValueError, match="does not fit uint8"):
        encode_hrm(256, hr_uint16=False)


def test_rr_unit_conversion_round_trip_is_exact_in_units() -> None:
    for units in (1, 300, 1024, 65535):
        assert ms_to_rr_units(rr_units_to_ms(units)) == units


@given(
    hr=st.integers(0, 0xFFFF),
    rr_units=st.lists(st.integers(0, 0xFFFF), max_size=8),
    contact=st.none() | st.booleans(),
    energy=st.none() | st.integers(0, 0xFFFF),
)
def test_encode_parse_round_trip(
    hr: int, rr_units: list[int], contact: bool | None, energy: int | None
) -> None:
    rr_ms = [rr_units_to_ms(u) for u in rr_units]
    m = parse_hrm(encode_hrm(hr, rr_ms, contact=contact, energy_kj=energy))
    assert m == HeartRateMeasurement(hr, tuple(rr_ms), contact, energy)


@given(st.binary(max_size=40))
def test_arbitrary_bytes_parse_or_raise_malformed(data: bytes) -> None:
    try:
        m = parse_hrm(data)
    except MalformedMeasurement:
        return
    assert isinstance(m.hr_bpm, int) and all(r >= 0 for r in m.rr_ms)


def _one_by_one(packets: list[bytes]) -> list[HeartRateMeasurement | str]:
    out: list[HeartRateMeasurement | str] = []
    for p in packets:
        try:
            out.append(parse_hrm(p))
        except MalformedMeasurement as e:
            out.append(str(e))
    return out


def _from_batch(packets: list[bytes]) -> list[HeartRateMeasurement | str]:
    b = parse_hrm_batch(packets)
    out: list[HeartRateMeasurement | str] = []
    for i in range(len(packets)):
        if not b.ok[i]:
            out.append(b.errors[i])
            continue
        c = int(b.contact[i])
        e = int(b.energy_kj[i])
        rr = tuple(b.rr_ms[b.rr_start[i] : b.rr_start[i + 1]].tolist())
        out.append(
            HeartRateMeasurement(
                int(b.hr_bpm[i]), rr, None if c < 0 else bool(c), None if e < 0 else e
            )
        )
    assert set(b.errors) == {i for i in range(len(packets)) if not b.ok[i]}
    return out


# Valid packets of every shape, and mutilated ones (cut short, an odd byte added).
_packets = st.builds(
    lambda hr, rr, contact, energy, cut: encode_hrm(
        hr, [rr_units_to_ms(u) for u in rr], contact=contact, energy_kj=energy
    )[: cut or None],
    st.integers(0, 0xFFFF),
    st.lists(st.integers(0, 0xFFFF), max_size=6),
    st.none() | st.booleans(),
    st.none() | st.integers(0, 0xFFFF),
    st.integers(-3, 0),
)


@given(st.lists(_packets | st.binary(max_size=12), max_size=30))
def test_batch_parse_equals_parse_hrm_packet_by_packet(packets: list[bytes]) -> None:
    """Loading parses in one numpy batch; it must be parse_hrm exactly, bit for bit."""
    assert _from_batch(packets) == _one_by_one(packets)


def test_batch_parse_of_nothing_and_of_only_empty_packets() -> None:
    assert parse_hrm_batch([]).rr_start.tolist() == [0]
    b = parse_hrm_batch([b"", b""])
    assert not b.ok.any() and set(b.errors) == {0, 1} and "empty" in b.errors[0]


# ------------------------------------------------ exact bytes, exact errors, boundaries


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"hr_bpm": 72}, bytes([0x00, 72])),
        ({"hr_bpm": 255}, bytes([0x00, 0xFF])),  # the largest uint8 stays uint8
        ({"hr_bpm": 256}, bytes([0x01, 0x00, 0x01])),  # the smallest needing uint16
        ({"hr_bpm": 0xFFFF}, bytes([0x01, 0xFF, 0xFF])),
        ({"hr_bpm": 72, "hr_uint16": True}, bytes([0x01, 72, 0x00])),
        ({"hr_bpm": 72, "contact": False}, bytes([0x04, 72])),  # supported, not detected
        ({"hr_bpm": 72, "contact": True}, bytes([0x06, 72])),
        ({"hr_bpm": 72, "energy_kj": 0x1234}, bytes([0x08, 72, 0x34, 0x12])),
        ({"hr_bpm": 72, "energy_kj": 0xFFFF}, bytes([0x08, 72, 0xFF, 0xFF])),
        ({"hr_bpm": 72, "rr_ms": [1000.0, 500.0]}, bytes([0x10, 72, 0x00, 0x04, 0x00, 0x02])),
        ({"hr_bpm": 72, "rr_flag": True}, bytes([0x10, 72])),  # RR bit without values
        # a strap bug: RR values sent without the flag
        ({"hr_bpm": 72, "rr_ms": [1000.0], "rr_flag": False}, bytes([0x00, 72, 0x00, 0x04])),
        (
            {"hr_bpm": 300, "rr_ms": [63999.0234375], "contact": True, "energy_kj": 1},
            bytes([0x1F, 0x2C, 0x01, 0x01, 0x00, 0xFF, 0xFF]),
        ),
    ],
)
def test_encode_exact_bytes(kwargs: dict, expected: bytes) -> None:
    assert encode_hrm(**kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hr_bpm": -1}, "hr_bpm -1 out of range 0..65535"),
        ({"hr_bpm": 65536}, "hr_bpm 65536 out of range 0..65535"),
        ({"hr_bpm": 256, "hr_uint16": False}, "hr_bpm 256 does not fit uint8"),
        ({"hr_bpm": 70, "energy_kj": -1}, "energy_kj -1 out of range 0..65535"),
        ({"hr_bpm": 70, "energy_kj": 65536}, "energy_kj 65536 out of range 0..65535"),
        ({"hr_bpm": 70, "rr_ms": [-1.0]}, "RR -1.0 ms does not fit uint16 in 1/1024 s"),
        # 65535.5 units rounds up to 65536: one unit too many
        ({"hr_bpm": 70, "rr_ms": [64000.0]}, "RR 64000.0 ms does not fit uint16 in 1/1024 s"),
    ],
)
def test_encode_range_errors_say_what_is_wrong(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        encode_hrm(**kwargs)


def test_rr_unit_conversions_by_hand() -> None:
    assert rr_units_to_ms(1) == 0.9765625 and rr_units_to_ms(1024) == 1000.0
    assert ms_to_rr_units(1000.0) == 1024 and ms_to_rr_units(0.0) == 0
    assert ms_to_rr_units(0.48828125) == 0  # half a unit rounds to even (0)
    assert ms_to_rr_units(0.5) == 1 and ms_to_rr_units(1.46484375) == 2  # 1.5 units: even


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty notification"),
        (bytes([0x01, 0x48]), "flags say uint16 heart rate but fewer than 2 bytes follow"),
        (bytes([0x00]), "heart rate value missing"),
        (bytes([0x08, 70, 0x01]), "flags say energy expended present but it is truncated"),
        (bytes([0x09, 0x46, 0x00, 0x01]), "flags say energy expended present but it is truncated"),
        (bytes([0x10, 70, 0x00, 0x04, 0x05]), "odd trailing byte in RR intervals (3 bytes)"),
        (bytes([0x18, 70, 0, 0, 0x05]), "odd trailing byte in RR intervals (1 bytes)"),
    ],
)
def test_malformed_exact_message_and_fields(data: bytes, reason: str) -> None:
    shown = data.hex(" ") if data else "(empty)"
    with pytest.raises(
        MalformedMeasurement,
        match=f"^{re.escape(f'malformed Heart Rate Measurement [{shown}]: {reason}')}$",
    ) as exc:
        parse_hrm(bytearray(data))
    assert exc.value.data == data and exc.value.reason == reason


def test_parse_shortest_valid_packets_and_trailing_bytes() -> None:
    assert parse_hrm(bytes([0x00, 0])) == HeartRateMeasurement(0, (), None, None)
    assert parse_hrm(bytes([0x01, 0x34, 0x12])) == HeartRateMeasurement(0x1234, (), None, None)
    assert parse_hrm(memoryview(bytes([0x08, 70, 0xFF, 0xFF]))).energy_kj == 0xFFFF
    # bytes after the known fields without the RR flag: a future field, ignored
    assert parse_hrm(bytes([0x04, 70, 0x00, 0x04, 0x07])) == HeartRateMeasurement(
        70, (), False, None
    )
    # the RR flag reads RR right after energy; uint16 HR shifts everything by one byte
    m = parse_hrm(bytes([0x19, 0x2C, 0x01, 0x10, 0x00, 0x00, 0x02, 0xFF, 0xFF]))
    assert m == HeartRateMeasurement(300, (500.0, 65535 * 1000 / 1024), None, 16)


def test_batch_fields_by_hand() -> None:
    packets = [
        bytes([0x16, 70, 0x00, 0x04, 0x00, 0x02]),  # contact detected, 2 RR
        bytes([0x01, 0x2C, 0x01]),  # uint16 HR, no contact support, no RR
        bytes([0x01, 0x48]),  # malformed: uint16 cut short
        bytes([0x1C, 60, 0x05, 0x00, 0x00, 0x01]),  # contact lost, energy 5, 1 RR
        b"",
    ]
    b = parse_hrm_batch(packets)
    assert b.ok.tolist() == [True, True, False, True, False]
    assert b.hr_bpm.tolist() == [70, 300, 0, 60, 0]
    assert b.contact.tolist() == [1, -1, -1, 0, -1]
    assert b.energy_kj.tolist() == [-1, -1, -1, 5, -1]
    assert b.rr_ms.tolist() == [1000.0, 500.0, 250.0]
    assert b.rr_start.tolist() == [0, 2, 2, 2, 3, 3]
    assert b.errors == {
        2: "malformed Heart Rate Measurement [01 48]: "
        "flags say uint16 heart rate but fewer than 2 bytes follow",
        4: "malformed Heart Rate Measurement [(empty)]: empty notification",
    }
    assert (b.ok.dtype, b.contact.dtype, b.rr_ms.dtype) == (bool, np.int8, np.float64)
