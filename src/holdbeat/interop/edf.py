"""Recording <-> EDF+ (written and read with edfio). Pure: bytes in memory, no file access.

EDF signals need a fixed sample rate, beats come at irregular times, so the series are
resampled (default 4 Hz, the usual rate for RR spectra), one data record per second:

- `RR`       ms, the RR tachogram: each interval placed at the beat that ends it, linear
             between consecutive beats; 0 where undefined (before the first beat, after the
             last, across a connection gap). Artifacts are kept as measured.
- `HR`       bpm, 60000 / RR of the same samples; 0 where undefined.
- `HR strap` bpm, the strap's own HR field, held from each notification for at most 2.5 s;
             0 where none (the only signal from straps that send no RR).

EDF stores 16-bit integers: a value reads back within half a digital step (RR range
0..3000 ms -> 0.023 ms; HR 0..300 bpm -> 0.0023 bpm; wider if the data need it).

Everything else is an EDF+ annotation (onset in s from the start): `phase N kind mode: name`
with the phase's duration, `belief (target): text`, `marker KIND[: text]`, `rating WHEN SCALE
V/10 (phase N)`, `connection STATE`, `end: reason`, and one `beat RR=… ms` per beat (exact RR,
exact beat time, plus ` flag=…` / ` gap`), so the beat series itself survives exactly.

The start date/time is the recording's UTC start (EDF has no time-zone field). The patient
field is the EDF+ anonymous `X X X X`.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import edfio
import numpy as np

from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Connection,
    Cue,
    End,
    Marker,
    Rating,
    SessionNote,
)
from holdbeat.interop import InteropError
from holdbeat.interop.export_csv import exact
from holdbeat.recording import Recording

FS_HZ = 4
#: samples per signal an export may build (7 days at 16 Hz; a day at 115 Hz): bounded memory
MAX_SAMPLES = 10_000_000
STRAP_HR_HOLD_S = 2.5
RR_LABEL, HR_LABEL, STRAP_LABEL = "RR", "HR", "HR strap"
_BEAT = re.compile(r"^beat RR=([0-9.]+) ms(?: flag=(\S+))?( gap)?$")


def _clean(text: str) -> str:
    """EDF+ annotation text may not contain its separators (0x00, 0x14, 0x15): no controls."""
    return "".join(c if ord(c) >= 32 else " " for c in text).strip()


def _monotone(t: np.ndarray) -> np.ndarray:
    """Beat times never decrease (a re-anchored timer can step back by a few ms)."""
    return np.maximum.accumulate(t) if len(t) else t


def tachogram(
    beat_t_s: np.ndarray, rr_ms: np.ndarray, gap_before: np.ndarray, n: int, fs_hz: float
) -> np.ndarray:
    """RR at t = k / fs: linear between consecutive beats, 0 outside them and across gaps."""
    t = np.arange(n) / fs_hz
    out = np.zeros(n)
    bt = _monotone(np.asarray(beat_t_s, dtype=float))
    rr = np.asarray(rr_ms, dtype=float)
    if len(bt) < 2:
        return out
    i1 = np.searchsorted(bt, t, side="right")
    inner = (i1 >= 1) & (i1 < len(bt))
    j1 = np.clip(i1, 1, len(bt) - 1)
    j0 = j1 - 1
    span = bt[j1] - bt[j0]
    ok = inner & ~np.asarray(gap_before, dtype=bool)[j1] & (span > 0)
    frac = np.where(ok, (t - bt[j0]) / np.where(span > 0, span, 1.0), 0.0)
    out[ok] = (rr[j0] + frac * (rr[j1] - rr[j0]))[ok]
    on_last = t == bt[-1]
    out[on_last] = rr[-1]
    return out


def strap_hr(hr_t_s: np.ndarray, hr_bpm: np.ndarray, n: int, fs_hz: float) -> np.ndarray:
    """The strap's HR field, sample-and-hold for at most STRAP_HR_HOLD_S, else 0."""
    t = np.arange(n) / fs_hz
    out = np.zeros(n)
    ht = _monotone(np.asarray(hr_t_s, dtype=float))
    if len(ht) == 0:
        return out
    idx = np.searchsorted(ht, t, side="right") - 1
    ok = idx >= 0
    safe = np.clip(idx, 0, None)
    ok &= (t - ht[safe]) < STRAP_HR_HOLD_S
    out[ok] = np.asarray(hr_bpm, dtype=float)[safe][ok]
    return out


def _practice_text(ev: SessionNote | ActionPlan | ActionDone | Cue) -> str:
    if isinstance(ev, SessionNote):
        return f"note {ev.when}: {ev.text}"
    if isinstance(ev, ActionPlan):
        return f"action (phase {ev.phase_index}): {ev.text}"
    if isinstance(ev, ActionDone):
        return f"action done (phase {ev.phase_index}): {'yes' if ev.done else 'no'}"
    return f"cue {ev.kind} (phase {ev.phase_index})" + (f": {ev.detail}" if ev.detail else "")


def annotations(rec: Recording) -> list[edfio.EdfAnnotation]:
    A = edfio.EdfAnnotation
    anns = [A(0.0, None, _clean(f"holdbeat/1 session {rec.header.session_id}"))]
    for ph in rec.phases:
        dur = max(0.0, ph.end_s - ph.start_s)
        anns.append(A(ph.start_s, dur, _clean(f"phase {ph.index} {ph.kind} {ph.mode}: {ph.name}")))
        if ph.belief:
            anns.append(A(ph.start_s, dur, _clean(f"belief ({ph.target or '-'}): {ph.belief}")))
    for ev in rec.events:
        if isinstance(ev, Marker):
            anns.append(
                A(ev.t_s, None, _clean(f"marker {ev.kind}" + (f": {ev.text}" if ev.text else "")))
            )
        elif isinstance(ev, Rating):
            text = f"rating {ev.when} {ev.scale} {ev.value}/10 (phase {ev.phase_index})"
            anns.append(A(ev.t_s, None, _clean(text)))
        elif isinstance(ev, Connection):
            anns.append(
                A(
                    ev.t_s,
                    None,
                    _clean(f"connection {ev.state}" + (f": {ev.detail}" if ev.detail else "")),
                )
            )
        elif isinstance(ev, End):
            anns.append(A(ev.t_s, None, _clean(f"end: {ev.reason}")))
        elif isinstance(ev, SessionNote | ActionPlan | ActionDone | Cue):
            anns.append(A(ev.t_s, None, _clean(_practice_text(ev))))
    for t, rr, flag, gap in zip(rec.beat_t_s, rec.rr_ms, rec.flag, rec.gap_before, strict=True):
        text = (
            f"beat RR={exact(rr)} ms" + (f" flag={flag}" if flag else "") + (" gap" if gap else "")
        )
        anns.append(A(float(t), None, text))  # EDF+ allows negative onsets
    return anns


def _start(rec: Recording) -> datetime | None:
    try:
        return datetime.fromisoformat(rec.header.started_utc.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _range_max(values: np.ndarray, floor: float, step: float) -> float:
    top = float(np.max(values)) if len(values) else 0.0
    return max(floor, math.ceil(top / step) * step)


def _signal(
    data: np.ndarray,
    fs_hz: int,
    label: str,
    unit: str,
    transducer: str,
    range_floor_step: tuple[float, float],
    prefiltering: str,
) -> edfio.EdfSignal:
    """One signal, its physical range from 0 to its maximum rounded up (at least the floor)."""
    return edfio.EdfSignal(
        data,
        fs_hz,
        label=label,
        physical_dimension=unit,
        transducer_type=transducer,
        physical_range=(0.0, _range_max(data, *range_floor_step)),
        prefiltering=prefiltering,
    )


def build_edf(rec: Recording, fs_hz: int = FS_HZ) -> edfio.Edf:
    if not (isinstance(fs_hz, int) and 1 <= fs_hz <= 1000):
        raise ValueError(f"EDF sample rate must be a whole number of Hz (1..1000), not {fs_hz!r}")
    duration = max(rec.duration_s, float(rec.beat_t_s.max()) if len(rec.beat_t_s) else 0.0)
    n_records = max(1, math.ceil(duration))
    n = n_records * fs_hz
    if n > MAX_SAMPLES:  # each signal is several float arrays of n while it is built
        raise InteropError(
            f"an EDF of this {duration / 3600:.1f} h recording at {fs_hz} Hz would hold "
            f"{n:,} samples per signal (at most {MAX_SAMPLES:,}): use --fs "
            f"{max(1, MAX_SAMPLES // n_records)} or less"
        )
    rr = tachogram(rec.beat_t_s, rec.rr_ms, rec.gap_before, n, fs_hz)
    hr = np.where(rr > 0, 60_000.0 / np.where(rr > 0, rr, 1.0), 0.0)
    shr = strap_hr(rec.hr_t_s, rec.hr_bpm, n, fs_hz)
    how = f"resampled {fs_hz}Hz, linear between beats; 0=no data"
    signals = [
        _signal(rr, fs_hz, RR_LABEL, "ms", "BLE HRS chest strap", (3000.0, 500.0), how),
        _signal(hr, fs_hz, HR_LABEL, "bpm", "60000/RR", (300.0, 50.0), how),
        _signal(
            shr,
            fs_hz,
            STRAP_LABEL,
            "bpm",
            "strap HR field",
            (300.0, 50.0),
            f"sample-and-hold {STRAP_HR_HOLD_S:g}s max; 0=no data",
        ),
    ]
    start = _start(rec)
    recording = edfio.Recording(
        startdate=start.date() if start else date(1985, 1, 1),
        equipment_code="holdbeat",
    )
    return edfio.Edf(
        signals,
        recording=recording,
        starttime=start.time().replace(microsecond=0) if start else time(0, 0, 0),
        data_record_duration=1.0,
        annotations=annotations(rec),
    )


def export_edf(rec: Recording, fs_hz: int = FS_HZ) -> bytes:
    buf = io.BytesIO()
    build_edf(rec, fs_hz).write(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- reading back


@dataclass
class EdfSeries:
    """What an exported EDF+ holds, read back."""

    fs_hz: float
    start: datetime
    rr_ms: np.ndarray
    hr_bpm: np.ndarray
    strap_hr_bpm: np.ndarray
    rr_step_ms: float  # one digital step: the read-back tolerance is half of it
    hr_step_bpm: float
    beat_t_s: np.ndarray
    beat_rr_ms: np.ndarray
    beat_flag: list[str]
    beat_gap: np.ndarray
    annotations: list[tuple[float, float | None, str]]


def _step(sig: edfio.EdfSignal) -> float:
    return (sig.physical_max - sig.physical_min) / (sig.digital_max - sig.digital_min)


def read_edf_series(source: bytes | str) -> EdfSeries:
    edf = edfio.read_edf(source)
    by_label = {s.label: s for s in edf.signals}
    for label in (RR_LABEL, HR_LABEL, STRAP_LABEL):
        if label not in by_label:
            raise ValueError(f"not a holdbeat EDF export: no {label!r} signal")
    rr, hr, shr = by_label[RR_LABEL], by_label[HR_LABEL], by_label[STRAP_LABEL]
    bt, brr, bflag, bgap, other = [], [], [], [], []
    for a in edf.annotations:
        m = _BEAT.match(a.text)
        if m:
            bt.append(a.onset)
            brr.append(float(m.group(1)))
            bflag.append(m.group(2) or "")
            bgap.append(bool(m.group(3)))
        else:
            other.append((a.onset, a.duration, a.text))
    return EdfSeries(
        fs_hz=rr.sampling_frequency,
        start=datetime.combine(edf.startdate, edf.starttime),
        rr_ms=rr.data,
        hr_bpm=hr.data,
        strap_hr_bpm=shr.data,
        rr_step_ms=_step(rr),
        hr_step_bpm=_step(hr),
        beat_t_s=np.asarray(bt, dtype=float),
        beat_rr_ms=np.asarray(brr, dtype=float),
        beat_flag=bflag,
        beat_gap=np.asarray(bgap, dtype=bool),
        annotations=other,
    )
