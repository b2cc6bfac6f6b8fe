"""What demo, replay and hold share: flags, belief prompts, running a session to its end."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from holdbeat.commands._print import emit, say  # noqa: F401 (re-exported)
from holdbeat.commands._types import non_negative_float, positive_float  # noqa: F401
from holdbeat.events import End, Header, SessionEvent
from holdbeat.home import out_arg
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
from holdbeat.pipeline import Control, NextPhase, SessionClock, Stop, run_session
from holdbeat.protocols import builtin_names, load_protocol
from holdbeat.safe_text import for_terminal
from holdbeat.session import (
    HOLD_MODES,
    TARGETS,
    Protocol,
    ProtocolError,
    with_beliefs,
)
from holdbeat.sinks.console import ConsoleSink
from holdbeat.sinks.recorder import RecorderSink, RecordingFailed


def parse_speed(value: str) -> float | None:
    """'max' -> None (as fast as possible), else a positive factor."""
    if value.strip().lower() in ("max", "inf", "fast"):
        return None
    try:
        x = float(value.rstrip("xX"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"speed must be a number like 1, 10 or 'max', not {value!r}"
        ) from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be positive, got {value!r}")
    return x


def add_view_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help="console view instead of a window")
    p.add_argument(
        "--window",
        type=positive_float,
        default=60.0,
        metavar="S",
        help="live HRV window in seconds (default 60)",
    )
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a PNG of the window when the session ends (with --headless: drawn "
        "offscreen at the end); never replaces a recording or a non-regular file",
    )
    p.add_argument(
        "--view-minutes",
        type=positive_float,
        default=5.0,
        metavar="MIN",
        help="the window follows the last MIN minutes (default 5; zoom out in the window)",
    )


def add_session_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--protocol",
        default="single",
        metavar="NAME|PATH",
        help=f"built-in ({', '.join(builtin_names())}) or a TOML file (default single)",
    )
    p.add_argument("--mode", choices=HOLD_MODES, help="mode of the hold (single-hold protocols)")
    p.add_argument("--belief", help="the belief to hold (text)")
    p.add_argument("--target", choices=TARGETS, help="what the belief is about")
    p.add_argument(
        "--ask",
        action="store_true",
        help="ask for the belief and target of each hold before starting",
    )
    p.add_argument(
        "--suggest",
        metavar="WHAT_IS_HAPPENING",
        help="describe what is happening; holdbeat suggests a mode (a default, never a gate)",
    )
    p.add_argument(
        "--out",
        type=out_arg,
        default="",
        metavar="DIR",
        help="recordings folder (default: HOLDBEAT_RECORDINGS, the config file's 'recordings' "
        "or your user data folder; `holdbeat --help` shows which)",
    )
    from holdbeat.commands._practice import add_practice_flags

    add_practice_flags(p)


def resolve_protocol(
    args: argparse.Namespace, ask: Callable[[str], str] | None = None, out: TextIO | None = None
) -> Protocol:
    """--protocol plus --mode/--belief/--target/--suggest/--ask -> the protocol to run."""
    from holdbeat.commands._practice import ask_practice, show_suggestion, with_stance

    out = out or sys.stdout
    protocol = load_protocol(args.protocol)
    if getattr(args, "ask", False):
        ask_practice(args, protocol, ask or input, out)  # the situation, note, action
    suggestion, mode = None, args.mode
    if getattr(args, "suggest", None) and mode is None:
        suggestion, mode = show_suggestion(args.suggest, protocol, out)
    protocol = with_beliefs(protocol, mode=mode, belief=args.belief, target=args.target)
    if suggestion is not None and mode is not None:
        protocol = with_stance(protocol, suggestion, belief_given=args.belief is not None)
    if getattr(args, "ask", False):
        protocol = ask_beliefs(protocol, ask or input, out)
    return protocol


def ask_beliefs(protocol: Protocol, ask: Callable[[str], str], out: TextIO) -> Protocol:
    """Ask belief text and target for each hold; Enter keeps the default shown."""
    from dataclasses import replace

    phases = list(protocol.phases)
    for i, p in enumerate(phases):
        if not p.is_hold:
            continue
        say(f"hold {i}: {p.name} [{p.mode}] — {p.prompt}", out)
        belief = ask(f"  belief [{for_terminal(p.belief)}]: ").strip() or p.belief
        while True:
            target = ask(f"  about ({'/'.join(TARGETS)}) [{p.target}]: ").strip() or p.target
            if target in TARGETS:
                break
            print(f"  please answer one of: {', '.join(TARGETS)}", file=out)
        phases[i] = replace(p, belief=belief, target=target)
    return replace(protocol, phases=tuple(phases))


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


def display_available() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


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

        err = render_offscreen(shot.model, plan.screenshot, plan.view_minutes)
        say(err or f"screenshot: {plan.screenshot}", sys.stderr if err else out)
    if keys and recorder is not None and recorder.path is not None:
        from holdbeat.commands._practice import ask_after_note

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


def report_end(end: End, path: Path | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if path is not None:
        say(f"recorded: {path}", out)
    if end.reason.startswith("error"):
        say(f"holdbeat: session ended with {end.reason}", sys.stderr)
        return 1
    return 0


def check_screenshot(path: Path | None) -> str:
    """Before the session: the screenshot may be written (never over a recording, a device,
    a FIFO...); its folder is created. Returns an error message or ""."""
    if path is None:
        return ""
    from holdbeat.output import OutputError, check_target

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        check_target(path, force=True)
    except OutputError as e:
        return f"--screenshot: {e}"
    except OSError as e:
        return f"--screenshot: cannot create {path.parent}: {e.strerror or e}"
    return ""


def run_plan_cli(plan: SessionPlan) -> int:
    from holdbeat.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

    problem = check_screenshot(plan.screenshot)
    if problem:
        say(f"holdbeat: {problem}", sys.stderr)
        return EXIT_USAGE
    try:
        end, path = execute(plan)
    except RecordingFailed as e:
        say(f"holdbeat: {e}", sys.stderr)
        return EXIT_FAILED
    except SessionInterrupted as e:
        if e.path is not None:
            say(f"interrupted; {e.path} was closed with an 'end' event", sys.stderr)
        else:
            say("interrupted before the session started; nothing was recorded", sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        say("interrupted", sys.stderr)
        return EXIT_INTERRUPTED
    if plan.source_end is not None and end == plan.source_end:
        # a replay that reached the recording's end: done, whatever ended the original
        if path is not None:
            say(f"recorded: {path}")
        return 0
    code = report_end(end, path)
    if end.reason == "interrupted":
        return EXIT_INTERRUPTED
    if end.reason.startswith("terminated"):
        return 128 + 15
    if end.reason.startswith("hangup"):
        return 128 + 1
    return code


def protocol_or_exit(args: argparse.Namespace) -> Protocol | int:
    try:
        return resolve_protocol(args)
    except ProtocolError as e:
        say(f"holdbeat: {e}", sys.stderr)
        return 2
