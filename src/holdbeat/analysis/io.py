"""The thin file layer of `report` and `compare`: find recordings, write outputs (0600).

Outputs are written atomically (temp file + rename) with mode 0600, and never onto a
recording: an output path that is one of the inputs, or any `.jsonl` file, is refused.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from holdbeat.recording import SUFFIX

FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def figure_arg(value: str) -> Path:
    """argparse type for --png/--figure: the file type comes from the extension."""
    import argparse

    path = Path(value)
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise argparse.ArgumentTypeError(
            f"{value}: the figure's type comes from its extension: use .png, .svg or .pdf "
            f"(not {path.suffix or 'no extension'!r})"
        )
    return path


class OutputError(ValueError):
    """An output path that must not be written (it would overwrite a recording)."""


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
    """Refuse outputs that would overwrite an input or any recording, or collide."""
    ins = {Path(p).resolve() for p in inputs}
    outs: set[Path] = set()
    for o in outputs:
        if o is None:
            continue
        r = Path(o).resolve()
        if r in ins or r.suffix == SUFFIX:
            raise OutputError(f"{o}: refusing to write over a recording ({SUFFIX})")
        if r in outs:
            raise OutputError(f"{o}: given for two outputs")
        if r.is_dir():
            raise OutputError(f"{o}: is a folder; give a file name")
        outs.add(r)


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: object) -> None:
    _atomic_write(path, lambda f: json.dump(obj, f, indent=2, ensure_ascii=False, allow_nan=False))


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    def w(f) -> None:
        out = csv.writer(f)
        out.writerow(columns)
        out.writerows(rows)

    _atomic_write(path, w)
