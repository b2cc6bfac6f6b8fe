"""`holdbeat …`: argparse over one module per subcommand (holdbeat/commands/*.py)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys

from holdbeat import __version__, commands

EXIT_OK = 0
EXIT_FAILED = 1  # the session/command ran but failed
EXIT_USAGE = 2  # bad arguments or bad input files
EXIT_DEVICE = 3  # Bluetooth / strap problem
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="holdbeat",
        description="Hold a chosen belief and watch your body catch up: live HR/HRV from a "
        "Bluetooth LE chest strap, recorded losslessly.",
        epilog="exit codes: 0 ok, 1 failed, 2 bad arguments/input, 3 Bluetooth/strap problem, "
        "130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"holdbeat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"holdbeat.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:
        _quietly("interrupted")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # `holdbeat … | head`: the reader left; nothing more to say
        code = EXIT_FAILED
    _settle_streams()
    return code


def _quietly(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr)


def _settle_streams() -> None:
    """Flush stdout/stderr now; if the reader is gone (closed pipe) or the terminal is
    (EIO after a hang-up), point them at /dev/null so that Python's own flush at exit
    prints no "Exception ignored" traceback. The work and its exit code stand."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


if __name__ == "__main__":
    sys.exit(main())
