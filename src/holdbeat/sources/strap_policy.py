"""How a strap is found, kept and given up on: the times (`StrapConfig`; tests shrink
them), the growing pause between reconnect attempts, and the reason an `End` records when
a lost strap is not back within the deadline."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from holdbeat.sources.scan import DEFAULT_SCAN_S


@dataclass(frozen=True, slots=True)
class StrapConfig:
    """How to find, connect to and keep a strap. Tests shrink the times."""

    device: str | None = None  # address or name; None = the only strap in range
    scan_s: float = DEFAULT_SCAN_S
    connect_timeout_s: float = 20.0
    reconnect_deadline_s: float = 300.0  # give up (End) when not back within this
    reconnect_scan_s: float = 5.0  # one reconnect attempt scans this long
    backoff_initial_s: float = 0.5
    backoff_factor: float = 2.0
    backoff_max_s: float = 10.0
    tick_s: float = 0.25
    close_timeout_s: float = 5.0  # stop-notify + disconnect at the end
    adapter: str | None = None  # BlueZ adapter name, e.g. "hci1"

    def __post_init__(self) -> None:
        for name in (
            "scan_s",
            "connect_timeout_s",
            "reconnect_deadline_s",
            "reconnect_scan_s",
            "tick_s",
            "close_timeout_s",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {v!r}")
        if not (0 <= self.backoff_initial_s <= self.backoff_max_s):
            raise ValueError("backoff must satisfy 0 <= backoff_initial_s <= backoff_max_s")
        if self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be >= 1, not {self.backoff_factor!r}")


def backoff_delays(initial_s: float, factor: float, max_s: float) -> Iterator[float]:
    """initial, initial*factor, ... capped at max_s, forever."""
    d = initial_s
    while True:
        yield min(d, max_s)
        d = min(d * factor, max_s)


def give_up_reason(deadline_s: float, last_error: str) -> str:
    mins = deadline_s / 60.0
    span = f"{mins:g} min" if deadline_s >= 60 and mins == round(mins, 1) else f"{deadline_s:g} s"
    reason = f"strap lost: not back within {span}"
    if last_error:
        reason += f" (last: {last_error})"
    return reason
