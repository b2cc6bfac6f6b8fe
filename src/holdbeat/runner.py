"""Running a planned session to its end, with the console or the live window.

A command (demo, hold, replay) decides everything into a `SessionPlan`; `execute` runs it:
the recorder first, then the console status and prompts, typed keys, sound cues and
signals (SIGTERM/SIGHUP end it cleanly), or the window (holdbeat.sinks.view) when there
is a display. The exit codes for these outcomes are the command's (commands/_run_plan.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from holdbeat.console_controls import ConsoleControls, PhaseWatch, ask_after_note
from holdbeat.events import End, Header, SessionEvent
from holdbeat.gui.display import display_available
from holdbeat.pipeline import SessionClock, Stop, run_session
from holdbeat.printing import say
from holdbeat.session import Protocol
from holdbeat.sinks.console import ConsoleSink
from holdbeat.sinks.recorder import RecorderSink


def ignored_at_start(sig: int) -> bool:
    """Whether `sig` was ignored when holdbeat started (`nohup`, a shell's background job):
    then holdbeat keeps ignoring it rather than installing a handler of its own."""
    import signal

    return signal.getsignal(sig) == signal.SIG_IGN


def install_stop_signals(queue: asyncio.Queue) -> None:
    """SIGTERM / SIGHUP end the session cleanly (an `end` event), like pressing q, unless
    they were ignored at start (`nohup holdbeat hold … &` must survive the terminal).

    SIGINT (Ctrl-C) is handled by asyncio.run: the session task is cancelled and the
    runner writes `end` with reason "interrupted".
    """
    import signal

    loop = asyncio.get_running_loop()
    for sig, why in (
        (signal.SIGTERM, "terminated (SIGTERM)"),
        (getattr(signal, "SIGHUP", None), "hangup (SIGHUP)"),
    ):
        if sig is None or ignored_at_start(sig):
            continue
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows
            loop.add_signal_handler(sig, queue.put_nowait, (None, Stop(why)))


@dataclass
class SessionPlan:
    """Everything a command decided; `execute` runs it with the console or the window."""

    make_source: Callable[[], AsyncIterator[SessionEvent]]
    header: Header
    protocol: Protocol | None
    out_dir: Path | None  # None: don't record (plain replay)
    clock: SessionClock | None  # None: as fast as possible
    headless: bool
    window_s: float = 60.0
    schedule_phases: bool = True
    open_phase_s: float | None = None
    screenshot: Path | None = None
    view_minutes: float = 5.0
    interactive: bool = True
    label: str | None = None
    extra_sinks: list = field(default_factory=list)
    # replay: the recording's own End. A replay that reaches it succeeded, whatever ended
    # the original session (a signal, an error): exit 0, not 143/129/1.
    source_end: End | None = None
    # Runs first, in the session's own event loop (a strap must connect there); it may
    # set header and clock. `hold` connects the strap here. None for demo/replay.
    prepare: Callable[[SessionPlan], Awaitable[None]] | None = None
    # events the session adds at their time (notes given beforehand, sound cues)
    planner: object | None = None
    quiet: bool = False  # --quiet: no console status lines (the recording path still shows)
    inputs: tuple[Path, ...] = ()  # files the command read: --screenshot never replaces them
    # outputs after the session that could not be written (the screenshot): exit 1, as a
    # report whose --png cannot be written
    failed: list[str] = field(default_factory=list)

    def screenshot_written(self, err: str, out: TextIO | None = None) -> None:
        """Say where the screenshot went (on `out`), or why it could not be written (on
        stderr, and the command then exits 1): the windowed and the headless run alike."""
        say(err or f"screenshot: {self.screenshot}", sys.stderr if err else out)
        if err:
            self.failed.append(err)

    def status_every_s(self) -> float:
        """Console status lines: one per wall second when paced, every 30 s at max speed."""
        return 30.0 if self.clock is None else max(1.0, self.clock.speed)

    def run(self, sinks: list, controls: asyncio.Queue) -> Awaitable[End]:
        """The session itself, the same for the console and the window."""
        return run_session(
            self.make_source(),
            sinks,
            self.header,
            self.protocol,
            controls=controls,
            window_s=self.window_s,
            schedule_phases=self.schedule_phases,
            open_phase_s=self.open_phase_s,
            planner=self.planner,  # type: ignore[arg-type]
        )


def execute(
    plan: SessionPlan, stdin: TextIO | None = None, out: TextIO | None = None
) -> tuple[End, Path | None]:
    """Run the plan -> (End, recording path). Raises RecordingFailed on disk errors."""
    out = out or sys.stdout
    recorder = RecorderSink(plan.out_dir, plan.label) if plan.out_dir is not None else None
    if not plan.headless and plan.screenshot is None and not display_available():
        say("no display found: using the console view (--headless)", sys.stderr)
        plan.headless = True
    if not plan.headless:
        try:
            from holdbeat.sinks.view import run_windowed  # type: ignore[attr-defined]
        except ImportError as e:
            say(f"the live window is not available ({e}); using the console view", sys.stderr)
            plan.headless = True
        else:
            end = run_windowed(plan, recorder)
            return end, recorder.path if recorder else None

    keys: list[ConsoleControls] = []

    async def main() -> End:
        if plan.prepare is not None:
            await plan.prepare(plan)
        queue: asyncio.Queue = asyncio.Queue()
        sinks: list = [recorder] if recorder else []
        if not plan.quiet:
            sinks.append(ConsoleSink(out, every_s=plan.status_every_s()))
        live = plan.interactive and plan.clock is not None
        if live or not plan.quiet:  # --quiet keeps the prompts of a session someone is in
            from holdbeat.sinks.practice_console import PracticeConsole

            sinks.append(PracticeConsole(out, asks=live))
        if plan.interactive and plan.clock is not None:
            controls = ConsoleControls(
                plan.clock, asyncio.get_running_loop(), queue, stdin or sys.stdin, sys.stderr
            )
            sinks.insert(0, PhaseWatch(controls))
            controls.start()
            keys.append(controls)
        sinks.extend(plan.extra_sinks)
        if shot is not None:
            sinks.append(shot)
        install_stop_signals(queue)
        return await plan.run(sinks, queue)

    # --headless --screenshot: the window's model is fed during the session (no Qt), and
    # the window is drawn offscreen once at the end: the same picture as a windowed run.
    shot = (
        ModelSink(plan.window_s, lambda: recorder.path if recorder else None)
        if plan.screenshot is not None
        else None
    )
    try:
        end = asyncio.run(main())
    except KeyboardInterrupt:
        raise SessionInterrupted(recorder.path if recorder else None) from None
    if shot is not None and plan.screenshot is not None:
        from holdbeat.sinks.view import render_offscreen

        plan.screenshot_written(
            render_offscreen(shot.model, plan.screenshot, plan.view_minutes), out
        )
    if keys and recorder is not None and recorder.path is not None:
        ask_after_note(keys[0], recorder.path, out, stdin or sys.stdin)
    return end, recorder.path if recorder else None


class ModelSink:
    """Feeds the live window's model without any Qt (for --headless --screenshot)."""

    label = "the screenshot's view"

    def __init__(self, window_s: float, recording: Callable[[], Path | None]) -> None:
        from holdbeat.gui.model import ViewModel

        self.model = ViewModel(window_s=window_s)
        self.recording = recording

    def start(self, header, protocol) -> None:
        path = self.recording()
        self.model.status.recording = str(path) if path else ""
        self.model.start(header, protocol)

    def handle(self, ev, processed) -> None:
        self.model.handle(ev, processed)

    def finish(self, end) -> None:
        self.model.finish(end)


class SessionInterrupted(KeyboardInterrupt):
    """Ctrl-C; `path` is the recording (closed with an `end` event), None if none began."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path
