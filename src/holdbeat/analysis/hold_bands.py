"""Which band each hold is judged against, for the report, `compare` and `history` alike.

A band is computed over a reference phase's catch-up samples (the live window's beats:
analysis/prep.py). The reference is the session's baseline, or - when the session chose
reference "rest" (baseline_band.REFERENCES) - the nearest rest or baseline before each hold.
The live window (gui/model.py) follows the same choice, from the same header setting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from holdbeat.analysis.baseline_band import (
    Band,
    baseline_band,
    recorded_reference,
    reference_position,
)
from holdbeat.analysis.prep import Prepared


def baseline_position(phases: Sequence[Any]) -> int | None:
    """Position of the first baseline phase (the reference for bands and deltas)."""
    return next((i for i, p in enumerate(phases) if p.kind == "baseline"), None)


def phase_bands(
    prep: Prepared, pos: int | None, metrics: Sequence[str], k: float, window_s: float
) -> dict[str, Band]:
    """The band of each metric over the phase at `pos` (NaN bands, "no baseline phase",
    without one)."""
    out: dict[str, Band] = {}
    for metric in metrics:
        if pos is None:
            out[metric] = Band(math.nan, math.nan, k, 0, metric, "no baseline phase")
            continue
        ph = prep.rec.phases[pos]
        roll = prep.catchup_rolling
        sel = roll.between(ph.start_s, ph.end_s)
        out[metric] = baseline_band(
            roll.metric(metric)[sel], k, metric, t_s=roll.t_s[sel], window_s=window_s
        )
    return out


def session_reference(prep: Prepared, override: str | None) -> str:
    """The reference in force: the one asked for, else the one the session used live."""
    return override or recorded_reference(prep.rec.header.settings)


def hold_reference(prep: Prepared, hold_pos: int, reference: str, base_i: int | None) -> int | None:
    """Position of the phase that gives the hold at `hold_pos` its band."""
    kinds = [p.kind for p in prep.rec.phases]
    return reference_position(kinds, hold_pos, reference, base_i)


def hold_bands(
    prep: Prepared,
    hold_pos: int,
    reference: str,
    base_i: int | None,
    base_bands: dict[str, Band],
    k: float,
    window_s: float,
) -> tuple[dict[str, Band], int | None]:
    """The bands (of `base_bands`' metrics) for the hold at `hold_pos`, and the position of
    the phase they come from: the baseline's own, or the nearest rest or baseline before
    the hold under reference "rest"."""
    ref = hold_reference(prep, hold_pos, reference, base_i)
    if ref == base_i:
        return base_bands, base_i
    return phase_bands(prep, ref, tuple(base_bands), k, window_s), ref
