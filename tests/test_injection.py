"""Terminal and spreadsheet injection (issue 16, items 10-11): text from protocols,
recordings and straps is shown on a terminal with its control characters made visible,
and never becomes a formula in a CSV export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests.helpers import run_cli

# OSC 52 (write the clipboard), a window title, erase line + carriage return + a fake
# "recorded:" line, a bidi override, a C1 CSI, a line separator, DEL
EVIL = (
    "\x1b]52;c;aGFja2Vk\x07\x1b]0;owned\x07\x1b[2K\rrecorded: /tmp/fake.jsonl"
    "\u202e\x9b31m\u2028\x7f"
)
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e", "\u2028", "\x7f", "\r")


def toml_str(s: str) -> str:
    return json.dumps(s)  # JSON's \\uXXXX escapes are valid TOML basic strings


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A protocol file and a recording whose every text field carries EVIL."""
    d = tmp_path_factory.mktemp("evil")
    proto = d / "evil.toml"
    proto.write_text(
        f"name = {toml_str('name' + EVIL)}\n"
        f"description = {toml_str('desc' + EVIL)}\n"
        '[[phase]]\nkind = "baseline"\nduration = 60\n'
        f"name = {toml_str('base' + EVIL)}\nprompt = {toml_str('prompt' + EVIL)}\n"
        '[[phase]]\nkind = "hold"\nmode = "soft"\nduration = 90\n'
        f"name = {toml_str('hold' + EVIL)}\nbelief = {toml_str('belief' + EVIL)}\n"
        'target = "self"\n'
    )
    out = d / "rec"
    proc = run_cli("demo", "--headless", "--speed", "max", "--protocol", str(proto), "--out",
                   str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_clean(proc.stdout + proc.stderr)
    (rec,) = out.glob("*.jsonl")
    lines = rec.read_text().split("\n")[:-1]  # not splitlines(): U+2028 is text in JSON Lines
    note = json.dumps({"t": 100.0, "type": "marker", "kind": "note", "text": "note" + EVIL})
    rec.write_text("\n".join([*lines[:-1], note, lines[-1]]) + "\n")
    return proto, rec


def check_clean(text: str) -> None:
    for c in CONTROL:
        assert c not in text, f"raw {c!r} reached the terminal"


@pytest.mark.parametrize(
    "argv",
    [
        ["protocols", "{proto}"],
        ["report", "{rec}"],
        ["replay", "{rec}", "--headless", "--speed", "max"],
        ["compare", "{rec}", "--resamples", "99", "--jobs", "1", "--min-hold", "0"],
        ["export", "{rec}", "--to", "csv", "-o", "{tmp}/x.csv"],
    ],
    ids=lambda a: a[0],
)
def test_no_command_prints_raw_control_characters(
    hostile: tuple[Path, Path], tmp_path: Path, argv: list[str]
) -> None:
    proto, rec = hostile
    proc = run_cli(*[a.format(proto=proto, rec=rec, tmp=tmp_path) for a in argv])
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    check_clean(text)
    if argv[0] in ("protocols", "replay", "report"):
        assert "\\x1b]52;c;aGFja2Vk\\x07" in text  # shown, visibly, not dropped
        assert "\\u202e" in text


def test_hostile_names_in_errors_and_warnings_are_escaped(
    hostile: tuple[Path, Path], tmp_path: Path
) -> None:
    _, rec = hostile
    lines = rec.read_text().split("\n")[:-1]
    bad = json.dumps({"t": 5.0, "type": "weird" + EVIL})  # a skipped line, quoted in a warning
    path = tmp_path / ("file" + "\x1b[31m" + ".jsonl")
    path.write_text("\n".join([lines[0], bad, *lines[1:]]) + "\n")
    for argv in (["report", str(path)], ["export", str(path), "--to", "kubios"]):
        proc = run_cli(*argv)
        assert proc.returncode == 0, proc.stderr
        check_clean(proc.stdout + proc.stderr)
        assert "\\x1b[31m" in proc.stdout + proc.stderr


def test_for_terminal_shows_every_control_character() -> None:
    from holdbeat.safe_text import for_terminal

    assert for_terminal("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert for_terminal("\x00\x1f\x7f\x80\x9f") == "\\x00\\x1f\\x7f\\x80\\x9f"
    assert for_terminal("x\u202ey\u2066z\u200b") == "x\\u202ey\\u2066z\\u200b"
    assert for_terminal("l1\u2028l2\u2029\n") == "l1\\u2028l2\\u2029\\x0a"
    assert for_terminal("\ud800") == "\\ud800"  # a lone surrogate (undecodable bytes)
    keep = "Ich bin gehalten — 安心 🙂 e\u0301 👩\u200d👩\u200d👧 tab-free"
    assert for_terminal(keep) == keep  # any script, accents, emoji sequences stay
    assert for_terminal("abcdef", limit=3) == "abc…"
    assert for_terminal(123) == "123"


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_cells_never_become_formulas(tmp_path: Path) -> None:
    from holdbeat.safe_text import for_spreadsheet

    for formula in ("=1+2", "+1+2", "-1+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1",
                    " =1+1", "\n=1+1", "\u00a0@SUM(A1)"):  # fmt: skip
        assert for_spreadsheet(formula) == "'" + formula
    assert for_spreadsheet("\u200b=1") == "\\u200b=1"  # shown as an escape: no formula
    assert for_spreadsheet("\tplain") == "'\tplain"  # a tab or CR first: OWASP's rule
    assert for_spreadsheet("\rplain") == "'\rplain"
    assert for_spreadsheet("X=1") == "X=1" and for_spreadsheet("x+1") == "x+1"
    assert for_spreadsheet("a\tb\rc\nd") == "a\tb\rc\nd"  # text in a cell, kept

    # control characters that would drive a terminal showing the file become escapes;
    # line breaks and tabs stay text
    assert for_spreadsheet("a\x1b]0;x\x07b\u202ec\x9bd\x7f\ne\tf") == (
        "a\\x1b]0;x\\x07b\\u202ec\\x9bd\\x7f\ne\tf"
    )
    assert for_spreadsheet("=\x1b") == "'=\\x1b"
    for plain in ("-0.25", "+3", "1e-3", "-", "belief", "", "a=b"):
        assert for_spreadsheet(plain) == (plain if plain != "-" else "'-")
    assert for_spreadsheet(-3.5) == -3.5 and for_spreadsheet(None) is None

    proto = tmp_path / "f.toml"
    proto.write_text(
        '[[phase]]\nkind = "baseline"\nduration = 60\nname = "@SUM(1)"\n'
        '[[phase]]\nkind = "hold"\nmode = "fierce"\nduration = 120\nname = "-hold"\n'
        'belief = "=HYPERLINK(\\"http://x\\",\\"y\\")"\ntarget = "self"\n'
    )
    out = tmp_path / "rec"
    assert run_cli("demo", "--headless", "--speed", "max", "--protocol", str(proto), "--out",
                   str(out)).returncode == 0  # fmt: skip
    (rec,) = out.glob("*.jsonl")
    assert run_cli("export", str(rec), "--to", "csv", "-o", str(tmp_path / "e.csv")).returncode == 0
    beats = _csv_rows((tmp_path / "e.csv").read_bytes())
    col = {c: i for i, c in enumerate(beats[0])}
    hold = [r for r in beats[1:] if r[col["kind"]] == "hold"]
    assert hold and all(r[col["belief"]] == '\'=HYPERLINK("http://x","y")' for r in hold)
    assert all(r[col["phase"]] == "'-hold" for r in hold)
    assert float(hold[0][col["rr_ms"]]) > 0  # numbers stay numbers
    events = _csv_rows((tmp_path / "e.events.csv").read_bytes())
    assert sorted({r[4] for r in events[1:] if r[1] == "phase" and r[3] == "0"}) == ["'@SUM(1)"]
    assert run_cli("report", str(rec), "--quiet", "--csv", str(tmp_path / "r.csv")).returncode == 0
    report = _csv_rows((tmp_path / "r.csv").read_bytes())
    names = [r[1] for r in report[1:]]
    assert names == ["'@SUM(1)", "'-hold"]
    dhr = [r[report[0].index("d_hr_bpm")] for r in report[1:]]
    assert all(not x.startswith("'") for x in dhr)  # negative deltas are numbers, not text
    assert (
        run_cli("export", str(rec), "--to", "kubios", "-o", str(tmp_path / "k.txt")).returncode == 0
    )
    samples = _csv_rows((tmp_path / "k.kubios-samples.csv").read_bytes())
    assert [r[1] for r in samples[1:]] == ["'@SUM(1)", "'-hold"]
    proc = run_cli("compare", str(rec), "--csv", str(tmp_path / "c.csv"), "--resamples", "99",
                   "--jobs", "1", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    comp = _csv_rows((tmp_path / "c.csv").read_bytes())
    assert "'-hold" in [r[3] for r in comp[1:]]


def test_file_names_in_logs_listings_help_and_argparse_errors_are_escaped(
    hostile: tuple[Path, Path], tmp_path: Path
) -> None:
    """Paths are text a file system holds: -v logging, a name matching several recordings,
    the recordings folder in --help and in compare's messages, an argument argparse echoes."""
    import os

    _, rec = hostile
    recs = tmp_path / "recs"
    recs.mkdir()
    evil_name = recs / ("2026-03-01_120000_x" + EVIL.replace("/", "|") + ".jsonl")
    evil_name.write_bytes(rec.read_bytes())
    (recs / "2026-03-01_130000_y.jsonl").write_bytes(rec.read_bytes())
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(recs), "XDG_CACHE_HOME": str(tmp_path)}
    compare = ("compare", "-vv", str(recs), "-q", "--resamples", "99", "--jobs", "1")
    assert run_cli(*compare, env=env).returncode == 0  # fills the cache: the next run logs hits
    runs = [
        (run_cli("report", "-v", "2026-03-01_12", "-q", env=env, cwd=tmp_path), 0),
        (run_cli(*compare, env=env), 0),
        (run_cli("report", "2026-03-01", env=env, cwd=tmp_path), 2),  # matches two
        (run_cli("report", str(rec), "extra" + EVIL, env=env), 2),  # unknown argument
    ]
    evil_home = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path / ("none" + EVIL))}
    runs += [(run_cli("--help", env=evil_home), 0), (run_cli("compare", env=evil_home), 2)]
    for proc, code in runs:
        assert proc.returncode == code, proc.stderr
        text = proc.stdout + proc.stderr
        check_clean(text)
        assert "\\x1b]52;c;aGFja2Vk\\x07" in text, text  # shown, visibly
    listing = runs[2][0].stderr.splitlines()
    assert "matches 2 recordings; give more of the name:" in listing[-3]
    assert listing[-1].endswith("2026-03-01_130000_y.jsonl")  # still one name per line


def test_for_terminal_limits_lines_and_private_use() -> None:
    from holdbeat.safe_text import for_terminal, for_terminal_lines

    assert for_terminal("abc", 3) == "abc" and for_terminal("abcd", 3) == "abc…"
    assert for_terminal("\ue000") == "\\ue000"  # private use: invisible, shown
    assert for_terminal("\u2028x\u2029") == "\\u2028x\\u2029"
    assert for_terminal_lines("a\x1b\nb\x07\n") == "a\\x1b\nb\\x07\n"


def test_json_outputs_escape_what_a_terminal_would_act_on(
    hostile: tuple[Path, Path], tmp_path
) -> None:
    """report/compare/history --json: DEL, C1, bidi and separators as \\uXXXX escapes (C0 is
    JSON's own), so `cat out.json` shows them; reading the JSON gives the text back exactly."""
    from holdbeat.analysis.io import json_text

    obj = {"belief": "a" + EVIL + "\u00ad\u200bz é 中"}
    text = json_text(obj)
    assert json.loads(text) == obj
    assert all(c.isprintable() or c == "\n" for c in text)
    assert "é 中" in text  # other scripts stay readable, not escaped
    _, rec = hostile
    out = tmp_path / "r.json"
    assert run_cli("report", str(rec), "-q", "--json", str(out)).returncode == 0
    raw = out.read_text("utf-8")
    check_clean(raw.replace("\n", ""))

    def strings(o: object) -> list[str]:
        if isinstance(o, dict):
            return [x for v in o.values() for x in strings(v)]
        if isinstance(o, list):
            return [x for v in o for x in strings(v)]
        return [o] if isinstance(o, str) else []

    assert "name" + EVIL in strings(json.loads(raw))  # the protocol's name, read back exactly
