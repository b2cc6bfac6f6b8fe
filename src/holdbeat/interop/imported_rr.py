"""What every importer shares: the imported RR, the error that names file and line, and the
checks and readers that make it so. Pure.

Accepted RR: RR_MIN_MS..RR_MAX_MS. Values outside are not heartbeats at all (a 0 ms or a
one-minute "interval" is a logging error or a recording gap); real artifacts such as 250 ms
or 2500 ms are accepted and later flagged by the live artifact check like any strap's. RR are
kept in compact arrays, bounded as they grow; errors quote at most a short, escaped prefix of
a line (a file that is clearly not RR data is not quoted at all).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from holdbeat.interop import InteropError
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT
from holdbeat.safe_text import for_terminal

RR_MIN_MS = 100.0
RR_MAX_MS = 10_000.0
#: no session holds more beats: every accepted RR is at least RR_MIN_MS long
MAX_BEATS = int(MAX_SESSION_S * 1000 / RR_MIN_MS)
#: timestamps outside these years are not a recording's (year 1, 2100: a broken clock)
YEARS = (1970, 2099)
QUOTE_CHARS = 24
SHORT_TOKEN = 16

Source = str | Iterable[tuple[int, str]]

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class ImportFormatError(InteropError):
    """The file is not what the chosen format expects; names the line when there is one."""

    def __init__(self, origin: str, line: int | None, reason: str) -> None:
        self.origin = origin
        self.line = line
        self.reason = reason
        where = f"{origin}: line {line}" if line is not None else origin
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class ImportedRR:
    """RR intervals read from another app's file, before any re-encoding.

    Arrays, not tuples of Python floats: seven days of RR stay ~100 MB at most."""

    format: str
    rr_ms: np.ndarray
    source_lines: np.ndarray  # line number of each RR in the source file
    units: str  # units the file used ("ms" or "s")
    timestamps: tuple[datetime, ...] | None = None  # per RR (small files); or stamp_s
    start: datetime | None = None  # start of the first RR interval when the file tells
    start_from: str = ""  # where `start` came from, for the header
    notes: tuple[str, ...] = field(default=())
    stamp_s: np.ndarray | None = None  # per RR: seconds after `first_stamp`
    first_stamp: datetime | None = None
    # per RR: the file says beats are missing before it (a gap the timestamps may not show)
    gap_before: tuple[bool, ...] | None = None
    # session time of the first beat when the file knows it (default: its RR after 0)
    first_beat_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rr_ms", np.asarray(self.rr_ms, dtype=float))
        object.__setattr__(self, "source_lines", np.asarray(self.source_lines, dtype=np.int64))
        if self.timestamps and self.stamp_s is None:
            first = self.timestamps[0]
            offsets = [(t - first).total_seconds() for t in self.timestamps]
            object.__setattr__(self, "stamp_s", np.asarray(offsets, dtype=float))
            object.__setattr__(self, "first_stamp", first)


_DATA_LIKE = re.compile(r"^[0-9\s.,;:+\-eETZ/]*$")


def show(text: str, limit: int = QUOTE_CHARS) -> str:
    """File text for an error message: a short token, or a short prefix of something that
    looks like RR data, quoted and escaped; anything else (a password file given by
    mistake) is described, not quoted."""
    text = text.strip()
    if len(text) <= SHORT_TOKEN or _DATA_LIKE.match(text):
        return repr(for_terminal(text, limit))
    return f"({len(text)} characters of text, not shown)"


def nonblank_lines(source: Source) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of non-empty lines; a UTF-8 BOM is ignored."""
    if isinstance(source, str):
        source = enumerate(source.removeprefix("\ufeff").splitlines(), start=1)
    for n, s in source:
        s = s.strip()
        if s:
            yield n, s


def too_long(origin: str, line: int) -> ImportFormatError:
    return ImportFormatError(
        origin,
        line,
        f"the RR intervals up to here add up to more than {MAX_SESSION_TEXT}, longer than "
        "one session can be: split the file into sessions",
    )


class Collected:
    """RR values and their line numbers in compact arrays, bounded as they grow."""

    def __init__(self, origin: str, sum_limit: float) -> None:
        self.origin = origin
        self.values = array("d")
        self.lines = array("q")
        self.total = 0.0
        self.sum_limit = sum_limit

    def add(self, value: float, line: int) -> None:
        self.total += value
        if self.total > self.sum_limit or len(self.values) >= MAX_BEATS:
            raise too_long(self.origin, line)
        self.values.append(value)
        self.lines.append(line)

    def extend_if_fits(self, values: list[float], lines: list[int]) -> bool:
        """`add` for many positive values at once, when none would pass a bound; False
        (nothing added) otherwise, and `add` them one by one: the first value past a bound
        raises with its line."""
        total = self.total
        for v in values:  # the running sum `add` keeps, in its order
            total += v
        if total > self.sum_limit or len(self.values) + len(values) > MAX_BEATS:
            return False
        self.total = total
        self.values.extend(values)
        self.lines.extend(lines)
        return True

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.frombuffer(self.values, dtype=float), np.frombuffer(self.lines, dtype=np.int64)


def parse_number(token: str, origin: str, line: int, what: str = "RR value") -> float:
    t = token.strip()
    if not NUMBER.match(t):
        hint = ""
        if re.match(r"^\d+,\d+$", t):
            hint = " (a decimal comma? use '.' as the decimal separator)"
        raise ImportFormatError(origin, line, f"{what} {show(t)} is not a number{hint}")
    return float(t)


def check_rr_ms(rr_ms: float, origin: str, line: int, unit_note: str = "") -> float:
    """Refuse values that cannot be a heartbeat interval; say why and how to fix it."""
    refuse_not_positive(rr_ms, origin, line, "RR", " ms", str(rr_ms))
    if not RR_MIN_MS <= rr_ms <= RR_MAX_MS:
        reason = (
            f"RR {rr_ms:g} ms is absurd (accepted {RR_MIN_MS:g}–{RR_MAX_MS:g} ms{unit_note}); "
            + (
                "a pause that long is a recording gap, not a heartbeat: split the file there"
                if rr_ms > RR_MAX_MS
                else "no heart beats that fast: check the units or remove the value"
            )
        )
        raise ImportFormatError(origin, line, reason)
    return rr_ms


def refuse_not_positive(
    value: float, origin: str, line: int, what: str, unit: str, shown: str
) -> None:
    """Refuse a value that is not finite, negative or zero: no interval can be. `what` and
    `unit` name it ("RR" " ms", or "RR value" "" before the units are known); `shown` is
    how a non-finite value is quoted."""
    if not math.isfinite(value):
        raise ImportFormatError(origin, line, f"{what} {shown} is not a finite number")
    if value < 0:
        raise ImportFormatError(origin, line, f"{what} {value:g}{unit} is negative")
    if value == 0:
        raise ImportFormatError(origin, line, f"{what} 0{unit}: an interval cannot be zero")


def check_all_rr_ms(rr_ms: np.ndarray, lines: np.ndarray, origin: str, unit_note: str = "") -> None:
    """check_rr_ms on every value, at numpy speed: the first bad one raises."""
    bad = np.flatnonzero(~((rr_ms >= RR_MIN_MS) & (rr_ms <= RR_MAX_MS)))
    if len(bad):
        i = int(bad[0])
        check_rr_ms(float(rr_ms[i]), origin, int(lines[i]), unit_note)
    if float(rr_ms.sum()) > MAX_SESSION_S * 1000:
        raise too_long(origin, int(lines[-1]))


def require_some(rr: object, origin: str, what: str) -> None:
    if not len(rr):  # type: ignore[arg-type]
        raise ImportFormatError(origin, None, f"no RR intervals found ({what})")


def parse_stamp(ts: str, origin: str, line: int) -> datetime:
    try:
        stamp = datetime.fromisoformat(ts)
    except ValueError:
        raise ImportFormatError(
            origin, line, f"{show(ts)} is not a timestamp (expected e.g. 2024-05-01T10:15:30.123)"
        ) from None
    if not YEARS[0] <= stamp.year <= YEARS[1]:
        raise ImportFormatError(
            origin,
            line,
            f"timestamp {show(ts)} is not a plausible time for a recording (years "
            f"{YEARS[0]}–{YEARS[1]}): is the phone's clock wrong?",
        )
    return stamp
