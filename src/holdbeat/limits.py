"""What a session can be: the bounds every time, line and allocation is checked against.

A hold practice session lasts minutes to hours; a strap worn for days is the extreme. Any
time beyond MAX_SESSION_S (7 days) in a recording, protocol, phases file or import is a
corrupt or hostile file, refused with a clear error before anything is sized by it.
"""

from __future__ import annotations

MAX_SESSION_S = 7 * 24 * 3600.0  # 7 days
MAX_SESSION_TEXT = "7 days"
#: one recording/import/phases line; a real one is under a few kB
MAX_LINE_BYTES = 1 << 20  # 1 MiB
#: a recording's header line carries the whole protocol (10,000 phases ≈ 3 MB)
MAX_HEADER_BYTES = 16 << 20  # 16 MiB
#: a protocol or phases file (TOML/CSV written by a person)
MAX_SMALL_FILE_BYTES = 16 << 20  # 16 MiB


def seconds_ok(t_s: float) -> bool:
    """A session time (or duration) holdbeat accepts: finite, 0 <= t <= MAX_SESSION_S."""
    return 0.0 <= t_s <= MAX_SESSION_S
