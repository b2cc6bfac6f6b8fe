"""`holdbeat …`: argparse over one module per subcommand (holdbeat/commands/*.py).

Start-up is kept short: only the module of the command being run is imported (with its
numpy, asyncio, …). The other commands appear in `--help` from the one-line summaries in
`COMMANDS` (a test keeps them equal to each module's own). A command module that is not in
`COMMANDS` (a new one) is imported and registered as before, so it works, just not lazily.
Tab completion (argcomplete) builds the whole parser.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from importlib import import_module

from holdbeat import __version__, commands, log
from holdbeat.home import HomeError

EXIT_OK = 0
EXIT_FAILED = 1  # the session/command ran but failed
EXIT_USAGE = 2  # bad arguments or bad input files
EXIT_DEVICE = 3  # Bluetooth / strap problem
EXIT_INTERRUPTED = 130

#: command -> its one-line summary for `holdbeat --help` (equal to the module's help=)
COMMANDS: dict[str, str] = {
    "compare": "compare modes across many recordings (bootstrap CIs, effect sizes, figures)",
    "demo": "run a session on the simulated strap (no hardware)",
    "export": "write a recording as CSV, Kubios RR text or EDF+",
    "history": "every session, one row each, and trends over weeks (table, CSV, JSON, PNG)",
    "hold": "run a protocol on your heart-rate strap: live view, recording, markers by key",
    "import": "turn an RR file from another app into a holdbeat recording",
    "note": "add a note to a recording after the session (how it went, what happened)",
    "protocols": "list built-in protocols or check a protocol file",
    "replay": "replay a recording through the live pipeline",
    "report": "per-phase HRV, catch-up latencies, quality and a PNG figure for one recording",
    "scan": "list nearby heart-rate straps (any brand) with address and signal",
}


def module_name(command: str) -> str:
    """`import` is a keyword: its module is `import_`."""
    return f"{command}_" if command == "import" else command


def _unlisted_modules() -> list[str]:
    """Command modules that are not in COMMANDS (registered eagerly)."""
    known = {module_name(c) for c in COMMANDS}
    names = {
        f.name.removesuffix(".py")
        for d in commands.__path__
        for f in os.scandir(d)
        if f.name.endswith(".py") and not f.name.startswith("_")
    }
    return sorted(names - known)


def add_common_flags(p: argparse.ArgumentParser, top: bool = False) -> None:
    """--verbose and --quiet on the top level and on every command (said either place)."""
    default = 0 if top else argparse.SUPPRESS
    for long, short in (("--verbose", "-v"), ("--quiet", "-q")):
        # a command that defines its own --quiet/--verbose gets the short form too
        action = p._option_string_actions.get(long)
        if action is not None and short not in p._option_string_actions:
            action.option_strings.insert(0, short)
            p._option_string_actions[short] = action
    if "--verbose" not in p._option_string_actions:
        p.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=default,
            help="log what the command does on stderr (-vv: more detail)",
        )
    if "--quiet" not in p._option_string_actions:
        p.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=False if top else argparse.SUPPRESS,
            help="no tables, status lines or progress bars on the terminal (errors still show)",
        )


def _where_text() -> str:
    from holdbeat.home import where
    from holdbeat.safe_text import for_terminal

    try:
        w = where()
    except HomeError as e:
        return f"cannot tell the folder: {for_terminal(e)}"
    return (
        f"{for_terminal(w.path)} ({for_terminal(w.source)}; change it with --out, "
        "HOLDBEAT_RECORDINGS or the config file, see docs/guide.md)"
    )


ALL = "*"
_VERBOSITY = {"-v": 1, "--verbose": 1, "-vv": 2, "-vvv": 3}


class _Parser(argparse.ArgumentParser):
    """argparse, but what it echoes back (an unknown option, a bad value, a type's message
    naming files) reaches the terminal with its control characters as escapes."""

    def error(self, message: str):  # type: ignore[override]
        from holdbeat.safe_text import for_terminal_lines

        super().error(for_terminal_lines(message))


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The parser. Every command's module is imported for ALL; otherwise only `command`'s
    (None: none, for `holdbeat --help`)."""
    parser = _Parser(
        prog="holdbeat",
        description="Hold a chosen belief and watch your body catch up: live HR/HRV from a "
        "Bluetooth LE chest strap, recorded losslessly.",
        epilog=f"recordings: {_where_text()}. exit codes: 0 ok, 1 failed, 2 bad "
        "arguments/input, 3 Bluetooth/strap problem, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"holdbeat {__version__}")
    add_common_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in sorted(COMMANDS):
        if command == ALL or name == command:
            import_module(f"holdbeat.commands.{module_name(name)}").register(sub)
        else:
            sub.add_parser(name, help=COMMANDS[name], add_help=False)
    for mod in _unlisted_modules():
        import_module(f"holdbeat.commands.{mod}").register(sub)
    for name, p in sub.choices.items():
        if command == ALL or name == command or name not in COMMANDS:
            add_common_flags(p)
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in argv (the first word that is not an option), if known."""
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a if a in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _closed_streams_to_devnull()
    if "_ARGCOMPLETE" in os.environ:  # tab completion: the whole parser, then exit
        import argcomplete

        argcomplete.autocomplete(build_parser())
    parser = build_parser(_command_of(argv))
    # logging first, so what the argument types do (finding a recording) is logged too
    log.setup(sum(_VERBOSITY.get(a, 0) for a in argv[: argv.index("--") if "--" in argv else None]))
    args = parser.parse_args(argv)
    log.setup(getattr(args, "verbose", 0) or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    log.debug("command line: %s", argv)
    restore = {} if args.command in SESSIONS else _signals_exit()
    try:
        code = int(args.func(args) or 0)
    except _Signalled as e:  # SIGTERM/SIGHUP: what was being written is cleaned up on the way
        code = 128 + e.signum
    except KeyboardInterrupt:
        _quietly("interrupted")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # `holdbeat … | head`: the reader left; nothing more to say
        code = EXIT_FAILED
    except HomeError as e:  # the config file (read by any command that looks for recordings)
        from holdbeat.safe_text import for_terminal_lines

        _quietly(f"holdbeat: {for_terminal_lines(e)}")
        code = EXIT_USAGE
    finally:
        for sig, handler in restore.items():
            signal.signal(sig, handler)
    _settle_streams()
    return code


#: commands that run a session: they end it themselves on a signal (an `end` event)
SESSIONS = frozenset({"demo", "hold", "replay"})


class _Signalled(BaseException):
    """SIGTERM or SIGHUP during a command: raised where the command is, so the writer's
    cleanup (its temp files) runs, as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _signals_exit() -> dict:
    """SIGTERM/SIGHUP raise _Signalled (the default would kill the process mid-write and
    leave a hidden temp file behind); an ignored signal (nohup) stays ignored. Returns the
    handlers to put back."""

    def raise_(signum: int, _frame: object) -> None:
        raise _Signalled(signum)

    old = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            try:
                old[sig] = signal.signal(sig, raise_)
            except ValueError:  # not the main thread (main() called from a thread)
                break
    return old


def _quietly(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr)


def _closed_streams_to_devnull() -> None:
    """Started with stdout or stderr closed (`holdbeat … >&-`): Python has None there, and
    print(file=None) would put an error on stdout. Both go to /dev/null instead."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


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
