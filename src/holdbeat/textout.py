"""User text (beliefs, notes, situations, file names) made safe to print on a terminal.

Text a person typed, or that came from a file, can hold escape sequences that would move
the cursor, change colours or rewrite the title of the terminal. Every place that prints
such text goes through `clean` (one line) or safe_text.for_terminal, which `clean` is
built on: one function decides how.
"""

from __future__ import annotations

from holdbeat.safe_text import for_terminal


def clean(text: str) -> str:
    """One line of user or file text: line breaks and tabs become spaces, every other
    control or bidirectional-format character a visible escape (\\x1b, \\u202e, \\u2028)
    by holdbeat's one terminal renderer, safe_text.for_terminal."""
    return for_terminal(str(text).replace("\r\n", " ").translate(_SPACES))


_SPACES = str.maketrans({"\n": " ", "\r": " ", "\t": " "})
