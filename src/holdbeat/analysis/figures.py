"""Figure machinery shared by `report`, `compare` and `history`: matplotlib on Agg (no
display needed), the axes style, the target colours, and saving through the one output writer.

Colours are the live window's (holdbeat.gui.palette, Okabe–Ito, colour-blind safe), and
every coloured thing is also labelled, so colour is never the only cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from holdbeat.gui import palette as pal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


#: targets have no colour in the live window; these stay clear of the mode colours
TARGET_COLOURS = {"self": pal.BLUE, "future": pal.VERMILLION, "relational": "#7A3E9D"}


def pyplot():
    """matplotlib's pyplot on Agg. Every text holdbeat draws is plain text: file text (a
    belief, a target, a phase name) with a '$' would otherwise start mathtext, and a bad
    formula raises while the figure is saved (holdbeat draws no formulas)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def style_axes(ax: Axes) -> None:
    ax.set_facecolor(pal.BACKGROUND)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.tick_params(labelsize=9)


def save(fig: Figure, path: Path, inputs: Sequence[Path] = ()) -> None:
    """Write the figure as PNG, SVG or PDF by the file's extension through the one output
    writer (0600, atomic, never over a recording or a non-regular file); report/compare
    replace an existing regular file. Any other extension is refused, nothing written."""
    from holdbeat.analysis.io import FIGURE_FORMATS
    from holdbeat.output import write_file

    path = Path(path)
    fmt = FIGURE_FORMATS.get(path.suffix.lower())
    try:
        if fmt is None:
            raise ValueError(f"{path}: unknown figure type {path.suffix!r}; use .png, .svg or .pdf")
        write_file(
            path,
            lambda f: fig.savefig(
                f, format=fmt, facecolor=fig.get_facecolor(), metadata=_metadata(fmt)
            ),
            force=True,
            inputs=inputs,
        )
    finally:
        pyplot().close(fig)


def _metadata(fmt: str) -> dict:
    """No date in SVG/PDF, so the same report gives the same bytes."""
    return {"Date": None} if fmt in ("svg", "pdf") else {}
