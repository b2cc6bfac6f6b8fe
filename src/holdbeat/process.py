"""The pure stage chain: raw notification -> measurement -> beats -> flags -> live metrics.

Used identically live (strap, simulator), on replay and when a recording is loaded, so
a fix to any stage re-applies to old recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

from holdbeat.beats import Beat, BeatTimer, HrSample
from holdbeat.clean import FlagConfig, LiveFlagger
from holdbeat.events import Connection, Hrm
from holdbeat.hrs import HeartRateMeasurement, MalformedMeasurement, parse_hrm
from holdbeat.metrics import LiveMetrics, LiveWindow


@dataclass(frozen=True, slots=True)
class Processed:
    """What one notification became."""

    hrm: Hrm
    measurement: HeartRateMeasurement | None
    error: str  # "" unless the bytes were malformed (then measurement is None)
    hr: HrSample | None
    beats: tuple[Beat, ...]
    metrics: tuple[LiveMetrics, ...]  # one per beat


class Processor:
    def __init__(self, window_s: float = 60.0, flags: FlagConfig | None = None) -> None:
        self.timer = BeatTimer()
        self.flagger = LiveFlagger(flags)
        self.window = LiveWindow(window_s)

    def on_connection(self, ev: Connection) -> None:
        if ev.state == "lost":
            # No beat may be timed across the hole: the next RR starts a new segment.
            self.timer.reset()

    def on_hrm(self, ev: Hrm) -> Processed:
        try:
            m = parse_hrm(ev.raw)
        except MalformedMeasurement as e:
            return Processed(ev, None, str(e), None, (), ())
        hr = HrSample(ev.t_s, m.hr_bpm, m.contact)
        beats = tuple(self.flagger.flag(b) for b in self.timer.push(ev.t_s, m))
        metrics = tuple(self.window.update(b) for b in beats)
        return Processed(ev, m, "", hr, beats, metrics)
