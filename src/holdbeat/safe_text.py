"""Untrusted text made safe for the programs that show it: terminals and spreadsheets.

Beliefs, prompts, protocol names, notes, device names and file names come from people,
files and radio advertisements. Printed raw, control characters in them drive the
terminal (OSC 52 writes the clipboard, cursor moves can fake a `recorded: …` line,
bidi overrides reorder what is read); in a CSV cell, a leading `=`/`+`/`-`/`@` makes a
spreadsheet run a formula. Pure functions, one job each.
"""

from __future__ import annotations

import re
import unicodedata

#: invisible but harmless: the zero-width joiner builds emoji sequences
_KEEP = {"\u200d"}
#: C0, DEL, C1, line/paragraph separators, format characters (bidi controls, zero width
#: spaces, BOM...), surrogates (undecodable bytes) and private use
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def _visible(c: str) -> str:
    if c in _KEEP or unicodedata.category(c) not in _HIDDEN_CATEGORIES:
        return c
    o = ord(c)
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def for_terminal(text: object, limit: int | None = None) -> str:
    """`text` with every control character shown as an escape (ESC -> \\x1b), at most
    `limit` characters of the original (then "…"). Printable text, any script, is kept."""
    s = str(text)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    if not s.isprintable():  # (line and paragraph separators are not printable either)
        s = "".join(map(_visible, s))
    return s + "…" if cut else s


def for_terminal_lines(text: object) -> str:
    """`for_terminal` line by line: a message of several lines (a list of matching files,
    a Bluetooth hint) keeps its line breaks, and nothing else."""
    return "\n".join(for_terminal(line) for line in str(text).split("\n"))


#: OWASP "CSV injection": a cell a spreadsheet would run as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


#: spaces a spreadsheet may trim before it reads a formula
_LEADING = " \t\r\n\u00a0\u200b\ufeff"
#: in a cell, line breaks and tabs are text (the CSV quotes them); other control and
#: format characters would still drive a terminal that shows the file (`cat out.csv`)
_CELL_KEEP = {"\n", "\t", "\r"}


def for_spreadsheet(cell: object) -> object:
    """A CSV cell a spreadsheet will show, never run: text starting with = + - @ tab or CR,
    also after leading spaces, gets a leading apostrophe (OWASP's advice); control and
    format characters other than line breaks and tabs are shown as escapes, as on a
    terminal. Numbers, and text that is exactly a number such as "-0.25", are left as they
    are so columns stay numeric."""
    if not isinstance(cell, str):
        return cell
    if not cell.isprintable():
        cell = "".join(c if c in _CELL_KEEP else _visible(c) for c in cell)
    if not (cell.startswith(_FORMULA_START) or cell.lstrip(_LEADING).startswith(_FORMULA_START)):
        return cell
    if _PLAIN_NUMBER.match(cell):
        return cell
    return "'" + cell
