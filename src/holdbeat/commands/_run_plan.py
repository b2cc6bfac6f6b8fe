"""A command runs its session plan: the screenshot checked first, then the outcome as a
message and an exit code (0 done, 1 failed, 2 bad --screenshot, 130 Ctrl-C, 128+signal)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from holdbeat.events import End
from holdbeat.printing import say
from holdbeat.runner import SessionInterrupted, SessionPlan, execute
from holdbeat.sinks.recorder import RecordingFailed


def report_end(end: End, path: Path | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if path is not None:
        say(f"recorded: {path}", out)
    if end.reason.startswith("error"):
        say(f"holdbeat: session ended with {end.reason}", sys.stderr)
        return 1
    return 0


def check_screenshot(path: Path | None, inputs: tuple[Path, ...] = ()) -> str:
    """Before the session: the screenshot may be written (never over a recording, a device,
    a FIFO, an input such as the --protocol file...); its folder is created. Returns an
    error message or ""."""
    if path is None:
        return ""
    from holdbeat.output import OutputError, check_target, private_dirs

    try:
        private_dirs(path.parent)
        check_target(path, force=True, inputs=inputs)
    except OutputError as e:
        return f"--screenshot: {e}"
    except OSError as e:
        return f"--screenshot: cannot create {path.parent}: {e.strerror or e}"
    return ""


def run_plan_cli(plan: SessionPlan) -> int:
    from holdbeat.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

    problem = check_screenshot(plan.screenshot, plan.inputs)
    if problem:
        say(f"holdbeat: {problem}", sys.stderr)
        return EXIT_USAGE
    try:
        end, path = execute(plan)
    except RecordingFailed as e:
        say(f"holdbeat: {e}", sys.stderr)
        return EXIT_FAILED
    except SessionInterrupted as e:
        if e.path is not None:
            say(f"interrupted; {e.path} was closed with an 'end' event", sys.stderr)
        else:
            say("interrupted before the session started; nothing was recorded", sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        say("interrupted", sys.stderr)
        return EXIT_INTERRUPTED
    if plan.source_end is not None and end == plan.source_end:
        # a replay that reached the recording's end: done, whatever ended the original
        if path is not None:
            say(f"recorded: {path}")
        return 0
    code = report_end(end, path)
    failed = [*plan.failed, *(getattr(s, "failed", "") for s in plan.extra_sinks)]
    if code == 0 and any(failed):
        code = EXIT_FAILED  # the session is recorded; an output it asked for is not written
    if end.reason == "interrupted":
        return EXIT_INTERRUPTED
    if end.reason.startswith("terminated"):
        return 128 + 15
    if end.reason.startswith("hangup"):
        return 128 + 1
    return code
