"""What the live window shows, kept as plain data. Pure: no Qt, no files.

The window sink appends each beat into preallocated numpy columns (amortised O(1), no
Python lists growing per beat) and bumps a version counter; the Qt side redraws from
these arrays on a timer only when a version changed. A slow redraw therefore never
delays the pipeline, and the model can be tested without a display.

The beat series carries one point per beat plus one NaN point at every break (a beat
timed after a gap, or the first beat after "connection lost"), so a curve drawn with
connect="finite" never bridges a disconnect.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from holdbeat.analysis.baseline_band import Band, baseline_band, recorded_reference
from holdbeat.analysis.catchup import (
    CAUGHT_UP,
    DEFAULT_DWELL_S,
    OUT_AT_ONSET,
    LiveCatchUp,
    expected_direction,
)
from holdbeat.events import (
    Battery,
    Connection,
    End,
    Header,
    Hrm,
    Marker,
    PhaseStart,
    Rating,
    SessionEvent,
)
from holdbeat.metrics import LiveMetrics
from holdbeat.process import Processed
from holdbeat.session import Protocol

NAN = float("nan")

# columns of the beat series
T, HR_BEAT, HR_ROLL, LN = 0, 1, 2, 3
# columns of the flagged-beat series
FT, FHR = 0, 1


class GrowColumns:
    """Float columns sharing one length; capacity doubles when full (amortised O(1) append)."""

    def __init__(self, ncols: int, capacity: int = 8192) -> None:
        self.data = np.full((ncols, max(16, capacity)), NAN)
        self.n = 0

    def append(self, *values: float) -> None:
        if self.n == self.data.shape[1]:
            grown = np.full((self.data.shape[0], 2 * self.data.shape[1]), NAN)
            grown[:, : self.n] = self.data
            self.data = grown
        self.data[:, self.n] = values
        self.n += 1

    def col(self, i: int) -> np.ndarray:
        """A view (no copy) of column i's filled part."""
        return self.data[i, : self.n]


@dataclass
class PhaseView:
    index: int
    name: str
    kind: str
    mode: str
    start_s: float
    planned_s: float | None
    prompt: str = ""
    belief: str = ""
    target: str = ""
    end_s: float | None = None  # None while running

    def time_left_s(self, now_s: float) -> float | None:
        if self.planned_s is None:
            return None
        return max(0.0, self.start_s + self.planned_s - now_s)


@dataclass
class Status:
    device: str = ""
    battery_percent: int | None = None
    contact: bool | None = None  # None: the strap does not report contact
    connection: str = "connected"  # connected | lost | restored | contact_lost | contact_restored
    connection_detail: str = ""
    recording: str = ""
    malformed: int = 0

    @property
    def reconnecting(self) -> bool:
        return self.connection == "lost"


#: Packets that keep arriving without RR for this long mean the strap stopped sending
#: beat intervals (a slow heart leaves a single packet empty now and then; the longest
#: RR the live check accepts is 2 s). The last metrics are then stale, not shown.
NO_RR_AFTER_S = 3.0

#: metrics tracked for catch-up; the first is the headline (the metric plot)
CATCHUP_METRICS = ("ln_rmssd", "hr")


@dataclass
class CatchUpView:
    """The catch-up readout of one hold and metric, as the window shows it.

    The rule is holdbeat.analysis.catchup's (LiveCatchUp); this only keeps its state.
    """

    phase_index: int
    metric: str  # "ln_rmssd" | "hr"
    onset_s: float
    expected: str  # "up" | "down" | "both"
    # not yet | catching up | caught up | out of band at onset | not reached | no baseline
    state: str = "not yet"
    t_caught_s: float | None = None  # where the metric left the band for good (the line)
    direction: str = ""  # "up" | "down": the side it is out on / caught up on
    out_for_s: float = 0.0
    out_at_onset: bool = False  # already outside the band when the hold began
    reason: str = ""
    tracker: LiveCatchUp | None = field(default=None, repr=False)

    @property
    def latency_s(self) -> float | None:
        return None if self.t_caught_s is None else self.t_caught_s - self.onset_s


@dataclass
class ViewModel:
    """All the window draws. Feed it with `start`, `handle`, `finish` (it is a Sink)."""

    window_s: float = 60.0
    on_change: Callable[[], None] | None = None
    beats: GrowColumns = field(default_factory=lambda: GrowColumns(4))
    flagged: GrowColumns = field(default_factory=lambda: GrowColumns(2, 256))
    strap_hr: GrowColumns = field(
        default_factory=lambda: GrowColumns(2)
    )  # (t, bpm) of the HR field
    phases: list[PhaseView] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    status: Status = field(default_factory=Status)
    metrics: LiveMetrics | None = None
    last_strap_hr: int | None = None
    header: Header | None = None
    protocol: Protocol | None = None
    n_beats: int = 0
    n_breaks: int = 0
    now_s: float = 0.0
    end: End | None = None
    catchups: dict[tuple[int, str], CatchUpView] = field(default_factory=dict)
    bands: dict[str, Band] = field(default_factory=dict)  # metric -> baseline band (valid only)
    band_notes: dict[str, str] = field(default_factory=dict)  # metric -> why there is no band
    dwell_s: float = DEFAULT_DWELL_S
    # where each hold's band comes from (baseline_band.REFERENCES), as the session recorded
    # it in its header: "rest" re-bands after every rest, as `report` does
    reference: str = "baseline"
    # versions: the window redraws a part only when its version moved
    data_version: int = 0
    layout_version: int = 0  # phases, markers, band, catch-up
    status_version: int = 0
    # time of the first packet of the current run of packets without RR (None: the last
    # packet carried RR, or none arrived since the link came up)
    rr_missing_since_s: float | None = None
    _break_pending: bool = False
    _tracking: list[CatchUpView] = field(default_factory=list)  # catch-ups of the running hold
    _pending_band: PhaseView | None = None  # baseline ended; its last beats may still arrive

    # -- Sink -------------------------------------------------------------------------

    def start(self, header: Header, protocol: Protocol | None) -> None:
        self.header = header
        self.reference = recorded_reference(header.settings)
        self.protocol = protocol
        dev = header.device
        self.status.device = dev.name or dev.address or dev.source
        self.status.battery_percent = dev.battery_percent
        self.window_s = (
            float(header.settings.get("window_s", self.window_s))
            if header.settings
            else self.window_s
        )
        self._changed(status=True, layout=True)

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        if ev.t_s > self.now_s:
            self.now_s = ev.t_s
        if isinstance(ev, Hrm):
            if processed is not None:
                self._on_processed(processed)
            self._changed(status=True)  # time moved: time-left, follow view
            return
        if isinstance(ev, PhaseStart):
            self._on_phase(ev)
        elif isinstance(ev, Marker):
            self.markers.append(ev)
            self._changed(layout=True)
        elif isinstance(ev, Rating):
            self.ratings.append(ev)
            self._changed(layout=True)
        elif isinstance(ev, Connection):
            self._on_connection(ev)
        elif isinstance(ev, Battery):
            self.status.battery_percent = ev.percent
            self._changed(status=True)
        else:  # Tick: only time passes
            self._changed(status=True)

    def finish(self, end: End) -> None:
        self.end = end
        self.now_s = max(self.now_s, end.t_s)
        if self.phases and self.phases[-1].end_s is None:
            self._close_phase(self.phases[-1], end.t_s)
        self._resolve_band()
        self._changed(status=True, layout=True)

    # -- queries ------------------------------------------------------------------------

    @property
    def current_phase(self) -> PhaseView | None:
        if self.phases and self.phases[-1].end_s is None:
            return self.phases[-1]
        return None

    @property
    def holds_seen(self) -> list[int]:
        return [p.index for p in self.phases if p.kind == "hold"]

    def series(self, col: int) -> np.ndarray:
        return self.beats.col(col)

    def flagged_series(self) -> tuple[np.ndarray, np.ndarray]:
        return self.flagged.col(FT), self.flagged.col(FHR)

    @property
    def rr_stopped(self) -> bool:
        """Packets keep coming but have carried no RR for NO_RR_AFTER_S or more."""
        since = self.rr_missing_since_s
        return since is not None and self.now_s - since >= NO_RR_AFTER_S

    @property
    def flagged_share(self) -> float | None:
        return None if self.metrics is None else self.metrics.flagged_share

    def catchup_of(self, phase_index: int, metric: str = CATCHUP_METRICS[0]) -> CatchUpView | None:
        return self.catchups.get((phase_index, metric))

    # -- updates --------------------------------------------------------------------------

    def _changed(self, data: bool = False, layout: bool = False, status: bool = False) -> None:
        if data:
            self.data_version += 1
        if layout:
            self.layout_version += 1
        if status:
            self.status_version += 1
        if self.on_change is not None:
            self.on_change()

    def _on_processed(self, p: Processed) -> None:
        if p.error:
            self.status.malformed += 1
            return
        m = p.measurement
        if m is not None and m.contact is not None and m.contact != self.status.contact:
            self.status.contact = m.contact
        if m is not None:
            if m.rr_ms:
                self.rr_missing_since_s = None
            elif self.rr_missing_since_s is None:
                self.rr_missing_since_s = p.hrm.t_s
        if p.hr is not None:
            self.last_strap_hr = p.hr.hr_bpm
            self.strap_hr.append(p.hr.t_s, float(p.hr.hr_bpm))
            if self.n_beats == 0:
                self._changed(data=True)  # a strap without RR: its HR field is the curve
        if not p.beats:
            return
        for beat, lm in zip(p.beats, p.metrics, strict=True):
            pending = self._pending_band
            if pending is not None and pending.end_s is not None and beat.t_s >= pending.end_s:
                self._resolve_band()
            if (beat.gap_before or self._break_pending) and self.n_beats:
                self.beats.append(beat.t_s, NAN, NAN, NAN)
                self.n_breaks += 1
            self._break_pending = False
            inst = 60000.0 / beat.rr_ms if beat.rr_ms > 0 else NAN
            if beat.ok:
                hr_beat = inst
            else:
                hr_beat = NAN
                self.flagged.append(beat.t_s, inst)
            # per-metric validity: NaN exactly where the offline rolling metrics are NaN
            hr_roll = lm.hr_bpm if math.isfinite(lm.hr_bpm) else NAN
            ln = lm.ln_rmssd if math.isfinite(lm.ln_rmssd) else NAN
            self.beats.append(beat.t_s, hr_beat, hr_roll, ln)
            self.n_beats += 1
            if self._tracking:
                self._track_catchup(beat.t_s, {"ln_rmssd": ln, "hr": hr_roll})
        self.metrics = p.metrics[-1]
        self._changed(data=True, status=True)

    def _on_connection(self, ev: Connection) -> None:
        self.status.connection = ev.state
        self.status.connection_detail = ev.detail
        if ev.state == "lost":
            self._break_pending = True
            self.rr_missing_since_s = None
        elif ev.state == "contact_lost":
            self.status.contact = False
        elif ev.state == "contact_restored":
            self.status.contact = True
        self._changed(status=True)

    def _on_phase(self, ev: PhaseStart) -> None:
        if self.phases and self.phases[-1].end_s is None:
            self._close_phase(self.phases[-1], ev.t_s)
        self.phases.append(
            PhaseView(
                index=ev.index,
                name=ev.name,
                kind=ev.kind,
                mode=ev.mode,
                start_s=ev.t_s,
                planned_s=ev.duration_s,
                prompt=ev.prompt,
                belief=ev.belief,
                target=ev.target,
            )
        )
        if ev.kind == "hold":
            self._open_catchup(ev)
        self._changed(layout=True, status=True)

    def _close_phase(self, ph: PhaseView, t_s: float) -> None:
        ph.end_s = t_s
        if ph.kind == "baseline" or (ph.kind == "rest" and self.reference == "rest"):
            # Beats are timed from RR, so the phase's last beats can arrive in packets
            # after it ended: the band waits for the first beat past its end.
            self._resolve_band()
            self._pending_band = ph
        for cu in self._tracking:
            if cu.state not in (CAUGHT_UP, "no baseline"):
                res = cu.tracker.result() if cu.tracker is not None else None
                cu.state = OUT_AT_ONSET if res is not None and res.carried_over else "not reached"
                cu.reason = res.reason if res is not None else cu.reason
                cu.out_at_onset = bool(res is not None and res.out_at_onset)
                cu.direction = ""
        self._tracking = []

    # -- baseline band and catch-up: the rule is holdbeat.analysis.catchup's -----------------

    def _resolve_band(self) -> None:
        ph = self._pending_band
        if ph is None:
            return
        self._pending_band = None
        self._set_bands(ph)
        for cu in self._tracking:
            if cu.tracker is None:
                self._attach_tracker(cu)
        self._changed(layout=True)

    def _set_bands(self, ph: PhaseView) -> None:
        """Band of each metric over the baseline's beats (its valid samples only)."""
        t = self.series(T)
        i0 = int(np.searchsorted(t, ph.start_s, side="left"))
        i1 = int(np.searchsorted(t, ph.end_s if ph.end_s is not None else self.now_s, side="left"))
        for metric, col in (("ln_rmssd", LN), ("hr", HR_ROLL)):
            # the same refusal as `report`: a baseline shorter than two windows is too short
            band = baseline_band(
                self.series(col)[i0:i1], metric=metric, t_s=t[i0:i1], window_s=self.window_s
            )
            if band.valid:
                self.bands[metric] = band
                self.band_notes.pop(metric, None)
            else:  # no band for the next hold (not an earlier phase's): as `report`
                self.bands.pop(metric, None)
                self.band_notes[metric] = band.reason

    def _open_catchup(self, ev: PhaseStart) -> None:
        self._tracking = []
        for metric in CATCHUP_METRICS:
            cu = CatchUpView(ev.index, metric, ev.t_s, expected_direction(metric, ev.mode))
            self.catchups[(ev.index, metric)] = cu
            if self._pending_band is not None:
                self._tracking.append(cu)  # tracker attached once the band is known
            elif self._attach_tracker(cu):
                self._tracking.append(cu)

    def _attach_tracker(self, cu: CatchUpView) -> bool:
        band = self.bands.get(cu.metric)
        if band is None:
            cu.state = "no baseline"
            cu.reason = self.band_notes.get(cu.metric, "no baseline phase before this hold")
            return False
        cu.tracker = LiveCatchUp(band, cu.onset_s, cu.expected, self.dwell_s)  # type: ignore[arg-type]
        return True

    def _track_catchup(self, t_s: float, values: dict[str, float]) -> None:
        for cu in self._tracking:
            if cu.tracker is None or cu.state == CAUGHT_UP:
                continue
            st = cu.tracker.update(t_s, values[cu.metric])
            changed = st.state != cu.state or st.direction != cu.direction
            cu.state, cu.direction, cu.out_for_s = st.state, st.direction, st.out_for_s
            if st.state == OUT_AT_ONSET:
                cu.out_at_onset = True
            if st.caught_up:
                res = cu.tracker.result()
                cu.t_caught_s, cu.out_at_onset = res.t_left_s, res.out_at_onset
            if changed:
                self._changed(layout=True)
