"""Heart Rate Measurement parsing: every flag combination, malformed input, round trip."""

from __future__ import annotations

import itertools
import struct

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
    with pytest.raises(ValueError):
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
