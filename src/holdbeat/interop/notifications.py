"""Imported RR -> the notifications a strap would have sent. Pure.

No raw strap bytes exist for an imported file, so we make them: every RR is rounded to the
Heart Rate Measurement unit (1/1024 s, nearest unit, so |Δ| ≤ 0.48828125 ms per RR) and the
beats are packed into standard 0x2A37 notifications with `encode_hrm`, so replay, reports and
comparisons run the same code as for a live strap.

Timing, like a strap: beats are timed by the cumulative sum of the encoded RR, with session
time 0 at the start of the first interval. Notifications go out on a 1 s grid anchored at the
first beat; each carries the beats of its second (at most 9, a strap's 20-byte limit) and is
stamped with the time of its last beat (a host time ≥ every beat it carries, with zero
latency, so the beat timer reproduces the cumulative sum exactly). A second without a beat
gets a heart-rate-only notification, as real straps send. Where a file has timestamps (Polar
Sensor Logger) and they jump more than GAP_S beyond the RR, the connection was lost: the gap
is recorded explicitly (`connection lost` / `restored`) and the next beat is re-anchored at
its timestamp, never interpolated.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from holdbeat.hrs import FLAG_RR, RR_UNITS_PER_S, encode_hrm
from holdbeat.interop.imported_rr import ImportedRR, ImportFormatError
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT

PACKET_UNITS = 1024  # notification period: 1 s in 1/1024 s units
MAX_RR_PER_PACKET = 9  # 1 flags + 1 HR + 9 x 2 RR = 20 bytes, the default BLE payload
GAP_S = 3.0
HALF_UNIT_MS = 1000.0 / RR_UNITS_PER_S / 2  # 0.48828125 ms: the rounding bound per RR


def rr_to_units(rr_ms: np.ndarray | list[float] | tuple[float, ...]) -> np.ndarray:
    """Nearest 1/1024 s unit (the same rounding as hrs.ms_to_rr_units)."""
    return np.rint(np.asarray(rr_ms, dtype=float) * RR_UNITS_PER_S / 1000.0).astype(np.int64)


def units_to_ms(units: np.ndarray) -> np.ndarray:
    return np.asarray(units, dtype=float) * (1000.0 / RR_UNITS_PER_S)


@dataclass(frozen=True)
class Segment:
    """Beats [start, stop) timed contiguously from `first_beat_s` (a new anchor after a gap)."""

    start: int
    stop: int
    first_beat_s: float


def segments(imported: ImportedRR, units: np.ndarray) -> tuple[list[Segment], list[str]]:
    """Split at gaps the file's timestamps reveal; without timestamps there is one segment."""
    n = len(units)
    first = units[0] / RR_UNITS_PER_S
    if imported.first_beat_s is not None:  # the file knows when the first beat was
        first = imported.first_beat_s
    if imported.stamp_s is None or not len(imported.stamp_s):
        return [Segment(0, n, first)], []
    warnings: list[str] = []
    rel = np.asarray(imported.stamp_s, dtype=float) + first
    step = np.diff(rel) - units[1:] / RR_UNITS_PER_S
    back = rel[1:] < rel[:-1] - 1.0
    gap = step > GAP_S
    if imported.gap_before is not None:  # beats the file marks as missing (FIT, EDF+)
        gap |= np.asarray(imported.gap_before, dtype=bool)[1:]
    starts = [0, *(np.flatnonzero(~back & gap) + 1).tolist()]
    backwards = int(np.count_nonzero(back))
    if backwards:
        warnings.append(
            f"{backwards} timestamp(s) go back in time by more than 1 s (phone clock changed?); "
            "beats are timed from the RR sum there"
        )
    segs: list[Segment] = []
    last_beat = 0.0
    for k, s in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n
        anchor = first if s == 0 else max(float(rel[s]), last_beat + units[s] / RR_UNITS_PER_S)
        segs.append(Segment(s, stop, anchor))
        last_beat = anchor + int(units[s + 1 : stop].sum()) / RR_UNITS_PER_S
    if last_beat > MAX_SESSION_S:
        raise ImportFormatError(
            "the imported file",
            None,
            f"with its timestamps' gaps the beats span {last_beat / 86400:.1f} days, longer "
            f"than one session can be ({MAX_SESSION_TEXT}): split the file",
        )
    return segs, warnings


def beat_times(units: np.ndarray, segs: list[Segment]) -> np.ndarray:
    """Session time of every beat: segment anchor + exact cumulative sum of the encoded RR."""
    t = np.empty(len(units), dtype=float)
    for seg in segs:
        cum = np.cumsum(units[seg.start : seg.stop]) - units[seg.start]
        t[seg.start : seg.stop] = seg.first_beat_s + cum / RR_UNITS_PER_S
    return t


@dataclass(frozen=True)
class Packet:
    t_s: float
    rr_units: tuple[int, ...]
    hr_bpm: int
    segment: int


def _hr(units: tuple[int, ...]) -> int:
    mean_ms = sum(units) * 1000.0 / RR_UNITS_PER_S / len(units)
    return max(1, min(0xFFFF, round(60_000.0 / mean_ms)))


def iter_packets(units: np.ndarray, t_beats: np.ndarray, segs: list[Segment]) -> Iterator[Packet]:
    """Beats grouped into ~1 s notifications, stamped with their last beat's time, in time
    order, generated one by one (an import of days never holds them all).

    Beats whose time since the segment's first beat falls in (k-1, k] s go out in packet k,
    at most MAX_RR_PER_PACKET to a packet; a second without a beat gets an HR-only packet
    (the last HR). Grouping and each packet's HR (`_hr`) are computed in numpy per segment
    (tested equal to doing it packet by packet)."""
    hr = 0
    for k_seg, seg in enumerate(segs):
        u = units[seg.start : seg.stop]
        n = len(u)
        cum = np.cumsum(u) - u[0]  # integer units since the segment's first beat
        slot = -(-cum // PACKET_UNITS)  # ceil: beats in (T_k-1, T_k] go out at T_k
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = slot[1:] != slot[:-1]
        group_start = np.flatnonzero(new_group)
        pos = np.arange(n) - group_start[np.cumsum(new_group) - 1]
        cs = np.flatnonzero(pos % MAX_RR_PER_PACKET == 0)  # chunk starts
        ce = np.append(cs[1:], n)
        # _hr for every chunk at once: the same operations in the same order
        mean_ms = np.add.reduceat(u, cs) * 1000.0 / RR_UNITS_PER_S / (ce - cs)
        hrs = np.clip(np.rint(60_000.0 / mean_ms), 1, 0xFFFF).astype(np.int64).tolist()
        t_last = [round(x, 6) for x in t_beats[seg.start + ce - 1].tolist()]
        slots = slot[cs].tolist()
        opens = new_group[cs].tolist()
        ul, csl, cel = u.tolist(), cs.tolist(), ce.tolist()
        prev_slot = -1
        for j in range(len(csl)):
            if opens[j]:
                s = slots[j]
                for empty in range(prev_slot + 1, s):  # seconds without a beat: HR only
                    t_empty = seg.first_beat_s + empty * PACKET_UNITS / RR_UNITS_PER_S
                    yield Packet(round(t_empty, 6), (), hr, k_seg)
                prev_slot = s
            hr = hrs[j]
            yield Packet(t_last[j], tuple(ul[csl[j] : cel[j]]), hr, k_seg)


def packetize(units: np.ndarray, t_beats: np.ndarray, segs: list[Segment]) -> list[Packet]:
    return list(iter_packets(units, t_beats, segs))


def packet_bytes(p: Packet) -> bytes:
    """`encode_hrm(hr, rr in ms, rr_flag=True)` of a packet, packed straight from its RR
    units (a day is ~90,000 packets; tested equal to encode_hrm)."""
    hr, units = p.hr_bpm, p.rr_units
    if not 0 <= hr <= 0xFF or not all(0 <= u <= 0xFFFF for u in units):
        return encode_hrm(hr, [u * 1000.0 / RR_UNITS_PER_S for u in units], rr_flag=True)
    return struct.pack(f"<BB{len(units)}H", FLAG_RR, hr, *units)
