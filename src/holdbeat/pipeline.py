"""Runs one source through parse -> beats -> clean -> metrics into the sinks.

Every source (strap, simulator, recording) is an async iterator of time-ordered
SessionEvents. The runner advances the protocol's phases on the session clock (the
times carried by the events), merges user controls (markers, ratings, stop) and hands
each event, with what the Processor made of it, to every sink in order. The recorder
is a sink like any other but is always first, so a slow view never delays the file.
Every other sink is isolated: if it fails (a closed pipe, a vanished terminal, a broken
window) it is dropped with one message on stderr and the session goes on recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol as TypingProtocol

from holdbeat.events import Connection, End, Header, Hrm, PhaseStart, SessionEvent, Tick
from holdbeat.process import Processed, Processor
from holdbeat.safe_text import for_terminal
from holdbeat.session import Protocol


class Sink(TypingProtocol):
    def start(self, header: Header, protocol: Protocol | None) -> None: ...

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None: ...

    def finish(self, end: End) -> None: ...


def _say_on_stderr(text: str) -> None:
    """Best effort: stderr may be the same dead terminal."""
    with contextlib.suppress(Exception):
        print(text, file=sys.stderr, flush=True)


class Isolated:
    """A sink that may fail without ending the session (the console on a closed pipe or a
    vanished terminal, the window). Its first error is said once and it is dropped; the
    recorder, marked `essential`, is never wrapped: its failure ends the session."""

    def __init__(self, sink: Sink, say: Callable[[str], None] = _say_on_stderr) -> None:
        self.sink = sink
        self.say = say
        self.failed: BaseException | None = None

    def _call(self, method: str, *args: object) -> None:
        if self.failed is not None:
            return
        try:
            getattr(self.sink, method)(*args)
        except Exception as e:
            self.failed = e
            what = getattr(self.sink, "label", type(self.sink).__name__)
            self.say(
                for_terminal(
                    f"holdbeat: {what} stopped ({type(e).__name__}: {e}); "
                    "the session goes on and is still recorded"
                )
            )

    def start(self, header: Header, protocol: Protocol | None) -> None:
        self._call("start", header, protocol)

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        self._call("handle", ev, processed)

    def finish(self, end: End) -> None:
        self._call("finish", end)


def isolate(sinks: Iterable[Sink]) -> list[Sink]:
    """Every sink but the essential ones (the recorder) wrapped in Isolated."""
    return [
        s if getattr(s, "essential", False) or isinstance(s, Isolated) else Isolated(s)
        for s in sinks
    ]


class Planner(TypingProtocol):
    """Events the session adds itself at their time (sound cues, notes given beforehand):
    holdbeat.practice.PracticePlanner. Only for scheduled (live) sessions, never replay."""

    def at_start(self) -> list[SessionEvent]: ...

    def at_phase(self, ev: PhaseStart) -> list[SessionEvent]: ...

    def at_end(self, end: End) -> list[SessionEvent]: ...


@dataclass(frozen=True, slots=True)
class Stop:
    """Control: end the session now (user pressed q, closed the window, Ctrl-C)."""

    reason: str = "ended by user"


@dataclass(frozen=True, slots=True)
class NextPhase:
    """Control: end an open-ended phase (the `action` phase) now."""


Control = SessionEvent | Stop | NextPhase


def quantise(ev: SessionEvent) -> SessionEvent:
    """Times are kept to the microsecond so a recording replays bit-exact."""
    t = round(ev.t_s, 6)
    return ev if t == ev.t_s else replace(ev, t_s=t)  # type: ignore[type-var]


def phase_start(t_s: float, index: int, protocol: Protocol) -> PhaseStart:
    p = protocol.phases[index]
    return PhaseStart(
        t_s=t_s,
        index=index,
        name=p.name,
        kind=p.kind,
        mode=p.mode,
        duration_s=p.duration_s,
        prompt=p.prompt,
        belief=p.belief,
        target=p.target,
    )


class Session:
    """The runner's state: which phase, when it ends, what to tell the sinks."""

    def __init__(
        self,
        sinks: Iterable[Sink],
        header: Header,
        protocol: Protocol | None,
        window_s: float = 60.0,
        schedule_phases: bool = True,
        open_phase_s: float | None = None,
        planner: Planner | None = None,
    ) -> None:
        self.sinks = isolate(sinks)
        self.header = header
        self.protocol = protocol
        self.processor = Processor(window_s=window_s)
        self.schedule = schedule_phases and protocol is not None and bool(protocol.phases)
        self.open_phase_s = open_phase_s  # length given to open-ended phases (simulated runs)
        self.phase_index = -1
        self.phase_end_s: float | None = None
        self.now_s = 0.0
        self.end: End | None = None
        self.planner = planner if self.schedule else None
        self.pending: list[SessionEvent] = []  # the planner's events not yet due

    def start(self) -> None:
        for s in self.sinks:
            s.start(self.header, self.protocol)
        if self.planner is not None:
            for ev in self.planner.at_start():
                self._emit(ev)
        if self.schedule:
            self._enter_phase(0, 0.0)

    def _flush_pending(self, t_s: float, before_s: float | None = None) -> None:
        """Emit the planner's events due at t_s (and, if given, strictly before before_s)."""
        while (
            self.pending
            and self.pending[0].t_s <= t_s
            and (before_s is None or self.pending[0].t_s < before_s)
        ):
            self._emit(self.pending.pop(0))

    def _emit(self, ev: SessionEvent, processed: Processed | None = None) -> None:
        for s in self.sinks:
            s.handle(ev, processed)

    def _enter_phase(self, index: int, t_s: float) -> None:
        assert self.protocol is not None
        if self.pending:
            self._flush_pending(t_s, before_s=t_s)
        self.phase_index = index
        dur = self.protocol.phases[index].duration_s
        if dur is None:
            dur = self.open_phase_s
        self.phase_end_s = None if dur is None else t_s + dur
        ev = phase_start(t_s, index, self.protocol)
        self._emit(ev)
        if self.planner is not None:
            # what the last phase still had pending ends with it
            self.pending = sorted(self.planner.at_phase(ev), key=lambda e: e.t_s)
            self._flush_pending(t_s)

    def advance_to(self, t_s: float) -> None:
        """Fire every phase change due at or before t_s; end after the last phase."""
        while (
            self.end is None
            and self.schedule
            and self.phase_end_s is not None
            and t_s >= self.phase_end_s
        ):
            self._flush_pending(t_s, before_s=self.phase_end_s)
            t_change = round(self.phase_end_s, 6)
            assert self.protocol is not None
            if self.phase_index + 1 < len(self.protocol.phases):
                self._enter_phase(self.phase_index + 1, t_change)
            else:
                self.finish(End(t_change, "completed"))
        if self.pending and self.end is None:
            self._flush_pending(t_s)
        self.now_s = max(self.now_s, t_s)

    def feed(self, ev: SessionEvent) -> None:
        if self.end is not None:
            return
        ev = quantise(ev)
        self.advance_to(ev.t_s)
        if self.end is not None:
            return
        if isinstance(ev, Hrm):
            self._emit(ev, self.processor.on_hrm(ev))
        elif isinstance(ev, End):
            self.finish(ev)
        elif isinstance(ev, PhaseStart):
            if not self.schedule:  # replay: the recording's own phases
                self.phase_index = ev.index
                self._emit(ev)
        else:
            if isinstance(ev, Connection):
                self.processor.on_connection(ev)
            self._emit(ev)

    def control(self, c: Control, t_s: float | None) -> None:
        """Apply a user control at session time t_s (None: now, e.g. a signal arrived)."""
        if self.end is not None:
            return
        if t_s is None:
            t_s = self.now_s
        if isinstance(c, Stop):
            self.finish(End(round(t_s, 6), c.reason))
        elif isinstance(c, NextPhase):
            if self.schedule and self.protocol is not None:
                t = round(max(t_s, self.now_s), 6)
                if self.phase_index + 1 < len(self.protocol.phases):
                    self._enter_phase(self.phase_index + 1, t)
                else:
                    self.finish(End(t, "completed"))
        else:
            self.feed(c)

    def finish(self, end: End) -> None:
        if self.end is not None:
            return
        end = quantise(end)  # type: ignore[assignment]
        if self.planner is not None:
            self._flush_pending(end.t_s, before_s=end.t_s)
            self.pending = []
            for ev in self.planner.at_end(end):
                self._emit(ev)
        self.end = end  # type: ignore[assignment]
        for s in self.sinks:
            s.finish(end)  # type: ignore[arg-type]


async def run_session(
    source: AsyncIterator[SessionEvent],
    sinks: Iterable[Sink],
    header: Header,
    protocol: Protocol | None,
    *,
    controls: asyncio.Queue[tuple[float | None, Control]] | None = None,
    window_s: float = 60.0,
    schedule_phases: bool = True,
    open_phase_s: float | None = None,
    planner: Planner | None = None,
) -> End:
    """Drive `source` to the end of the protocol (or of the source); always finishes the sinks.

    `controls` carries (t_s, control) pairs from the keyboard / window; they are applied
    in time order between source events.
    """
    session = Session(sinks, header, protocol, window_s, schedule_phases, open_phase_s, planner)

    def drain() -> None:
        while controls is not None and not controls.empty():
            t, c = controls.get_nowait()
            session.control(c, t)

    try:
        # inside the try: if a sink cannot start (no room for the recording), the source
        # (a connected strap) is still closed below
        session.start()
        async for ev in source:
            drain()
            session.feed(ev)
            if session.end is not None:
                break
        else:
            drain()
            if session.end is None:
                t = session.now_s
                session.finish(End(round(t, 6), "source ended"))
    except (asyncio.CancelledError, KeyboardInterrupt):
        session.finish(End(round(session.now_s, 6), "interrupted"))
        raise
    except Exception as e:
        session.finish(End(round(session.now_s, 6), f"error: {type(e).__name__}: {e}"))
        raise
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            # closing must not mask the session's own end
            with contextlib.suppress(Exception):
                await aclose()
    assert session.end is not None
    return session.end


class SessionClock:
    """Session seconds from a wall clock, scaled by `speed` (replay x N); 1.0 is live."""

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        self.speed = speed
        self.wall = wall
        self.t0 = wall()

    def now_s(self) -> float:
        return round((self.wall() - self.t0) * self.speed, 6)


async def paced(
    events: Iterable[SessionEvent],
    clock: SessionClock | None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    tick_s: float = 0.25,
) -> AsyncIterator[SessionEvent]:
    """Release time-stamped events when `clock` reaches them (None = as fast as possible).

    In paced mode Ticks are interleaved so phases advance (and views refresh) between
    packets, exactly as with a live strap.
    """
    n = 0
    for ev in events:
        if clock is None:
            n += 1
            if n % 256 == 0:
                await asyncio.sleep(0)  # let keys / Ctrl-C / the view in
        else:
            while (now := clock.now_s()) < ev.t_s:
                await sleep(min(ev.t_s - now, tick_s) / clock.speed)
                t_now = clock.now_s()
                if t_now < ev.t_s:
                    yield Tick(t_now)
        yield ev


async def from_iterable(events: Iterable[SessionEvent]) -> AsyncIterator[SessionEvent]:
    for ev in events:
        yield ev
