"""Numbers and plain-text tables for the rendered reports (terminal and JSON; no heavy
imports, so `history` can print from its cache without loading the analysis stack)."""

from __future__ import annotations

import math

from holdbeat.safe_text import for_terminal


def fmt_num(x: float | None, spec: str, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return format(x, ("+" if signed else "") + spec)


def json_num(x: float | None) -> float | None:
    """A number for JSON, which has no NaN or infinity: those (and None) become null."""
    return None if x is None or not math.isfinite(x) else float(x)


def text_table(
    header: list[str], rows: list[list[str]], right: set[int] | None = None
) -> list[str]:
    """Aligned columns, fitted to the terminal (holdbeat.termtable: text columns shortened,
    numbers never cut, blocks of columns when still too wide; pipes left whole)."""
    from holdbeat.termtable import fit_table

    right = right if right is not None else set(range(1, len(header)))
    header = [for_terminal(c) for c in header]
    rows = [[for_terminal(c) for c in r] for r in rows]  # names and modes come from files
    return fit_table(header, rows, right)
