"""Text tables and prose that fit the terminal: abbreviate text columns, then wrap columns.

Numbers are never cut (a shortened number is a wrong number). When a table is too wide, the
text columns (names, reasons) are shortened with "…" down to a floor; if it is still too wide,
the columns are split into several tables, each repeating the first column. Prose lines are
wrapped with their indent. Output that is not a terminal (a pipe, a file) is left as it is,
unless COLUMNS says otherwise.
"""

from __future__ import annotations

import shutil
import textwrap

MIN_TEXT = 8  # a shortened text column keeps at least this many characters
SEP = "  "
UNLIMITED = 10_000


def width() -> int:
    """The terminal's columns; unlimited when stdout is not a terminal (COLUMNS wins)."""
    return shutil.get_terminal_size((UNLIMITED, 24)).columns


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: max(1, n - 1)] + "…"


def _render(
    header: list[str], rows: list[list[str]], right: set[int], widths: list[int]
) -> list[str]:
    def line(r: list[str]) -> str:
        cells = [_clip(c, w) for c, w in zip(r, widths, strict=True)]
        return SEP.join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def fit_table(
    header: list[str], rows: list[list[str]], right: set[int], max_width: int | None = None
) -> list[str]:
    """Lines of the table, no wider than max_width where that can be done honestly."""
    limit = width() if max_width is None else max_width
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def total(ws: list[int]) -> int:
        return sum(ws) + len(SEP) * (len(ws) - 1)

    if total(widths) <= limit:
        return _render(header, rows, right, widths)
    # 1. shorten text (left-aligned) columns, widest first, not below MIN_TEXT
    text_cols = [i for i in range(len(header)) if i not in right]
    while total(widths) > limit:
        i = max(text_cols, key=lambda k: widths[k], default=None)
        if i is None or widths[i] <= MIN_TEXT:
            break
        widths[i] = max(MIN_TEXT, widths[i] - (total(widths) - limit))
    if total(widths) <= limit:
        return _render(header, rows, right, widths)
    # 2. split the columns into blocks that fit, each starting with column 0
    blocks: list[list[int]] = []
    cur = [0]
    for i in range(1, len(header)):
        if total([widths[k] for k in [*cur, i]]) > limit and len(cur) > 1:
            blocks.append(cur)
            cur = [0]
        cur.append(i)
    blocks.append(cur)
    out: list[str] = []
    for b, cols in enumerate(blocks):
        if b:
            out.append("")
        out += _render(
            [header[i] for i in cols],
            [[r[i] for i in cols] for r in rows],
            {k for k, i in enumerate(cols) if i in right},
            [widths[i] for i in cols],
        )
    return out


def fit_text(text: str, max_width: int | None = None) -> str:
    """Wrap lines longer than the terminal, keeping their indent (+2 for continuations)."""
    limit = width() if max_width is None else max_width
    if limit >= UNLIMITED:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= limit:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(
            textwrap.fill(
                line.strip(),
                max(20, limit),
                initial_indent=indent,
                subsequent_indent=indent + "  ",
                break_on_hyphens=False,
            )
        )
    return "\n".join(out)
