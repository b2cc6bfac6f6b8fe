"""Console view: phase changes, markers and a status line (time, phase, HR, RR, ln RMSSD)."""

from __future__ import annotations

import math
import sys
from typing import TextIO

from holdbeat.events import (
    Battery,
    Connection,
    End,
    Header,
    Hrm,
    Marker,
    PhaseStart,
    Rating,
    SessionEvent,
    Tick,
)
from holdbeat.keys import key_legend
from holdbeat.process import Processed
from holdbeat.safe_text import for_terminal
from holdbeat.session import Protocol, format_duration


def clock(t_s: float) -> str:
    t = max(0, int(t_s))
    return f"{t // 60:02d}:{t % 60:02d}"


def fmt(x: float, spec: str) -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


class ConsoleSink:
    """Prints a status line at most every `every_s` session seconds, events at once.

    Text from the protocol, the recording or the strap (names, prompts, beliefs, marker
    notes, device names) is printed with control characters made visible."""

    label = "the console view"

    def __init__(
        self, out: TextIO | None = None, every_s: float = 1.0, recording: str = ""
    ) -> None:
        self.out = out or sys.stdout
        self.every_s = every_s
        self.recording = recording
        self._next_status = 0.0
        self._rr: tuple[float, ...] = ()  # the last notification's RR intervals
        self.lines = 0
        # the window's pure model, fed the same events: the console shows the same phase,
        # metrics, connection, band and catch-up state as the window (no Qt involved)
        from holdbeat.gui.model import ViewModel

        self._model = ViewModel()

    def _print(self, s: str) -> None:
        # each call is one line of holdbeat's own text with file/strap text inside it:
        # any control character in it (ESC, newline, bidi override) is shown, not obeyed
        print(for_terminal(s), file=self.out, flush=True)
        self.lines += 1

    def start(self, header: Header, protocol: Protocol | None) -> None:
        self._model.start(header, protocol)
        dev = header.device
        name = protocol.name if protocol else header.protocol.get("name", "")
        total = f" ({format_duration(protocol.total_s)})" if protocol else ""
        self._print(f"holdbeat · {dev.name or dev.address} · protocol {name}{total}")
        self._print(f"keys (type, then Enter): {key_legend()}")

    def _status(self, t_s: float) -> None:
        model = self._model
        m = model.metrics
        ph = model.current_phase
        left = ""
        if ph is not None and ph.planned_s:
            left = f" {clock(ph.start_s + ph.planned_s - t_s)} left"
        phase = f"{ph.name} [{ph.mode}]{left}" if ph else "-"
        strap_hr = str(model.last_strap_hr or "—")
        hr = fmt(m.hr_bpm, ".0f") if m is not None and m.n_beats else strap_hr
        ln = fmt(m.ln_rmssd, ".2f") if m is not None and m.valid else "—"
        rr = ",".join(f"{r:.0f}" for r in self._rr) or "—"
        q = f" flagged {m.flagged_share:.0%}" if m is not None and m.n_flagged else ""
        state = model.status.connection
        conn = "" if state in ("connected", "restored", "contact_restored") else f"  [{state}]"
        rr = f"{rr} ms" if rr != "—" else rr
        ln = f"{ln} ln(ms)" if ln != "—" else ln
        self._print(
            f"{clock(t_s)}  {phase:<34} HR {hr:>3} bpm  RR {rr:<17} ln RMSSD {ln}"
            f"{q}{conn}{self._catchup()}"
        )

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        self._model.handle(ev, processed)
        self._handle(ev, processed)

    def _catchup(self) -> str:
        """'band 63.1–72.4 bpm · caught up at 0:52 (HR ↓)' during holds, the band after the
        baseline, nothing before."""
        from holdbeat.gui.text import catchup_text

        m = self._model
        ph = m.current_phase
        band = m.bands.get("ln_rmssd")
        if band is None or ph is None or ph.kind == "baseline":
            return ""
        b = f"band {band.lo:.2f}–{band.hi:.2f}"
        if ph.kind != "hold":
            return f"  [{b}]"
        head, _ = catchup_text(m)
        return f"  [{b} · {head}]"

    def _handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        if isinstance(ev, PhaseStart):
            dur = (
                f" for {format_duration(ev.duration_s)}"
                if ev.duration_s
                else " (press a when done)"
            )
            self._print(f"{clock(ev.t_s)}  ── {ev.name} [{ev.mode}]{dur}: {ev.prompt}")
            if ev.belief:
                self._print(f"        belief ({ev.target or 'self'}): “{ev.belief}”")
                self._print(
                    "        rate before you start: belief strength b0-10, felt safety s0-10"
                )
            return
        if isinstance(ev, Marker):
            self._print(f"{clock(ev.t_s)}  • {ev.kind}{': ' + ev.text if ev.text else ''}")
            return
        if isinstance(ev, Rating):
            self._print(f"{clock(ev.t_s)}  rating ({ev.when}) {ev.scale} = {ev.value}/10")
            return
        if isinstance(ev, Connection):
            msg = {
                "lost": "connection lost — reconnecting…",
                "restored": "connection restored",
            }.get(ev.state, ev.state.replace("_", " "))
            self._print(f"{clock(ev.t_s)}  ! {msg}{': ' + ev.detail if ev.detail else ''}")
            return
        if isinstance(ev, Battery):
            if ev.percent <= 15:
                self._print(f"{clock(ev.t_s)}  ! strap battery low: {ev.percent}%")
            return
        if isinstance(ev, Hrm) and processed is not None:
            if processed.error:
                self._print(f"{clock(ev.t_s)}  ! skipped: {processed.error}")
                return
            self._rr = tuple(b.rr_ms for b in processed.beats)
        if isinstance(ev, Hrm | Tick) and ev.t_s >= self._next_status:
            self._status(ev.t_s)
            self._next_status = ev.t_s + self.every_s

    def finish(self, end: End) -> None:
        self._model.finish(end)
        self._print(f"{clock(end.t_s)}  ── session ended: {end.reason}")
        if self.recording:
            self._print(f"recording: {self.recording}")
