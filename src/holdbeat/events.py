"""The small data types every source yields and every sink receives.

A source (strap, recording, simulator) yields these with `t_s` = seconds since session
start on the host monotonic clock. `Hrm.raw` is the untouched notification: it is the
source of truth that the recording keeps and that replay re-parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MARKER_KINDS = ("lapse", "rehold", "felt", "note")
RATING_SCALES = ("belief", "safety", "satisfaction")
CONNECTION_STATES = ("connected", "lost", "restored", "contact_lost", "contact_restored")

MarkerKind = Literal["lapse", "rehold", "felt", "note"]


@dataclass(frozen=True, slots=True)
class Hrm:
    """One Heart Rate Measurement notification, as received."""

    t_s: float
    raw: bytes


@dataclass(frozen=True, slots=True)
class PhaseStart:
    t_s: float
    index: int
    name: str
    kind: str
    mode: str
    duration_s: float | None
    prompt: str = ""
    belief: str = ""
    target: str = ""


@dataclass(frozen=True, slots=True)
class Marker:
    t_s: float
    kind: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Rating:
    t_s: float
    phase_index: int
    when: str  # "pre" | "post"
    scale: str  # "belief" | "safety"
    value: int


@dataclass(frozen=True, slots=True)
class Connection:
    t_s: float
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Battery:
    t_s: float
    percent: int


@dataclass(frozen=True, slots=True)
class End:
    t_s: float
    reason: str = "completed"


@dataclass(frozen=True, slots=True)
class Cue:
    """A sound cue the session gave (eyes-closed practice): `kind` from holdbeat.cues.

    Recorded whether or not a sound could be played, so the schedule is part of the data.
    """

    t_s: float
    kind: str
    phase_index: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SessionNote:
    """Free text about the session: `when` is "before" (the situation) or "after"."""

    t_s: float
    when: str
    text: str


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """act-and-savor: what the action of the action phase `phase_index` is."""

    t_s: float
    phase_index: int
    text: str


@dataclass(frozen=True, slots=True)
class ActionDone:
    """act-and-savor: whether the action of phase `phase_index` was done."""

    t_s: float
    phase_index: int
    done: bool


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes with no data (a silent strap): lets phases advance. Never recorded."""

    t_s: float


PracticeEvent = Cue | SessionNote | ActionPlan | ActionDone

SessionEvent = (
    Hrm | PhaseStart | Marker | Rating | Connection | Battery | End | Tick | PracticeEvent
)


@dataclass(frozen=True, slots=True)
class Device:
    name: str = ""
    address: str = ""
    source: str = "strap"  # strap | simulator | imported
    body_location: str | None = None
    battery_percent: int | None = None
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class Header:
    """Line 1 of a recording."""

    session_id: str
    started_utc: str
    device: Device
    protocol: dict = field(default_factory=dict)
    beliefs: tuple[dict, ...] = ()
    software: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    format: str = "holdbeat/1"
    # what the practitioner said before starting: situation text and the mode suggested
    # for it (holdbeat.suggest); written only when not empty (older readers ignore it)
    practice: dict = field(default_factory=dict)
