"""User text (beliefs, notes, situations, file names) made safe to print on a terminal.

Text a person typed, or that came from a file, can hold escape sequences that would move
the cursor, change colours or rewrite the title of the terminal. Every place that prints
such text goes through `clean`, so one function decides how (and can be swapped for a
stricter one).
"""

from __future__ import annotations

import unicodedata


def clean(text: str) -> str:
    """Control and bidirectional-format characters shown as visible escapes (\\x1b, \\u202e);
    line breaks and tabs become spaces."""
    out = []
    for ch in str(text):
        if ch in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
