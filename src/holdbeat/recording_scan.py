"""The event lines of a recording (after the header) -> events, warnings, and the
notifications as columns.

A day is ~90,000 notification lines, all written in one canonical form
(`{"t":2.02,"type":"hrm","raw":"16438b03"}`). A file that fits in memory is scanned in one
regular-expression pass: canonical notification lines become columns without a JSON parse
or a per-line Python step, and every other line (phases, markers, anything damaged or
unusual) takes the general path, line by line, exactly as a streamed file does. Both paths
give the same events and the same warnings (tested on damaged and hostile files).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import orjson

from holdbeat.events import Connection, Hrm, PhaseStart, SessionEvent
from holdbeat.inputs import iter_lines
from holdbeat.limits import MAX_LINE_BYTES, MAX_SESSION_S
from holdbeat.recording_lines import event_from_dict

#: files up to this size (after the header) are scanned in one pass in memory (a day of
#: notifications is ~5 MB; memory for the pass is a few times the file)
BULK_BYTES = 32 << 20
#: ... when their lines average at least this long (a notification line is >= 38 bytes)
MIN_LINE_BYTES = 24

# A notification line as the writers make it: t, type, raw, then (live and imported
# recordings) the fields for people that loading ignores, each valid JSON: a line of this form
# is one orjson would read to the same t and raw (`_canonical`).
_UINT = rb"(?:0|[1-9][0-9]*)"
_NUM = rb"-?" + _UINT + rb"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_FOR_PEOPLE = (
    rb'(?:,"hr":' + _UINT + rb',"rr":\[(?:' + _NUM + rb"(?:," + _NUM + rb")*)?\]"
    rb'(?:,"contact":(?:true|false))?(?:,"energy":' + _UINT + rb")?"
    rb'(?:,"flags":\[(?:"[a-z]*"(?:,"[a-z]*")*)?\])?)?'
)
# The canonical notification lines, found in numpy at fixed offsets of each line.
_PREFIX = b'{"t":'
_MIDDLE = b',"type":"hrm","raw":"'
_TAIL_FOR_PEOPLE = re.compile(_FOR_PEOPLE + rb"\}")
_HEX_VALUE = np.full(256, -1, dtype=np.int16)
_HEX_VALUE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX_VALUE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
#: a time longer than this many characters is read by the general path (a writer's is < 20)
MAX_T_CHARS = 32
#: lines per block of the numpy scan (its index matrices: ~32 x 8 bytes a line)
LINES_PER_BLOCK = 1 << 16


class Packets(Sequence):
    """The notifications' bytes as one buffer and their ends: a day is ~90,000 packets, and
    only export and replay want each as its own bytes object (made on first use)."""

    def __init__(self, buf: bytes, ends: np.ndarray) -> None:
        self.buf = buf
        self.ends = ends  # int64, the end of packet i in buf
        self._list: list[bytes] | None = None

    @classmethod
    def of(cls, raws: Sequence[bytes]) -> Packets:
        ends = np.cumsum(np.fromiter(map(len, raws), dtype=np.int64, count=len(raws)))
        return cls(b"".join(raws), ends)

    def _raws(self) -> list[bytes]:
        if self._list is None:
            buf, ends = self.buf, self.ends.tolist()
            self._list = [buf[a:b] for a, b in zip([0, *ends], ends, strict=False)]
        return self._list

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i):  # type: ignore[override]
        return self._raws()[i]

    def __iter__(self):
        return iter(self._raws())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._raws() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _gather(arr: np.ndarray, a: np.ndarray, width: int) -> np.ndarray:
    """Rows of `width` bytes from each offset `a` (clipped at the end of the buffer)."""
    return arr[np.minimum(a[:, None] + np.arange(width), len(arr) - 1)]


def _canonical(data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Which lines are notifications in the writers' form, with their times and hex spans.

    The form: `{"t":` a time (0 or no leading zero, a dot, digits), then
    `,"type":"hrm","raw":"`, lowercase hex of even length, `"`, then `}` (or the fields for
    people, checked by their pattern) ending the line. Only fixed offsets and short spans of
    each line are read: no pass over the whole buffer but the newlines, commas and quotes."""
    size = len(arr)
    if not len(starts):
        none = np.zeros(0, dtype=np.int64)
        return none, np.zeros(0), none, none
    commas = np.append(np.flatnonzero(arr == ord(",")), size)  # (size: none left)
    quotes = np.append(np.flatnonzero(arr == ord('"')), size)
    # in blocks of lines: the matrices of fixed text stay small (~16 MB) in any file
    parts = [
        _canonical_block(data, arr, starts[a : a + LINES_PER_BLOCK], ends[a : a + LINES_PER_BLOCK],
                         commas, quotes, a)
        for a in range(0, len(starts), LINES_PER_BLOCK)
    ]  # fmt: skip
    i, t, h0, h1 = (np.concatenate(x) for x in zip(*parts, strict=True))
    return i, t, h0, h1


def _canonical_block(
    data: bytes,
    arr: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    commas: np.ndarray,
    quotes: np.ndarray,
    first_line: int,
):
    """`_canonical` of some lines, given where the buffer's commas and quotes are."""
    size = len(arr)
    # (a fixed text read past a line's end holds its newline, so never matches)
    ok = (_gather(arr, starts, len(_PREFIX)) == np.frombuffer(_PREFIX, np.uint8)).all(axis=1)
    # the time: up to the first comma after the prefix
    t0 = starts + len(_PREFIX)
    c = commas[np.searchsorted(commas, np.minimum(t0, size))]
    ok &= (c < ends) & (c > t0) & (c - t0 <= MAX_T_CHARS)
    # the fixed middle
    ok &= (_gather(arr, c, len(_MIDDLE)) == np.frombuffer(_MIDDLE, np.uint8)).all(axis=1)
    # the hex: up to the next quote, inside the line
    h0 = c + len(_MIDDLE)
    q = quotes[np.searchsorted(quotes, np.minimum(h0, size))]
    ok &= (q < ends) & ((q - h0) % 2 == 0)
    after = arr[np.minimum(q + 1, size - 1)]
    plain = ok & (after == ord("}")) & (q + 2 == ends)
    for i in np.flatnonzero(ok & ~plain & (after == ord(","))).tolist():
        # the fields for people (live and imported recordings)
        plain[i] = _TAIL_FOR_PEOPLE.fullmatch(data, int(q[i]) + 1, int(ends[i])) is not None
    cand = np.flatnonzero(plain)
    t, good = _times(arr, t0[cand], c[cand])
    hex_ok = _all_hex(arr, h0[cand], q[cand])
    keep = good & hex_ok
    return cand[keep] + first_line, t[keep], h0[cand[keep]], q[cand[keep]]


def _all_hex(arr: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per span [a, b): lowercase hex digits only."""
    lens = b - a
    bad = _HEX_VALUE[arr[_positions(a, lens)]] < 0
    return np.bincount(np.repeat(np.arange(len(a)), lens)[bad], minlength=len(a)) == 0


def _positions(a: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Every offset of the spans [a, a + lens), in order."""
    first = np.zeros(len(lens), dtype=np.int64)
    np.cumsum(lens[:-1], out=first[1:])
    return np.arange(int(lens.sum())) + np.repeat(a - first, lens)


def _times(arr: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The times in spans [a, b) (1..MAX_T_CHARS bytes) and whether each is one `_UINT` `.`
    digits. A time of at most 15 digits is its digits as an integer over a power of ten:
    both exact in a double, so one division rounds correctly, which is what float() of the
    text gives (the fast path of correct parsing; tests compare); longer ones use float()."""
    n = len(a)
    if not n:
        return np.zeros(0), np.zeros(0, dtype=bool)
    lens = b - a
    width = int(lens.max())
    cols = np.arange(width)
    inside = cols < lens[:, None]
    text = _gather(arr, a, width)
    digit = (text >= ord("0")) & (text <= ord("9")) & inside
    dot = (text == ord(".")) & inside
    p = dot.argmax(axis=1)  # the dot's column
    good = (digit | dot | ~inside).all(axis=1) & (dot.sum(axis=1) == 1)
    good &= (p > 0) & (p < lens - 1) & ((text[:, 0] != ord("0")) | (p == 1))
    # each digit's power of ten: columns left of the dot count one less
    power = (lens - 1)[:, None] - cols - (cols < p[:, None])
    mantissa = np.where(digit, (text.astype(np.int64) - ord("0")) * 10 ** np.maximum(power, 0), 0)
    t = mantissa.sum(axis=1) / 10.0 ** (lens - 1 - p)
    slow = np.flatnonzero(good & (lens - 1 > 15))
    for i in slow.tolist():
        t[i] = float(arr[a[i] : b[i]].tobytes())
    return t, good


class Events(Sequence):
    """Every kept event in file order, notifications as `Hrm` objects made on first use:
    only export and replay walk them, and a day is ~90,000 of them."""

    def __init__(
        self,
        t_hrm: list[float],
        raws: Sequence[bytes],
        others: list[SessionEvent],
        at: list[int],
    ) -> None:
        self._parts = (t_hrm, raws, others, at)  # at: notifications before each other event
        self._list: list[SessionEvent] | None = None

    def _events(self) -> list[SessionEvent]:
        if self._list is None:
            t_hrm, raws, others, at = self._parts
            hrm = list(map(Hrm, t_hrm, raws))
            out: list[SessionEvent] = []
            done = 0
            for a, ev in zip(at, others, strict=True):
                out += hrm[done:a]
                out.append(ev)
                done = a
            out += hrm[done:]
            self._list = out
        return self._list

    def __len__(self) -> int:
        return len(self._parts[0]) + len(self._parts[2])

    def __getitem__(self, i):  # type: ignore[override]
        return self._events()[i]

    def __iter__(self):
        return iter(self._events())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Events | list):
            return self._events() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Events({self._events()!r})"


@dataclass
class Scanned:
    """What the lines hold, in file order."""

    events: Sequence[SessionEvent]  # every event kept, notifications included
    t_hrm: list[float]  # the notifications' times ...
    raws: Sequence[bytes]  # ... and bytes (a list, or `Packets`)
    lost_before: list[int]  # per lost connection: the notifications before it
    others: list[SessionEvent]  # the kept events that are not notifications
    warnings: list[str] = field(default_factory=list)


def scanned(events: list[SessionEvent], warnings: list[str]) -> Scanned:
    """The same columns of events already in hand."""
    raws: list[bytes] = []
    out = Scanned(events, [], raws, [], [], warnings)
    for ev in events:
        if type(ev) is Hrm:
            out.t_hrm.append(ev.t_s)
            raws.append(ev.raw)
        else:
            if type(ev) is Connection and ev.state == "lost":
                out.lost_before.append(len(raws))
            out.others.append(ev)
    return out


def scan(f: BinaryIO) -> Scanned:
    """The lines after the header (already read) of an open recording."""
    try:
        if isinstance(f, io.BytesIO):  # bytes already read (compare hashed them for its cache)
            left = f.getbuffer().nbytes - f.tell()
            bulk = 0 <= left <= BULK_BYTES
        else:
            st = os.fstat(f.fileno())
            left = st.st_size - f.tell()
            bulk = stat.S_ISREG(st.st_mode) and 0 <= left <= BULK_BYTES
    except (AttributeError, OSError, ValueError):  # not a real file (a wrapper, a pipe)
        bulk = False
    if not bulk:
        return _scan_lines(iter_lines(f, MAX_LINE_BYTES))
    data = f.read(BULK_BYTES + 1)
    if len(data) > BULK_BYTES:  # it grew past the limit meanwhile
        return _scan_lines(_lines_after(data, f))
    if data.count(b"\n") * MIN_LINE_BYTES > len(data):
        # mostly tiny lines (a hostile file of newlines): a tuple per line would cost far
        # more memory than the file; line by line stays bounded
        return _scan_lines(iter_lines(io.BytesIO(data), MAX_LINE_BYTES))
    return _scan_bulk(data)


def _lines_after(data: bytes, f: BinaryIO):
    """`iter_lines` over `data` then the rest of `f`."""

    class _Chain(io.RawIOBase):
        def __init__(self) -> None:
            self._head = data

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self._head:
                out, self._head = self._head[:n], self._head[n:]
                return out
            return f.read(n)

    return iter_lines(_Chain(), MAX_LINE_BYTES)  # type: ignore[arg-type]


def event_of_line(raw: bytes | None, lineno: int, complete: bool, warnings: list[str]):
    """One line's event, or None (and a warning saying why) when it is skipped."""
    if raw is None:
        warnings.append(
            f"line {lineno}: skipped, longer than {MAX_LINE_BYTES >> 20} MiB (not an event)"
        )
        return None
    try:
        d = orjson.loads(raw)
        # the usual line, a notification, without the general parser's dispatch
        if (
            type(d) is dict
            and d.get("type") == "hrm"
            and type(hx := d.get("raw")) is str
            and type(t := d.get("t")) is float
            and 0.0 <= t <= MAX_SESSION_S
        ):
            return Hrm(t, bytes.fromhex(hx))
        if not isinstance(d, dict):
            raise TypeError("not a JSON object")
        return event_from_dict(d)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError) as e:
        if not raw.strip():
            return None
        if not complete:
            warnings.append(f"line {lineno}: truncated last line ignored (the session was cut off)")
            return None
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            warnings.append(f"line {lineno}: skipped, not UTF-8 text (damaged bytes)")
            return None
        warnings.append(f"line {lineno}: skipped, not a valid event ({type(e).__name__}: {e})")
        return None


def _phase_ok(ev: PhaseStart, lineno: int, t_phase: float, warnings: list[str]) -> bool:
    if ev.t_s < t_phase:
        warnings.append(
            f"line {lineno}: skipped, phase {ev.name!r} starts at {ev.t_s} s, before "
            f"the previous phase ({t_phase} s)"
        )
        return False
    return True


def _scan_lines(lines) -> Scanned:
    """Line by line, in bounded memory (a stream, or a file too large for one pass)."""
    events: list[SessionEvent] = []
    warnings: list[str] = []
    t_last = t_phase = -float("inf")
    for n, raw, complete in lines:
        lineno = n + 1  # the header is line 1
        ev = event_of_line(raw, lineno, complete, warnings)
        if ev is None:
            continue
        if type(ev) is PhaseStart:
            if not _phase_ok(ev, lineno, t_phase, warnings):
                continue
            t_phase = ev.t_s
        if ev.t_s < t_last:
            warnings.append(f"line {lineno}: time goes backwards ({ev.t_s} after {t_last})")
        t_last = ev.t_s
        events.append(ev)
    return scanned(events, warnings)


def _scan_bulk(data: bytes) -> Scanned:
    """One pass over a whole file: canonical notification lines as columns."""
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == ord("\n"))
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    ends_nl = data.endswith(b"\n") or not data
    if ends_nl:  # what follows the last newline is no line
        starts, ends = starts[:-1], ends[:-1]
    n = len(starts)
    hrm_i, t, h0, h1 = _canonical(data, arr, starts, ends)
    in_range = t <= MAX_SESSION_S  # (the pattern admits no sign)
    if not in_range.all():  # an absurd time: the general path words the warning
        hrm_i, t, h0, h1 = hrm_i[in_range], t[in_range], h0[in_range], h1[in_range]
    plain = np.zeros(n, dtype=bool)
    plain[hrm_i] = True
    other_i = np.flatnonzero(~plain).tolist()

    # the other lines, one by one, in order
    warned: list[tuple[int, str]] = []
    others: list[SessionEvent] = []
    kept_i: list[int] = []
    lost_at: list[int] = []
    more: list[tuple[int, float, bytes]] = []  # notifications in another form
    t_phase = -float("inf")
    s_list, e_list = starts.tolist(), ends.tolist()
    for i in other_i:
        lineno = i + 2
        a, b = s_list[i], e_list[i]
        w: list[str] = []
        ev = event_of_line(
            data[a:b] if b - a <= MAX_LINE_BYTES else None, lineno, i < n - 1 or ends_nl, w
        )
        warned.extend((i, m) for m in w)
        if ev is None:
            continue
        if type(ev) is PhaseStart:
            w = []
            ok = _phase_ok(ev, lineno, t_phase, w)
            warned.extend((i, m) for m in w)
            if not ok:
                continue
            t_phase = ev.t_s
        if type(ev) is Hrm:
            more.append((i, ev.t_s, ev.raw))
            continue
        if type(ev) is Connection and ev.state == "lost":
            lost_at.append(i)
        others.append(ev)
        kept_i.append(i)

    packets = _packets(arr, h0, h1)
    if more:  # merged into the columns in file order
        mi, mt, mraw = zip(*more, strict=True)
        hrm_i = np.concatenate([hrm_i, np.asarray(mi, dtype=np.int64)])
        order = np.argsort(hrm_i, kind="stable")
        hrm_i = hrm_i[order]
        t = np.concatenate([t, np.asarray(mt, dtype=float)])[order]
        raw_all = [*packets, *mraw]
        packets = Packets.of([raw_all[j] for j in order.tolist()])

    # notifications: times, events, and where the other events fall between them
    t_hrm = t.tolist()
    at = np.searchsorted(hrm_i, np.asarray(kept_i, dtype=np.int64)).tolist()
    events = Events(t_hrm, packets, others, at)

    # time going backwards, over every kept event in file order
    line_i = np.concatenate([hrm_i, np.asarray(kept_i, dtype=np.int64)])
    t_all = np.concatenate([t, np.array([ev.t_s for ev in others], dtype=float)])
    order = np.argsort(line_i, kind="stable")
    line_i, t_all = line_i[order], t_all[order]
    for k in (np.flatnonzero(t_all[1:] < t_all[:-1]) + 1).tolist():
        warned.append(
            (int(line_i[k]), f"line {int(line_i[k]) + 2}: time goes backwards "
             f"({float(t_all[k])} after {float(t_all[k - 1])})")
        )  # fmt: skip
    warned.sort(key=lambda x: x[0])
    lost_before = np.searchsorted(hrm_i, np.asarray(lost_at, dtype=np.int64)).tolist()
    return Scanned(events, t_hrm, packets, lost_before, others, [m for _, m in warned])


def _packets(arr: np.ndarray, a: np.ndarray, b: np.ndarray) -> Packets:
    """The bytes of hex spans [a, b) of the buffer (even lengths, lowercase hex)."""
    lens = b - a
    v = _HEX_VALUE[arr[_positions(a, lens)]].astype(np.uint8)
    return Packets((v[0::2] << 4 | v[1::2]).tobytes(), np.cumsum(lens // 2))
