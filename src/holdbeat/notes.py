"""Adding the 'after' note to a finished recording: one appended line, nothing rewritten.

A recording is append-only; the note written after the session (how it went, what
happened) is one more `session_note` event at the end, timed at the last event so times
never go backwards. The file must be a complete holdbeat recording (header line, last line
ended); it is opened for appending only, never truncated or created.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import BinaryIO

import orjson

from holdbeat import FORMAT
from holdbeat.events import SessionNote
from holdbeat.inputs import open_regular
from holdbeat.limits import MAX_HEADER_BYTES
from holdbeat.recording_lines import event_to_dict

MAX_TAIL = 65536


class NoteError(ValueError):
    """The note cannot be added; the message names the file and why."""


def _last_t(f: BinaryIO, path: Path) -> float:
    """The time of the last event of the recording open in `f`; NoteError unless it is a
    complete holdbeat recording."""
    size = os.fstat(f.fileno()).st_size
    head = f.readline(MAX_HEADER_BYTES + 1)  # bounded: a foreign file may be one huge line
    try:
        fmt = orjson.loads(head).get("format")
    except (orjson.JSONDecodeError, AttributeError):
        fmt = None
    if fmt != FORMAT:
        raise NoteError(f"{path}: not a {FORMAT} recording")
    f.seek(max(0, size - MAX_TAIL))
    tail = f.read()
    if not tail.endswith(b"\n"):
        raise NoteError(f"{path}: the last line is incomplete (session cut off?); not touching it")
    for line in reversed(tail.splitlines()):
        try:
            d = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(d, dict) and isinstance(d.get("t"), int | float):
            return float(d["t"])
    return 0.0


def append_note(path: str | os.PathLike, text: str, when: str = "after") -> SessionNote:
    """Append a note to a recording; returns the event written."""
    path = Path(path)
    text = text.strip()
    if not text:
        raise NoteError("the note is empty")
    if not path.exists():
        raise NoteError(f"{path}: no such recording")
    # regular files only (a FIFO would block forever), and the note goes to the very file
    # that was checked: appended through a second descriptor only if it is the same inode
    with open_regular(path, "holdbeat recording", NoteError) as f:
        ev = SessionNote(_last_t(f, path), when, text)
        checked = os.fstat(f.fileno())
        line = json.dumps(event_to_dict(ev), separators=(",", ":"), ensure_ascii=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)  # never O_CREAT/O_TRUNC
        try:
            if not os.path.samestat(os.fstat(fd), checked):
                raise NoteError(f"{path}: the file was replaced while the note was added")
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    return ev
