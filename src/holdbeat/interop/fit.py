"""Garmin FIT activity files -> beat-to-beat intervals (through fitdecode). Pure: bytes in.

Garmin watches and straps (HRM-Pro, HRM-Dual, …) log each beat-to-beat interval, when "log
HRV" is on, in `hrv` messages (global number 78): field `time`, an array of up to 5 intervals
in seconds (1/1000 s resolution), 0xFFFF for "no value". The intervals are consecutive beats
from the start of the activity, which the file's first `record` timestamp (else `file_id`
`time_created`) gives. An invalid value in the middle means beats were missed: the import
keeps that as a gap (no successive difference across it) instead of joining the beats.

A damaged file (bad header, CRC, cut short) is refused as a whole, naming the message.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from holdbeat.interop.imported_rr import ImportedRR, ImportFormatError, check_rr_ms

FORMAT = "fit"
HRV_MESSAGE = "hrv"
GAP_MARK_S = 5.0  # a missed stretch shown as a gap this long (its true length is unknown)


def looks_like(data: bytes) -> bool:
    return len(data) >= 12 and data[8:12] == b".FIT"


def _valid(x: object) -> bool:
    return isinstance(x, int | float) and 0 < float(x) < 65.535


def parse_fit(data: bytes, origin: str = "<fit>") -> ImportedRR:
    import fitdecode

    if not looks_like(data):
        raise ImportFormatError(origin, None, "not a FIT file (no '.FIT' in the file header)")
    rr_ms: list[float] = []
    src: list[int] = []
    stamps: list[datetime] = []  # per beat: where it would end on a gap-marked clock
    gaps: list[bool] = []
    start: datetime | None = None
    created: datetime | None = None
    n_msg = 0
    invalid_inside = 0
    clock_s = 0.0
    pending_gap = False
    try:
        with fitdecode.FitReader(
            io.BytesIO(data),
            check_crc=fitdecode.CrcCheck.RAISE,
            error_handling=fitdecode.ErrorHandling.RAISE,
        ) as fit:
            for frame in fit:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                n_msg += 1
                if frame.name == "file_id" and frame.has_field("time_created"):
                    created = frame.get_value("time_created")
                elif frame.name == "record" and start is None and frame.has_field("timestamp"):
                    start = frame.get_value("timestamp")
                elif frame.name == HRV_MESSAGE:
                    values = frame.get_value("time", fallback=None)
                    if values is None:
                        raise ImportFormatError(
                            origin, None, f"message {n_msg} (hrv): no field 'time'"
                        )
                    if not isinstance(values, list | tuple):
                        values = (values,)
                    for x in values:
                        if not _valid(x):
                            pending_gap = bool(rr_ms)  # padding at the end is no gap
                            continue
                        try:
                            ms = check_rr_ms(float(x) * 1000.0, origin, n_msg)
                        except ImportFormatError as e:
                            raise ImportFormatError(
                                origin, None, f"message {n_msg} (hrv), field 'time': {e.reason}"
                            ) from None
                        gaps.append(pending_gap)
                        if pending_gap:
                            clock_s += GAP_MARK_S
                            pending_gap = False
                            invalid_inside += 1
                        clock_s += ms / 1000.0
                        rr_ms.append(ms)
                        src.append(n_msg)
                        stamps.append(datetime(2000, 1, 1) + timedelta(seconds=clock_s))
    except fitdecode.FitError as e:
        where = f"after message {n_msg}" if n_msg else "in the file header"
        raise ImportFormatError(
            origin, None, f"damaged FIT file {where}: {type(e).__name__}: {e}"
        ) from None
    if not rr_ms:
        raise ImportFormatError(
            origin,
            None,
            f"no beat-to-beat intervals: {n_msg} messages but no 'hrv' message with a valid "
            "time (turn on 'log HRV' on the watch, or record with a chest strap)",
        )
    anchor = start or created
    notes = [f"{len(rr_ms)} intervals from {n_msg} FIT messages (1 ms resolution)"]
    if invalid_inside:
        notes.append(
            f"{invalid_inside} stretch(es) of invalid values between beats: missed beats, kept "
            "as gaps (connection lost/restored) so no successive difference spans them"
        )
    offset = stamps[0] - timedelta(milliseconds=rr_ms[0])
    real = tuple(
        (anchor.astimezone(UTC) if anchor else datetime(1970, 1, 1, tzinfo=UTC)) + (s - offset)
        for s in stamps
    )
    return ImportedRR(
        format=FORMAT,
        rr_ms=tuple(rr_ms),
        source_lines=tuple(src),
        units="ms",
        timestamps=real,
        gap_before=tuple(gaps),
        start=anchor.astimezone(UTC) if anchor else None,
        start_from="the FIT file's first record timestamp"
        if start
        else ("the FIT file's time_created" if created else ""),
        notes=tuple(notes),
    )
