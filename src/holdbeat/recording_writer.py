"""Writing a holdbeat/1 recording as it happens.

Append-only, one flushed line per event, fsync at least every 2 s and at every phase
change and at the end. Files are created exclusively (never overwritten) with mode 0600:
they are health data."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from holdbeat import __version__
from holdbeat.events import (
    Connection,
    Device,
    End,
    Header,
    PhaseStart,
    SessionEvent,
)
from holdbeat.output import private_dirs
from holdbeat.process import Processed
from holdbeat.recording import SUFFIX, RecordingError
from holdbeat.recording_lines import event_to_dict, header_to_dict

FSYNC_EVERY_S = 2.0


def new_header(
    device: Device,
    protocol: dict | None = None,
    beliefs: Iterable[dict] = (),
    settings: dict | None = None,
    started: datetime | None = None,
    practice: dict | None = None,
) -> Header:
    started = started or datetime.now(UTC)
    return Header(
        session_id=str(uuid.uuid4()),
        started_utc=started.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        device=device,
        protocol=protocol or {},
        beliefs=tuple(beliefs),
        software={"name": "holdbeat", "version": __version__},
        settings=settings or {},
        practice=practice or {},
    )


def session_filename(started: datetime, label: str) -> str:
    local = started.astimezone()
    safe = (
        "".join(c if c.isalnum() or c in "-_" else "-" for c in label.lower()).strip("-")
        or "session"
    )
    return f"{local:%Y-%m-%d_%H%M%S}_{safe}"


def create_exclusive(directory: Path, stem: str) -> tuple[Path, int]:
    """Create a new 0600 file that did not exist; add -2, -3... rather than overwrite."""
    private_dirs(directory)
    for n in range(1, 10_000):
        name = f"{stem}{SUFFIX}" if n == 1 else f"{stem}-{n}{SUFFIX}"
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except FileExistsError:
            continue
        os.fchmod(fd, 0o600)  # umask can only remove bits; make sure it is exactly 0600
        return path, fd
    raise RecordingError(f"could not find a free file name for {stem!r} in {directory}")


class RecordingWriter:
    """Append-only writer. Every line is flushed; fsync every FSYNC_EVERY_S and on demand."""

    def __init__(
        self,
        directory: Path,
        header: Header,
        label: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        started = datetime.fromisoformat(header.started_utc.replace("Z", "+00:00"))
        self.path, fd = create_exclusive(Path(directory), session_filename(started, label))
        self._f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._clock = clock
        self._last_sync = clock()
        self.closed = False
        self.lines = 0
        try:
            self._line(header_to_dict(header))
            self.sync()
        except BaseException:
            # No header, no recording: the file just created holds nothing of the session
            # (a full disk, text that cannot be written). Left behind, an empty .jsonl would
            # stop `report latest`, `history` and `compare` until someone deleted it.
            ours = os.fstat(fd)
            with contextlib.suppress(OSError):
                self._f.close()
            with contextlib.suppress(OSError):
                if os.path.samestat(os.lstat(self.path), ours):  # still that file
                    os.unlink(self.path)
            raise

    def _line(self, d: dict) -> None:
        self._f.write(json.dumps(d, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._f.flush()
        self.lines += 1

    def write(self, ev: SessionEvent, processed: Processed | None = None) -> None:
        if self.closed:
            raise RecordingError(f"{self.path} is already closed")
        self._line(event_to_dict(ev, processed))
        if (
            isinstance(ev, PhaseStart | End | Connection)
            or self._clock() - self._last_sync >= FSYNC_EVERY_S
        ):
            self.sync()

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._last_sync = self._clock()
        if os.fstat(self._f.fileno()).st_nlink == 0:
            # Someone deleted the file: writing on would only fill an invisible inode.
            raise FileNotFoundError(errno.ENOENT, "the file was removed while recording")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sync()
            # After a failed write the buffer may still hold the line the disk refused;
            # closing retries it and fails again. The fd is released either way.
            with contextlib.suppress(OSError):
                self._f.close()
