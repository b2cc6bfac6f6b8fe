"""Console view: phase changes, markers and a status line (time, phase, HR, RR, ln RMSSD)."""

from __future__ import annotations

import math
import re
import sys
import textwrap
from typing import NamedTuple, TextIO

from holdbeat import termtable
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


def wrap_line(s: str, width: int) -> str:
    """One line of the console, wrapped at words to `width` columns when longer: a timed line
    continues under its text (after the clock), an indented one 2 deeper. The terminal's own
    wrap would cut words and run on from column 0."""
    if len(s) <= width:
        return s
    indent = len(s) - len(s.lstrip(" "))
    timed = re.match(r"\d+:\d\d  ", s)
    hang = timed.end() if timed else indent + 2
    return textwrap.fill(
        s.strip(" "),
        max(20, width),
        initial_indent=" " * indent,
        subsequent_indent=" " * hang,
        break_on_hyphens=False,
    )


def fmt(x: float, spec: str) -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


class StatusParts(NamedTuple):
    """The pieces of one status line, as printed (units included)."""

    clock: str  # "02:34"
    name: str  # the phase's name, control characters already made visible
    tail: str  # " [fierce] 00:25 left"
    hr: str  # "74" (bpm) or "—"
    rr: str  # "749,812 ms" or "—"
    ln: str  # "3.75 ln(ms)" or "—"
    flagged: str  # "flagged 4%" or ""
    conn: str  # "lost", "reconnecting", ... or "" when connected
    band: str  # "band 2.70–3.83" or ""
    head: str  # the catch-up headline during a hold, or ""


MIN_NAME = 4  # a shortened phase name keeps at least this many characters (with "…")


def status_line(p: StatusParts, width: int) -> str:
    """The status line, as full as fits in `width` columns.

    A line wider than the terminal wraps, and one status a second then fills the screen
    with broken lines. So it sheds, in order: the column padding, the last RR intervals, the
    band's numbers, the flagged share, then letters of the phase name. Time, phase, mode,
    time left, HR, ln RMSSD, the connection state and the catch-up state always stay; on a
    terminal too narrow even for those the line is as short as it gets and wraps."""

    def extra(band: bool, flagged: bool) -> str:
        bracket = [x for x in (p.band if band else "", p.head) if x]
        return (
            (f" {p.flagged}" if flagged and p.flagged else "")
            + (f"  [{p.conn}]" if p.conn else "")
            + (f"  [{' · '.join(bracket)}]" if bracket else "")
        )

    def compact(rr: bool, band: bool, flagged: bool, name: str = p.name) -> str:
        shown_rr = f"  RR {p.rr}" if rr else ""
        return f"{p.clock}  {name}{p.tail}  HR {p.hr} bpm{shown_rr}  ln RMSSD {p.ln}" + extra(
            band, flagged
        )

    phase = f"{p.name}{p.tail}"
    full = f"{p.clock}  {phase:<34} HR {p.hr:>3} bpm  RR {p.rr:<17} ln RMSSD {p.ln}"
    for line in (
        full + extra(True, True),
        compact(rr=True, band=True, flagged=True),
        compact(rr=False, band=True, flagged=True),
        compact(rr=False, band=False, flagged=True),
    ):
        if len(line) <= width:
            return line
    line = compact(rr=False, band=False, flagged=False)
    keep = max(MIN_NAME, len(p.name) - (len(line) - width))
    if keep >= len(p.name):
        return line
    return compact(rr=False, band=False, flagged=False, name=p.name[: keep - 1].rstrip() + "…")


class ConsoleSink:
    """Prints a status line at most every `every_s` session seconds, events at once.

    Text from the protocol, the recording or the strap (names, prompts, beliefs, marker
    notes, device names) is printed with control characters made visible."""

    label = "the console view"

    def __init__(
        self,
        out: TextIO | None = None,
        every_s: float = 1.0,
        recording: str = "",
        width: int | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.width = width  # columns to fit; None: the terminal's, asked at each line
        self.every_s = every_s
        self.recording = recording
        self._next_status = 0.0
        self._rr: tuple[float, ...] = ()  # the last notification's RR intervals
        self.lines = 0
        # the window's pure model, fed the same events: the console shows the same phase,
        # metrics, connection, band and catch-up state as the window (no Qt involved)
        from holdbeat.gui.model import ViewModel

        self._model = ViewModel()

    def _columns(self) -> int:
        return termtable.width() if self.width is None else self.width

    def _print(self, s: str) -> None:
        # each call is one line of holdbeat's own text with file/strap text inside it:
        # any control character in it (ESC, newline, bidi override) is shown, not obeyed
        print(wrap_line(for_terminal(s), self._columns()), file=self.out, flush=True)
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
        tail = ""
        if ph is not None:
            left = ""
            if ph.planned_s:
                left = f" {clock(ph.start_s + ph.planned_s - t_s)} left"
            tail = f" [{ph.mode}]{left}"
        strap_hr = str(model.last_strap_hr or "—")
        ln = fmt(m.ln_rmssd, ".2f") if m is not None and m.valid else "—"
        rr = ",".join(f"{r:.0f}" for r in self._rr)
        state = model.status.connection
        band, head = self._catchup()
        parts = StatusParts(
            clock=clock(t_s),
            name=for_terminal(ph.name) if ph else "-",
            tail=tail,
            # the rolling mean HR, or the strap's own HR field until there is one
            hr=fmt(m.hr_bpm, ".0f")
            if m is not None and m.n_beats and math.isfinite(m.hr_bpm)
            else strap_hr,
            rr=f"{rr} ms" if rr else "—",
            ln=f"{ln} ln(ms)" if ln != "—" else ln,
            flagged=f"flagged {m.flagged_share:.0%}" if m is not None and m.n_flagged else "",
            conn="" if state in ("connected", "restored", "contact_restored") else state,
            band=band,
            head=head,
        )
        self._print(status_line(parts, self._columns()))

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        self._model.handle(ev, processed)
        self._handle(ev, processed)

    def _catchup(self) -> tuple[str, str]:
        """('band 3.10–3.72', catch-up headline) during holds, the band alone after the
        baseline, nothing before."""
        from holdbeat.gui.text import catchup_text

        m = self._model
        ph = m.current_phase
        band = m.bands.get("ln_rmssd")
        if band is None or ph is None or ph.kind == "baseline":
            return "", ""
        b = f"band {band.lo:.2f}–{band.hi:.2f}"
        if ph.kind != "hold":
            return b, ""
        return b, catchup_text(m)[0]

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
