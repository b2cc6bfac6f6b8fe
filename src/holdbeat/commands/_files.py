"""The files of the analysis commands (report, compare, history): unreadable inputs named
(and the command stopped unless --skip-bad), the flags that name the outputs, the checks
before any work, and writing them with one rule for messages and exit codes (2: a path
refused, e.g. a recording or a device; 1: the disk failed)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from holdbeat.analysis.io import figure_arg, output_arg
from holdbeat.safe_text import for_terminal

EXIT_REFUSED, EXIT_WRITE_FAILED = 2, 1


def add_figure_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--png",
        "--figure",
        dest="png",
        type=figure_arg,
        metavar="PATH",
        help="write the figure: PNG, SVG or PDF by the extension (.png, .svg, .pdf)",
    )


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", type=output_arg, metavar="PATH", help="write every number as JSON")


def refuse_outputs(
    outputs: Sequence[Path | None],
    inputs: Sequence[Path],
    figure: Path | None = None,
    render: Callable[[str], str] = for_terminal,
) -> bool:
    """Before any work: True (and the reason on stderr) when an output may not be written
    (over an input, a recording, a non-regular file) or `figure` has no figure extension."""
    from holdbeat.analysis.io import OutputError, check_outputs, figure_problem

    try:
        check_outputs(outputs, inputs)
    except OutputError as e:
        print(f"holdbeat: {render(str(e))}", file=sys.stderr)
        return True
    problem = figure_problem(figure)
    if problem:
        print(f"holdbeat: {render(problem)}", file=sys.stderr)
        return True
    return False


def write_outputs(
    outputs: Iterable[tuple[Path | None, Callable[[Path], object]]],
    render: Callable[[str], str] = for_terminal,
) -> int:
    """Write each output whose path was given, in order, saying which on stderr -> the exit
    code: 0, 2 when a path is refused (OutputError), 1 when writing fails (OSError)."""
    from holdbeat.analysis.io import OutputError

    try:
        for path, write in outputs:
            if path:
                write(path)
                print(f"wrote {render(str(path))}", file=sys.stderr)
    except OutputError as e:
        print(f"holdbeat: {render(str(e))}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as e:
        print(f"holdbeat: could not write output: {render(str(e))}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    return 0


def refuse_unreadable(
    errors: list[str], skip_bad: bool, render: Callable[[str], str] = for_terminal
) -> bool:
    """Name every unreadable input on stderr; True when the command must stop (exit 2)
    because the user did not ask to --skip-bad them. One rule for compare and history."""
    if not errors:
        return False
    for e in errors:
        print(f"holdbeat: {render(e)}", file=sys.stderr)
    if skip_bad:
        return False
    print(
        f"holdbeat: {len(errors)} input(s) unreadable; fix or remove them, or use --skip-bad",
        file=sys.stderr,
    )
    return True
