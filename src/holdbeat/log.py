"""`--verbose` logging without paying for `logging` at start-up when nobody asked for it.

Modules call `log.info(...)` / `log.debug(...)`; `setup(verbosity)` (the CLI does it) turns
them on: 1 = what a command does (INFO), 2 = more detail (DEBUG), on stderr.
"""

from __future__ import annotations

import sys

_level = 0  # 0 off, 1 info, 2 debug
_logger = None


def setup(verbosity: int) -> None:
    global _level, _logger
    _level = max(0, int(verbosity or 0))
    if _level == 0:
        return
    import logging

    class _SafeFormatter(logging.Formatter):
        """Paths and names in a log line are file or user text: control characters shown
        as escapes, as everywhere else on the terminal."""

        def formatMessage(self, record: logging.LogRecord) -> str:
            from holdbeat.safe_text import for_terminal_lines

            return for_terminal_lines(super().formatMessage(record))

    _logger = logging.getLogger("holdbeat")
    for h in list(_logger.handlers):
        if getattr(h, "_holdbeat", False):
            _logger.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._holdbeat = True  # type: ignore[attr-defined]
    handler.setFormatter(_SafeFormatter("holdbeat: %(message)s"))
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO if _level == 1 else logging.DEBUG)


def enabled(level: int = 1) -> bool:
    return _level >= level


def info(msg: str, *args: object) -> None:
    if _level >= 1 and _logger is not None:
        _logger.info(msg, *args)


def debug(msg: str, *args: object) -> None:
    if _level >= 2 and _logger is not None:
        _logger.debug(msg, *args)
