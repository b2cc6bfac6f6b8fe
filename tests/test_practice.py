"""The practice around the physiology: recording format additions, notes, act-and-savor,
the re-hold cue, the new protocols, demo --start and the suggestion in a session."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import demo_max, record_simulated, run_cli

from holdbeat.events import ActionDone, ActionPlan, Cue, Header, Marker, PhaseStart, SessionNote
from holdbeat.keys import (
    ActionCmd,
    CommandError,
    DigitEntry,
    RateCmd,
    action_event,
    action_slot,
    parse_command,
)
from holdbeat.notes import NoteError, append_note
from holdbeat.practice import open_lapse, phase_rehold_cue, rating_scales, savor_holds
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.recording_lines import event_from_dict, event_to_dict, header_to_dict
from holdbeat.session import DEFAULT_REHOLD, ProtocolError, protocol_from_toml
from holdbeat.sim.body import SimConfig
from holdbeat.sim.person import practice_events
from holdbeat.sinks.practice_console import PracticeConsole
from holdbeat.sources.simulator import simulate
from holdbeat.textout import clean

# ---------------------------------------------------------------- format

OLD_RECORDING = (
    '{"format":"holdbeat/1","session_id":"old-1","started_utc":"2026-11-23T20:26:34Z",'
    '"device":{"name":"sim","address":"SIM","source":"simulator"},"protocol":{"name":"single",'
    '"phases":[{"name":"baseline","kind":"baseline","mode":"neutral","duration_s":2.0,'
    '"prompt":"","belief":"","target":""}]},"beliefs":[],"software":{"name":"holdbeat",'
    '"version":"0.1.0"},"settings":{"window_s":60.0}}\n'
    '{"t":0.0,"type":"phase","index":0,"name":"baseline","kind":"baseline","mode":"neutral",'
    '"duration_s":2.0,"prompt":"","belief":"","target":""}\n'
    '{"t":1.034721,"type":"hrm","raw":"16445703","hr":68,"rr":[870.117],"contact":true}\n'
    '{"t":1.5,"type":"rating","phase":0,"when":"pre","scale":"belief","value":4}\n'
    '{"t":2.0,"type":"end","reason":"completed"}\n'
)


def test_an_old_recording_loads_with_empty_practice_fields(tmp_path: Path) -> None:
    p = tmp_path / "old.jsonl"
    p.write_text(OLD_RECORDING)
    rec = load(p)
    assert rec.warnings == []
    assert (rec.cues, rec.notes, rec.actions) == ([], [], [])
    assert rec.header.practice == {}
    assert rec.ratings[0].scale == "belief" and rec.end.reason == "completed"
    # writing the old header back adds no empty 'practice' key
    assert "practice" not in header_to_dict(rec.header)
    assert json.loads(OLD_RECORDING.splitlines()[0]).keys() <= header_to_dict(rec.header).keys()


@pytest.mark.parametrize(
    "ev,line",
    [
        (
            Cue(1.5, "bell", 2, ""),
            {"t": 1.5, "type": "cue", "kind": "bell", "phase": 2, "detail": ""},
        ),
        (
            SessionNote(0.0, "before", "tense ✓"),
            {"t": 0.0, "type": "session_note", "when": "before", "text": "tense ✓"},
        ),
        (ActionPlan(3.25, 2, "call"), {"t": 3.25, "type": "action", "phase": 2, "text": "call"}),
        (ActionDone(9.0, 2, False), {"t": 9.0, "type": "action_done", "phase": 2, "done": False}),
    ],
)
def test_new_events_round_trip(ev, line: dict) -> None:
    assert event_to_dict(ev) == line
    assert event_from_dict(line) == ev


@pytest.mark.parametrize(
    "line,match",
    [
        ({"t": 1, "type": "session_note", "when": "during", "text": "x"}, "when"),
        ({"t": 1, "type": "action_done", "phase": 2, "done": "yes"}, "true or false"),
        ({"t": 1, "type": "action", "phase": 2}, "text"),
        ({"t": 1, "type": "cue", "phase": 1}, "kind"),
    ],
)
def test_bad_new_events_are_refused(line: dict, match: str) -> None:
    with pytest.raises((KeyError, TypeError, ValueError), match=match):
        event_from_dict(line)


def test_header_practice_is_written_only_when_given() -> None:
    h = Header("id", "2026-01-01T00:00:00Z", device=__import__("holdbeat").events.Device())
    assert "practice" not in header_to_dict(h)
    h2 = Header("id", "2026-01-01T00:00:00Z", device=h.device, practice={"situation": "x"})
    assert header_to_dict(h2)["practice"] == {"situation": "x"}


# ---------------------------------------------------------------- notes after


def test_after_note_is_appended_and_loads(tmp_path: Path) -> None:
    path = record_simulated(tmp_path, "quick", SimConfig(seed=1))
    before = path.read_bytes()
    ev = append_note(path, "  calmer than I expected\\n\x1b[31m ")
    assert path.read_bytes().startswith(before)  # nothing before it changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rec = load(path)
    assert rec.warnings == []
    assert rec.notes == [SessionNote(rec.end.t_s, "after", "calmer than I expected\\n\x1b[31m")]
    assert ev == rec.notes[0]
    assert rec.duration_s == 240.0  # the note after the end does not lengthen the session


@pytest.mark.parametrize(
    "content,match",
    [
        (b'{"format":"holdbeat/1"}\n{"t":1,"type":"end","reason":"x"}', "last line is incomplete"),
        (b'{"format":"holdbeat/9"}\n', "not a holdbeat/1 recording"),
        (b"hello\n", "not a holdbeat/1 recording"),
    ],
)
def test_after_note_refuses_what_it_must_not_touch(
    tmp_path: Path, content: bytes, match: str
) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(content)
    with pytest.raises(NoteError, match=match):
        append_note(p, "x")
    assert p.read_bytes() == content
    with pytest.raises(NoteError, match="empty"):
        append_note(p, "   ")
    with pytest.raises(NoteError, match="no such recording"):
        append_note(tmp_path / "missing.jsonl", "x")
    assert not (tmp_path / "missing.jsonl").exists()


def test_note_command_exit_codes(tmp_path: Path) -> None:
    path = record_simulated(tmp_path, "quick", SimConfig(seed=2))
    r = run_cli("note", str(path), "the fear came back twice")
    assert r.returncode == 0 and "note added" in r.stdout
    assert [n.text for n in load(path).notes] == ["the fear came back twice"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n")
    r = run_cli("note", str(bad), "x")
    assert r.returncode == 2 and "bad.jsonl" in r.stderr and "not a holdbeat/1" in r.stderr


# ---------------------------------------------------------------- keys


def test_action_and_satisfaction_keys() -> None:
    assert parse_command("w send the email") == ActionCmd(text="send the email")
    for yes in ("d", "dy", "d yes", "D Done"):
        assert parse_command(yes) == ActionCmd(done=True)
    for no in ("dn", "d no", "d not done"):
        assert parse_command(no) == ActionCmd(done=False)
    assert parse_command("g7") == RateCmd("satisfaction", 7)
    with pytest.raises(CommandError, match="say what the action is"):
        parse_command("w")
    with pytest.raises(CommandError, match="dy = yes, dn = no"):
        parse_command("d maybe")
    with pytest.raises(CommandError, match="0 to 10"):
        parse_command("g11")


def test_action_slot_and_event() -> None:
    acts = [2, 6]
    assert action_slot(acts, 2, "action", for_plan=True) == 2  # the running one
    assert action_slot(acts, 1, "hold", for_plan=True) == 2  # said beforehand: the next
    assert action_slot(acts, 1, "hold", for_plan=False) == 2  # none ran yet: the next
    assert action_slot(acts, 3, "hold", for_plan=False) == 2  # done: the last one that ran
    assert action_slot(acts, 7, "recovery", for_plan=True) == 6  # none later: the last
    assert action_slot([], 1, "hold", for_plan=True) is None
    assert action_event(ActionCmd(text="x"), 5.0, 2) == ActionPlan(5.0, 2, "x")
    assert action_event(ActionCmd(done=False), 6.0, 2) == ActionDone(6.0, 2, False)


@pytest.mark.parametrize(
    "keys,expect",
    [
        ("7\r", [("set", 7), ("confirm", 7)]),
        ("10\r", [("set", 1), ("set", 10), ("confirm", 10)]),
        ("15\r", [("set", 1), ("set", 5), ("confirm", 5)]),  # 15 > 10: starts again at 5
        ("0\r", [("set", 0), ("confirm", 0)]),
        ("9++\r", [("set", 9), ("set", 10), ("set", 10), ("confirm", 10)]),
        ("1--\r", [("set", 1), ("set", 0), ("set", 0), ("confirm", 0)]),
        ("4\x08\r", [("set", 4), ("set", None), None]),  # cleared: Enter confirms nothing
        ("x\r", [None, None]),
    ],
)
def test_digit_entry(keys: str, expect: list) -> None:
    e = DigitEntry()
    assert [e.feed(k) for k in keys] == expect


# ---------------------------------------------------------------- act-and-savor


def test_savor_holds_and_rating_scales() -> None:
    p = load_protocol("act-and-savor")
    assert savor_holds(p) == {3}
    assert rating_scales(p, (3, "post")) == ("belief", "safety", "satisfaction")
    assert rating_scales(p, (3, "pre")) == ("belief", "safety")
    assert rating_scales(p, (1, "post")) == ("belief", "safety")
    assert savor_holds(load_protocol("fierce-then-soft")) == set()  # no action before it


def test_simulated_person_answers_act_and_savor_deterministically() -> None:
    p = load_protocol("act-and-savor")
    a = practice_events(p, SimConfig(seed=4))
    assert a == practice_events(p, SimConfig(seed=4))
    assert a != practice_events(p, SimConfig(seed=5))
    kinds = [type(e).__name__ for e in a]
    assert kinds == ["ActionPlan", "ActionDone", "Rating"]
    plan, done, sat = a
    assert 361.0 <= plan.t_s <= 364.0 and plan.phase_index == 2 and plan.text
    assert 421.0 <= done.t_s <= 423.0 and done.phase_index == 2  # the action phase is 60 s
    assert (sat.phase_index, sat.when, sat.scale) == (3, "post", "satisfaction")
    assert 0 <= sat.value <= 10 and sat.t_s == 421.0 + 240.0 + 0.5
    # --action given: the person does not make one up; other protocols: nothing
    assert [type(e).__name__ for e in practice_events(p, SimConfig(action_plan=False))] == [
        "ActionDone",
        "Rating",
    ]
    assert practice_events(load_protocol("single"), SimConfig()) == []


def test_the_body_is_the_same_with_the_new_answers() -> None:
    """The answers use their own random stream: what the person answers (here: whether they
    make up an action) never changes the strap's packets."""
    from holdbeat.events import Hrm

    p = load_protocol("act-and-savor")
    a = list(simulate(p, SimConfig(seed=3)))
    b = list(simulate(p, SimConfig(seed=3, action_plan=False)))
    assert [e for e in a if isinstance(e, Hrm)] == [e for e in b if isinstance(e, Hrm)]
    assert sum(isinstance(e, ActionPlan) for e in a) == 1
    assert sum(isinstance(e, ActionPlan) for e in b) == 0


def test_demo_act_and_savor_records_the_answers(tmp_path: Path) -> None:
    r = demo_max(tmp_path, "--protocol", "act-and-savor", "--action", "call the dentist")
    assert r.returncode == 0, r.stderr
    rec = load(next(tmp_path.glob("*.jsonl")))
    plans = [e for e in rec.actions if isinstance(e, ActionPlan)]
    done = [e for e in rec.actions if isinstance(e, ActionDone)]
    assert plans == [ActionPlan(rec.phases[2].start_s, 2, "call the dentist")]
    assert len(done) == 1 and done[0].phase_index == 2
    assert [r.scale for r in rec.ratings if r.phase_index == 3 and r.when == "post"] == [
        "belief",
        "safety",
        "satisfaction",
    ]
    assert "the action: call the dentist" in r.stdout


# ---------------------------------------------------------------- re-hold cue


def test_rehold_cue_per_phase_and_defaults() -> None:
    p = load_protocol("boundary-then-held")
    assert p.phases[1].rehold_cue.startswith("Refuse it: saying no is mine")
    assert "still held, even now, after saying no" in p.phases[2].rehold_cue
    s = load_protocol("single")
    assert s.phases[1].rehold_cue == DEFAULT_REHOLD["fierce"]
    assert phase_rehold_cue(p, 2, "loving-kindness") == p.phases[2].rehold
    # a phase that ran in another mode than the protocol says (e.g. --mode): its mode's cue
    assert phase_rehold_cue(s, 1, "soft") == DEFAULT_REHOLD["soft"]
    assert phase_rehold_cue(None, 1, "loving-kindness") == DEFAULT_REHOLD["loving-kindness"]
    assert phase_rehold_cue(s, 0, "neutral") == ""


def test_rehold_key_in_protocol_files() -> None:
    text = '[[phase]]\nkind = "baseline"\nduration = 60\n\n[[phase]]\nkind = "hold"\n'
    text += 'mode = "soft"\nduration = 60\nrehold = "  Back to the good part.  "\n'
    p = protocol_from_toml(text)
    assert p.phases[1].rehold == "Back to the good part."
    assert p.to_dict()["phases"][1]["rehold"] == "Back to the good part."
    assert "rehold" not in p.to_dict()["phases"][0]
    with pytest.raises(ProtocolError, match=r"only hold phases carry .*'rehold'"):
        protocol_from_toml('[[phase]]\nkind = "baseline"\nduration = 60\nrehold = "x"\n')
    with pytest.raises(ProtocolError, match="'rehold' must be a string"):
        protocol_from_toml(text.replace('"  Back to the good part.  "', "3"))


def test_open_lapse() -> None:
    m = [Marker(10, "lapse"), Marker(12, "lapse"), Marker(20, "rehold"), Marker(30, "lapse")]
    assert open_lapse(m, 0, 11) == 10
    assert open_lapse(m, 0, 19.9) == 10
    assert open_lapse(m, 0, 20) is None  # re-held at 20
    assert open_lapse(m, 0, 35) == 30
    assert open_lapse(m, 31, 35) is None  # a lapse before this hold does not count


def test_console_shows_the_rehold_cue_and_the_questions() -> None:
    p = load_protocol("act-and-savor")
    out = io.StringIO()
    c = PracticeConsole(out, asks=True)
    h = Header(
        "x",
        "2026-01-01T00:00:00Z",
        __import__("holdbeat").events.Device(),
        practice={"situation": "I keep \x1b[2J putting it off"},
    )
    c.start(h, p)
    for i, ph in enumerate(p.phases):
        c.handle(PhaseStart(60.0 * i, i, ph.name, ph.kind, ph.mode, ph.duration_s), None)
        if ph.kind == "hold":
            c.handle(Marker(60.0 * i + 5, "lapse"), None)
    text = out.getvalue()
    assert "situation: “I keep \\x1b[2J putting it off”" in text  # escapes made visible
    assert f"come back: {DEFAULT_REHOLD['fierce']}" in text
    assert f"come back: {DEFAULT_REHOLD['soft']}" in text
    assert "what is the action? type w" in text
    assert "did you do it? dy = yes, dn = no" in text
    assert text.count("satisfaction g0-10") == 1  # only after the soft hold that savours
    quiet = io.StringIO()
    c2 = PracticeConsole(quiet, asks=False)
    c2.start(h, p)
    c2.handle(PhaseStart(0, 2, "action", "action", "neutral", None), None)
    assert "what is the action" not in quiet.getvalue()


def test_clean_makes_escapes_visible() -> None:
    assert clean("a\x1b[31mb\nc\u202ed\tok") == "a\\x1b[31mb c\\u202ed ok"
    assert clean("emoji 🙂 and ü stay") == "emoji 🙂 and ü stay"


# ---------------------------------------------------------------- protocols and demo


def test_new_protocols_load_and_run(tmp_path: Path) -> None:
    q = load_protocol("quick")
    assert [(p.kind, p.duration_s) for p in q.phases] == [
        ("baseline", 60.0),
        ("hold", 120.0),
        ("recovery", 60.0),
    ]
    assert q.total_s == 240.0
    b = load_protocol("boundary-then-held")
    assert [(p.kind, p.mode) for p in b.phases] == [
        ("baseline", "neutral"),
        ("hold", "fierce"),
        ("hold", "loving-kindness"),
        ("recovery", "neutral"),
    ]
    assert b.phases[2].prompt.startswith("Remember: am I still held, even now?")
    rec = load(record_simulated(tmp_path, "boundary-then-held", SimConfig(seed=2)))
    assert rec.end.reason == "completed" and rec.end.t_s == b.total_s


def test_demo_start_and_the_suggestion_are_recorded(tmp_path: Path) -> None:
    r = demo_max(
        tmp_path,
        "--protocol",
        "quick",
        "--start",
        "2026-03-02T19:30:00Z",
        "--suggest",
        "I feel unlovable after the fight",
        "--note",
        "after the call with mum",
    )
    assert r.returncode == 0, r.stderr
    assert "suggested mode: loving-kindness with remembrance" in r.stdout
    path = next(tmp_path.glob("*.jsonl"))
    local = datetime(2026, 3, 2, 19, 30, tzinfo=UTC).astimezone()
    assert path.name.startswith(f"{local:%Y-%m-%d_%H%M%S}_loving-kindness")
    rec = load(path)
    assert rec.header.started_utc == "2026-03-02T19:30:00Z"
    assert rec.header.practice["situation"] == "I feel unlovable after the fight"
    assert rec.header.practice["suggestion"]["rule"] == "shame-revokes-love"
    assert rec.header.practice["applied"] is True
    hold = rec.phases[1]
    assert (hold.mode, hold.belief) == ("loving-kindness", "I am still held, even now.")
    assert hold.prompt.startswith("Remember: you are still held")
    assert rec.notes == [SessionNote(0.0, "before", "after the call with mum")]


def test_mode_wins_over_the_suggestion(tmp_path: Path) -> None:
    r = demo_max(tmp_path, "--protocol", "quick", "--mode", "soft", "--suggest", "I'm scared")
    assert r.returncode == 0, r.stderr
    assert "suggested mode" not in r.stdout
    rec = load(next(tmp_path.glob("*.jsonl")))
    assert rec.phases[1].mode == "soft"
    assert rec.header.practice["applied"] is False
    assert rec.header.practice["suggestion"]["mode"] == "loving-kindness"


def test_bad_start_is_exit_2(tmp_path: Path) -> None:
    r = demo_max(tmp_path, "--start", "last tuesday")
    assert r.returncode == 2 and "not an ISO date-time" in r.stderr
    assert not list(tmp_path.glob("*.jsonl"))


def test_exports_carry_notes_and_actions(tmp_path: Path) -> None:
    from holdbeat.interop.edf import annotations
    from holdbeat.interop.export_csv import event_rows

    r = demo_max(tmp_path, "--protocol", "act-and-savor", "--note", "before ✓", "--cues")
    assert r.returncode == 0, r.stderr
    path = next(tmp_path.glob("*.jsonl"))
    append_note(path, "after, relieved")
    rec = load(path)
    rows = event_rows(rec)
    types = [row[1] for row in rows]
    assert types.count("session_note") == 2 and "action" in types and "action_done" in types
    assert types.count("cue") == len(rec.cues)
    note_rows = [row for row in rows if row[1] == "session_note"]
    assert [(row[8], row[10]) for row in note_rows] == [
        ("before", "before ✓"),
        ("after", "after, relieved"),
    ]
    texts = [a.text for a in annotations(rec)]
    assert "note before: before ✓" in texts and "note after: after, relieved" in texts
    assert any(t.startswith("action (phase 2): ") for t in texts)
    assert np.isfinite(rec.beat_t_s).all()


# ---------------------------------------------------------------- the console flows


def test_ask_practice_then_the_suggestion_applies() -> None:
    import argparse

    from holdbeat.commands._session_args import add_session_flags, resolve_protocol

    p = argparse.ArgumentParser()
    add_session_flags(p)
    args = p.parse_args(["--protocol", "single", "--ask"])
    answers = iter(["it is defining me", "tense", "", "self"])
    out = io.StringIO()
    proto = resolve_protocol(args, ask=lambda prompt: next(answers), out=out)
    assert args.suggest == "it is defining me" and args.note == "tense"
    assert args.action is None  # single has no action phase: not asked
    assert "suggested mode: fierce with refusal" in out.getvalue()
    hold = proto.holds[0]
    assert (hold.mode, hold.belief) == ("fierce", "This does not get to define me.")
    assert hold.prompt.startswith("Refuse it: this does not get to define me.")


def test_console_action_keys_go_to_the_right_phase() -> None:
    import asyncio

    from holdbeat.console_controls import ConsoleControls

    class Clock:
        def now_s(self) -> float:
            return 100.0

    err = io.StringIO()
    c = ConsoleControls(Clock(), None, asyncio.Queue(), io.StringIO(), err)  # type: ignore[arg-type]
    c.action_phases = [2]
    c.on_phase(1, True, "hold")
    assert c.handle_line("w send it\n") == (100.0, ActionPlan(100.0, 2, "send it"))
    c.on_phase(2, False, "action")
    c.on_phase(3, True, "hold")
    assert c.handle_line("dn\n") == (100.0, ActionDone(100.0, 2, False))
    assert c.handle_line("g8\n") == (100.0, __import__("holdbeat").events.Rating(
        100.0, 3, "pre", "satisfaction", 8))  # fmt: skip
    c.action_phases = []
    assert c.handle_line("dy\n") is None and "no action phase" in err.getvalue()


def test_after_note_from_the_console(tmp_path: Path) -> None:
    from holdbeat.console_controls import ask_after_note

    path = record_simulated(tmp_path, "quick", SimConfig(seed=3))

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Keys:
        """Types a line as soon as the prompt listens (no threads, no waiting)."""

        def __init__(self, line: str) -> None:
            self.line = line

        @property
        def after_end(self):
            return None

        @after_end.setter
        def after_end(self, take) -> None:
            take(self.line)

    out = io.StringIO()
    ev = ask_after_note(Keys("slept badly, still held\n"), path, out, Tty())
    assert ev is not None and "how did it go?" in out.getvalue() and "note saved" in out.getvalue()
    assert [n.text for n in load(path).notes] == ["slept badly, still held"]
    assert ask_after_note(Keys("\n"), path, io.StringIO(), Tty()) is None  # Enter skips
    assert ask_after_note(Keys("x\n"), path, io.StringIO(), io.StringIO()) is None  # no tty
    assert len(load(path).notes) == 1


def test_after_note_timing_reads_the_last_timed_event(tmp_path: Path) -> None:
    """The note is timed at the last event with a time: lines that are not JSON objects, or
    have no time, are passed over; a recording with none gives 0.0. Written as the recorder
    writes lines (compact, UTF-8 as is)."""
    head = b'{"format":"holdbeat/1","session_id":"s"}\n'
    p = tmp_path / "r.jsonl"
    p.write_bytes(
        head + b'{"t":12.5,"type":"marker","kind":"lapse"}\n[1,2]\n{"type":"x"}\nnot json\n'
    )
    ev = append_note(str(p), "calmer é")  # a str path too
    assert ev == SessionNote(12.5, "after", "calmer é")
    assert p.read_bytes().endswith(
        '{"t":12.5,"type":"session_note","when":"after","text":"calmer é"}\n'.encode()
    )
    bare = tmp_path / "bare.jsonl"
    bare.write_bytes(head)
    assert append_note(bare, "x").t_s == 0.0
    with pytest.raises(NoteError) as e:
        append_note(bare, " \n ")
    assert str(e.value) == "the note is empty"
    big = tmp_path / "big.jsonl"  # the last event is found in the file's tail
    big.write_bytes(head + b"".join(b'{"t":%d.0,"type":"marker","kind":"felt"}\n' % i
                                    for i in range(5000)))  # fmt: skip
    assert big.stat().st_size > 2 * 65536
    assert append_note(big, "y").t_s == 4999.0
