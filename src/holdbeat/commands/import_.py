"""`holdbeat import FILE [--from FORMAT] [-o PATH]`: another app's RR file -> a recording.

Thin shell: read the file, parse it (pure), build strap-like notifications (pure), check that
the new recording loads back to the same RR, then write it in one piece (0600, never over an
existing file). Bad input exits 2 with the file, line and reason; nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from holdbeat import log
from holdbeat.commands._types import text
from holdbeat.home import HomeError, recordings_dir
from holdbeat.inputs import open_regular, read_small, text_lines
from holdbeat.interop import InteropError
from holdbeat.interop.batch_lines import write_lines
from holdbeat.interop.imported_rr import YEARS
from holdbeat.interop.imported_session import Built, build_recording, label_for, resolve_start
from holdbeat.interop.importers import FORMATS, UNITS, detect_format, parse
from holdbeat.interop.phases_file import parse_phases
from holdbeat.limits import MAX_SMALL_FILE_BYTES
from holdbeat.output import OutputError, OutputExists, check_targets, write_files, write_new
from holdbeat.printing import emit
from holdbeat.recording import SUFFIX, RecordingError, load_stream
from holdbeat.recording_writer import session_filename
from holdbeat.safe_text import for_terminal
from holdbeat.session import HOLD_MODES, TARGETS, ProtocolError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
BINARY_FORMATS = ("fit", "edf")
MAX_BINARY_BYTES = 1 << 30  # an EDF with a day of 1 kHz ECG is ~170 MB


def detect_binary(path: Path) -> str | None:
    """'fit' or 'edf' from the file's first bytes, else None (a text format)."""
    with open_regular(path, "RR file", InteropError) as f:
        try:
            head = f.read(256)
        except OSError as e:
            raise InteropError(f"{path}: cannot read the RR file: {e.strerror or e}") from None
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    if len(head) >= 256 and head[:8] == b"0       ":
        return "edf"
    return None


EPILOG = """\
formats (--from; detected from the content when left out):
  polar-sensor-logger  Polar Sensor Logger's RR file: 'Phone timestamp;RR-interval [ms]'
  elite-hrv            Elite HRV's RR export: ms, one per line or ','-separated
  hrv-logger           HRV Logger's RR CSV: 'date,rr,since start'
  rr-txt               one RR per line in ms or s (auto-detected, or --units), '#' comments
  fit                  Garmin FIT activity with beat-to-beat intervals ('log HRV' on)
  edf                  EDF/EDF+: holdbeat's own export read back (beats, phases, markers,
                       ratings), or any EDF with an ECG channel (R peaks by neurokit2;
                       the peak detector's quality is stated in the recording)

phases file (--phases, CSV or .toml), seconds from the start of the first RR interval:
  name,kind,mode,start_s,end_s,belief,target
  baseline,baseline,neutral,0,180,,
  fierce hold,hold,fierce,180,480,This does not get to define me.,self
  recovery,recovery,neutral,480,660,,

RR are stored in the strap unit, 1/1024 s: each value moves by at most 0.49 ms.
Details: docs/format.md, "Export and import".

examples:
  holdbeat import Polar_H10_ABCD1234_20260301_093000_RR.txt
  holdbeat import "2026-03-01 09-30-00.txt" --phases phases.csv --belief "I am still held"
  holdbeat import rr.txt --from rr-txt --units s --mode soft -o recordings/
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="turn an RR file from another app into a holdbeat recording",
        description="Import RR intervals from Polar Sensor Logger, Elite HRV, HRV Logger, plain "
        "RR text, Garmin FIT or EDF/EDF+ (RR, or R peaks found in an ECG) as "
        "a holdbeat/1 recording (strap-like notifications built from the RR), so it can be "
        "reported, replayed and compared.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the RR file to import")
    p.add_argument(
        "--from",
        dest="fmt",
        choices=(*FORMATS, *BINARY_FORMATS),
        help="the file's format (default: detect)",
    )
    p.add_argument(
        "--channel",
        metavar="LABEL",
        help="EDF only: the ECG signal to find R peaks in (default: the one labelled ECG/EKG)",
    )
    p.add_argument("--units", choices=UNITS, help="rr-txt only: RR in ms or s (default: detect)")
    p.add_argument(
        "--phases", type=Path, metavar="PATH", help="phases of the session (CSV or TOML)"
    )
    p.add_argument(
        "--mode", choices=HOLD_MODES, help="mode of the hold (a hold without one, or the only hold)"
    )
    p.add_argument("--belief", type=text, help="the belief held (for holds that have none)")
    p.add_argument("--target", choices=TARGETS, help="what the belief is about")
    p.add_argument(
        "--start",
        type=_when,
        metavar="ISO",
        help="start of the first RR interval, e.g. 2026-03-01T09:30:00 (local) or …Z (UTC); "
        "default: from the file (Polar timestamps, Elite HRV name) or its modification time",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="a new FILE.jsonl, or a folder (created if needed) for a generated name; "
        "default: the recordings folder (see `holdbeat --help`)",
    )
    p.set_defaults(func=run)


def _when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date-time: {for_terminal(value, 40)!r} (e.g. 2026-03-01T09:30:00)"
        ) from None
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise argparse.ArgumentTypeError(f"--start must be in the years {YEARS[0]}–{YEARS[1]}")
    return when


def _lines(path: Path, what: str):
    """The file's lines, streamed (UTF-8 or UTF-16 with a BOM); regular files only."""
    return text_lines(path, what, InteropError)


def _sha256(path: Path) -> str:
    with open_regular(path, "RR file", InteropError) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify(built: Built, f: BinaryIO) -> None:
    """Load what we are about to write, with the real loader on the written bytes, and
    compare with the encoded RR. Raises RecordingError if they differ."""
    f.flush()
    f.seek(0)
    rec = load_stream(Path("<import>"), f, live=False)  # RR is what is checked
    if rec.malformed:
        raise RecordingError(f"internal error: unparseable notification at {rec.malformed[0][0]} s")
    if rec.warnings:
        raise RecordingError(
            f"internal error: the imported recording loads with: {rec.warnings[0]}"
        )
    if len(rec.rr_ms) != len(built.rr_units) or not np.array_equal(rec.rr_ms, built.rr_ms):
        raise RecordingError(
            "internal error: the imported recording does not load back to the same RR"
        )


def read_any(args: argparse.Namespace, src: Path):
    """(format, ImportedRR, phases from the file or None, extra events, extra settings)."""
    fmt = args.fmt or detect_binary(src)
    if fmt in BINARY_FORMATS:
        if args.fmt is None:
            print(f"format: {fmt} — detected from the file header", file=sys.stderr)
        if args.units:
            raise InteropError(f"--units applies to rr-txt only; {fmt} files say their units")
        data = read_small(src, f"{fmt.upper()} file", InteropError, MAX_BINARY_BYTES)
        if fmt == "fit":
            from holdbeat.interop.fit import parse_fit

            return fmt, parse_fit(data, str(src)), None, (), {}
        from holdbeat.interop.edf_import import parse_edf

        got = parse_edf(data, str(src), args.channel)
        return got.imported.format, got.imported, got.specs, tuple(got.events), got.settings
    if args.channel:
        raise InteropError("--channel applies to EDF files only")
    if fmt is None:
        fmt, why = detect_format(_lines(src, "RR file"), src.name)
        print(f"format: {fmt} — detected from {why} (override with --from)", file=sys.stderr)
    if args.units and fmt != "rr-txt":
        raise InteropError(f"--units applies to rr-txt only; {fmt} files say their units")
    return fmt, parse(_lines(src, "RR file"), fmt, str(src), src.name, args.units), None, (), {}


def _names_a_file(raw_out: str) -> bool:
    """-o names a new FILE.jsonl (else a folder, for a generated name)."""
    out = Path(raw_out)
    return out.suffix == SUFFIX and not raw_out.endswith(("/", os.sep)) and not out.is_dir()


def _output_problem(raw_out: str | None, src: Path) -> str:
    """Before any work: why -o cannot be written ("" when it can). A new FILE.jsonl must be
    writable as one; anything else names a folder, which must be one if it exists."""
    if raw_out is None:
        return ""
    out = Path(raw_out)
    if _names_a_file(raw_out):
        try:
            check_targets([out], force=False, inputs=[src])
        except OutputExists:
            return f"{out} already exists; an import writes a new recording: give a new name"
        except OutputError as e:
            return str(e)
        return ""
    if os.path.lexists(out) and not out.is_dir():
        return f"{out} is not a folder: give a new FILE{SUFFIX}, or a folder for a generated name"
    return ""


def run(args: argparse.Namespace) -> int:
    src: Path = args.file
    problem = _output_problem(args.output, src)
    if problem:
        print(f"holdbeat import: {for_terminal(problem)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        fmt, imported, specs, extra_events, extra_settings = read_any(args, src)
        for note in imported.notes:
            print(f"note: {for_terminal(note)}", file=sys.stderr)
        if args.phases is not None:
            text = read_small(args.phases, "phases file", InteropError, MAX_SMALL_FILE_BYTES)
            specs = parse_phases(_decode(text, args.phases), str(args.phases))
        mtime = datetime.fromtimestamp(src.stat().st_mtime, tz=UTC)
        started, start_from = resolve_start(imported, args.start, mtime)
        built = build_recording(
            imported,
            started=started,
            start_from=start_from,
            specs=specs,
            mode=args.mode,
            belief=args.belief,
            target=args.target,
            source_name=src.name,
            source_sha256=_sha256(src),
            phases_name=args.phases.name if args.phases else ("(from the file)" if specs else ""),
            extra_events=extra_events,
            extra_settings=extra_settings,
        )
        log.info("%d RR read (%s); building strap-like notifications", len(built.rr_units), fmt)
        del imported  # the arrays in `built` are all the rest needs

        def content(f: BinaryIO) -> None:
            write_lines(f, built.header, built.iter_events())
            verify(built, f)

        raw_out = args.output
        out = Path(raw_out) if raw_out is not None else recordings_dir()
        if raw_out is None or not _names_a_file(raw_out):
            log.info("writing a new recording in %s", out)
            path = write_new(out, session_filename(started, label_for(built)), SUFFIX, content)
        else:
            path = write_files({out: content})[0]
    except (InteropError, ProtocolError, OutputError, HomeError) as e:
        print(f"holdbeat import: {for_terminal(e)}", file=sys.stderr)
        return EXIT_USAGE
    except RecordingError as e:
        print(f"holdbeat import: {for_terminal(e)}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as e:  # WriteFailed names the file
        print(f"holdbeat import: {for_terminal(e)}", file=sys.stderr)
        return EXIT_FAILED
    for w in built.warnings:
        print(f"warning: {for_terminal(w)}", file=sys.stderr)
    n = len(built.rr_units)
    if getattr(args, "quiet", False):
        emit(f"recorded: {for_terminal(path)}")
        return EXIT_OK
    emit(
        f"imported {n} RR from {for_terminal(src.name)} ({fmt}; start {built.header.started_utc}, "
        f"{start_from}); largest change from the 1/1024 s unit: {built.max_rounding_ms:.3f} ms"
        + (f"; {built.gaps} gap(s) kept as connection lost/restored" if built.gaps else "")
    )
    emit(f"recorded: {for_terminal(path)}")
    return EXIT_OK


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM, as spreadsheets write them."""
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InteropError(
            f"{path}: not a text phases file (byte {e.start} cannot be decoded)"
        ) from None
