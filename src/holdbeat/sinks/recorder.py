"""The always-on sink: writes every event to a holdbeat/1 file as it happens."""

from __future__ import annotations

import os
from pathlib import Path

from holdbeat.events import End, Header, SessionEvent, Tick
from holdbeat.process import Processed
from holdbeat.recording import RecordingError
from holdbeat.recording_writer import RecordingWriter
from holdbeat.session import Protocol


class RecordingFailed(RecordingError):
    """The disk refused a write; what was written before stays readable."""


def session_label(protocol: Protocol | None) -> str:
    if protocol is None:
        return "session"
    modes = list(dict.fromkeys(p.mode for p in protocol.phases if p.is_hold))
    return modes[0] if len(modes) == 1 else (protocol.name or "session")


class RecorderSink:
    essential = True  # a failure here ends the session (pipeline.isolate leaves it bare)

    def __init__(self, directory: Path, label: str | None = None) -> None:
        self.directory = Path(directory)
        self.label = label
        self.writer: RecordingWriter | None = None
        self.error: str = ""

    @property
    def path(self) -> Path | None:
        return self.writer.path if self.writer else None

    def start(self, header: Header, protocol: Protocol | None) -> None:
        try:
            self.writer = RecordingWriter(
                self.directory, header, self.label or session_label(protocol)
            )
        except OSError as e:
            why = e.strerror or str(e)
            if os.path.exists(self.directory) and not os.path.isdir(self.directory):
                why = "it is not a folder (give a folder: --out, HOLDBEAT_RECORDINGS)"
            raise RecordingFailed(f"cannot create a recording in {self.directory}: {why}") from e

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        if isinstance(ev, Tick) or self.writer is None:
            return
        try:
            self.writer.write(ev, processed)
        except OSError as e:
            self._fail(e)

    def finish(self, end: End) -> None:
        if self.writer is None or self.writer.closed:
            return
        try:
            self.writer.write(end)
        except OSError as e:
            self._fail(e)
        finally:
            self.writer.close()

    def _fail(self, e: OSError) -> None:
        assert self.writer is not None
        self.error = f"recording stopped: cannot write {self.writer.path}: {e.strerror or e}"
        self.writer.close()
        raise RecordingFailed(self.error + " (everything before this point is saved)") from e
