"""The phases of an imported session: a small CSV or TOML file. Pure (text in, spans out).

Other apps record RR only; to let an imported session join reports and comparisons, say when
each phase ran, in seconds from the start of the first RR interval:

    name,kind,mode,start_s,end_s,belief,target
    baseline,baseline,neutral,0,180,,
    fierce hold,hold,fierce,180,480,This does not get to define me.,self
    recovery,recovery,neutral,480,660,,

or the same as TOML `[[phase]]` tables with those keys. `name`, `belief` and `target` are
optional; a hold's `mode` may be left empty and given with `--mode`. Phases follow each other
without gaps or overlaps (a pause is a `rest` phase), as in a live session.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import math
import re
from dataclasses import dataclass

from holdbeat.inputs import parse_toml
from holdbeat.interop import InteropError
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT
from holdbeat.safe_text import for_terminal
from holdbeat.session import HOLD_MODES, KINDS, MODES, TARGETS

COLUMNS = ("name", "kind", "mode", "start_s", "end_s", "belief", "target")
REQUIRED = ("kind", "start_s", "end_s")
CONTIGUOUS_TOL_S = 1e-6


class PhasesFileError(InteropError):
    def __init__(self, origin: str, line: int | None, reason: str) -> None:
        self.line = line
        where = f"{origin}: line {line}" if line is not None else origin
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    kind: str
    mode: str  # "" = a hold whose mode comes from --mode
    start_s: float
    end_s: float
    belief: str = ""
    target: str = ""
    line: int = 0


def _show(value: object) -> str:
    """A short, escaped quote of file text for an error message."""
    return repr(for_terminal(value, 24)) if isinstance(value, str) else for_terminal(value, 24)


def _allowed(what: str, value: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value[:100], allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{what} {_show(value)} is not allowed{hint}; allowed: {', '.join(allowed)}"


def _seconds(value: object, key: str, origin: str, line: int) -> float:
    if isinstance(value, bool):
        raise PhasesFileError(origin, line, f"{key} {_show(value)} is not a number of seconds")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PhasesFileError(
            origin, line, f"{key} {_show(value)} is not a number of seconds"
        ) from None
    if not math.isfinite(x) or x < 0:
        raise PhasesFileError(
            origin, line, f"{key} {_show(value)} must be a finite number of seconds ≥ 0"
        )
    if x > MAX_SESSION_S:
        raise PhasesFileError(
            origin,
            line,
            f"{key} {x:g} s is later than a session can last ({MAX_SESSION_TEXT})",
        )
    return x


def _spec(raw: dict, origin: str, line: int) -> PhaseSpec:
    for key in raw:
        if key not in COLUMNS:
            raise PhasesFileError(origin, line, _allowed("column/key", str(key), COLUMNS))
    for key in REQUIRED:
        if raw.get(key) in (None, ""):
            raise PhasesFileError(origin, line, f"{key!r} is missing")
    for key in ("name", "kind", "mode", "belief", "target"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], str):
            raise PhasesFileError(origin, line, f"{key!r} must be text")
    kind = str(raw["kind"]).strip()
    if kind not in KINDS:
        raise PhasesFileError(origin, line, _allowed("kind", kind, KINDS))
    mode = str(raw.get("mode") or "").strip()
    if mode and mode not in MODES:
        raise PhasesFileError(origin, line, _allowed("mode", mode, MODES))
    if kind == "hold" and mode == "neutral":
        raise PhasesFileError(
            origin,
            line,
            f"a hold needs a belief mode, not 'neutral'; allowed: {', '.join(HOLD_MODES)}",
        )
    if kind != "hold":
        if kind == "action" and mode not in ("", "neutral"):
            raise PhasesFileError(
                origin, line, "an action phase holds no belief; mode must be 'neutral'"
            )
        mode = mode or "neutral"
    belief = str(raw.get("belief") or "").strip()
    target = str(raw.get("target") or "").strip()
    if target and target not in TARGETS:
        raise PhasesFileError(origin, line, _allowed("target", target, TARGETS))
    if kind != "hold" and (belief or target):
        raise PhasesFileError(origin, line, "only hold phases carry a belief / target")
    start = _seconds(raw["start_s"], "start_s", origin, line)
    end = _seconds(raw["end_s"], "end_s", origin, line)
    if end <= start:
        raise PhasesFileError(origin, line, f"end_s {end:g} must be after start_s {start:g}")
    name = str(raw.get("name") or "").strip() or (
        f"{mode} hold" if kind == "hold" and mode else kind
    )
    return PhaseSpec(name, kind, mode, start, end, belief, target, line)


def _check_sequence(specs: list[PhaseSpec], origin: str) -> list[PhaseSpec]:
    if not specs:
        raise PhasesFileError(origin, None, "no phases in the file")
    for prev, cur in itertools.pairwise(specs):
        if abs(cur.start_s - prev.end_s) > CONTIGUOUS_TOL_S:
            what = "overlaps" if cur.start_s < prev.end_s else "leaves a gap after"
            raise PhasesFileError(
                origin,
                cur.line,
                f"starts at {cur.start_s:g} s but the previous phase ends at {prev.end_s:g} s: "
                f"it {what} it. "
                "Phases must follow each other exactly (give a pause its own 'rest' phase)",
            )
    return specs


def parse_phases_csv(text: str, origin: str = "<phases.csv>") -> list[PhaseSpec]:
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise PhasesFileError(
            origin, None, "empty file: expected a header 'name,kind,mode,start_s,end_s'"
        )
    # universal newlines, but not str.splitlines(): U+2028 in a belief is text
    lines = re.split(r"\r\n|\r|\n", text)
    first = next(i for i, s in enumerate(lines) if s.strip())
    header = lines[first]
    if "," not in header and (";" in header or "\t" in header):
        raise PhasesFileError(
            origin, first + 1, "columns must be separated by ',' (wrong delimiter)"
        )
    cols = [c.strip() for c in header.split(",")]
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise PhasesFileError(
            origin,
            first + 1,
            f"header missing or incomplete: need columns {', '.join(REQUIRED)} "
            f"(and optionally name, mode, belief, target); found {_show(header)}",
        )
    for c in cols:
        if c not in COLUMNS:
            raise PhasesFileError(origin, first + 1, _allowed("column", c, COLUMNS))
    reader = csv.reader(io.StringIO("\n".join(lines[first + 1 :])))
    specs: list[PhaseSpec] = []
    for offset, row in enumerate(_rows(reader, origin, first + 2)):
        line = first + 2 + offset
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(cols):
            raise PhasesFileError(
                origin, line, f"expected {len(cols)} ','-separated fields, found {len(row)}"
            )
        specs.append(_spec(dict(zip(cols, (c.strip() for c in row), strict=True)), origin, line))
    return _check_sequence(specs, origin)


def _rows(reader, origin: str, first_line: int):
    """The reader's rows; a CSV syntax error is a PhasesFileError naming the line."""
    try:
        yield from reader
    except csv.Error as e:
        raise PhasesFileError(origin, first_line + reader.line_num - 1, f"not CSV: {e}") from None


def parse_phases_toml(text: str, origin: str = "<phases.toml>") -> list[PhaseSpec]:
    try:
        doc = parse_toml(text)
    except ValueError as e:  # tomllib.TOMLDecodeError, or nesting too deep
        raise PhasesFileError(origin, None, f"not valid TOML: {e}") from None
    extra = [k for k in doc if k != "phase"]
    if extra:
        raise PhasesFileError(
            origin, None, f"unknown top-level key {_show(extra[0])}; expected [[phase]] tables"
        )
    raw = doc.get("phase")
    if not isinstance(raw, list) or not raw:
        raise PhasesFileError(
            origin, None, "no phases: add [[phase]] tables (kind, mode, start_s, end_s)"
        )
    lines = [i + 1 for i, s in enumerate(text.splitlines()) if s.strip().startswith("[[phase]]")]
    specs = []
    for i, table in enumerate(raw):
        line = lines[i] if i < len(lines) else 0
        if not isinstance(table, dict):
            raise PhasesFileError(origin, line or None, "each phase must be a [[phase]] table")
        specs.append(_spec(table, origin, line))
    return _check_sequence(specs, origin)


def parse_phases(text: str, origin: str) -> list[PhaseSpec]:
    """CSV or TOML, chosen by the file name's suffix (.toml -> TOML, anything else CSV)."""
    if origin.lower().endswith(".toml"):
        return parse_phases_toml(text, origin)
    return parse_phases_csv(text, origin)
