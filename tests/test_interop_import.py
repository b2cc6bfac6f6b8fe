"""Importers: each app's layout, detection, malformed input, RR precision, strap-like packets."""

from __future__ import annotations

import argparse
import json
import math
import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.commands import import_ as import_cmd
from holdbeat.events import Connection, End, Hrm, PhaseStart
from holdbeat.hrs import parse_hrm
from holdbeat.interop.imported_rr import ImportFormatError
from holdbeat.interop.imported_session import build_recording
from holdbeat.interop.importers import (
    detect_format,
    parse_elite_hrv,
    parse_polar_sensor_logger,
    parse_rr_txt,
)
from holdbeat.interop.notifications import HALF_UNIT_MS, rr_to_units, units_to_ms
from holdbeat.interop.phases_file import PhasesFileError, parse_phases
from holdbeat.recording import load
from holdbeat.session import ProtocolError

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

# Polar Sensor Logger (Android) writes one row per RR: phone local time, integer ms.
PSL = """Phone timestamp;RR-interval [ms]
2026-03-01T09:30:00.812;812
2026-03-01T09:30:01.640;828
2026-03-01T09:30:02.477;837
2026-03-01T09:30:03.274;797
2026-03-01T09:30:04.061;787
"""
# Elite HRV: one integer ms per line, no header; file named after its local start time.
ELITE = "720\n707\n681\n673\n673\n703\n747\n722\n"
ELITE_NAME = "2017-06-29 13-11-53.txt"


def _rr(n: int = 400, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    return (
        820
        + 45 * np.sin(2 * np.pi * k / 4.7)
        + 15 * np.sin(2 * np.pi * k / 11)
        + rng.normal(0, 10, n)
    )


# ---------------------------------------------------------------- parsers, each app's layout


def test_polar_sensor_logger_layout() -> None:
    imp = parse_polar_sensor_logger(PSL, "psl.txt")
    assert imp.format == "polar-sensor-logger"
    assert imp.rr_ms.tolist() == [812.0, 828.0, 837.0, 797.0, 787.0]
    assert imp.source_lines.tolist() == [2, 3, 4, 5, 6]
    assert imp.first_stamp == datetime(2026, 3, 1, 9, 30, 0, 812000)
    assert imp.stamp_s is not None
    assert imp.stamp_s.tolist() == pytest.approx([0.0, 0.828, 1.665, 2.462, 3.249])
    assert imp.start == datetime(2026, 3, 1, 9, 30, 0)  # first timestamp minus the first RR


def test_polar_sensor_logger_extra_columns_and_crlf() -> None:
    text = (
        "Phone timestamp;sensor timestamp [ns];RR-interval [ms]\r\n"
        "2026-03-01T09:30:00.800;1;800\r\n"
    )
    assert parse_polar_sensor_logger(text, "x").rr_ms.tolist() == [800.0]


def test_elite_hrv_layout_and_start_from_name() -> None:
    imp = parse_elite_hrv(ELITE, ELITE_NAME, ELITE_NAME)
    assert imp.rr_ms.tolist() == [720.0, 707.0, 681.0, 673.0, 673.0, 703.0, 747.0, 722.0]
    assert imp.start == datetime(2017, 6, 29, 13, 11, 53)
    comma = parse_elite_hrv("720,707,681,\n673, 673\n", "x")
    assert comma.rr_ms.tolist() == [720.0, 707.0, 681.0, 673.0, 673.0]
    assert comma.start is None


def test_rr_txt_units_detected_and_overridden() -> None:
    ms = parse_rr_txt("# from a pulse app\n812\n828.5\n\n837\n", "a.txt")
    assert ms.units == "ms" and ms.rr_ms.tolist() == [812.0, 828.5, 837.0]
    assert "milliseconds" in ms.notes[0] and "--units s" in ms.notes[0]
    s = parse_rr_txt("0.812\n0.828\n0.837\n", "b.txt")
    assert s.units == "s" and s.rr_ms == pytest.approx((812.0, 828.0, 837.0))
    assert "seconds" in s.notes[0] and "--units ms" in s.notes[0]
    forced = parse_rr_txt("0.812\n0.828\n", "c.txt", units="s")
    assert forced.notes == () and forced.rr_ms == pytest.approx((812.0, 828.0))
    with pytest.raises(ImportFormatError, match=r"line 1: RR 0\.812 ms is absurd"):
        parse_rr_txt("0.812\n0.828\n", "d.txt", units="ms")


def test_rr_txt_ambiguous_units_ask_for_units() -> None:
    with pytest.raises(ImportFormatError, match=r"cannot tell the units.*--units"):
        parse_rr_txt("40\n50\n45\n", "e.txt")


def test_detect_format() -> None:
    assert detect_format(PSL)[0] == "polar-sensor-logger"
    assert detect_format("2026-03-01T09:30:00.812;812\n")[0] == "polar-sensor-logger"
    assert detect_format(ELITE, ELITE_NAME)[0] == "elite-hrv"
    assert detect_format("720,707,681\n")[0] == "elite-hrv"
    assert detect_format(ELITE, "rr.txt")[0] == "rr-txt"
    assert detect_format("0.81\n0.83\n")[0] == "rr-txt"
    with pytest.raises(ImportFormatError, match=r"cannot tell the format.*--from"):
        detect_format("time,heart rate\n1,60\n", "x.csv")


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("parser", "text", "pattern"),
    [
        # wrong delimiter
        (
            parse_polar_sensor_logger,
            "Phone timestamp,RR-interval [ms]\n2026-03-01T09:30:00,800\n",
            r"line 1: columns are separated by ',', but Polar Sensor Logger uses ';'",
        ),
        (
            parse_polar_sensor_logger,
            PSL + "2026-03-01T09:30:05.000,800\n",
            r"line 7: expected 2 ';'-separated fields, found 1 .*instead of ';'",
        ),
        (parse_elite_hrv, "720\n707;681\n", r"line 2: values separated by ';'"),
        (parse_rr_txt, "812\n828;837\n", r"line 2: expected one RR value per line"),
        # header missing
        (parse_polar_sensor_logger, "2026-03-01T09:30:00.812;812\n", r"line 1: header missing"),
        (
            parse_polar_sensor_logger,
            "hello;world\n1;2\n",
            r"line 1: not a Polar Sensor Logger RR file",
        ),
        (
            parse_polar_sensor_logger,
            "Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];\n",
            r"line 1: not a Polar Sensor Logger RR file.*file ending in _RR.txt",
        ),
        (parse_rr_txt, "812\n1e999\n", r"line 2: RR value '1e999' is not a finite number"),
        # non-numeric
        (
            parse_polar_sensor_logger,
            PSL + "2026-03-01T09:30:05.000;abc\n",
            r"line 7: RR value 'abc' is not a number",
        ),
        (
            parse_polar_sensor_logger,
            PSL + "yesterday;800\n",
            r"line 7: 'yesterday' is not a timestamp",
        ),
        (
            parse_elite_hrv,
            "RR\n720\n",
            r"line 1: 'RR' is not a number: an Elite HRV RR export has no header",
        ),
        (parse_elite_hrv, "720\n7x0\n", r"line 2: RR value '7x0' is not a number"),
        (
            parse_rr_txt,
            "rr_ms\n812\n",
            r"line 1: 'rr_ms' is not a number: plain RR text has no header",
        ),
        (
            parse_rr_txt,
            "0,812\n0,828\n",
            r"line 1: RR value '0,812' is not a number \(a decimal comma",
        ),
        # negative, zero, absurd
        (parse_rr_txt, "812\n-800\n", r"line 2: RR value -800 is negative"),
        (parse_elite_hrv, "720\n0\n707\n", r"line 2: RR 0 ms: an interval cannot be zero"),
        (
            parse_polar_sensor_logger,
            PSL + "2026-03-01T09:31:05.000;60000\n",
            r"line 7: RR 60000 ms is absurd.*recording gap",
        ),
        (parse_rr_txt, "812\n828\n12\n", r"line 3: RR 12 ms is absurd.*no heart beats that fast"),
        (parse_rr_txt, "812\nnan\n", r"line 2: RR value 'nan' is not a number"),
        # empty
        (parse_polar_sensor_logger, "", r"empty file"),
        (parse_polar_sensor_logger, "Phone timestamp;RR-interval [ms]\n", r"no RR intervals found"),
        (parse_elite_hrv, "\n\n", r"empty file"),
        (parse_rr_txt, "# only a comment\n", r"empty file"),
    ],
)
def test_malformed_inputs_name_line_and_reason(parser, text: str, pattern: str) -> None:
    with pytest.raises(ImportFormatError, match=pattern):
        parser(text, "f.txt")


def test_elite_hrv_in_seconds_points_to_rr_txt() -> None:
    with pytest.raises(ImportFormatError, match=r"look like seconds.*--from rr-txt"):
        parse_elite_hrv("0.72\n0.70\n", "x")


# ---------------------------------------------------------------- RR precision


def test_rounding_tolerance_is_half_a_unit() -> None:
    rr = np.random.default_rng(0).uniform(300, 2000, 100_000)
    delta = np.abs(units_to_ms(rr_to_units(rr)) - rr)
    assert delta.max() <= HALF_UNIT_MS == 0.48828125
    assert delta.max() > 0.48  # the bound is tight: the tolerance is not hiding a bug
    assert delta.max() <= 0.49


def test_every_unit_survives_a_three_decimal_ms_text() -> None:
    units = np.arange(103, 10241)  # 100.6 ms .. 10 s, every 1/1024 s unit
    text = "\n".join(f"{u * 1000 / 1024:.3f}" for u in units)
    imp = parse_rr_txt(text, "k.txt")
    assert np.array_equal(rr_to_units(imp.rr_ms), units)


def test_polar_integer_ms_map_back_to_the_strap_unit_where_unique() -> None:
    """Polar's SDK rounds unit*1000/1024 to whole ms; the nearest unit recovers the original
    except where two units round to the same ms (then the nearer of the two, |Δ| ≤ 0.49 ms)."""
    units = np.arange(103, 10241)
    ms = np.floor(units * 1000 / 1024 + 0.5)
    back = rr_to_units(ms)
    exact = np.mean(back == units)
    assert 0.97 < exact < 0.98  # measured 97.65 %
    assert np.all(np.abs(back - units) <= 1)
    assert np.abs(units_to_ms(back) - ms).max() <= 0.49
    twins = back != units
    assert np.all(
        np.floor(back[twins] * 1000 / 1024 + 0.5) == ms[twins]
    )  # the other unit is as valid


# ---------------------------------------------------------------- packets like a strap


def _hrms(built) -> list[Hrm]:
    return [e for e in built.events if isinstance(e, Hrm)]


def test_packets_are_strap_like_and_carry_every_rr() -> None:
    rr = _rr(600)
    built = build_recording(parse_rr_txt("\n".join(f"{x:.3f}" for x in rr), "r.txt"), started=T0)
    packets = _hrms(built)
    decoded = [parse_hrm(p.raw) for p in packets]
    units = [round(r * 1.024) for m in decoded for r in m.rr_ms]
    assert units == list(rr_to_units(rr))
    beat_t = built.beat_t_s
    k = 0
    for p, m in zip(packets, decoded, strict=True):
        if m.rr_ms:
            k += len(m.rr_ms)
            assert p.t_s >= round(beat_t[k - 1], 6) - 1e-9  # host time ≥ its last beat
            assert len(m.rr_ms) <= 9
            assert m.hr_bpm == round(60000 / np.mean(m.rr_ms))
    t = np.array([p.t_s for p in packets])
    assert np.all(np.diff(t) > 0)
    assert 0.5 < np.median(np.diff(t)) < 1.5  # about one notification a second
    assert isinstance(built.events[-1], End)


def test_long_rr_get_heart_rate_only_notifications_like_a_strap() -> None:
    built = build_recording(parse_rr_txt("800\n2600\n800\n", "slow.txt"), started=T0)
    decoded = [parse_hrm(p.raw) for p in _hrms(built)]
    assert [len(m.rr_ms) for m in decoded] == [1, 0, 0, 1, 1]
    assert all(m.hr_bpm > 0 for m in decoded)


def test_imported_file_loads_back_with_same_rr_and_times(tmp_path: Path) -> None:
    from holdbeat.interop.batch_lines import recording_bytes

    rr = _rr(500)
    imp = parse_rr_txt("\n".join(f"{x:.4f}" for x in rr), "r.txt")
    built = build_recording(imp, started=T0)
    path = tmp_path / "r.jsonl"
    path.write_bytes(recording_bytes(built.header, built.events))
    rec = load(path)
    assert rec.warnings == [] and rec.malformed == []
    assert np.abs(rec.rr_ms - rr).max() <= 0.49
    assert np.array_equal(rec.rr_ms, units_to_ms(rr_to_units(rr)))
    assert np.abs(rec.beat_t_s - np.cumsum(rr_to_units(rr)) / 1024).max() < 1e-6
    assert not rec.artifact.any()
    assert rec.gap_before.sum() == 1  # only the first beat
    assert rec.header.device.source == "imported"
    assert rec.header.settings["import"]["format"] == "rr-txt"


def test_polar_timestamp_gap_becomes_an_explicit_connection_gap(tmp_path: Path) -> None:
    from holdbeat.interop.batch_lines import recording_bytes

    rows = ["Phone timestamp;RR-interval [ms]"]
    t = datetime(2026, 3, 1, 9, 30, 0).timestamp()
    for i in range(40):
        if i == 20:
            t += 30.0  # 30 s with no RR: the strap was out of reach
        t += 0.8
        rows.append(f"{datetime.fromtimestamp(t).isoformat(timespec='milliseconds')};800")
    imp = parse_polar_sensor_logger("\n".join(rows), "psl.txt")
    built = build_recording(imp, started=T0)
    conns = [e for e in built.events if isinstance(e, Connection)]
    assert [c.state for c in conns] == ["lost", "restored"]
    assert built.gaps == 1
    path = tmp_path / "g.jsonl"
    path.write_bytes(recording_bytes(built.header, built.events))
    rec = load(path)
    assert len(rec.rr_ms) == 40
    assert rec.gap_before.tolist().count(True) == 2 and rec.gap_before[20]
    assert rec.beat_t_s[20] - rec.beat_t_s[19] == pytest.approx(30.8, abs=0.01)  # not interpolated


# ---------------------------------------------------------------- phases file


PHASES_CSV = """name,kind,mode,start_s,end_s,belief,target
baseline,baseline,neutral,0,120,,
fierce hold,hold,fierce,120,240,This does not get to define me.,self
recovery,recovery,neutral,240,330,,
"""
PHASES_TOML = """
[[phase]]
kind = "baseline"
start_s = 0
end_s = 120

[[phase]]
kind = "hold"
start_s = 120
end_s = 240

[[phase]]
kind = "recovery"
start_s = 240
end_s = 330
"""


def test_phases_csv_and_toml_give_phase_events() -> None:
    imp = parse_rr_txt("\n".join(f"{x:.3f}" for x in _rr(400)), "r.txt")
    csv_specs = parse_phases(PHASES_CSV, "p.csv")
    built = build_recording(imp, started=T0, specs=csv_specs)
    starts = [e for e in built.events if isinstance(e, PhaseStart)]
    assert [(p.t_s, p.kind, p.mode) for p in starts] == [
        (0.0, "baseline", "neutral"),
        (120.0, "hold", "fierce"),
        (240.0, "recovery", "neutral"),
    ]
    assert starts[1].belief == "This does not get to define me." and starts[1].duration_s == 120
    assert built.header.protocol["phases"][1]["mode"] == "fierce"
    assert built.header.beliefs[0]["belief"] == "This does not get to define me."
    toml_specs = parse_phases(PHASES_TOML, "p.toml")
    built2 = build_recording(imp, started=T0, specs=toml_specs, mode="soft", belief="It counts.")
    hold = [e for e in built2.events if isinstance(e, PhaseStart)][1]
    assert (hold.mode, hold.name, hold.belief, hold.target) == (
        "soft",
        "soft hold",
        "It counts.",
        "self",
    )
    end = built2.events[-1]
    assert isinstance(end, End) and end.t_s == pytest.approx(
        max(330.0, built2.beat_t_s[-1]), abs=1e-6
    )


def test_hold_without_mode_needs_mode() -> None:
    imp = parse_rr_txt("800\n810\n", "r.txt")
    with pytest.raises(PhasesFileError, match=r"line 7: this hold has no mode.*--mode"):
        build_recording(imp, started=T0, specs=parse_phases(PHASES_TOML, "p.toml"))


def test_mode_override_refused_for_several_holds() -> None:
    text = "kind,mode,start_s,end_s\nbaseline,,0,10\nhold,fierce,10,20\nhold,soft,20,30\n"
    with pytest.raises(ProtocolError, match="single-hold"):
        build_recording(
            parse_rr_txt("800\n", "r"), started=T0, specs=parse_phases(text, "p.csv"), mode="soft"
        )


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("name;kind;mode;start_s;end_s\n", r"line 1: columns must be separated by ','"),
        ("baseline,baseline,neutral,0,120\n", r"line 1: header missing or incomplete"),
        (
            "kind,start_s,end_s,colour\nbaseline,0,1,red\n",
            r"line 1: column 'colour' is not allowed",
        ),
        ("kind,start_s,end_s\nbaseline,0,abc\n", r"line 2: end_s 'abc' is not a number of seconds"),
        (
            "kind,start_s,end_s\nbasline,0,10\n",
            r"line 2: kind 'basline' is not allowed \(did you mean 'baseline'\?\)",
        ),
        ("kind,mode,start_s,end_s\nhold,neutral,0,10\n", r"line 2: a hold needs a belief mode"),
        (
            "kind,start_s,end_s\nbaseline,0,10\nhold,12,20\n",
            r"line 3: starts at 12 s .*leaves a gap",
        ),
        ("kind,start_s,end_s\nbaseline,0,10\nrest,8,20\n", r"line 3: starts at 8 s .*overlaps"),
        ("kind,start_s,end_s\nbaseline,10,10\n", r"line 2: end_s 10 must be after start_s 10"),
        (
            "kind,start_s,end_s,belief\nbaseline,0,10,hi\n",
            r"line 2: only hold phases carry a belief",
        ),
        (
            "kind,start_s,end_s\nbaseline,0,10,5\n",
            r"line 2: expected 3 ','-separated fields, found 4",
        ),
        ("", r"empty file"),
    ],
)
def test_phases_file_errors(text: str, pattern: str) -> None:
    with pytest.raises(PhasesFileError, match=pattern):
        parse_phases(text, "p.csv")


def test_phases_toml_errors() -> None:
    with pytest.raises(PhasesFileError, match="not valid TOML"):
        parse_phases("[[phase]\n", "p.toml")
    with pytest.raises(PhasesFileError, match="line 2: 'end_s' is missing"):
        parse_phases("\n[[phase]]\nkind = 'baseline'\nstart_s = 0\n", "p.toml")


# ---------------------------------------------------------------- the command


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="holdbeat")
    import_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["import", *argv])
    return args.func(args)


def test_cli_import_writes_a_new_0600_recording(tmp_path: Path, capsys) -> None:
    src = tmp_path / "Polar_H10_RR.txt"
    src.write_text(PSL)
    out = tmp_path / "recs"
    assert _run([str(src), "-o", str(out) + "/", "--mode", "soft"]) == 0
    files = list(out.iterdir())
    assert len(files) == 1 and files[0].suffix == ".jsonl"
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    captured = capsys.readouterr()
    assert "format: polar-sensor-logger" in captured.err and "recorded:" in captured.out
    rec = load(files[0])
    assert rec.rr_ms.tolist() == pytest.approx([812, 828, 837, 797, 787], abs=0.49)
    assert rec.header.settings["import"]["file"] == "Polar_H10_RR.txt"
    assert rec.phases[0].mode == "soft"
    # Same import again: a new name, the first file untouched.
    before = files[0].read_bytes()
    assert _run([str(src), "-o", str(out)]) == 0
    assert len(list(out.iterdir())) == 2 and files[0].read_bytes() == before


def test_cli_import_never_overwrites_an_explicit_path(tmp_path: Path, capsys) -> None:
    src = tmp_path / "rr.txt"
    src.write_text("800\n810\n820\n")
    target = tmp_path / "mine.jsonl"
    target.write_text("precious")
    assert _run([str(src), "-o", str(target)]) == 2
    assert target.read_text() == "precious"
    err = capsys.readouterr().err
    assert f"{target} already exists; an import writes a new recording: give a new name" in err
    assert "--force" not in err  # import has none
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.jsonl", "rr.txt"]


@pytest.mark.parametrize("kind", ["file", "device", "input"])
def test_cli_import_output_that_is_no_folder_is_refused_before_the_work(
    tmp_path: Path, capsys, monkeypatch, kind: str
) -> None:
    import holdbeat.commands.import_ as imp

    src = tmp_path / "rr.txt"
    src.write_text("800\n810\n820\n")
    out = {"file": tmp_path / "notes.txt", "device": Path("/dev/null"), "input": src}[kind]
    if kind == "file":
        out.write_text("mine")
    monkeypatch.setattr(imp, "read_any", None)  # the work would fail loudly: not reached
    assert _run([str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} is not a folder: give a new FILE.jsonl, or a folder for a generated name" in err
    if kind == "file":
        assert out.read_text() == "mine"


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("", [], "empty file"),
        ("812\n-1\n", [], "line 2: RR value -1 is negative"),
        (
            "Phone timestamp,RR-interval [ms]\n2026-03-01T09:30:00,800\n",
            ["--from", "polar-sensor-logger"],
            "wrong delimiter",
        ),
        ("812\n828\n", ["--from", "elite-hrv", "--units", "s"], "--units applies to rr-txt only"),
        ("812\n828\n", ["--phases", "missing.csv"], "cannot read the phases file"),
        ("812\n828\n", ["--belief", "x"], "--belief/--target need --mode or --phases"),
    ],
)
def test_cli_import_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys, monkeypatch, content: str, extra: list[str], message: str
) -> None:
    src = tmp_path / "in.txt"
    src.write_text(content)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    assert _run([str(src), "-o", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert list(out.iterdir()) == []  # nothing partial, no temp files


def test_cli_import_start_override_and_binary_input(tmp_path: Path, capsys) -> None:
    src = tmp_path / "rr.txt"
    src.write_text("0.8\n0.9\n")
    out = tmp_path / "o"
    assert _run([str(src), "-o", str(out), "--start", "2026-01-02T03:04:05Z"]) == 0
    rec = load(next(out.iterdir()))
    assert rec.header.started_utc == "2026-01-02T03:04:05Z"
    assert "seconds" in capsys.readouterr().err
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\x00\xff\xfe\x81")
    assert _run([str(bad), "-o", str(out)]) == 2
    assert "not a text RR file" in capsys.readouterr().err
    assert math.isclose(rec.rr_ms[0], 800, abs_tol=0.49)


# ---------------------------------------------------------------- any RR series


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.floats(min_value=100.0, max_value=10_000.0, allow_nan=False), min_size=1, max_size=300
    )
)
def test_any_rr_series_round_trips_through_strap_packets(rr: list[float]) -> None:
    from holdbeat.interop.batch_lines import recording_bytes
    from holdbeat.recording import from_events
    from holdbeat.recording_lines import event_from_dict, header_from_dict

    imp = parse_rr_txt("\n".join(repr(x) for x in rr), "h.txt", units="ms")
    built = build_recording(imp, started=T0)
    lines = recording_bytes(built.header, built.events).decode().splitlines()
    events = [event_from_dict(json.loads(x)) for x in lines[1:]]
    rec = from_events(Path("h"), header_from_dict(json.loads(lines[0])), events, [])
    assert rec.malformed == []
    assert np.array_equal(rec.rr_ms, units_to_ms(rr_to_units(rr)))
    assert np.abs(rec.rr_ms - np.array(rr)).max() <= HALF_UNIT_MS
    assert np.abs(rec.beat_t_s - np.cumsum(rr_to_units(rr)) / 1024).max() < 2e-6
    assert rec.gap_before.sum() == 1
    packets = [parse_hrm(e.raw) for e in events if isinstance(e, Hrm)]
    assert all(len(m.rr_ms) <= 9 for m in packets)
    times = [e.t_s for e in events]
    assert times == sorted(times) and isinstance(events[-1], End)


def test_cli_import_disk_failure_exits_1_and_leaves_no_file(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    from holdbeat import output

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", full)
    src = tmp_path / "rr.txt"
    src.write_text("800\n810\n")
    out = tmp_path / "o"
    assert _run([str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and f"cannot write {out}" in err
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------- rr-txt, long files


def _day_text(n: int, rng: np.random.Generator) -> tuple[str, list[float], list[int]]:
    """n plain RR lines with comments and blank lines between them; the values and the
    line numbers they stand on."""
    out, values, lines = [], [], []
    for v, d in zip(rng.uniform(400.0, 1400.0, n), rng.integers(0, 4, n), strict=True):
        v = round(float(v), int(d))
        if rng.random() < 0.01:
            out.append("# a comment")
        if rng.random() < 0.01:
            out.append("")
        out.append(f"{v:g}")
        values.append(float(f"{v:g}"))
        lines.append(len(out))
    return "\n".join(out) + "\n", values, lines


def test_rr_txt_long_file_reads_every_value_on_its_line() -> None:
    """A day of plain lines (read a chunk at a time) gives each value and its line number,
    as reading them one by one would."""
    text, values, lines = _day_text(10_000, np.random.default_rng(5))
    got = parse_rr_txt(text, "day.txt", units="ms")
    assert got.rr_ms.tolist() == values
    assert got.source_lines.tolist() == lines
    assert got.units == "ms" and got.format == "rr-txt"


@pytest.mark.parametrize("at", [0, 4095, 4096, 9999])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("0", "RR value 0: an interval cannot be zero"),
        ("812,5", "decimal comma"),
        ("800 810", "expected one RR value per line"),
        ("-800", "is negative"),
    ],
)
def test_rr_txt_bad_line_anywhere_in_a_long_file_is_named(at: int, bad: str, message: str):
    text, _, lines = _day_text(10_000, np.random.default_rng(at))
    rows = text.split("\n")
    rows[lines[at] - 1] = bad
    with pytest.raises(ImportFormatError, match=message) as e:
        parse_rr_txt("\n".join(rows), "day.txt", units="ms")
    assert f"day.txt: line {lines[at]}:" in str(e.value)


def test_rr_txt_too_long_is_refused_at_the_line_that_passes_the_limit() -> None:
    from holdbeat.limits import MAX_SESSION_S

    n = int(MAX_SESSION_S * 1000 / 1500.0) + 10  # 1500-ms beats: past the limit near the end
    text = "1500\n" * n
    with pytest.raises(ImportFormatError, match="longer than one session") as e:
        parse_rr_txt(text, "long.txt", units="ms")
    first_over = int(MAX_SESSION_S * 1000 // 1500.0) + 1  # the beat whose sum passes it
    assert f"long.txt: line {first_over}:" in str(e.value)


@settings(max_examples=300, deadline=None)
@given(
    t=st.floats(0.0, 7 * 86400.0),
    hr=st.integers(0, 65535),
    rr=st.lists(st.floats(0.0, 64000.0), max_size=12),
    contact=st.sampled_from([-1, 0, 1]),
    energy=st.integers(-1, 65535),
    flag_pool=st.lists(st.sampled_from(["", "range", "jump", "ectopic"]), max_size=12),
)
def test_hrm_line_is_what_the_json_encoder_writes(t, hr, rr, contact, energy, flag_pool):
    """The hand-formatted notification line equals the general path (event_to_dict of the
    packet, its decoded fields added as the Processor does, json-encoded), byte for byte."""
    from holdbeat.interop.batch_lines import _line, hrm_line
    from holdbeat.recording_lines import time_field

    flags = (flag_pool + [""] * len(rr))[: len(rr)]
    raw = bytes([0x10, 72]) + b"\x00\x04" * len(rr)
    d = {"t": time_field(t), "type": "hrm", "raw": raw.hex(), "hr": hr}
    d["rr"] = [round(r, 3) for r in rr]
    if contact >= 0:
        d["contact"] = bool(contact)
    if energy >= 0:
        d["energy"] = energy
    if any(flags):
        d["flags"] = flags
    assert hrm_line(time_field(t), raw.hex(), hr, rr, contact, energy, flags) == _line(d)


def test_events_merge_in_the_order_a_stable_keyed_merge_gives() -> None:
    """iter_events merges the few phase/extra/end events into the packets by hand; the
    order must be heapq.merge's: by (time, order), data first on a tie, then phases,
    extra events, the end."""
    import dataclasses
    import heapq

    from holdbeat.events import Marker
    from holdbeat.interop.notifications import iter_packets, packet_bytes

    rows = ["Phone timestamp;RR-interval [ms]"]
    t = datetime(2026, 3, 1, 9, 30, 0).timestamp()
    for i in range(80):
        t += 30.8 if i == 40 else 0.8  # 30 s with no RR: a lost / restored connection
        rows.append(f"{datetime.fromtimestamp(t).isoformat(timespec='milliseconds')};800")
    built = build_recording(parse_polar_sensor_logger("\n".join(rows), "g.txt"), started=T0)
    pk = list(iter_packets(built.rr_units, built.beat_t_s, built.segs))
    ties = [pk[3].t_s, pk[3].t_s, pk[10].t_s, pk[-1].t_s]  # phases at packet times
    phases = [PhaseStart(t, i, f"p{i}", "hold", "soft", None) for i, t in enumerate([0.0, *ties])]
    extra = (Marker(pk[10].t_s, "felt", ""), Marker(pk[5].t_s, "lapse", ""))
    built = dataclasses.replace(built, phase_starts=phases, extra_events=extra)

    def data():
        prev = None
        for p in pk:
            if prev is not None and p.segment != prev.segment:
                yield (
                    prev.t_s,
                    3,
                    Connection(
                        prev.t_s, "lost", f"gap of {p.t_s - prev.t_s:.1f} s in the imported file"
                    ),
                )
                yield p.t_s, 1, Connection(p.t_s, "restored", "")
            yield p.t_s, 2, Hrm(p.t_s, packet_bytes(p))
            prev = p

    want = [
        ev
        for _, _, ev in heapq.merge(
            data(),
            ((ev.t_s, 0, ev) for ev in phases),
            sorted(((ev.t_s, 2, ev) for ev in extra), key=lambda x: x[0]),
            [(built.end.t_s, 9, built.end)],
            key=lambda x: (x[0], x[1]),
        )
    ]
    got = list(built.iter_events())
    assert got == want
    assert sum(isinstance(e, Connection) for e in got) == 2
    assert got[-1] == built.end


def test_packet_bytes_equal_encode_hrm_for_every_rr_unit_and_heart_rate() -> None:
    from holdbeat.hrs import RR_UNITS_PER_S, encode_hrm
    from holdbeat.interop.notifications import Packet, packet_bytes

    def reference(hr, units):
        return encode_hrm(hr, [u * 1000.0 / RR_UNITS_PER_S for u in units], rr_flag=True)

    for u in range(0, 0x10000, 7):  # every 7th unit, and the ends
        for units in ((u,), (u, 0xFFFF - u, 1)):
            assert packet_bytes(Packet(1.0, units, 70, 0)) == reference(70, units)
    assert packet_bytes(Packet(1.0, (0xFFFF,), 70, 0)) == reference(70, (0xFFFF,))
    for hr in (0, 1, 255, 256, 300, 0xFFFF):  # uint8, then uint16 through encode_hrm
        for units in ((), (800,), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
            assert packet_bytes(Packet(1.0, units, hr, 0)) == reference(hr, units)
