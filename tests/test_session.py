"""Protocols: parsing, validation errors that name file/line/key, beliefs, ratings, markers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tests.helpers import record_simulated

from holdbeat.commands._session_args import ask_beliefs
from holdbeat.keys import (
    MARKER_KEYS,
    CommandError,
    ControlCmd,
    MarkerCmd,
    RateCmd,
    parse_command,
    rating_slot,
    to_event,
)
from holdbeat.protocols import builtin_names, load_protocol
from holdbeat.recording import load
from holdbeat.session import (
    ProtocolError,
    format_duration,
    parse_duration,
    protocol_from_toml,
    suggest_mode,
    with_beliefs,
)
from holdbeat.sim.body import SimConfig

GOOD = """
name = "mine"
[[phase]]
kind = "baseline"
duration = 120

[[phase]]
kind = "hold"
mode = "soft"
duration = "2m30s"
belief = "I did it."
target = "future"
"""


def test_builtins_all_load() -> None:
    names = builtin_names()
    assert {"single", "fierce-then-soft", "alternating", "loving-kindness", "act-and-savor"} <= set(
        names
    )
    for n in names:
        p = load_protocol(n)
        assert p.phases[0].kind == "baseline"
        assert p.holds


def test_alternating_is_counterbalanced_abba_with_rests() -> None:
    p = load_protocol("alternating")
    assert [h.mode for h in p.holds] == ["fierce", "soft", "soft", "fierce"]
    kinds = [ph.kind for ph in p.phases]
    for i, k in enumerate(kinds[1:-1], start=1):
        if k == "hold" and kinds[i + 1] == "hold":
            pytest.fail("holds must be separated by rests")


def test_good_protocol_parses() -> None:
    p = protocol_from_toml(GOOD, "mine.toml")
    assert p.total_s == 270
    assert p.phases[1].belief == "I did it." and p.phases[1].target == "future"
    assert p.phases[0].mode == "neutral"
    assert "Let it count" in p.phases[1].prompt  # default prompt for a soft hold


@pytest.mark.parametrize(
    "text,needles",
    [
        (
            GOOD.replace('mode = "soft"', 'mode = "sofft"'),
            ["mine.toml", "phase 2 (line 7)", "'sofft'", "soft", "loving-kindness"],
        ),
        (
            GOOD.replace("duration = 120", "duration = -5"),
            ["phase 1 (line 3)", "duration", "positive"],
        ),
        (
            GOOD.replace("duration = 120", "duraton = 120"),
            ["phase 1", "'duraton'", "did you mean 'duration'"],
        ),
        (GOOD.replace('kind = "baseline"', 'kind = "rest"'), ["no baseline"]),
        (GOOD.replace('target = "future"', 'target = "world"'), ["target 'world'", "relational"]),
        (GOOD.replace('kind = "baseline"', 'kind = "warmup"'), ["kind 'warmup'", "baseline, hold"]),
        ('name = "x"\n', ["no phases"]),
        (GOOD + "\n[[phase]\n", ["not valid TOML"]),
        (GOOD.replace('mode = "soft"', 'mode = "neutral"'), ["a hold needs a belief mode"]),
        (GOOD.replace('duration = "2m30s"', 'duration = "soon"'), ["'soon' is not a duration"]),
        ("titel = 'x'\n" + GOOD.replace('name = "mine"', ""), ["top-level key 'titel'"]),
    ],
)
def test_bad_protocols_name_file_place_and_allowed(text: str, needles: list[str]) -> None:
    with pytest.raises(ProtocolError) as exc:
        protocol_from_toml(text, "mine.toml")
    for n in needles:
        assert n in str(exc.value)
    assert "mine.toml" in str(exc.value)


def test_protocol_file_by_path_and_missing(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(GOOD)
    assert load_protocol(str(f)).name == "mine"
    with pytest.raises(ProtocolError, match="not a built-in"):
        load_protocol(str(tmp_path / "none.toml"))


@pytest.mark.parametrize(
    "value,seconds", [(90, 90), ("90s", 90), ("5m", 300), ("1m30s", 90), ("1h", 3600), (2.5, 2.5)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [0, -1, "", "5 minutes", True, [1], float("nan")])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_format_duration() -> None:
    assert format_duration(90) == "1m30s" and format_duration(660) == "11m"


def test_flags_set_mode_belief_target_of_single_hold() -> None:
    p = with_beliefs(load_protocol("single"), mode="soft", belief="It counts.", target="future")
    h = p.holds[0]
    assert (h.mode, h.belief, h.target, h.name) == ("soft", "It counts.", "future", "soft hold")
    assert "Let it count" in h.prompt


def test_mode_flag_refused_for_multi_hold_protocol() -> None:
    with pytest.raises(ProtocolError, match="single-hold"):
        with_beliefs(load_protocol("alternating"), mode="soft")


def test_interactive_beliefs_driven_without_stdin() -> None:
    answers = iter(["No one else decides this.", "world", "relational"])
    out = io.StringIO()
    p = ask_beliefs(load_protocol("single"), lambda prompt: next(answers), out)
    assert p.holds[0].belief == "No one else decides this."
    assert p.holds[0].target == "relational"
    assert "please answer one of" in out.getvalue()


@pytest.mark.parametrize(
    "answer,mode",
    [
        ("shame tries to define me", "fierce"),
        ("shame tries to revoke love, I feel alone", "loving-kindness"),
        ("I finally did it and want it to count", "soft"),
    ],
)
def test_mode_suggestion(answer: str, mode: str) -> None:
    assert suggest_mode(answer)[0] == mode


def test_key_commands_share_one_table() -> None:
    for key, kind in MARKER_KEYS.items():
        assert parse_command(key) == MarkerCmd(kind)
    assert parse_command("n breathing got easier") == MarkerCmd("note", "breathing got easier")
    assert parse_command("q") == ControlCmd("stop")
    assert parse_command("a") == ControlCmd("next")
    assert parse_command("b7") == RateCmd("belief", 7)
    assert parse_command("  ") is None
    for bad in ("b11", "sx", "z"):
        with pytest.raises(CommandError):
            parse_command(bad)


def test_rating_goes_to_running_hold_else_last_hold() -> None:
    assert rating_slot([], 0, False) is None
    assert rating_slot([1], 1, True) == (1, "pre")
    assert rating_slot([1], 2, False) == (1, "post")
    ev = to_event(RateCmd("safety", 4), 12.5, (1, "post"))
    assert (ev.phase_index, ev.when, ev.scale, ev.value, ev.t_s) == (1, "post", "safety", 4, 12.5)


def test_alternating_demo_records_everything(tmp_path: Path) -> None:
    """Phases, modes, beliefs, markers and ratings all come back from load()."""
    rec = load(record_simulated(tmp_path, "alternating", SimConfig(seed=11, lapse_per_min=1.0)))
    holds = [p for p in rec.phases if p.kind == "hold"]
    assert [h.mode for h in holds] == ["fierce", "soft", "soft", "fierce"]
    assert all(h.belief for h in holds)
    kinds = {m.kind for m in rec.markers}
    assert {"lapse", "rehold", "felt"} <= kinds
    for m in rec.markers:  # markers fall inside a hold (or just after one ends)
        assert any(h.start_s <= m.t_s <= h.end_s + 40 for h in holds)
    hold_idx = {h.index for h in holds}
    slots = {(r.phase_index, r.when, r.scale) for r in rec.ratings}
    assert slots == {
        (i, w, s) for i in hold_idx for w in ("pre", "post") for s in ("belief", "safety")
    }
    for r in rec.ratings:
        assert 0 <= r.value <= 10


def test_simulated_modes_differ_measurably(tmp_path: Path) -> None:
    """Soft and loving-kindness lower HR, fierce raises it (DESIGN §3), on the same seed."""
    import numpy as np

    from holdbeat.session import with_beliefs as wb

    shifts = {}
    for mode in ("fierce", "soft", "loving-kindness"):
        proto = wb(load_protocol("single"), mode=mode)
        rec = load(
            record_simulated(
                tmp_path / mode, proto, SimConfig(seed=2, markers=False, artifact_rate=0)
            )
        )
        base, hold = rec.phases[0], rec.phases[1]
        t, rr = rec.beat_t_s, rec.rr_ms
        late = (t > hold.start_s + 120) & (t < hold.end_s)
        pre = (t > base.start_s + 30) & (t < base.end_s)
        shifts[mode] = 60000 / rr[late].mean() - 60000 / rr[pre].mean()
    assert shifts["fierce"] > 1.5
    assert shifts["soft"] < -2 and shifts["loving-kindness"] < -2
    assert np.isfinite(list(shifts.values())).all()
