"""Sound cues for eyes-closed practice: when they sound (pure schedule) and what they sound
like (pure synthesis). Playing them is holdbeat.sinks.audio's job.

With `--cues`, a session tells the ears what the eyes would read:

- `hold`: a hold begins: three rising notes;
- `phase`: any other phase begins (so the one before it ended): two falling notes;
- `rate`: 2 s after a hold begins (`pre`) and after it ends (`post`): the scale, a low
  note (0) then a high note (10);
- `bell`: every `--bell` seconds inside a hold (optional): one soft bell;
- `end`: the session ends: a falling arpeggio with a long close.

A rating given by key is answered with one note whose pitch is the value (0 low, 10 two
octaves higher), so a rating can be checked without looking; a lapse key gets a soft
"come back" note. The schedule is recorded as `cue` events whether or not a sound could
play, so what the person heard is part of the data (docs/format.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from holdbeat.events import Cue

CUE_KINDS = ("hold", "phase", "rate", "bell", "end")
RATE_DELAY_S = 2.0
SAMPLE_RATE = 44_100


@dataclass(frozen=True, slots=True)
class CueConfig:
    bell_s: float | None = None  # a soft bell every bell_s seconds of a hold; None: no bell
    ratings: bool = True  # announce the rating scale after hold onset and after each hold

    def __post_init__(self) -> None:
        if self.bell_s is not None and not (math.isfinite(self.bell_s) and self.bell_s >= 10):
            raise ValueError(f"the bell interval must be at least 10 s, got {self.bell_s!r}")


@dataclass(frozen=True, slots=True)
class PhaseTiming:
    """What the schedule needs to know about a phase."""

    index: int
    kind: str
    start_s: float
    planned_s: float | None  # None: open-ended (an action phase)


def phase_cues(
    ph: PhaseTiming, prev: PhaseTiming | None, cfg: CueConfig, stop_s: float | None = None
) -> list[Cue]:
    """The cues a phase gives, from its start until `stop_s` (exclusive; None = its planned
    end). Live, the session drops what is still pending when a phase ends early."""
    t0 = ph.start_s
    out = [Cue(t0, "hold" if ph.kind == "hold" else "phase", ph.index)]
    if cfg.ratings:
        if ph.kind == "hold":
            out.append(Cue(t0 + RATE_DELAY_S, "rate", ph.index, "pre"))
        elif prev is not None and prev.kind == "hold":
            out.append(Cue(t0 + RATE_DELAY_S, "rate", prev.index, "post"))
    if ph.kind == "hold" and cfg.bell_s is not None and ph.planned_s is not None:
        k = 1
        while k * cfg.bell_s < ph.planned_s:
            out.append(Cue(t0 + k * cfg.bell_s, "bell", ph.index))
            k += 1
    limit = stop_s if stop_s is not None else (t0 + ph.planned_s if ph.planned_s else None)
    if limit is not None:
        out = [c for c in out if c.t_s < limit or c.t_s == t0]
    return sorted(
        (Cue(round(c.t_s, 6), c.kind, c.phase_index, c.detail) for c in out), key=lambda c: c.t_s
    )


def cue_schedule(phases: Sequence[PhaseTiming], end_s: float | None, cfg: CueConfig) -> list[Cue]:
    """Every cue of a session whose phases started as given and which ended at `end_s`."""
    out: list[Cue] = []
    for i, ph in enumerate(phases):
        stop = phases[i + 1].start_s if i + 1 < len(phases) else end_s
        out += phase_cues(ph, phases[i - 1] if i else None, cfg, stop)
    if end_s is not None and phases:
        out.append(Cue(round(end_s, 6), "end", phases[-1].index))
    return out


# ---------------------------------------------------------------- sounds

C4 = 261.63


def value_hz(value: int) -> float:
    """Pitch of a rating: 0 -> C4, 10 -> C6 (two octaves), equal steps in between."""
    return C4 * 2.0 ** (2.0 * value / 10.0)


#: cue kind -> notes (frequency Hz, seconds); 0 Hz is a rest
NOTES: dict[str, tuple[tuple[float, float], ...]] = {
    "hold": ((523.25, 0.16), (659.25, 0.16), (783.99, 0.32)),
    "phase": ((783.99, 0.20), (523.25, 0.36)),
    "rate": ((value_hz(0), 0.30), (0.0, 0.12), (value_hz(10), 0.30)),
    "bell": ((659.25, 1.40),),
    "end": ((783.99, 0.16), (659.25, 0.16), (523.25, 0.16), (261.63, 0.9)),
    "rehold": ((440.0, 0.7),),
}


def tone(notes: Sequence[tuple[float, float]], rate: int = SAMPLE_RATE, gain: float = 0.3):
    """16-bit mono PCM of the notes: sine plus a soft octave, smooth attack, decay to 0
    (no clicks). Returns an int16 numpy array."""
    parts = []
    for hz, dur in notes:
        n = max(1, round(dur * rate))
        if hz <= 0:
            parts.append(np.zeros(n))
            continue
        t = np.arange(n) / rate
        wave = np.sin(2 * np.pi * hz * t) + 0.25 * np.sin(4 * np.pi * hz * t)
        attack = np.minimum(1.0, t / 0.012)
        decay = np.exp(-3.0 * t / dur) * np.clip((dur - t) / 0.02, 0.0, 1.0)
        parts.append(wave * attack * decay / 1.25)
    x = np.concatenate(parts) if parts else np.zeros(0)
    return np.round(np.clip(x * gain, -1.0, 1.0) * 32767).astype(np.int16)


def cue_pcm(kind: str, rate: int = SAMPLE_RATE):
    if kind not in NOTES:
        raise ValueError(f"no sound for cue {kind!r} (one of {', '.join(NOTES)})")
    return tone(NOTES[kind], rate)


def rating_pcm(value: int, rate: int = SAMPLE_RATE):
    """The note that confirms a rating: its pitch is the value."""
    if not 0 <= value <= 10:
        raise ValueError(f"a rating goes from 0 to 10, got {value}")
    return tone(((value_hz(value), 0.45),), rate)
