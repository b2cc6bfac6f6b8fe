"""Files that hang or crash the reader (issue 16, items 7-9, 12, 14): every one is a clear
error (exit 2, the file named) or a skipped line with its number, never a traceback or a
hang, and never a giant allocation. Real processes where the exit code is the point."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import record_simulated, run_cli

from holdbeat.recording import RecordingError, load
from holdbeat.session import Phase, Protocol
from holdbeat.sim.body import SimConfig

TINY = Protocol(
    "tiny",
    (
        Phase("baseline", "baseline", "neutral", 60.0),
        Phase("hold", "hold", "soft", 60.0, belief="Ich bin gehalten — 安心", target="self"),
    ),
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_simulated(tmp_path_factory.mktemp("rec"), TINY, SimConfig(seed=5))


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


# ---------------------------------------------------------------- item 7: bad bytes


def test_bad_utf8_in_one_line_skips_that_line_only(tmp_path: Path, recorded: Path) -> None:
    lines = lines_of(recorded)
    k = next(i for i, x in enumerate(lines) if b'"type":"phase"' in x and "安心".encode() in x)
    cut = lines[k].index("安心".encode()) + 1  # inside a multi-byte character
    bad = lines[k][:cut] + b"\xff" + lines[k][cut + 1 :]
    path = write_lines(tmp_path / "bad.jsonl", [*lines[:k], bad, *lines[k + 1 :]])
    rec = load(path)
    good = load(recorded)
    assert rec.warnings == [f"line {k + 1}: skipped, not UTF-8 text (damaged bytes)"]
    assert len(rec.events) == len(good.events) - 1
    assert rec.rr_ms.tolist() == good.rr_ms.tolist()  # nothing else lost
    for argv in (
        ["report", str(path), "--quiet"],
        ["export", str(path), "--to", "csv", "-o", str(tmp_path / "x.csv")],
        ["replay", str(path), "--headless", "--speed", "max"],
        ["compare", str(path), "--resamples", "99", "--jobs", "1", "--quiet"],
    ):
        proc = run_cli(*argv)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_a_crash_inside_a_multibyte_character_of_the_last_line(
    tmp_path: Path, recorded: Path
) -> None:
    data = recorded.read_bytes()
    cut = data.rindex("安心".encode()) + 1  # the hold's phase line (the header has it too)
    tail = data[:cut]  # power cut in the middle of a multi-byte character
    path = tmp_path / "cut.jsonl"
    path.write_bytes(tail)
    rec = load(path)
    assert rec.warnings[0].endswith("truncated last line ignored (the session was cut off)")


def test_header_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"format":"holdbeat/1","session_id":"\xff"}\n')
    with pytest.raises(
        RecordingError, match=r"x\.jsonl: not a holdbeat recording \(line 1 is not UTF-8"
    ):
        load(path)


# ---------------------------------------------------------------- item 8: FIFOs


def _fifo(tmp_path: Path, name: str) -> Path:
    p = tmp_path / name
    os.mkfifo(p)
    return p


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["report", "{fifo}"], "holdbeat recording"),
        (["replay", "{fifo}", "--headless"], "holdbeat recording"),
        (["export", "{fifo}", "--to", "csv"], "holdbeat recording"),
        (["import", "{fifo}"], "RR file"),
        (["import", "{rr}", "--phases", "{fifo}"], "phases file"),
        (["demo", "--headless", "--protocol", "{fifo}"], "protocol file"),
        (["protocols", "{fifo}"], "protocol file"),
    ],
)
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, argv: list[str], what: str) -> None:
    fifo = _fifo(tmp_path, "pipe.toml")
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n")
    cmd = [a.format(fifo=fifo, rr=rr) for a in argv]
    proc = run_cli(*cmd, timeout=60, cwd=tmp_path)  # a hang fails by the timeout
    assert proc.returncode == 2, proc.stderr
    assert f"{fifo} is a FIFO (named pipe), not a regular file" in proc.stderr
    assert what in proc.stderr and "Traceback" not in proc.stderr


def test_compare_and_note_refuse_a_fifo_by_what_it_is(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, "pipe.jsonl")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = run_cli("compare", str(fifo), "-q", timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert f"{fifo}: not a regular file (a FIFO, device or socket is not read)" in proc.stderr
    proc = run_cli("note", str(fifo), "calmer", timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert (
        f"{fifo} is a FIFO (named pipe), not a regular file: give the holdbeat recording as a "
        "file" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


@pytest.mark.timeout(60)  # a hang (reading the FIFO to hash it) fails by the timeout
@pytest.mark.parametrize("use_cache", [True, False])
def test_compare_worker_refuses_a_fifo_with_or_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_cache: bool
) -> None:
    from holdbeat.analysis.compare import CompareConfig
    from holdbeat.commands.compare import _summarize_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fifo = _fifo(tmp_path, "pipe.jsonl")
    got = _summarize_file((fifo, CompareConfig(), use_cache))
    assert got == (
        f"{fifo} is a FIFO (named pipe), not a regular file: give the holdbeat recording as a "
        "file (holdbeat does not read pipes or devices, which can block forever)"
    )
    assert not (tmp_path / "cache").exists()


def test_a_note_goes_only_to_the_file_that_was_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import holdbeat.notes as notes

    path = record_simulated(tmp_path, "quick", SimConfig(seed=3))
    other = tmp_path / "other.jsonl"
    other.write_bytes(b"not a recording, and not to be touched\n")
    kept = other.read_bytes()
    real = notes._last_t

    def swapped(f, p):  # the file is replaced between the check and the append
        t = real(f, p)
        os.replace(other, path)
        return t

    monkeypatch.setattr(notes, "_last_t", swapped)
    with pytest.raises(notes.NoteError, match="the file was replaced while the note was added"):
        notes.append_note(path, "calmer")
    assert path.read_bytes() == kept


# ---------------------------------------------------------------- item 9: types and bounds


def _with_header(recorded: Path, tmp_path: Path, edit) -> Path:
    lines = lines_of(recorded)
    head = json.loads(lines[0])
    edit(head)
    return write_lines(tmp_path / "h.jsonl", [json.dumps(head).encode(), *lines[1:]])


HEADER_CASES = {
    "phases-are-numbers": (
        lambda h: h["protocol"].update(phases=[1, 2]),
        "protocol phase 1 must be an object, not int",
    ),
    "duration-text": (
        lambda h: h["protocol"]["phases"][0].update(duration_s="abc"),
        "protocol phase 1: 'duration_s' 'abc' is not a number of seconds",
    ),
    "duration-infinity": (
        lambda h: h["protocol"]["phases"][1].update(duration_s=float("inf")),
        "protocol phase 2: 'duration_s' inf must be a positive, finite number of seconds",
    ),
    "duration-1e308": (
        lambda h: h["protocol"]["phases"][1].update(duration_s=1e308),
        "protocol phase 2: 'duration_s' 1e+308 s is longer than a session can be (7 days)",
    ),
    "protocol-a-list": (lambda h: h.update(protocol=[]), "'protocol' must be an object, not list"),
    "device-name-number": (
        lambda h: h["device"].update(name=5),
        "device 'name' must be text, not int",
    ),
    "window-text": (
        lambda h: h["settings"].update(window_s="60"),
        "settings 'window_s' '60' is not a number of seconds",
    ),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_wrong_types_in_the_header_are_a_clear_error(
    tmp_path: Path, recorded: Path, case: str
) -> None:
    edit, words = HEADER_CASES[case]
    path = _with_header(recorded, tmp_path, edit)
    for argv in (["report", str(path)], ["replay", str(path), "--headless", "--speed", "max"]):
        proc = run_cli(*argv)
        assert proc.returncode == 2, proc.stderr
        assert f"{path}: line 1 (the header): {words}" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_deeply_nested_header_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"format":"holdbeat/1","x":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    proc = run_cli("report", str(path))
    assert proc.returncode == 2
    assert f"{path}: not a holdbeat recording (line 1 is not a JSON header)" in proc.stderr
    assert "RecursionError" not in proc.stderr and "Traceback" not in proc.stderr


def test_deeply_nested_toml_is_a_clear_error(tmp_path: Path) -> None:
    """Protocol, phases and config files are TOML, and tomllib recurses: 1,000 brackets
    (2 kB) were a RecursionError traceback - for a config file, in every command."""
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 1000 + "]" * 1000 + "\n")
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n")
    env = {**os.environ, "HOLDBEAT_CONFIG": str(deep), "HOLDBEAT_RECORDINGS": ""}
    for argv, kw in (
        (["protocols", str(deep)], {}),
        (["import", str(rr), "--phases", str(deep), "-o", f"{tmp_path}/out/"], {}),
        (["report", "latest"], {"env": env}),
    ):
        proc = run_cli(*argv, cwd=tmp_path, **kw)
        assert proc.returncode == 2, proc.stderr
        assert f"{deep}: not valid TOML: nested too deeply" in proc.stderr
        assert "RecursionError" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_events_out_of_time_order_are_skipped_by_line(tmp_path: Path, recorded: Path) -> None:
    lines = lines_of(recorded)
    phases = [i for i, x in enumerate(lines) if b'"type":"phase"' in x]
    moved = lines[phases[-1]]
    rest = [x for i, x in enumerate(lines) if i != phases[-1]]
    path = write_lines(tmp_path / "order.jsonl", [rest[0], moved, *rest[1:]])
    rec = load(path)
    assert rec.warnings[0] == (
        "line 3: skipped, phase 'baseline' starts at 0.0 s, before the previous phase (60.0 s)"
    )
    assert [(p.name, p.start_s) for p in rec.phases] == [("hold", 60.0)]
    proc = run_cli("report", str(path), "--quiet")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("t", ["1e12", "-5", "604800.5"])
def test_an_event_time_beyond_a_session_is_skipped(tmp_path: Path, recorded: Path, t: str) -> None:
    lines = lines_of(recorded)
    marker = f'{{"t":{t},"type":"marker","kind":"note","text":"x"}}'.encode()
    path = write_lines(tmp_path / "t.jsonl", [*lines[:-1], marker])  # no end: the last event
    rec = load(path)
    assert any(
        f"line {len(lines)}: skipped, not a valid event (ValueError: time {float(t)!r} is "
        "outside a session (0 to 7 days))" == w
        for w in rec.warnings
    ), rec.warnings
    assert rec.duration_s < 200
    proc = run_cli("export", str(path), "--to", "edf", "-o", str(tmp_path / "x.edf"))
    assert proc.returncode == 0 and (tmp_path / "x.edf").stat().st_size < 5_000_000


def test_an_absurd_line_is_skipped_without_loading_it(tmp_path: Path, recorded: Path) -> None:
    lines = lines_of(recorded)
    huge = b'{"t":1,"type":"marker","kind":"note","text":"' + b"x" * (3 << 20) + b'"}'
    path = write_lines(tmp_path / "huge.jsonl", [*lines[:5], huge, *lines[5:]])
    rec = load(path)
    assert "line 6: skipped, longer than 1 MiB (not an event)" in rec.warnings
    assert len(rec.events) == len(load(recorded).events)


def test_protocol_with_absurd_durations_is_a_clear_error(tmp_path: Path) -> None:
    proto = tmp_path / "p.toml"
    proto.write_text('[[phase]]\nkind = "baseline"\nduration = 1e308\n')
    proc = run_cli("demo", "--headless", "--protocol", str(proto), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "key 'duration': 1e+308 is longer than a session can be (7 days)" in proc.stderr
    assert not (tmp_path / "r").exists()  # no header-only recording left behind
    proto.write_text(
        "".join(f'[[phase]]\nkind = "baseline"\nduration = "{h}h"\n' for h in (100, 100))
    )
    proc = run_cli("protocols", str(proto))
    assert proc.returncode == 2 and "longer than a session can be (7 days)" in proc.stderr


# ---------------------------------------------------------------- imports


def _import(tmp_path: Path, content: str, *extra: str, name: str = "in.txt"):
    src = tmp_path / name
    src.write_text(content)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return run_cli("import", str(src), "-o", str(out), *extra), out


def test_polar_timestamps_in_year_1_or_jumping_to_2100_are_clear_errors(tmp_path: Path) -> None:
    head = "Phone timestamp;RR-interval [ms]\n"
    proc, out = _import(tmp_path, head + "0001-01-01T00:00:00.800;800\n", name="a_RR.txt")
    assert (
        proc.returncode == 2
        and "line 2: timestamp '0001-01-01T00:00:00.800' is not a "
        "plausible time for a recording (years 1970–2099)"
        in proc.stderr
    )
    rows = "2026-03-01T09:30:00.800;800\n2026-03-01T09:30:01.600;800\n2100-01-01T00:00:00.000;800\n"
    proc, out = _import(tmp_path, head + rows, name="b_RR.txt")
    assert proc.returncode == 2
    assert "line 4: timestamp '2100-01-01T00:00:00.000' is not a plausible time" in proc.stderr
    rows = "2026-03-01T09:30:00.800;800\n2026-03-20T09:30:01.600;800\n"
    proc, out = _import(tmp_path, head + rows, name="c_RR.txt")
    assert proc.returncode == 2
    assert (
        "line 3: timestamp '2026-03-20T09:30:01.600' is more than 7 days from the first"
        in proc.stderr
    )
    assert list(out.iterdir()) == [] and "Traceback" not in proc.stderr


def test_phases_file_times_beyond_a_session_are_a_clear_error(tmp_path: Path) -> None:
    phases = tmp_path / "p.csv"
    phases.write_text("kind,start_s,end_s\nbaseline,0,1e15\n")
    proc, out = _import(tmp_path, "800\n810\n", "--phases", str(phases))
    assert proc.returncode == 2
    assert "line 2: end_s 1e+15 s is later than a session can last (7 days)" in proc.stderr
    assert list(out.iterdir()) == []


def test_belief_with_line_separators_imports(tmp_path: Path) -> None:
    belief = "I am held\u2028even now\u2029— and \x85 still"
    proc, out = _import(tmp_path, "800\n810\n820\n", "--mode", "soft", "--belief", belief)
    assert proc.returncode == 0, proc.stderr
    (path,) = out.iterdir()
    rec = load(path)
    assert rec.warnings == [] and rec.phases[0].belief == belief


def test_an_rr_file_longer_than_a_session_stops_where_it_passes_7_days(tmp_path: Path) -> None:
    """Streaming: the refusal comes at the line where the sum passes 7 days, long before the
    end of the file, so memory never holds the rest."""
    n = 800_000  # 800 ms each: 7 days are passed at line 756,001
    proc, out = _import(tmp_path, "800\n" * n)
    assert proc.returncode == 2
    assert "line 756001: the RR intervals up to here add up to more than 7 days" in proc.stderr
    assert list(out.iterdir()) == []


def test_an_absurd_import_line_is_refused(tmp_path: Path) -> None:
    proc, _ = _import(tmp_path, "800\n" + "8" * (2 << 20) + "\n")
    assert proc.returncode == 2 and "line 2: longer than 1024 KiB" in proc.stderr


def test_import_errors_quote_only_a_short_escaped_prefix(tmp_path: Path) -> None:
    """Pointed at a password file, `import` must not print its first line (item 14)."""
    secret = "root:$y$j9T$SeCrEtSaLt$hashhashhashhashhash:19000:0:99999:7:::\n"
    for extra in ([], ["--from", "rr-txt"], ["--from", "polar-sensor-logger"]):
        proc, _ = _import(tmp_path, secret + "daemon:*:19000:0:99999:7:::\n", *extra)
        assert proc.returncode == 2
        assert "SeCrEt" not in proc.stderr and "hashhash" not in proc.stderr, proc.stderr
    proc, _ = _import(tmp_path, "812\n\x1b]52;c;SGVsbG8=\x07\n", "--from", "rr-txt")
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and "\\x1b]52" in proc.stderr


# ---------------------------------------------------------------- the line reader itself


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"\n")),
    limit=st.integers(0, 12),
    chunk=st.integers(1, 9),
)
def test_line_reader_equals_split_with_long_lines_dropped(
    data: bytes, limit: int, chunk: int
) -> None:
    from holdbeat import inputs

    parts = data.split(b"\n")
    expected = [(i + 1, p if len(p) <= limit else None, True) for i, p in enumerate(parts[:-1])]
    if parts[-1]:
        tail = parts[-1]
        expected.append((len(parts), tail if len(tail) <= limit else None, False))
    assert list(inputs.iter_lines(io.BytesIO(data), limit, chunk)) == expected


def test_opening_a_fifo_does_not_block(tmp_path: Path) -> None:
    from holdbeat.inputs import open_regular

    fifo = _fifo(tmp_path, "f")
    result: list[BaseException] = []

    def attempt() -> None:
        try:
            open_regular(fifo, "x", ValueError)
        except ValueError as e:
            result.append(e)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive() and "is a FIFO (named pipe)" in str(result[0])


@pytest.mark.parametrize("cell", ["\r", "\x00", '"open quote'])
def test_phases_csv_with_stray_control_characters_is_a_clear_error(
    tmp_path: Path, cell: str
) -> None:
    """Found by the fuzz pass: a lone CR in a phases CSV cell raised csv.Error (a traceback)."""
    from holdbeat.interop.phases_file import PhasesFileError, parse_phases

    text = f"kind,start_s,end_s,name,mode,belief\nbaseline,0,10,{cell},,\n"
    try:
        specs = parse_phases(text, "p.csv")
    except PhasesFileError as e:
        assert str(e).startswith("p.csv: line ")
    else:
        assert specs[0].kind == "baseline" and specs[0].end_s == 10.0
    phases = tmp_path / "p.csv"
    phases.write_text(text)
    proc, _ = _import(tmp_path, "800\n" * 20, "--phases", str(phases), "--mode", "soft")
    assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr


def test_edf_export_refuses_an_allocation_beyond_its_bound(tmp_path: Path, recorded: Path) -> None:
    lines = lines_of(recorded)
    end = json.loads(lines[-1])
    end["t"] = 20_000.0  # 5.6 h: at 1000 Hz, 20 M samples per signal
    path = write_lines(tmp_path / "long.jsonl", [*lines[:-1], json.dumps(end).encode()])
    proc = run_cli(
        "export", str(path), "--to", "edf", "--fs", "1000", "-o", str(tmp_path / "x.edf")
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "20,000,000 samples per signal (at most 10,000,000): use --fs 500 or less" in proc.stderr
    assert not (tmp_path / "x.edf").exists()
    ok = run_cli("export", str(path), "--to", "edf", "--fs", "500", "-o", str(tmp_path / "x.edf"))
    assert ok.returncode == 0, ok.stderr


def test_a_file_name_that_is_not_utf8_reaches_every_output(tmp_path: Path) -> None:
    """Linux file names are bytes; one that is not UTF-8 is written as its escape (\\udcff)
    in JSON and CSV, which reads back as the same name, rather than failing the command."""
    import json as json_mod

    src = record_simulated(tmp_path / "src", "quick", SimConfig(seed=4))
    folder = tmp_path / "d"
    folder.mkdir()
    name = os.fsdecode(b"x\xff.jsonl")
    (folder / name).write_bytes(src.read_bytes())
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = {
        "r": ["report", str(folder / name)],
        "h": ["history", str(folder), "--no-cache"],
        "c": ["compare", str(folder), "--resamples", "99", "--min-hold", "0", "--jobs", "1"],
    }
    for stem, argv in runs.items():
        out_json, out_csv = tmp_path / f"{stem}.json", tmp_path / f"{stem}.csv"
        proc = run_cli(*argv, "-q", "--json", str(out_json), "--csv", str(out_csv), env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        text = out_json.read_text("utf-8")
        assert "x\\udcff.jsonl" in text
        assert any(s.endswith(name) for s in strings(json_mod.loads(text)))  # the same name
        if stem != "r":  # (report's CSV is the phase table: no file column)
            assert "x\\udcff.jsonl" in out_csv.read_text("utf-8")


def strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*strings(k), *strings(v))]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


def test_text_arguments_that_are_not_utf8_are_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    bad = os.fsdecode(b"calm\xff")  # a terminal in Latin-1 typing "calm\xff"
    rec = record_simulated(tmp_path / "src", "quick", SimConfig(seed=5))
    before = rec.read_bytes()
    for argv in (
        ["demo", "--headless", "--speed", "max", "--belief", bad, "--out", str(tmp_path / "r")],
        ["demo", "--headless", "--speed", "max", "--note", bad, "--out", str(tmp_path / "r")],
        ["note", str(rec), bad],
    ):
        proc = run_cli(*argv)
        assert proc.returncode == 2, proc.stderr
        assert "not UTF-8 text (the terminal sent bytes in another encoding" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists() and rec.read_bytes() == before
