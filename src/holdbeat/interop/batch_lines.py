"""Session events -> the holdbeat/1 lines RecordingWriter would write, in numpy batches.

An import of days is written chunk by chunk: packets parsed in numpy batches, beats timed and
judged by the same code the loader uses, memory bounded whatever the session's length.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np

from holdbeat.events import Header, Hrm, SessionEvent
from holdbeat.recording_lines import event_to_dict, header_to_dict, time_field

#: one encoder, made once: json.dumps with arguments builds a new one per call
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
CHUNK_EVENTS = 4096  # events decoded per batch: memory stays bounded, numpy does the work


def _line(d: dict) -> bytes:
    return (_ENCODE(d) + "\n").encode("utf-8")


def hrm_line(
    t_s: float,
    raw_hex: str,
    hr_bpm: int,
    rr_ms: list[float],
    contact: int,
    energy_kj: int,
    flags: list[str],
) -> bytes:
    """The line `_line(event_to_dict(hrm, processed))` gives for a parsed notification,
    formatted directly (a day has ~90,000; tests compare with the JSON encoder): floats as
    JSON writes them (their repr), `contact`/`energy_kj` -1 when absent, flags only when one
    is set (they are plain words, nothing to escape)."""
    rr = ",".join([repr(round(r, 3)) for r in rr_ms])
    s = f'{{"t":{t_s!r},"type":"hrm","raw":"{raw_hex}","hr":{hr_bpm},"rr":[{rr}]'
    if contact >= 0:
        s += ',"contact":true' if contact else ',"contact":false'
    if energy_kj >= 0:
        s += f',"energy":{energy_kj}'
    if any(flags):
        s += ',"flags":[' + ",".join([f'"{f}"' for f in flags]) + "]"
    return (s + "}\n").encode("utf-8")


class _Decoder:
    """What the live Processor puts on a recording line (HR, RR, contact, energy, flags),
    for a chunk of events at a time: packets parsed in one numpy batch, beats timed and
    judged by the loader's own `live_beats` (tested equal to the Processor), state carried
    from chunk to chunk, no live HRV (a line never holds it)."""

    def __init__(self) -> None:
        from holdbeat.beats import BeatTimer
        from holdbeat.clean import LiveFlagger

        self.timer = BeatTimer()
        self.flagger = LiveFlagger()

    def lines(self, events: list[SessionEvent]) -> Iterator[bytes]:
        from holdbeat.hrs import parse_hrm_batch
        from holdbeat.recording import live_beats
        from holdbeat.recording_scan import scanned

        sc = scanned(events, [])
        batch = parse_hrm_batch(sc.raws)
        ok, hr = batch.ok.tolist(), batch.hr_bpm.tolist()
        contact, energy = batch.contact.tolist(), batch.energy_kj.tolist()
        rr_all, starts = batch.rr_ms.tolist(), batch.rr_start.tolist()
        # the timer and flagger as the loader runs them, state carried from chunk to chunk
        t_packet = np.asarray(sc.t_hrm, dtype=float)
        _, _, flags_all = live_beats(batch, t_packet, sc.lost_before, self.timer, self.flagger)
        k = 0
        for ev in events:
            if not isinstance(ev, Hrm):
                yield _line(event_to_dict(ev))
                continue
            if not ok[k]:
                d = event_to_dict(ev)  # t, type, raw
                d["error"] = batch.errors[k]
                k += 1
                yield _line(d)
                continue
            a, b = starts[k], starts[k + 1]
            yield hrm_line(
                time_field(ev.t_s),
                ev.raw.hex(),
                hr[k],
                rr_all[a:b],
                contact[k],
                energy[k],
                flags_all[a:b],
            )
            k += 1


def write_lines(
    f: BinaryIO, header: Header, events: Iterable[SessionEvent], window_s: float = 60.0
) -> None:
    """Write exactly the lines RecordingWriter writes, chunk by chunk: memory does not grow
    with the session. `window_s` is unused (a recording line has no rolling HRV)."""
    f.write(_line(header_to_dict(header)))
    decoder = _Decoder()
    chunk: list[SessionEvent] = []
    for ev in events:
        chunk.append(ev)
        if len(chunk) >= CHUNK_EVENTS:
            f.writelines(decoder.lines(chunk))
            chunk = []
    if chunk:
        f.writelines(decoder.lines(chunk))


def recording_bytes(
    header: Header, events: Iterable[SessionEvent], window_s: float = 60.0
) -> bytes:
    """The whole recording in memory (small imports and tests); see write_lines."""
    buf = io.BytesIO()
    write_lines(buf, header, events, window_s)
    return buf.getvalue()
