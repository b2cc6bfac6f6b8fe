"""Typed session commands on the console: a thread reads lines (key + Enter) into the
session's controls queue, a tiny sink tells it which phase is running, and after the
session one typed line becomes the 'after' note. The window has its own keys
(holdbeat.gui); both parse with holdbeat.keys."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from holdbeat.keys import (
    ActionCmd,
    CommandError,
    ControlCmd,
    MarkerCmd,
    RateCmd,
    action_event,
    action_slot,
    parse_command,
    rating_slot,
    to_event,
)
from holdbeat.pipeline import Control, NextPhase, SessionClock, Stop
from holdbeat.printing import say
from holdbeat.textout import clean


@dataclass
class ConsoleControls:
    """Typed commands (key + Enter) read from a stream in a thread, into the controls queue."""

    clock: SessionClock
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    stream: TextIO
    err: TextIO
    holds_seen: list[int] = field(default_factory=list)
    current: tuple[int, bool] = (0, False)
    current_kind: str = ""
    action_phases: list[int] = field(default_factory=list)  # indices of the protocol's
    # after the session: where typed lines go instead (the 'after' note)
    after_end: Callable[[str], None] | None = None

    def on_phase(self, index: int, is_hold: bool, kind: str = "") -> None:
        self.current = (index, is_hold)
        self.current_kind = kind or ("hold" if is_hold else "")
        if is_hold:
            self.holds_seen.append(index)

    def handle_line(self, line: str) -> tuple[float, Control] | None:
        t = self.clock.now_s()
        try:
            cmd = parse_command(line)
        except CommandError as e:
            say(f"  {e}", self.err)
            return None
        if cmd is None:
            return None
        if isinstance(cmd, ControlCmd):
            return t, (Stop("ended by user") if cmd.what == "stop" else NextPhase())
        if isinstance(cmd, MarkerCmd | RateCmd):
            ev = to_event(cmd, t, rating_slot(self.holds_seen, *self.current))
            if ev is None:
                print("  no hold yet to rate", file=self.err)
                return None
            return t, ev
        if isinstance(cmd, ActionCmd):
            slot = action_slot(
                self.action_phases, self.current[0], self.current_kind, cmd.done is None
            )
            if slot is None:
                print("  this protocol has no action phase", file=self.err)
                return None
            return t, action_event(cmd, t, slot)
        return None

    def start(self) -> None:
        def run() -> None:
            # a terminal that goes away (EIO) or a loop already closed ends the keys, never
            # the session
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                for line in self.stream:
                    if self.after_end is not None:
                        self.after_end(line)
                        continue
                    item = self.handle_line(line)
                    if item is not None:
                        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

        threading.Thread(target=run, name="holdbeat-keys", daemon=True).start()


class PhaseWatch:
    """A tiny sink that tells the console controls which phase is running."""

    def __init__(self, controls: ConsoleControls) -> None:
        self.controls = controls

    def start(self, header, protocol) -> None:
        if protocol is not None:
            self.controls.action_phases = [
                i for i, p in enumerate(protocol.phases) if p.kind == "action"
            ]

    def handle(self, ev, processed) -> None:
        from holdbeat.events import PhaseStart

        if isinstance(ev, PhaseStart):
            self.controls.on_phase(ev.index, ev.kind == "hold", ev.kind)

    def finish(self, end) -> None:
        pass


def ask_after_note(controls, path: Path, out: TextIO, stdin: TextIO, wait_s: float = 600.0):
    """Console, after the session: one typed line becomes the 'after' note (Enter skips).

    The keys thread still owns stdin, so the line comes from it (`after_end`); only when a
    person is at a terminal, and never longer than `wait_s`.
    """
    from holdbeat.notes import NoteError, append_note

    try:
        interactive = stdin.isatty()
    except (AttributeError, ValueError, OSError):
        interactive = False
    if not interactive:
        return None
    got: list[str] = []
    answered = threading.Event()

    def take(line: str) -> None:
        if not answered.is_set():
            got.append(line)
            answered.set()

    controls.after_end = take
    print("how did it go? a note for later, then Enter (Enter alone skips):", file=out, flush=True)
    if not answered.wait(wait_s) or not got[0].strip():
        return None
    try:
        ev = append_note(path, got[0])
    except (NoteError, OSError) as e:
        print(f"holdbeat: the note was not saved: {clean(str(e))}", file=sys.stderr)
        return None
    print("note saved", file=out)
    return ev
