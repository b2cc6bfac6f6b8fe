"""Plain-text tables and numbers for the terminal reports (no heavy imports, so `history`
can print from its cache without loading the analysis stack)."""

from __future__ import annotations

import math

from holdbeat.safe_text import for_terminal


def fmt_num(x: float | None, spec: str, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return format(x, ("+" if signed else "") + spec)


def text_table(
    header: list[str], rows: list[list[str]], right: set[int] | None = None
) -> list[str]:
    right = right if right is not None else set(range(1, len(header)))
    header = [for_terminal(c) for c in header]
    rows = [[for_terminal(c) for c in r] for r in rows]  # names and modes come from files
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
