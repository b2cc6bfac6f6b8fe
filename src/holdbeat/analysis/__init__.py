"""Offline analysis: catch-up detection, per-session report, cross-session comparison.

Pure numerics live in `catchup`, `stats`, `report` and `compare`; `figures` draws with
matplotlib (Agg). Nothing here reads files except `load_*` helpers that the commands use.
"""

from holdbeat.analysis.baseline_band import Band, baseline_band
from holdbeat.analysis.catchup import CatchUp, LiveCatchUp, catch_up, expected_direction
from holdbeat.analysis.time_constant import ExpFit, fit_exponential

__all__ = [
    "Band",
    "CatchUp",
    "ExpFit",
    "LiveCatchUp",
    "baseline_band",
    "catch_up",
    "expected_direction",
    "fit_exponential",
]
