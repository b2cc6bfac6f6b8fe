"""The console view's status line, from hand-made events: the phase and its time left, HR
(the rolling mean, or the strap's own HR field before any beat), the last RR intervals,
ln RMSSD and the connection state, as a person reads them in a terminal."""

from __future__ import annotations

import io
import itertools

from holdbeat.events import Connection, Device, End, Hrm, PhaseStart, Tick
from holdbeat.hrs import encode_hrm
from holdbeat.process import Processor
from holdbeat.recording_writer import new_header
from holdbeat.session import Phase, Protocol
from holdbeat.sinks.console import MIN_NAME, ConsoleSink, StatusParts, status_line, wrap_line

PROTOCOL = Protocol(
    "one-hold", (Phase("calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self"),)
)
HOLD = PhaseStart(0.0, 0, "calm hold", "hold", "soft", 300.0, "Feel it.", "I am safe.", "self")


def started() -> tuple[ConsoleSink, io.StringIO]:
    out = io.StringIO()
    sink = ConsoleSink(out, every_s=1.0)
    sink.start(
        new_header(Device(name="strap", address="AA", source="ble"), PROTOCOL.to_dict()), PROTOCOL
    )
    sink.handle(HOLD, None)
    return sink, out


def status_lines(out: io.StringIO) -> list[str]:
    return [ln for ln in out.getvalue().splitlines() if " HR " in ln and " bpm  RR " in ln]


def test_strap_hr_field_and_lost_connection_before_any_beat():
    sink, out = started()
    proc = Processor(60.0)
    sink.handle(Connection(1.0, "lost", "timeout"), None)
    ev = Hrm(2.0, encode_hrm(72, [], contact=True))
    sink.handle(ev, proc.on_hrm(ev))
    phase = "calm hold [soft] 04:58 left"
    assert status_lines(out) == [f"00:02  {phase:<34} HR  72 bpm  RR {'—':<17} ln RMSSD —  [lost]"]
    sink.handle(Connection(2.5, "restored"), None)
    sink.handle(Tick(3.0), None)
    assert status_lines(out)[-1] == (
        f"00:03  {'calm hold [soft] 04:57 left':<34} HR  72 bpm  RR {'—':<17} ln RMSSD —"
    )


def test_rolling_hr_last_rr_and_ln_rmssd_from_beats():
    """RR 937.5 / 1062.5 ms in turn (exact in 1/1024 s): mean RR 1000 ms -> 60 bpm; every
    successive difference 125 ms -> ln RMSSD ln(125) = 4.83."""
    sink, out = started()
    proc = Processor(60.0)
    t = 0.0
    for i in range(90):
        rr = 937.5 if i % 2 == 0 else 1062.5
        t += rr / 1000.0
        ev = Hrm(t, encode_hrm(60, [rr], contact=True))
        sink.handle(ev, proc.on_hrm(ev))
    assert t == 90.0
    sink.handle(Connection(90.2, "contact_lost"), None)
    sink.handle(Tick(91.0), None)
    want = f"01:31  {'calm hold [soft] 03:29 left':<34} HR  60 bpm  RR {'1062 ms':<17}"
    assert status_lines(out)[-1] == f"{want} ln RMSSD 4.83 ln(ms)  [contact_lost]"
    sink.finish(End(92.0))
    assert out.getvalue().splitlines()[-1] == "01:32  ── session ended: completed"


# --- fitting the terminal -------------------------------------------------------------

HOLD_PARTS = StatusParts(
    clock="02:34",
    name="fierce hold",
    tail=" [fierce] 00:25 left",
    hr="74",
    rr="749,812 ms",
    ln="3.75 ln(ms)",
    flagged="flagged 4%",
    conn="",
    band="band 2.70–3.83",
    head="not yet",
)
# what each step of shedding prints, written out by hand
FULL = (
    "02:34  fierce hold [fierce] 00:25 left    HR  74 bpm  RR 749,812 ms        "
    "ln RMSSD 3.75 ln(ms) flagged 4%  [band 2.70–3.83 · not yet]"
)
UNPADDED = (
    "02:34  fierce hold [fierce] 00:25 left  HR 74 bpm  RR 749,812 ms  "
    "ln RMSSD 3.75 ln(ms) flagged 4%  [band 2.70–3.83 · not yet]"
)
NO_RR = (
    "02:34  fierce hold [fierce] 00:25 left  HR 74 bpm  "
    "ln RMSSD 3.75 ln(ms) flagged 4%  [band 2.70–3.83 · not yet]"
)
NO_BAND = (
    "02:34  fierce hold [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms) flagged 4%  [not yet]"
)
NO_FLAGGED = "02:34  fierce hold [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms)  [not yet]"


def test_status_line_sheds_padding_rr_band_flagged_in_that_order():
    """Each step is taken exactly when the line before it is one column too wide."""
    steps = [FULL, UNPADDED, NO_RR, NO_BAND, NO_FLAGGED]
    assert [len(s) for s in steps] == sorted((len(s) for s in steps), reverse=True)
    for line, shorter in itertools.pairwise(steps):
        assert status_line(HOLD_PARTS, len(line)) == line
        assert status_line(HOLD_PARTS, len(line) - 1) == shorter
    assert status_line(HOLD_PARTS, 10_000) == FULL
    assert status_line(HOLD_PARTS, len(NO_FLAGGED)) == NO_FLAGGED


def test_status_line_then_shortens_the_phase_name_never_the_numbers():
    w = len(NO_FLAGGED) - 3  # three columns short: "fierce hold" (11) keeps 8 -> "fierce …"
    assert status_line(HOLD_PARTS, w) == (
        "02:34  fierce… [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms)  [not yet]"
    )
    w = len(NO_FLAGGED) - 1  # one short: "fierce hol" + "…"
    assert status_line(HOLD_PARTS, w) == (
        "02:34  fierce ho… [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms)  [not yet]"
    )
    # far too narrow: the name stops at MIN_NAME (3 letters and "…"), the line wraps
    tiny = status_line(HOLD_PARTS, 20)
    assert MIN_NAME == 4
    assert tiny == "02:34  fie… [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms)  [not yet]"


def test_status_line_keeps_the_connection_state_and_a_short_name_whole():
    lost = HOLD_PARTS._replace(conn="lost", name="hold", band="", head="")
    full = (
        "02:34  hold [fierce] 00:25 left" + " " * 11 + "HR  74 bpm  RR 749,812 ms        "
        "ln RMSSD 3.75 ln(ms) flagged 4%  [lost]"
    )
    assert status_line(lost, len(full)) == full
    bare = "02:34  hold [fierce] 00:25 left  HR 74 bpm  ln RMSSD 3.75 ln(ms)  [lost]"
    # no band and no catch-up: the band step changes nothing, the flagged share goes next
    assert status_line(lost, len(bare) + len(" flagged 4%")) == bare.replace(
        "ln(ms)", "ln(ms) flagged 4%"
    )
    assert status_line(lost, len(bare)) == bare
    assert status_line(lost, 5) == bare  # a 4-letter name is not shortened


def test_console_sink_fits_its_status_line_to_the_width_it_is_given():
    out = io.StringIO()
    sink = ConsoleSink(out, every_s=1.0, width=60)
    sink.start(
        new_header(Device(name="strap", address="AA", source="ble"), PROTOCOL.to_dict()), PROTOCOL
    )
    sink.handle(HOLD, None)
    proc = Processor(60.0)
    ev = Hrm(2.0, encode_hrm(72, [812.0], contact=True))
    sink.handle(ev, proc.on_hrm(ev))
    assert status_lines_any(out) == ["00:02  calm hold [soft] 04:58 left  HR 72 bpm  ln RMSSD —"]


def status_lines_any(out: io.StringIO) -> list[str]:
    return [ln for ln in out.getvalue().splitlines() if " HR " in ln]


def test_wrap_line_breaks_at_words_under_the_text_after_the_clock():
    s = "01:00  ── fierce hold [fierce] for 2m: Hold it with authority. Who gets to define me now?"
    assert wrap_line(s, len(s)) == s
    assert wrap_line(s, 40).split("\n") == [
        "01:00  ── fierce hold [fierce] for 2m:",
        "       Hold it with authority. Who gets",
        "       to define me now?",
    ]
    # a session past 100 minutes has a longer clock: the text still lines up after it
    assert wrap_line("123:45  • note: " + "word " * 8, 30).split("\n") == [
        "123:45  • note: word word word",
        "        word word word word",
        "        word",
    ]


def test_wrap_line_indented_and_plain_lines_hang_two_deeper():
    belief = "        belief (self): “I am allowed to say no to this.”"
    assert wrap_line(belief, 36).split("\n") == [
        "        belief (self): “I am allowed",
        "          to say no to this.”",
    ]
    keys = "keys (type, then Enter): l=lapse  r=rehold  f=felt"
    assert wrap_line(keys, 30).split("\n") == [
        "keys (type, then Enter):",
        "  l=lapse  r=rehold  f=felt",
    ]
    # never narrower than 20 columns: a one-column "terminal" is a wrong reading
    assert wrap_line(keys, 1) == wrap_line(keys, 20)


def test_wrap_line_edges():
    # a line exactly as wide as the terminal is left as it is, trailing spaces and all
    assert wrap_line("abc  ", 5) == "abc  "
    # text is never trimmed of letters (only spaces at the ends of a wrapped line)
    assert (
        wrap_line("Xavier said X-rays aaaaaaaaaaa X", 20) == "Xavier said X-rays\n  aaaaaaaaaaa X"
    )
    # the 20-column floor, exactly: 21 letters fit in 21 columns, not in 20
    assert wrap_line("aaaaa bbbbb ccccc ddd eee", 1) == "aaaaa bbbbb ccccc\n  ddd eee"
    # a hyphenated word is not split at its hyphen
    assert wrap_line("abcdefghijkl well-known", 20) == "abcdefghijkl\n  well-known"


OPEN = PhaseStart(0.0, 0, "act", "action", "soft", None, "Do it.")


def sink_at(width: int = 10_000) -> tuple[ConsoleSink, io.StringIO]:
    out = io.StringIO()
    sink = ConsoleSink(out, every_s=1.0, width=width)
    sink.start(new_header(Device(name="s", address="AA", source="ble"), PROTOCOL.to_dict()), None)
    return sink, out


def test_status_before_any_phase_and_without_heart_rate():
    sink, out = sink_at()
    sink.handle(Tick(1.0), None)
    assert status_lines_any(out) == [
        "00:01  -" + " " * 34 + "HR   — bpm  RR —" + " " * 17 + "ln RMSSD —"
    ]


def test_status_in_an_open_ended_phase_with_two_rr_and_contact_restored():
    sink, out = sink_at(60)
    sink.handle(OPEN, None)
    sink.handle(Connection(0.5, "contact_restored"), None)
    proc = Processor(60.0)
    ev = Hrm(1.0, encode_hrm(70, [500.0, 520.0], contact=True))
    sink.handle(ev, proc.on_hrm(ev))
    (line,) = status_lines_any(out)
    # no "left" without a planned length; both RR joined; no connection note once restored
    assert line.startswith("00:01  act [soft]  HR ")
    assert "  RR 500,520 ms  ln RMSSD " in line
    assert "[" not in line.replace("[soft]", "")
