"""The strap source's pure parts: choosing a strap, parsing its details, errors, backoff."""

from __future__ import annotations

import itertools

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from holdbeat.hrs import encode_hrm
from holdbeat.sources.gatt import (
    contact_change,
    measurement_contact,
    parse_battery,
    parse_body_location,
    parse_text,
)
from holdbeat.sources.scan import FoundStrap, advertises_hr, by_signal, matches, pick_strap
from holdbeat.sources.strap_errors import (
    AdapterOff,
    NoAdapter,
    NoStrapFound,
    PermissionDenied,
    SeveralStraps,
    StrapBusy,
    strap_error_from,
)
from holdbeat.sources.strap_policy import StrapConfig, backoff_delays, give_up_reason

A = FoundStrap("Polar H10 0A1B2C3D", "C0:FF:EE:00:00:01", -70)
B = FoundStrap("", "C0:FF:EE:00:00:02", -50)
C = FoundStrap("Wahoo TICKR", "C0:FF:EE:00:00:03", None)


def test_advertises_hr_by_uuid_in_any_case() -> None:
    assert advertises_hr(["0000180D-0000-1000-8000-00805F9B34FB"])
    assert not advertises_hr(["0000180f-0000-1000-8000-00805f9b34fb"])
    assert not advertises_hr([])


def test_by_signal_strongest_first_unknown_last() -> None:
    assert by_signal([C, A, B]) == [B, A, C]


def test_matches_address_any_case_and_separator_or_exact_name() -> None:
    assert matches(A, "c0:ff:ee:00:00:01") and matches(A, "C0-FF-EE-00-00-01")
    assert matches(A, "polar h10 0a1b2c3d")
    assert not matches(A, "Polar")  # a prefix is not a name: two Polars would be ambiguous
    assert not matches(B, "")  # the empty name matches nothing


def test_pick_strap_rules() -> None:
    assert pick_strap([A], None, 10) is A
    assert pick_strap([A, B, C], "Wahoo TICKR", 10) is C
    with pytest.raises(SeveralStraps, match="3 heart-rate straps"):
        pick_strap([A, B, C], None, 10)
    with pytest.raises(NoStrapFound, match="scanned 7 s"):
        pick_strap([], None, 7)
    with pytest.raises(NoStrapFound, match="'Garmin'") as e:
        pick_strap([A, B], "Garmin", 10)
    assert "C0:FF:EE:00:00:02" in str(e.value) and "(no name)" in str(e.value)
    twin = FoundStrap("Polar H10 0A1B2C3D", "C0:FF:EE:00:00:09", -40)
    with pytest.raises(SeveralStraps):  # same name twice: the address must decide
        pick_strap([A, twin], "Polar H10 0A1B2C3D", 10)


def test_backoff_grows_to_its_cap() -> None:
    assert list(itertools.islice(backoff_delays(0.5, 2.0, 5.0), 6)) == [0.5, 1, 2, 4, 5, 5]
    assert list(itertools.islice(backoff_delays(1.0, 1.0, 1.0), 3)) == [1, 1, 1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tick_s": 0}, "tick_s"),
        ({"reconnect_deadline_s": -1}, "reconnect_deadline_s"),
        ({"scan_s": float("nan")}, "scan_s"),
        ({"backoff_initial_s": 20.0}, "backoff"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
    ],
)
def test_config_rejects_nonsense(changes: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        StrapConfig(**changes)


def test_characteristic_parsers() -> None:
    assert parse_battery(b"\x57") == 87 and parse_battery(b"\x00") == 0
    assert parse_battery(b"\x65") is None and parse_battery(b"") is None  # 101: not a level
    assert parse_body_location(b"\x01") == "chest" and parse_body_location(b"\x02") == "wrist"
    assert parse_body_location(b"\x09") == "reserved (9)" and parse_body_location(None) is None
    assert parse_text(b"H10\x00\x00") == "H10" and parse_text(b"\x00") is None
    assert parse_text(b"caf\xc3\xa9 \xff") == "café \ufffd"


def test_contact_transitions() -> None:
    assert contact_change(None, True) is None  # contact from the start: nothing to report
    assert contact_change(None, False) == "contact_lost"  # off from the start: say so
    assert contact_change(True, False) == "contact_lost"
    assert contact_change(False, True) == "contact_restored"
    assert contact_change(True, True) is None and contact_change(False, False) is None
    assert contact_change(False, None) is None  # a packet without the bit changes nothing


def test_measurement_contact() -> None:
    assert measurement_contact(encode_hrm(70, contact=True)) is True
    assert measurement_contact(encode_hrm(70, contact=False)) is False
    assert measurement_contact(encode_hrm(70)) is None
    assert measurement_contact(b"") is None and measurement_contact(b"\x17") is None  # malformed


def test_give_up_reason() -> None:
    assert give_up_reason(300, "strap not in range") == (
        "strap lost: not back within 5 min (last: strap not in range)"
    )
    assert give_up_reason(45, "") == "strap lost: not back within 45 s"
    assert give_up_reason(90, "") == "strap lost: not back within 1.5 min"


def unavailable(reason: BleakBluetoothNotAvailableReason) -> BleakBluetoothNotAvailableError:
    return BleakBluetoothNotAvailableError("msg.", reason)


@pytest.mark.parametrize(
    ("exc", "kind", "connecting"),
    [
        (unavailable(BleakBluetoothNotAvailableReason.NO_BLUETOOTH), NoAdapter, False),
        (unavailable(BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE), NoAdapter, False),
        (unavailable(BleakBluetoothNotAvailableReason.POWERED_OFF), AdapterOff, False),
        (unavailable(BleakBluetoothNotAvailableReason.DENIED_BY_USER), PermissionDenied, False),
        (unavailable(BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM), PermissionDenied, False),
        (BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []), PermissionDenied, False),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), NoAdapter, False),
        (BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]), AdapterOff, False),
        (BleakDBusError("org.bluez.Error.InProgress", ["busy"]), StrapBusy, True),
        (BleakDBusError("org.bluez.Error.Failed", ["abort"]), StrapBusy, True),
        (BleakDeviceNotFoundError("AA", "gone"), NoStrapFound, True),
        (PermissionError(13, "Permission denied"), PermissionDenied, False),
        (FileNotFoundError(2, "No such file"), NoAdapter, False),
        (BleakError("adapter 'hci1' not found"), NoAdapter, False),
    ],
)
def test_error_mapping(exc: BaseException, kind: type, connecting: bool) -> None:
    err = strap_error_from(exc, target="Polar H10", connecting=connecting)
    assert isinstance(err, kind)
    assert err.exit_code == 3


def test_unknown_errors_are_not_disguised() -> None:
    assert strap_error_from(ValueError("bug")) is None
    assert (
        strap_error_from(BleakDBusError("org.bluez.Error.Failed", ["x"])) is None
    )  # not connecting
    assert strap_error_from(TimeoutError(), connecting=True) is None  # the caller names its timeout
