"""RR files from other apps -> RR intervals in ms. Pure: text in, arrays out, no file access.

Every parser names the line and the reason when it refuses a file, and refuses the whole file
(nothing partial). What the parsers share (ImportedRR, the error, the RR checks, line and
number readers) is in `imported_rr`.

Formats
- polar-sensor-logger: Polar Sensor Logger's RR file, `;`-separated with header
  `Phone timestamp;RR-interval [ms]`; timestamps are the phone's local time, RR integer ms.
- elite-hrv: Elite HRV's RR export, ms, one value per line (or `,`-separated); the file name
  (`YYYY-MM-DD HH-MM-SS.txt`) carries the start time.
- rr-txt: one RR per line, ms or s (auto-detected from the median, or given), `#` comments.
- hrv-logger: HRV Logger's RR CSV (`date,rr,since start`), parsed in `hrvlogger`.
Binary formats (EDF/EDF+, Garmin FIT) are in `edf_import` and `fit`.

Parsers take the text, or (line number, line) pairs streamed from the file, and keep the RR
in compact arrays, so a file of millions of lines is read in bounded memory; a file whose RR
add up to more than a session can be (7 days) is refused at the line where it does. Errors
quote at most a short, escaped prefix of a line (a file that is clearly not RR data, e.g. a
password file given by mistake, is not quoted at all).
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from datetime import datetime, timedelta

import numpy as np

from holdbeat.interop.imported_rr import (
    NUMBER,
    Collected,
    ImportedRR,
    ImportFormatError,
    Source,
    check_all_rr_ms,
    check_rr_ms,
    nonblank_lines,
    parse_number,
    parse_stamp,
    refuse_not_positive,
    require_some,
    show,
)
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT

FORMATS = ("polar-sensor-logger", "elite-hrv", "hrv-logger", "rr-txt")
UNITS = ("ms", "s")

PSL_TIME = "Phone timestamp"
PSL_RR = "RR-interval [ms]"
_ELITE_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ _T](\d{2})-(\d{2})-(\d{2})")
_ISO_START = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


# ---------------------------------------------------------------- Polar Sensor Logger


def parse_polar_sensor_logger(text: Source, origin: str = "<psl>") -> ImportedRR:
    lines = nonblank_lines(text)
    first = next(lines, None)
    if first is None:
        raise ImportFormatError(origin, None, "empty file: no header and no RR intervals")
    n0, head = first
    expected = f"expected the header '{PSL_TIME};{PSL_RR}'"
    if ";" not in head:
        for sep, name in ((",", "','"), ("\t", "a tab")):
            if sep in head and PSL_RR in head:
                raise ImportFormatError(
                    origin,
                    n0,
                    f"columns are separated by {name}, but Polar Sensor Logger uses ';' "
                    "(wrong delimiter)",
                )
    cols = [c.strip() for c in head.split(";")]
    if PSL_TIME not in cols or PSL_RR not in cols:
        if _ISO_START.match(head):
            raise ImportFormatError(
                origin, n0, f"header missing: {expected}, found data {show(head)}"
            )
        hint = ""
        if head.startswith(PSL_TIME):
            hint = (
                " (this is another Polar Sensor Logger stream: import the file ending in _RR.txt)"
            )
        raise ImportFormatError(
            origin, n0, f"not a Polar Sensor Logger RR file: {expected}, found {show(head)}{hint}"
        )
    i_t, i_rr = cols.index(PSL_TIME), cols.index(PSL_RR)
    need = max(i_t, i_rr) + 1
    rr = Collected(origin, MAX_SESSION_S * 1000)
    offsets = array("d")
    first_stamp: datetime | None = None
    for n, line in lines:
        fields = line.split(";")
        if len(fields) < need:
            other = next((f"'{s}'" for s in (",", "\t") if s in line), None)
            why = f" (separated by {other} instead of ';'?)" if other else ""
            raise ImportFormatError(
                origin,
                n,
                f"expected {len(cols)} ';'-separated fields, found {len(fields)} "
                f"in {show(line)}{why}",
            )
        stamp = parse_stamp(fields[i_t].strip(), origin, n)
        value = parse_number(fields[i_rr], origin, n)
        rr.add(check_rr_ms(value, origin, n), n)
        if first_stamp is None:
            first_stamp = stamp
        try:
            offset = (stamp - first_stamp).total_seconds()
        except TypeError:
            raise ImportFormatError(
                origin, n, "timestamps mix local times and times with a UTC offset"
            ) from None
        if abs(offset) > MAX_SESSION_S:
            raise ImportFormatError(
                origin,
                n,
                f"timestamp {show(fields[i_t])} is more than {MAX_SESSION_TEXT} from the "
                "first one: longer than one session can be (a clock jump? split the file)",
            )
        offsets.append(offset)
    rr_ms, src = rr.arrays()
    require_some(rr_ms, origin, "the header is there but no rows follow")
    assert first_stamp is not None
    start = first_stamp - timedelta(milliseconds=float(rr_ms[0]))
    return ImportedRR(
        format="polar-sensor-logger",
        rr_ms=rr_ms,
        source_lines=src,
        units="ms",
        start=start,
        start_from="Polar Sensor Logger phone timestamp of the first RR, minus that RR",
        stamp_s=np.frombuffer(offsets, dtype=float),
        first_stamp=first_stamp,
    )


# ---------------------------------------------------------------- Elite HRV


def elite_start_from_name(filename: str) -> datetime | None:
    """Elite HRV names each reading after its local start time: 'YYYY-MM-DD HH-MM-SS.txt'."""
    m = _ELITE_NAME.search(filename)
    if not m:
        return None
    try:
        return datetime(*(int(g) for g in m.groups()))  # type: ignore[misc]
    except ValueError:
        return None


def parse_elite_hrv(text: Source, origin: str = "<elite-hrv>", filename: str = "") -> ImportedRR:
    rr = Collected(origin, MAX_SESSION_S * 1000)
    first_line: int | None = None
    for n, line in nonblank_lines(text):
        if first_line is None:
            first_line = n
        for sep, name in ((";", "';'"), ("\t", "a tab")):
            if sep in line:
                raise ImportFormatError(
                    origin,
                    n,
                    f"values separated by {name}: Elite HRV uses one value per line or ',' "
                    "(wrong delimiter)",
                )
        tokens = [t.strip() for t in line.split(",")]
        if tokens and tokens[-1] == "" and len(tokens) > 1:
            tokens = tokens[:-1]  # a trailing comma
        for tok in tokens:
            if tok == "":
                raise ImportFormatError(origin, n, f"an empty value between commas in {show(line)}")
            if not NUMBER.match(tok):
                if n == first_line and not len(rr.values):
                    raise ImportFormatError(
                        origin,
                        n,
                        f"{show(tok)} is not a number: an Elite HRV RR export has no header, "
                        "only RR values in ms",
                    )
                raise ImportFormatError(origin, n, f"RR value {show(tok)} is not a number")
            value = float(tok)
            if not math.isfinite(value):
                raise ImportFormatError(origin, n, f"RR {value} is not a finite number")
            rr.add(value, n)
    if first_line is None:
        raise ImportFormatError(origin, None, "empty file: no RR intervals")
    rr_ms, src = rr.arrays()
    require_some(rr_ms, origin, "the file has no values")
    med = float(np.median(rr_ms))
    if med < 10:
        raise ImportFormatError(
            origin,
            None,
            f"values look like seconds (median {med:g}), but Elite HRV exports milliseconds: "
            "use --from rr-txt (it accepts seconds)",
        )
    check_all_rr_ms(rr_ms, src, origin)
    start = elite_start_from_name(filename)
    return ImportedRR(
        format="elite-hrv",
        rr_ms=rr_ms,
        source_lines=src,
        units="ms",
        start=start,
        start_from="Elite HRV file name (local start time)" if start else "",
    )


# ---------------------------------------------------------------- plain RR text


def detect_units(values: np.ndarray | list[float]) -> tuple[str, str]:
    """('ms'|'s', why). RR in s are 0.1-10; in ms 100-10000: the median tells them apart."""
    med = float(np.median(np.asarray(values, dtype=float)))
    if med <= 10:
        return (
            "s",
            f"units auto-detected as seconds (median value {med:g}); override with --units ms",
        )
    if med >= 100:
        return (
            "ms",
            f"units auto-detected as milliseconds (median value {med:g}); override with --units s",
        )
    raise ValueError(
        f"cannot tell the units: the median value {med:g} is neither a plausible RR in seconds "
        "(0.1–10) nor in milliseconds (100–10000); give --units ms or --units s"
    )


def _rr_txt_chunk(chunk: list[tuple[int, str]], rr: Collected, origin: str) -> None:
    """Lines of plain RR text into `rr`: a chunk of plain positive numbers in one go (a day
    is ~90,000 lines), anything else line by line, which says what is wrong and where."""
    if chunk and all(_PLAIN_RR.fullmatch(line) for _, line in chunk):
        values = [float(line) for _, line in chunk]
        if min(values) > 0 and rr.extend_if_fits(values, [n for n, _ in chunk]):
            return
    for n, line in chunk:
        if re.search(r"[\s,;]", line) and not re.match(r"^\d+,\d+$", line):
            raise ImportFormatError(
                origin,
                n,
                f"expected one RR value per line, found {show(line)} "
                "(for ','-separated values use --from elite-hrv)",
            )
        if not len(rr.values) and not re.search(r"\d", line):
            raise ImportFormatError(
                origin,
                n,
                f"{show(line)} is not a number: plain RR text has no header "
                "(delete the line or start it with '#')",
            )
        value = parse_number(line, origin, n)
        refuse_not_positive(value, origin, n, "RR value", "", show(line))
        rr.add(value, n)


_PLAIN_RR = re.compile(r"\d+(?:\.\d+)?")  # "812" or "0.812": the usual line
_RR_CHUNK = 4096


def parse_rr_txt(text: Source, origin: str = "<rr-txt>", units: str | None = None) -> ImportedRR:
    if units is not None and units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, not {units!r}")
    # Whatever the units, values summing past this are longer than a session in ms, and
    # far longer in s: stop reading there.
    rr = Collected(origin, MAX_SESSION_S * 1000)
    seen = False
    chunk: list[tuple[int, str]] = []
    for n, line in nonblank_lines(text):
        if line.startswith("#"):
            continue
        seen = True
        chunk.append((n, line))
        if len(chunk) >= _RR_CHUNK:
            _rr_txt_chunk(chunk, rr, origin)
            chunk = []
    _rr_txt_chunk(chunk, rr, origin)
    if not seen:
        raise ImportFormatError(origin, None, "empty file: no RR intervals")
    values, src = rr.arrays()
    notes: list[str] = []
    if units is None:
        try:
            units, why = detect_units(values)
        except ValueError as e:
            raise ImportFormatError(origin, None, str(e)) from None
        notes.append(why)
    scale = 1000.0 if units == "s" else 1.0
    note = " after reading the file as seconds" if units == "s" else ""
    rr_ms = values * scale
    check_all_rr_ms(rr_ms, src, origin, note)
    return ImportedRR(
        format="rr-txt", rr_ms=rr_ms, source_lines=src, units=units, notes=tuple(notes)
    )


# ---------------------------------------------------------------- detection


def detect_format(text: Source, filename: str = "") -> tuple[str, str]:
    """(format, why) from the first lines and Elite HRV's file-name pattern; or
    ImportFormatError. A file that is none of them is not quoted: it may be anything."""
    lines = list(
        itertools.islice(((n, s) for n, s in nonblank_lines(text) if not s.startswith("#")), 50)
    )
    if not lines:
        raise ImportFormatError(filename or "<input>", None, "empty file: no RR intervals")
    n, first = lines[0]
    if PSL_RR in first or first.startswith(PSL_TIME):
        return "polar-sensor-logger", f"header {show(first)} (Polar Sensor Logger)"
    if _ISO_START.match(first) and ";" in first:
        return "polar-sensor-logger", "rows of 'timestamp;RR' (Polar Sensor Logger)"
    from holdbeat.interop.hrvlogger import looks_like

    if looks_like(first):
        return "hrv-logger", f"header {show(first)} (HRV Logger)"
    head = [s for _, s in lines]

    def numbers(s: str) -> bool:
        tokens = [t.strip() for t in s.split(",")]
        return all(NUMBER.match(t) for t in tokens if t) and any(tokens)

    if numbers(first):
        decimal_commas = all(re.match(r"^\d,\d+$", s) for s in head)  # '0,812': s, decimal comma
        if any("," in s and numbers(s) for s in head) and not decimal_commas:
            return "elite-hrv", "','-separated RR values (Elite HRV)"
        if elite_start_from_name(filename) is not None:
            return "elite-hrv", "RR values in a file named like an Elite HRV reading"
        return "rr-txt", "one RR value per line (plain RR text)"
    raise ImportFormatError(
        filename or "<input>",
        n,
        f"cannot tell the format: this line ({len(first)} characters) is not RR data, a Polar "
        f"Sensor Logger header or 'timestamp;RR' row; if the file is one, give --from "
        f"{'|'.join(FORMATS)}",
    )


def parse(
    text: Source, fmt: str, origin: str, filename: str = "", units: str | None = None
) -> ImportedRR:
    if fmt == "polar-sensor-logger":
        return parse_polar_sensor_logger(text, origin)
    if fmt == "elite-hrv":
        return parse_elite_hrv(text, origin, filename)
    if fmt == "rr-txt":
        return parse_rr_txt(text, origin, units)
    if fmt == "hrv-logger":
        from holdbeat.interop.hrvlogger import parse_hrv_logger

        return parse_hrv_logger(text, origin)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
