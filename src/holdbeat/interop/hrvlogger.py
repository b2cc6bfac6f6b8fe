"""HRV Logger's RR file (`…_RR_….csv`) -> RR intervals. Pure: text in, arrays out.

HRV Logger (Marco Altini's app) writes one row per beat, `,`-separated, with a header:

    date,rr,since start
    2025-03-15 09:00:15.123,823,0

`date` is the phone's local clock time of the beat, `rr` the interval in ms, `since start`
the ms since the recording started (optional; not needed). As with Polar Sensor Logger, the
timestamps reveal connection gaps, which the import keeps as explicit gaps. Every refusal
names the line and the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from holdbeat.interop.imported_rr import (
    ImportedRR,
    ImportFormatError,
    check_rr_ms,
    nonblank_lines,
    parse_number,
    show,
)

FORMAT = "hrv-logger"
DATE, RR, SINCE = "date", "rr", "since start"


def looks_like(first_line: str) -> bool:
    cols = [c.strip().lower() for c in first_line.removeprefix("\ufeff").split(",")]
    return DATE in cols and RR in cols


def parse_hrv_logger(text: str, origin: str = "<hrv-logger>") -> ImportedRR:
    lines = nonblank_lines(text)  # streamed: (line number, text) of non-empty lines
    first = next(lines, None)
    if first is None:
        raise ImportFormatError(origin, None, "empty file: no header and no RR intervals")
    n0, head = first
    if ";" in head and "," not in head:
        raise ImportFormatError(
            origin, n0, "columns are separated by ';', but HRV Logger uses ',' (wrong delimiter)"
        )
    cols = [c.strip().lower() for c in head.split(",")]
    if DATE not in cols or RR not in cols:
        raise ImportFormatError(
            origin,
            n0,
            f"not an HRV Logger RR file: expected the header 'date,rr,since start', "
            f"found {show(head)}",
        )
    i_t, i_rr = cols.index(DATE), cols.index(RR)
    rr: list[float] = []
    src: list[int] = []
    stamps: list[datetime] = []
    for n, line in lines:
        fields = line.split(",")
        if len(fields) != len(cols):
            raise ImportFormatError(
                origin,
                n,
                f"expected {len(cols)} ','-separated fields ({', '.join(cols)}), "
                f"found {len(fields)} in {show(line)}",
            )
        ts = fields[i_t].strip()
        try:
            stamp = datetime.fromisoformat(ts)
        except ValueError:
            raise ImportFormatError(
                origin,
                n,
                f"field 'date': {show(ts)} is not a date-time "
                "(expected e.g. 2025-03-15 09:00:15.123)",
            ) from None
        value = parse_number(fields[i_rr], origin, n, "field 'rr'")
        rr.append(check_rr_ms(value, origin, n))
        src.append(n)
        stamps.append(stamp)
    if not rr:
        raise ImportFormatError(origin, None, "no RR intervals found (the header is there)")
    if len({s.tzinfo is not None for s in stamps}) > 1:
        raise ImportFormatError(origin, None, "dates mix local times and times with a UTC offset")
    return ImportedRR(
        format=FORMAT,
        rr_ms=tuple(rr),
        source_lines=tuple(src),
        units="ms",
        timestamps=tuple(stamps),
        start=stamps[0] - timedelta(milliseconds=rr[0]),
        start_from="HRV Logger date of the first beat, minus its RR",
    )
