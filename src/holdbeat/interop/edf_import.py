"""EDF/EDF+ -> RR intervals (and, for holdbeat's own export, its phases and events). Pure.

Two kinds of EDF file are read (with edfio):

* holdbeat's own EDF+ export (`holdbeat export --to edf`): every beat is an annotation
  `beat RR=… ms` with its exact time, so the RR come back exactly (not from the resampled
  signal), with the phases (`phase N kind mode: name` + `belief (target): text`), markers and
  ratings. Connection gaps become gaps again.
* any EDF/EDF+ with an ECG channel (label containing ECG or EKG, or --channel): R peaks are
  found by neurokit2 (`ecg_clean` + `ecg_peaks`, method "neurokit"), RR = peak-to-peak
  intervals. The detector's quality is stated in the recording: neurokit2's `ecg_quality`
  ("averageQRS": each beat's correlation with the average beat, 0-1) per beat, its mean and
  the share of beats below 0.5, the sample rate (the RR resolution is 1/fs) and the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from holdbeat.events import Marker, Rating, SessionEvent
from holdbeat.interop.imported_rr import ImportedRR, ImportFormatError, check_rr_ms
from holdbeat.interop.phases_file import PhaseSpec

_BEAT = re.compile(r"^beat RR=([0-9.]+) ms(?: flag=(\S+))?( gap)?$")
_PHASE = re.compile(r"^phase (\d+) (\S+) (\S+): (.*)$")
_BELIEF = re.compile(r"^belief \(([^)]*)\): (.*)$")
_MARKER = re.compile(r"^marker (\S+)(?:: (.*))?$")
_RATING = re.compile(r"^rating (\S+) (\S+) (\d+)/10 \(phase (\d+)\)$")
ECG_LABEL = re.compile(r"\b(ecg|ekg)", re.IGNORECASE)
MIN_ECG_S = 10.0
ANONYMOUS_DATE = date(1985, 1, 1)  # EDF's clipping date: "no date" (give --start)
LOW_QUALITY = 0.5


def looks_like(data: bytes) -> bool:
    """EDF's first field: version '0' padded to 8 bytes."""
    return len(data) >= 256 and data[:8] == b"0       "


@dataclass
class EdfImport:
    imported: ImportedRR
    specs: list[PhaseSpec] | None = None
    events: list[SessionEvent] = field(default_factory=list)  # on the imported timeline
    settings: dict = field(default_factory=dict)  # extra header settings (peak detector)


def _read(data: bytes, origin: str):
    import edfio

    try:
        return edfio.read_edf(data)
    except Exception as e:  # edfio raises ValueError and friends, naming the header field
        raise ImportFormatError(origin, None, f"not a readable EDF file: {e}") from None


def _start(edf, origin: str) -> datetime:
    """EDF has no time zone; holdbeat writes UTC, others usually local time (taken as such)."""
    try:
        day = edf.startdate
    except Exception:  # EDF+ 'X' (anonymised): no date; EDF's own clipping date stands in
        day = ANONYMOUS_DATE
    return datetime.combine(day, edf.starttime)


def parse_edf(data: bytes, origin: str = "<edf>", channel: str | None = None) -> EdfImport:
    edf = _read(data, origin)
    beats = [(i, a) for i, a in enumerate(edf.annotations) if _BEAT.match(a.text)]
    if beats and channel is None:
        return _own_export(edf, beats, origin)
    return _from_ecg(edf, origin, channel)


# ---------------------------------------------------------------- holdbeat's own export


def _own_export(edf, beats: list, origin: str) -> EdfImport:
    anns = list(edf.annotations)
    t = np.array([a.onset for _, a in beats], dtype=float)
    rr = []
    for i, a in beats:
        m = _BEAT.match(a.text)
        try:
            rr.append(check_rr_ms(float(m.group(1)), origin, i + 1))  # type: ignore[union-attr]
        except ImportFormatError as e:
            raise ImportFormatError(
                origin, None, f"annotation {i + 1} (beat): {e.reason}"
            ) from None
    rr_ms = np.asarray(rr)
    gap = np.array([bool(_BEAT.match(a.text).group(3)) for _, a in beats])  # type: ignore[union-attr]
    if np.any(np.diff(t) <= 0):
        k = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
        raise ImportFormatError(
            origin, None, f"annotation {beats[k][0] + 1} (beat): beat times do not increase"
        )
    # The session keeps its own time axis: the EDF start is session time 0.
    start = _start(edf, origin).replace(tzinfo=UTC)
    stamps = tuple(start + timedelta(seconds=float(x)) for x in t)
    specs, events = _phases_and_events(anns, 0.0, origin)
    imported = ImportedRR(
        format="edf",
        rr_ms=tuple(float(x) for x in rr_ms),
        source_lines=tuple(i + 1 for i, _ in beats),
        units="ms",
        timestamps=stamps,
        start=start,
        start_from="EDF start date/time (UTC, as holdbeat writes it)",
        first_beat_s=float(t[0]),
        gap_before=tuple(bool(g) for g in gap),
        notes=(
            f"holdbeat EDF+ export read back: {len(rr_ms)} beats from their annotations "
            "(exact RR, not the resampled signal)",
        ),
    )
    return EdfImport(imported, specs or None, events)


def _phases_and_events(
    anns: list, t0: float, origin: str
) -> tuple[list[PhaseSpec], list[SessionEvent]]:
    specs: list[PhaseSpec] = []
    events: list[SessionEvent] = []
    beliefs: dict[float, tuple[str, str]] = {}
    for a in anns:
        m = _BELIEF.match(a.text)
        if m:
            beliefs[round(a.onset, 6)] = (m.group(2), "" if m.group(1) == "-" else m.group(1))
    for n, a in enumerate(anns, start=1):
        t = a.onset - t0
        m = _PHASE.match(a.text)
        if m:
            if a.duration is None:
                raise ImportFormatError(origin, n, "annotation 'phase': no duration")
            belief, target = beliefs.get(round(a.onset, 6), ("", ""))
            t_start = max(0.0, t)  # the first phase may start before the first interval
            specs.append(
                PhaseSpec(
                    m.group(4), m.group(2), m.group(3), t_start, t + a.duration, belief, target, n
                )
            )
            continue
        m = _MARKER.match(a.text)
        if m:
            events.append(Marker(round(t, 6), m.group(1), m.group(2) or ""))
            continue
        m = _RATING.match(a.text)
        if m:
            events.append(
                Rating(round(t, 6), int(m.group(4)), m.group(1), m.group(2), int(m.group(3)))
            )
    return specs, events


# ---------------------------------------------------------------- ECG


def _ecg_signal(edf, origin: str, channel: str | None):
    signals = [s for s in edf.signals]
    labels = [s.label for s in signals]
    if channel is not None:
        found = [s for s in signals if s.label == channel]
        if not found:
            raise ImportFormatError(
                origin, None, f"no signal labelled {channel!r}; the file has: {', '.join(labels)}"
            )
        return found[0]
    found = [s for s in signals if ECG_LABEL.search(s.label)]
    if not found:
        raise ImportFormatError(
            origin,
            None,
            "no ECG channel (no signal label contains ECG or EKG) and no beat annotations; "
            f"the file has: {', '.join(labels) or 'no signals'}; name one with --channel",
        )
    return found[0]


def _from_ecg(edf, origin: str, channel: str | None) -> EdfImport:
    import neurokit2 as nk

    sig = _ecg_signal(edf, origin, channel)
    fs = float(sig.sampling_frequency)
    ecg = np.asarray(sig.data, dtype=float)
    if fs < 100:
        raise ImportFormatError(
            origin, None, f"signal {sig.label!r}: {fs:g} Hz is too slow to find R peaks (>= 100 Hz)"
        )
    if len(ecg) < MIN_ECG_S * fs:
        raise ImportFormatError(
            origin, None, f"signal {sig.label!r}: {len(ecg) / fs:.1f} s, need >= {MIN_ECG_S:g} s"
        )
    if not np.all(np.isfinite(ecg)) or np.ptp(ecg) == 0:
        raise ImportFormatError(origin, None, f"signal {sig.label!r} is flat or not finite")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.ecg_clean(ecg, sampling_rate=fs, method="neurokit")
        _, info = nk.ecg_peaks(clean, sampling_rate=fs, method="neurokit")
        peaks = np.asarray(info["ECG_R_Peaks"], dtype=int)
        if len(peaks) < 3:
            raise ImportFormatError(
                origin, None, f"signal {sig.label!r}: neurokit2 found {len(peaks)} R peaks"
            )
        quality = np.asarray(
            nk.ecg_quality(clean, rpeaks=peaks, sampling_rate=fs, method="averageQRS"),
            dtype=float,
        )
    beat_q = quality[peaks[1:]]  # the beat that ends each interval
    rr_ms = np.diff(peaks) * 1000.0 / fs
    for k, x in enumerate(rr_ms):
        check_rr_ms(float(x), origin, k + 2)
    start_edf = _start(edf, origin)
    start = start_edf + timedelta(seconds=peaks[0] / fs)
    stamps = tuple(start_edf + timedelta(seconds=p / fs) for p in peaks[1:])
    low = float(np.mean(beat_q < LOW_QUALITY))
    detector = {
        "library": f"neurokit2 {nk.__version__}",
        "steps": "ecg_clean(method='neurokit') + ecg_peaks(method='neurokit')",
        "channel": sig.label,
        "sampling_rate_hz": fs,
        "rr_resolution_ms": round(1000.0 / fs, 6),
        "quality_method": "ecg_quality(method='averageQRS'), 0-1 per beat",
        "quality_mean": round(float(np.mean(beat_q)), 4),
        "quality_min": round(float(np.min(beat_q)), 4),
        "share_below_0.5": round(low, 4),
        "beat_quality": [round(float(q), 3) for q in beat_q],
    }
    anon = (
        ("the EDF start date is anonymised: dated 1985-01-01 (give --start to set it)",)
        if start_edf.date() == ANONYMOUS_DATE
        else ()
    )
    notes = (
        *anon,
        f"R peaks found by neurokit2 {nk.__version__} on {sig.label!r} at {fs:g} Hz "
        f"(RR resolution {1000.0 / fs:.2f} ms): {len(peaks)} peaks; beat quality (averageQRS) "
        f"mean {np.mean(beat_q):.2f}, {low:.0%} of beats below {LOW_QUALITY}",
    )
    imported = ImportedRR(
        format="edf-ecg",
        rr_ms=tuple(float(x) for x in rr_ms),
        source_lines=tuple(range(2, len(rr_ms) + 2)),
        units="ms",
        timestamps=stamps,
        start=start,
        start_from="EDF start date/time (local time) + the first R peak",
        notes=notes,
    )
    return EdfImport(imported, settings={"peak_detector": detector})
