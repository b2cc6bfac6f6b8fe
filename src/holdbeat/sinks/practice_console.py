"""Console lines for the practice: the re-hold cue on a lapse, and (when a person is
there to answer) the act-and-savor questions and the rating after a hold.

Kept apart from the console view (sinks/console.py) so each does one job; both print to
the same stream, this one right after the view's line for the same event.
"""

from __future__ import annotations

import sys
from typing import TextIO

from holdbeat import termtable
from holdbeat.events import (
    ActionDone,
    ActionPlan,
    End,
    Header,
    Marker,
    PhaseStart,
    SessionEvent,
    SessionNote,
)
from holdbeat.keys import action_legend
from holdbeat.practice import phase_rehold_cue, savor_holds
from holdbeat.session import Protocol
from holdbeat.sinks.console import clock, wrap_line
from holdbeat.textout import clean

PAD = " " * 8


class PracticeConsole:
    def __init__(
        self, out: TextIO | None = None, asks: bool = True, width: int | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.width = width  # columns; None: the terminal's, asked at each line
        self.asks = asks  # a person is typing (not a max-speed demo or a replay)
        self.protocol: Protocol | None = None
        self.phase: PhaseStart | None = None
        self.prev: PhaseStart | None = None
        self.planned: set[int] = set()  # action phases whose action was given
        self.lines = 0

    def _print(self, s: str) -> None:
        width = termtable.width() if self.width is None else self.width
        print(wrap_line(s, width), file=self.out, flush=True)
        self.lines += 1

    def start(self, header: Header, protocol: Protocol | None) -> None:
        self.protocol = protocol
        situation = (header.practice or {}).get("situation")
        if situation:
            self._print(f"situation: “{clean(situation)}”")
        if self.asks and protocol is not None and any(p.kind == "action" for p in protocol.phases):
            self._print(f"act-and-savor keys: {action_legend()}")

    def cue_of(self, ph: PhaseStart) -> str:
        return phase_rehold_cue(self.protocol, ph.index, ph.mode)

    def handle(self, ev: SessionEvent, processed) -> None:
        if isinstance(ev, PhaseStart):
            self.prev, self.phase = self.phase, ev
            self._on_phase(ev)
        elif isinstance(ev, Marker) and ev.kind == "lapse" and self.phase is not None:
            cue = self.cue_of(self.phase)
            if self.phase.kind == "hold" and cue:
                self._print(f"{PAD}come back: {clean(cue)}  (r when you hold it again)")
        elif isinstance(ev, SessionNote):
            self._print(f"{clock(ev.t_s)}  note ({ev.when}): {clean(ev.text)}")
        elif isinstance(ev, ActionPlan):
            self.planned.add(ev.phase_index)
            self._print(f"{clock(ev.t_s)}  the action: {clean(ev.text)}")
        elif isinstance(ev, ActionDone):
            self._print(f"{clock(ev.t_s)}  action done: {'yes' if ev.done else 'no'}")

    def _on_phase(self, ev: PhaseStart) -> None:
        if not self.asks:
            return
        if ev.kind == "action" and ev.index not in self.planned:
            self._print(f"{PAD}what is the action? type w and the action, e.g. w send the email")
        prev = self.prev
        if prev is not None and prev.kind == "action":
            self._print(f"{PAD}did you do it? dy = yes, dn = no")
        if prev is not None and prev.kind == "hold" and ev.kind != "hold":
            ask = "rate the hold that ended: belief b0-10, felt safety s0-10"
            if self.protocol is not None and prev.index in savor_holds(self.protocol):
                ask += ", satisfaction g0-10"
            self._print(f"{PAD}{ask}")

    def finish(self, end: End) -> None:
        pass
