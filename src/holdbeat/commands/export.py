"""`holdbeat export FILE --to csv|kubios|edf [-o PATH] [--force]`: other tools read a recording.

Reads the recording (never writes to it) and writes every output file completely or not at
all, 0600, refusing to replace an existing file unless --force.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from holdbeat import log
from holdbeat.home import RECORDING_HELP, recording_arg
from holdbeat.interop import InteropError
from holdbeat.output import OutputError, check_targets, private_dirs, write_files
from holdbeat.printing import emit
from holdbeat.recording import Recording, RecordingError, load
from holdbeat.safe_text import for_terminal as shown

TARGETS = ("csv", "kubios", "edf")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
outputs (next to FILE unless -o):
  csv     STEM.beats.csv  one row per beat: t_s, rr_ms, hr_bpm, artifact, flag, gap_before,
                          phase_index, phase, kind, mode, belief, target
          STEM.events.csv phases, markers, ratings, connection, battery, end
  kubios  STEM.kubios.txt one RR per line in ms (open it in Kubios HRV as RR interval data)
          STEM.kubios-samples.csv  each phase's start/length on Kubios' time axis, to enter
                          as analysis samples
  edf     STEM.edf        EDF+: RR, HR, strap HR resampled at --fs Hz; phases, markers,
                          ratings and every beat as annotations

-o PATH names the first file (the others get its name with their suffix), or a folder
(an existing one, or PATH/ to create it). Formats: docs/format.md, "Export and import".

examples:
  holdbeat export recordings/2026-03-01_093000_fierce.jsonl --to csv
  holdbeat export session.jsonl --to kubios -o ~/kubios/session.txt
  holdbeat export session.jsonl --to edf --fs 8 --force
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a recording as CSV, Kubios RR text or EDF+",
        description="Export a holdbeat/1 recording for spreadsheets (CSV), Kubios HRV (RR text "
        "+ phase samples) or EDF+ viewers. The recording itself is only read.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=recording_arg, metavar="FILE", help=RECORDING_HELP)
    p.add_argument("--to", required=True, choices=TARGETS, help="output format")
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output file, or a folder (ending in '/' to create it)",
    )
    p.add_argument("--force", action="store_true", help="replace output files that already exist")
    p.add_argument(
        "--fs",
        type=_fs,
        default=4,
        metavar="HZ",
        help="EDF sample rate for the resampled RR/HR signals, whole Hz (default 4)",
    )
    p.set_defaults(func=run)


def _fs(value: str) -> int:
    try:
        fs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--fs must be a whole number of Hz, not {value!r}"
        ) from None
    if not 1 <= fs <= 1000:
        raise argparse.ArgumentTypeError(f"--fs must be 1..1000 Hz, not {fs}")
    return fs


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def output_paths(recording: Path, to: str, output: Path | None) -> list[Path]:
    """The files an export writes; -o names the first, the rest share its stem."""
    suffixes = {
        "csv": (".beats.csv", ".events.csv"),
        "kubios": (".kubios.txt", ".kubios-samples.csv"),
        "edf": (".edf",),
    }[to]
    if output is None or output.is_dir():
        folder = recording.parent if output is None else output
        return [folder / f"{_stem(recording)}{s}" for s in suffixes]
    first = output
    base = output.name
    for s in (suffixes[0], output.suffix):
        if s and base.endswith(s):
            base = base[: -len(s)]
            break
    return [first] + [first.with_name(base + s) for s in suffixes[1:]]


def render(rec: Recording, to: str, fs_hz: int) -> list[bytes]:
    if to == "csv":
        from holdbeat.interop.export_csv import export_csv

        return list(export_csv(rec))
    if to == "kubios":
        from holdbeat.interop.kubios import export_kubios

        return list(export_kubios(rec))
    from holdbeat.interop.edf import export_edf

    return [export_edf(rec, fs_hz)]


def run(args: argparse.Namespace) -> int:
    src: Path = args.file
    try:
        log.info("loading %s", src)
        rec = load(src)
    except RecordingError as e:
        print(f"holdbeat export: {shown(e)}", file=sys.stderr)
        return EXIT_USAGE
    for w in rec.warnings:
        print(f"warning: {shown(src)}: {shown(w)}", file=sys.stderr)
    output = Path(args.output) if args.output else None
    if args.output and args.output.endswith(("/", os.sep)):
        try:
            private_dirs(output)  # type: ignore[arg-type]
        except OSError as e:
            print(
                f"holdbeat export: cannot create {shown(output)}: {e.strerror or e}",
                file=sys.stderr,
            )
            return EXIT_FAILED
    paths = output_paths(src, args.to, output)
    try:  # before the work: never over the recording, a non-regular file, an input
        check_targets(paths, force=args.force, inputs=[src])
    except OutputError as e:
        print(f"holdbeat export: {shown(e)}", file=sys.stderr)
        return EXIT_USAGE
    if args.to == "kubios" and len(rec.rr_ms) == 0:
        print(
            f"holdbeat export: {shown(src)} has no RR intervals (the strap sent heart rate only): "
            "nothing for Kubios; try --to csv or --to edf",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.to == "kubios":
        from holdbeat.interop.kubios import gap_count

        gaps = gap_count(rec)
        if gaps:
            print(
                f"note: {gaps} connection gap(s): Kubios times its beats by the RR sum and closes "
                "them up; the samples file's kubios_* times already allow for that",
                file=sys.stderr,
            )
    try:
        blobs = render(rec, args.to, args.fs)
        log.info("writing %s", ", ".join(map(str, paths)))
        written = write_files(dict(zip(paths, blobs, strict=True)), force=args.force, inputs=[src])
    except (InteropError, OutputError) as e:
        print(f"holdbeat export: {shown(e)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # WriteFailed names the file
        print(f"holdbeat export: {shown(e)}", file=sys.stderr)
        return EXIT_FAILED
    for p in written:
        if not getattr(args, "quiet", False):
            emit(f"wrote {shown(p)}")
    return EXIT_OK
