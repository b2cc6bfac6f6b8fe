"""The emulated strap's address and the strap timing the tests use (short scans, backoff)."""

from __future__ import annotations

from bluez_emulator import GUARD_S
from holdbeat.sources.strap_policy import StrapConfig

ADDR = "C0:FF:EE:00:00:01"  # the emulated strap the tests connect to
#: strap timing for tests: short scans and backoff; waits only guarded by GUARD_S
FAST = StrapConfig(
    device=ADDR,
    scan_s=0.3,
    connect_timeout_s=GUARD_S,
    reconnect_deadline_s=GUARD_S * 3,
    reconnect_scan_s=0.05,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
    tick_s=0.02,
    close_timeout_s=GUARD_S,
)
