"""Opening and reading input files safely: regular files only, lines bounded in size.

A FIFO, socket or device given as a recording, import, phases or protocol file would block
forever on open or read (or never end); they are refused. Files are read line by line in
bounded memory: one absurd line (a 200 MB "event") is skipped or refused by its number,
never loaded. Every error names the file; the caller chooses the exception class, so a
recording's error is a RecordingError, an import's an InteropError, and so on.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from holdbeat.limits import MAX_LINE_BYTES

CHUNK_BYTES = 1 << 20

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def open_regular(path: Path, what: str, error: type[Exception]) -> BinaryIO:
    """Open `path` for reading in binary if it is a regular file (following symlinks),
    else raise `error` naming it. Opening never blocks, even on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{path}: cannot read the {what}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path} is a folder, not a {what}") from None
    except OSError as e:
        raise error(f"{path}: cannot read the {what}: {e.strerror or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise error(
                f"{path} is {kind}, not a regular file: give the {what} as a file "
                "(holdbeat does not read pipes or devices, which can block forever)"
            )
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def owner_only(st: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (a cache is trusted only then:
    unpickling runs code, and a planted digest would show made-up numbers)."""
    uid = getattr(os, "getuid", None)
    return (uid is None or st.st_uid == uid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def parse_toml(text: str) -> dict:
    """tomllib.loads; ValueError for bad TOML, nesting too deep included (tomllib recurses:
    1,000 brackets, a 2 kB file, were a RecursionError traceback)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_small(path: Path, what: str, error: type[Exception], limit: int) -> bytes:
    """A whole small file (a protocol or phases file), refused past `limit` bytes."""
    with open_regular(path, what, error) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise error(f"{path}: cannot read the {what}: {e.strerror or e}") from None
    if len(data) > limit:
        raise error(f"{path}: too large for a {what} (over {limit >> 20} MiB)")
    return data


def iter_lines(
    f: BinaryIO, limit: int = MAX_LINE_BYTES, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[int, bytes | None, bool]]:
    """(line number from 1, the line without its newline or None if longer than `limit`,
    whether it ended with a newline) for every line. Memory stays under ~limit + a chunk:
    a long line is skipped as it streams by, never joined."""
    n = 0
    carry: list[bytes] = []
    carried = 0
    skipping = False
    while True:
        chunk = f.read(chunk_bytes)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                rest = len(chunk) - start
                if not skipping:
                    carried += rest
                    if carried > limit:
                        skipping, carry, carried = True, [], 0
                    elif rest:
                        carry.append(chunk[start:])
                break
            n += 1
            if skipping or carried + nl - start > limit:
                yield n, None, True
            elif carry:
                carry.append(chunk[start:nl])
                yield n, b"".join(carry), True
            else:
                yield n, chunk[start:nl], True
            carry, carried, skipping = [], 0, False
            start = nl + 1
    if skipping:
        yield n + 1, None, False
    elif carry:
        yield n + 1, b"".join(carry), False


def text_lines(
    path: Path, what: str, error: type[Exception], limit: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, str]]:
    """(line number, text) of a text file: UTF-8 (BOM or not), or UTF-16 with a BOM, as
    phone apps and spreadsheets write them. A line that is too long or not text is an
    error naming the file and the line."""
    with open_regular(path, what, error) as f:
        try:
            head = f.read(2)
            f.seek(0)
        except OSError as e:
            raise error(f"{path}: cannot read the {what}: {e.strerror or e}") from None
        if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            yield from _utf16_lines(f, path, what, error, limit)
            return
        try:
            for n, raw, _ in iter_lines(f, limit):
                if raw is None:
                    raise error(f"{path}: line {n}: longer than {limit >> 10} KiB: not a {what}")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise error(
                        f"{path}: line {n}: not a text {what} (byte {e.start + 1} of the line "
                        "cannot be decoded as UTF-8)"
                    ) from None
                if n == 1:
                    text = text.removeprefix("\ufeff")
                yield n, text.removesuffix("\r")
        except OSError as e:
            raise error(f"{path}: cannot read the {what}: {e.strerror or e}") from None


def _utf16_lines(
    f: BinaryIO, path: Path, what: str, error: type[Exception], limit: int
) -> Iterator[tuple[int, str]]:
    with contextlib.closing(io.TextIOWrapper(f, encoding="utf-16", newline="")) as t:
        n = 0
        try:
            while True:
                line = t.readline(limit + 1)
                if not line:
                    return
                n += 1
                if len(line) > limit:
                    raise error(f"{path}: line {n}: longer than {limit >> 10} KiB: not a {what}")
                yield n, line.rstrip("\r\n").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise error(f"{path}: line {n + 1}: not a text {what} (bad UTF-16)") from None
