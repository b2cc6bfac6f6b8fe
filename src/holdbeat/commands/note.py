"""`holdbeat note FILE TEXT`: add the 'after' note to a recording (how it went)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from holdbeat.commands._types import text
from holdbeat.printing import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "note",
        help="add a note to a recording after the session (how it went, what happened)",
        description="Append a note to a finished recording as its 'after' note: one more "
        "line, nothing else in the file changes. Shown by report and history, exported.",
        epilog="exit codes: 0 added, 1 could not write, 2 not a recording or an empty note",
    )
    p.add_argument("file", type=Path, help="a holdbeat/1 recording (.jsonl)")
    p.add_argument("text", type=text, help="the note")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holdbeat.notes import NoteError, append_note
    from holdbeat.textout import clean

    try:
        append_note(args.file, args.text)
    except NoteError as e:
        print(f"holdbeat: {clean(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        print(
            f"holdbeat: {clean(str(args.file))}: cannot add the note: {e.strerror or e}",
            file=sys.stderr,
        )
        return 1
    emit(f"note added to {clean(str(args.file))}")  # added: a dead stdout changes nothing
    return 0
