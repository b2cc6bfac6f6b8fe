"""A recording as a source: its raw notifications and events, in their recorded order."""

from __future__ import annotations

from holdbeat.events import SessionEvent
from holdbeat.recording import Recording


def replay_events(rec: Recording) -> list[SessionEvent]:
    """Everything the live pipeline saw, with the recorded times (End included)."""
    return list(rec.events)
