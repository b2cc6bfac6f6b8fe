"""Terminal tables and prose fit the width: text columns shortened, numbers never cut,
columns split into blocks when needed; pipes unchanged; the CLI honours COLUMNS."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import record_simulated, run_cli

from holdbeat.termtable import UNLIMITED, fit_table, fit_text

HEAD = ["phase", "mode", "HR", "RMSSD", "reason"]
ROWS = [
    ["a very long phase name indeed", "loving-kindness", "61.2", "45.3", "fine"],
    ["baseline", "neutral", "65.0", "38.9", "no frequency domain: needs >= 60 s of beats"],
]
RIGHT = {2, 3}


def test_fits_as_is_when_wide_enough() -> None:
    lines = fit_table(HEAD, ROWS, RIGHT, 200)
    assert lines[2] == "a very long phase name indeed  loving-kindness  61.2   45.3  fine"
    assert max(map(len, lines)) <= 200


def test_text_columns_shortened_numbers_kept() -> None:
    lines = fit_table(HEAD, ROWS, RIGHT, 70)
    assert max(map(len, lines)) <= 70
    body = "\n".join(lines)
    for number in ("61.2", "45.3", "65.0", "38.9"):
        assert number in body
    assert "no frequ" in body and "…" in body and "needs >= 60 s" not in body  # the widest


def test_split_into_blocks_repeating_the_first_column() -> None:
    head = ["phase"] + [f"metric{i}" for i in range(12)]
    rows = [["baseline"] + [f"{i * 1.5:.1f}" for i in range(12)]]
    lines = fit_table(head, rows, set(range(1, 13)), 40)
    assert max(map(len, lines)) <= 40
    blocks = "\n".join(lines).split("\n\n")
    assert len(blocks) > 1 and all(b.startswith("phase") for b in blocks)
    assert all(f"{i * 1.5:.1f}" in "\n".join(lines) for i in range(12))


def test_prose_wrapped_with_indent_and_pipes_untouched(monkeypatch) -> None:
    text = "TITLE\n  - " + "word " * 30
    wrapped = fit_text(text, 40)
    assert all(len(x) <= 40 for x in wrapped.splitlines())
    assert wrapped.splitlines()[1].startswith("  - word")
    assert wrapped.splitlines()[2].startswith("    word")  # indent + 2: under the text
    assert fit_text(text, UNLIMITED) == text
    monkeypatch.delenv("COLUMNS", raising=False)
    assert fit_text(text) == text  # pytest's stdout is not a terminal


def test_cli_report_fits_columns(tmp_path: Path) -> None:
    rec = record_simulated(tmp_path, "fierce-then-soft")
    env = {**os.environ, "COLUMNS": "72"}
    r = run_cli("report", str(rec), "--no-frequency", env=env)
    assert r.returncode == 0, r.stderr
    long = [x for x in r.stdout.splitlines() if len(x) > 72 and str(rec) not in x]
    assert long == []
    wide = run_cli("report", str(rec), "--no-frequency", env={**os.environ, "COLUMNS": "300"})
    assert max(len(x) for x in wide.stdout.splitlines()) > 72


def test_console_status_line_has_units(tmp_path: Path) -> None:
    import re

    r = run_cli("demo", "--headless", "--speed", "max", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    status = [x for x in r.stdout.splitlines() if " left " in x and "ln RMSSD" in x]
    assert status
    pat = re.compile(r"HR +(\d+|—) bpm  RR ([\d,]+ ms|—) +ln RMSSD ([\d.]+ ln\(ms\)|—)")
    assert all(pat.search(x) for x in status), status[:3]
    assert any(re.search(r"ln RMSSD \d\.\d\d ln\(ms\)", x) for x in status)
