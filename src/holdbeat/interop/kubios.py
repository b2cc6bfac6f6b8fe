"""Recording -> Kubios HRV input: RR text plus a sidecar of phase "samples". Pure.

Kubios HRV reads ASCII RR interval data as one column of RR values in seconds or
milliseconds; we write one RR per line in ms with three decimals and no header (the
1/1024 s unit is 0.9765625 ms, so 3 decimals keep every value exact to its unit:
re-importing rounds back to the same unit). Every beat is written, artifacts included:
Kubios applies its own artifact correction.

Kubios builds its time axis from the cumulative sum of the RR (time 0 = start of the first
interval), not from clock time. The sidecar CSV therefore gives each phase's limits on that
axis, ready to be entered as analysis samples (start and length), next to the session times.
After a connection gap the two axes differ (Kubios closes the hole); the sidecar's Kubios
times already account for it, and `gaps` counts the holes inside each phase.
"""

from __future__ import annotations

import numpy as np

from holdbeat.interop.export_csv import csv_bytes, phase_index_at
from holdbeat.recording import Recording

SAMPLE_COLUMNS = (
    "phase_index",
    "phase",
    "kind",
    "mode",
    "kubios_start",
    "kubios_length",
    "kubios_start_s",
    "kubios_end_s",
    "session_start_s",
    "session_end_s",
    "beats",
    "artifacts",
    "gaps",
)


def rr_text(rr_ms: np.ndarray) -> bytes:
    """One RR per line, ms, 3 decimals, no header."""
    return "".join(f"{float(r):.3f}\n" for r in rr_ms).encode("ascii")


def kubios_axis(rr_ms: np.ndarray) -> np.ndarray:
    """Kubios time (s) of every beat: the cumulative RR sum."""
    return np.cumsum(np.asarray(rr_ms, dtype=float)) / 1000.0


def session_to_kubios(t_s: np.ndarray, beat_t_s: np.ndarray, kubios_t_s: np.ndarray) -> np.ndarray:
    """Map session times onto Kubios' axis through the beats (slope 1 outside them)."""
    t_s = np.asarray(t_s, dtype=float)
    if len(beat_t_s) == 0:
        return np.zeros_like(t_s)
    beat_t_s = np.maximum.accumulate(np.asarray(beat_t_s, dtype=float))  # a re-anchor can step back
    inside = np.interp(t_s, beat_t_s, kubios_t_s)
    before = kubios_t_s[0] + (t_s - beat_t_s[0])
    after = kubios_t_s[-1] + (t_s - beat_t_s[-1])
    k = np.where(t_s < beat_t_s[0], before, np.where(t_s > beat_t_s[-1], after, inside))
    return np.clip(k, 0.0, None)


def hms(seconds: float) -> str:
    """h:mm:ss to the nearest second, the way Kubios' sample fields take times."""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


def sample_rows(rec: Recording) -> list[list[str]]:
    k_beats = kubios_axis(rec.rr_ms)
    where = phase_index_at(rec.phases, rec.beat_t_s)
    holes = np.asarray(rec.gap_before, dtype=bool).copy()
    if len(holes):
        holes[0] = False  # the first beat starts the series; it closes no hole
    rows = []
    for i, ph in enumerate(rec.phases):
        ks, ke = session_to_kubios(np.array([ph.start_s, ph.end_s]), rec.beat_t_s, k_beats)
        mine = where == i
        gaps = int(np.count_nonzero(holes & mine))
        rows.append(
            [
                str(ph.index),
                ph.name,
                ph.kind,
                ph.mode,
                hms(ks),
                hms(ke - ks),
                f"{ks:.3f}",
                f"{ke:.3f}",
                f"{ph.start_s:.3f}",
                f"{ph.end_s:.3f}",
                str(int(np.count_nonzero(mine))),
                str(int(np.count_nonzero(mine & (rec.flag != "")))),
                str(gaps),
            ]
        )
    return rows


def export_kubios(rec: Recording) -> tuple[bytes, bytes]:
    """(RR text, samples sidecar CSV)."""
    return rr_text(rec.rr_ms), csv_bytes(SAMPLE_COLUMNS, sample_rows(rec))


def gap_count(rec: Recording) -> int:
    """Holes Kubios will close up: beats after the first that start a new segment."""
    return int(np.count_nonzero(rec.gap_before[1:])) if len(rec.gap_before) else 0
