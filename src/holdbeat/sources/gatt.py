"""What a heart-rate strap's GATT characteristics say, as pure functions: the UUIDs of the
Heart Rate Service's characteristics and the Device Information it reads once at connect
(body location, battery, maker, model, firmware), and the sensor-contact bit of each
measurement, which the strap source records when it flips."""

from __future__ import annotations

from holdbeat.hrs import MalformedMeasurement, parse_hrm


def uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HR_MEASUREMENT_UUID = uuid16(0x2A37)
BODY_SENSOR_LOCATION_UUID = uuid16(0x2A38)
BATTERY_LEVEL_UUID = uuid16(0x2A19)
MANUFACTURER_UUID = uuid16(0x2A29)
MODEL_UUID = uuid16(0x2A24)
FIRMWARE_UUID = uuid16(0x2A26)

#: Body Sensor Location (0x2A38) values, Heart Rate Service 1.0
BODY_LOCATIONS = {
    0: "other",
    1: "chest",
    2: "wrist",
    3: "finger",
    4: "hand",
    5: "ear lobe",
    6: "foot",
}


def parse_body_location(data: bytes | None) -> str | None:
    if not data:
        return None
    return BODY_LOCATIONS.get(data[0], f"reserved ({data[0]})")


def parse_battery(data: bytes | None) -> int | None:
    """Battery Level is one byte, 0-100 %; anything else is not a reading."""
    if not data or data[0] > 100:
        return None
    return data[0]


def parse_text(data: bytes | None) -> str | None:
    """A Device Information string: UTF-8, sometimes NUL-padded by firmware."""
    if not data:
        return None
    text = data.decode("utf-8", errors="replace").strip("\x00").strip()
    return text or None


def measurement_contact(raw: bytes) -> bool | None:
    """Sensor contact from a notification; None when unsupported or unreadable."""
    try:
        return parse_hrm(raw).contact
    except MalformedMeasurement:
        return None


def contact_change(before: bool | None, now: bool | None) -> str | None:
    """The Connection state to record when the contact bit flips (or starts off)."""
    if now is None or now == before:
        return None
    if now:
        return "contact_restored" if before is False else None
    return "contact_lost"
