"""The thin file layer of `report` and `compare`: find recordings, serialise outputs.

Every output goes through `holdbeat.output` (0600, atomic, never over a recording, an
input or anything but a regular file). Report and compare have no --force: they replace
an existing regular file, as they always did.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from holdbeat.output import OutputError, check_targets, write_file
from holdbeat.recording import SUFFIX
from holdbeat.safe_text import for_spreadsheet

FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def output_arg(value: str) -> Path:
    """argparse type for an output file (--json, --csv, --png): a name that ends in a
    separator means a folder, and Path() would drop that and write a file of that name."""
    import argparse
    import os

    if not value.strip():
        raise argparse.ArgumentTypeError("an empty file name")
    if value.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{value!r} names a folder: give a file name")
    return Path(value)


def figure_arg(value: str) -> Path:
    """argparse type for --png/--figure (checked by `figure_problem` after the output
    writer's own checks, so a device or a recording is refused for what it is)."""
    return output_arg(value)


def figure_problem(path: Path | None) -> str | None:
    """Why a figure cannot be written to `path` (its type comes from the extension)."""
    if path is None or Path(path).suffix.lower() in FIGURE_FORMATS:
        return None
    suffix = Path(path).suffix
    return (
        f"{path}: the figure's type comes from its extension: use .png, .svg or .pdf "
        f"(not {suffix or 'no extension'!r})"
    )


__all__ = ["OutputError", "check_outputs", "find_recordings", "write_csv", "write_json"]


def find_recordings(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Files as given, folders searched recursively for *.jsonl; errors name the path."""
    files: list[Path] = []
    errors: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.rglob(f"*{SUFFIX}") if q.is_file())
            if not found:
                errors.append(f"{p}: no {SUFFIX} recordings in this folder")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.exists():
            errors.append(f"{p}: not a regular file (a FIFO, device or socket is not read)")
        else:
            errors.append(f"{p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique, errors


def check_outputs(outputs: Sequence[Path | None], inputs: Sequence[Path]) -> None:
    """Refuse outputs that would replace an input, a recording or a non-regular file."""
    check_targets(outputs, force=True, inputs=inputs)


#: a file name with bytes that are not UTF-8 (Python holds them as lone surrogates) is
#: written as its escape, \udcff: valid UTF-8, and in JSON the same string read back
UNDECODABLE = "backslashreplace"


#: what json.dumps(ensure_ascii=False) leaves raw but a terminal acts on (DEL, C1 controls,
#: bidi and zero-width formatting, line/paragraph separators): `cat report.json` must not
#: reorder or drive what it shows. JSON's \uXXXX escape reads back as the same string.
_HIDDEN_IN_JSON = re.compile("[\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def json_text(obj: object) -> str:
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    return _HIDDEN_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_json(path: Path, obj: object, inputs: Sequence[Path] = ()) -> None:
    write_file(path, json_text(obj).encode("utf-8", UNDECODABLE), force=True, inputs=inputs)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV whose text cells a spreadsheet shows and never runs as formulas."""
    buf = io.StringIO(newline="")
    out = csv.writer(buf)
    out.writerow(columns)
    out.writerows([for_spreadsheet(c) for c in row] for row in rows)
    return buf.getvalue()


def write_csv(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    inputs: Sequence[Path] = (),
) -> None:
    text = csv_text(columns, rows)
    write_file(path, text.encode("utf-8", UNDECODABLE), force=True, inputs=inputs)
