"""Strap faults end to end: emulated strap -> bleak (real BlueZ backend) -> pipeline -> file.

Every test runs a real session: `StrapSource` against the emulated BlueZ
(tests/bluez_emulator.py, nothing in bleak mocked), `run_session` with the recorder, the
live view model and a watching sink, into a real recording that is loaded back. Time is
a fake session clock the test moves; every step waits on an event (what the pipeline
saw, what the emulator saw), never on time, so the results are exact and repeatable.

A seeded `Heart` beats with a random-walk RR on true time; `Rig.packet` notifies the way
a chest strap does (a packet every second with the RR of the beats since the last one;
beats while the strap is away are never sent). The test knows every byte it sent and
when each beat truly happened, so each test checks the same promises (`check_recording`):

* the notifications in the file are exactly the ones sent, in order, at their times;
* the RR intervals in the loaded recording are exactly the RR fields of those bytes
  (decoded here independently of holdbeat.hrs): every sent RR once, in order, nothing else;
* every gap is marked: `lost` / `restored` events, and the first beat after each gap
  (and only there, unless a test says otherwise) has `gap_before`;
* times are monotonic: events in the file, and beats strictly increasing; each beat is
  timed between when it happened and when its packet arrived, none inside a gap;
* phases change on the clock while the strap is away (`check_phases`).

The long variant (24 h simulated, a drop every 30 s) is marked `soak`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

import strap_config
from bluez_emulator import GUARD_S, EmulatedPeripheral
from holdbeat.beats import BeatTimer
from holdbeat.events import Battery, Connection, End, Hrm, SessionEvent
from holdbeat.gui import text as view_text
from holdbeat.gui.model import ViewModel
from holdbeat.hrs import HeartRateMeasurement
from holdbeat.pipeline import run_session
from holdbeat.recording import Recording, load
from holdbeat.recording_writer import new_header
from holdbeat.session import Protocol, beliefs_of, protocol_from_toml
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.strap import StrapSource
from holdbeat.sources.strap_policy import StrapConfig

pytest_plugins = ["strap_fixtures"]

FAST = replace(strap_config.FAST, reconnect_deadline_s=300.0)  # session seconds (fake clock)
UNITS_PER_S = 1024  # RR resolution on the air: 1/1024 s
AHEAD_TOL_S = 0.02  # BeatTimer's tolerance for a beat timed after its packet arrived


def protocol(*phases: tuple[str, float], mode: str = "soft") -> Protocol:
    """A protocol from (kind, duration_s) pairs."""
    parts = ['name = "faults"']
    for kind, dur in phases:
        parts.append(f'[[phase]]\nkind = "{kind}"\nduration = {dur:g}')
        if kind == "hold":
            parts.append(f'mode = "{mode}"\nbelief = "I acted, and it counts."')
    return protocol_from_toml("\n".join(parts))


# ------------------------------------------------------------------ the emulated body


def hrm_bytes(hr_bpm: int, rr_units: Iterable[int] = (), contact: bool | None = True) -> bytes:
    """A Heart Rate Measurement, built here by hand (not with holdbeat.hrs.encode_hrm)."""
    rr = list(rr_units)
    flags = 0x10 if rr else 0x00
    if contact is not None:
        flags |= 0x04 | (0x02 if contact else 0x00)
    out = bytearray([flags, hr_bpm])
    for u in rr:
        out += u.to_bytes(2, "little")
    return bytes(out)


def rr_units_of(raw: bytes) -> list[int]:
    """The RR fields of a notification, decoded independently of holdbeat.hrs."""
    flags = raw[0]
    pos = 1 + (2 if flags & 0x01 else 1) + (2 if flags & 0x08 else 0)
    if not flags & 0x10:
        return []
    return [int.from_bytes(raw[i : i + 2], "little") for i in range(pos, len(raw) - 1, 2)]


class Heart:
    """A seeded heart: a bounded random walk of RR in 1/1024 s units, beating on true time."""

    def __init__(self, seed: int, rr_units: int = 870) -> None:
        self.rng = random.Random(seed)
        self.units = rr_units
        self.t_s = 0.0
        self._next = self._beat()

    def _beat(self) -> tuple[float, int]:
        self.units = min(max(self.units + self.rng.randint(-30, 30), 640), 1150)
        self.t_s += self.units / UNITS_PER_S
        return self.t_s, self.units

    def next_beat(self) -> tuple[float, int]:
        (beat,) = self.take(self._next[0])
        return beat

    def take(self, until_s: float) -> list[tuple[float, int]]:
        """The beats (true time, RR units) that happened up to until_s and were not taken."""
        out = []
        while self._next[0] <= until_s:
            out.append(self._next)
            self._next = self._beat()
        return out


@dataclass
class Sent:
    """What the strap sent: one entry per notification (host arrival time, bytes, true beats)."""

    t_s: float
    raw: bytes
    beats: list[tuple[float, int]] = field(default_factory=list)


# ------------------------------------------------------------------ the session rig


class FakeClock:
    """The session clock, moved only by the test."""

    def __init__(self) -> None:
        self.t_s = 0.0

    def __call__(self) -> float:
        return self.t_s


class Watch:
    """A sink the test awaits on: counts of what the pipeline handed to its sinks, ticks too.

    O(1) per event (counters, not a growing list to scan), so the soak stays linear.
    """

    def __init__(self) -> None:
        self.counts: Counter[object] = Counter()
        self.t_s = 0.0  # the latest session time the pipeline has seen
        self.tail: deque[SessionEvent] = deque(maxlen=5)
        self.end: End | None = None
        self._changed = asyncio.Event()

    def start(self, header: object, protocol: object) -> None:
        pass

    def handle(self, ev: SessionEvent, processed: object) -> None:
        self.counts[type(ev)] += 1
        if isinstance(ev, Connection):
            self.counts[ev.state] += 1
        self.t_s = max(self.t_s, ev.t_s)
        self.tail.append(ev)
        self._changed.set()

    def finish(self, end: End) -> None:
        self.end = end
        self._changed.set()

    async def until(self, pred: Callable[[], bool], what: str) -> None:
        try:
            async with asyncio.timeout(GUARD_S):
                while not pred():
                    if self.end is not None:
                        raise AssertionError(f"session ended ({self.end}) before {what}")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}: {list(self.tail)}") from None


class Rig:
    """One real session on the emulated strap; the test plays the strap and the clock."""

    def __init__(
        self,
        strap: EmulatedPeripheral,
        out_dir: Path,
        proto: Protocol,
        heart: Heart,
        config: StrapConfig = FAST,
        period_s: float = 1.0,
        latency_s: float = 0.01,
    ) -> None:
        self.strap = strap
        self.out_dir = out_dir
        self.proto = proto
        self.heart = heart
        self.clock = FakeClock()
        self.source = StrapSource(config, self.clock)
        self.model = ViewModel()
        self.watch = Watch()
        self.recorder = RecorderSink(out_dir)
        self.period_s = period_s
        self.latency_s = latency_s
        self.sent: list[Sent] = []
        self.gaps: list[tuple[float, float]] = []  # (lost, restored) session times
        self.task: asyncio.Task[End] | None = None
        self.hr_bpm = 70

    # -- lifecycle

    async def start(self) -> None:
        device = await self.source.connect()
        header = new_header(
            device,
            protocol=self.proto.to_dict(),
            beliefs=beliefs_of(self.proto),
            settings={"window_s": 60.0},
        )
        sinks = [self.recorder, self.model, self.watch]
        self.task = asyncio.create_task(run_session(self.source, sinks, header, self.proto))
        await self.strap.until_notifying()

    async def finish(self, t_s: float) -> End:
        """Move the clock to t_s (past the protocol's end) and wait for the session to end."""
        assert self.task is not None
        self.clock.t_s = t_s
        async with asyncio.timeout(GUARD_S):
            return await self.task

    def load(self) -> Recording:
        assert self.recorder.path is not None
        return load(self.recorder.path)

    # -- the strap

    async def send(self, t_s: float, *raws: bytes, beats: list[list] | None = None) -> None:
        """Notifications arriving back-to-back at session time t_s (a burst if several)."""
        self.clock.t_s = t_s
        for i, raw in enumerate(raws):
            self.strap.notify(raw)
            self.sent.append(Sent(t_s, raw, beats[i] if beats else []))
        n = len(self.sent)
        await self.watch.until(lambda: self.watch.counts[Hrm] >= n, f"{n} packets at {t_s}")

    def packet(self, t_s: float, rr: bool = True, contact: bool | None = True) -> Sent:
        """The strap's packet at t_s: the RR of the beats since its last one (or none)."""
        beats = self.heart.take(t_s - self.latency_s)
        if beats:
            self.hr_bpm = round(60 * UNITS_PER_S / beats[-1][1])
        sent_beats = beats if rr else []
        raw = hrm_bytes(self.hr_bpm, [u for _, u in sent_beats], contact)
        return Sent(t_s, raw, sent_beats)

    async def stream(
        self, t0_s: float, t1_s: float, rr: bool = True, contact: bool | None = True
    ) -> None:
        """One packet per period from t0_s up to (not including) t1_s."""
        t = t0_s
        while t < t1_s - 1e-9:
            p = self.packet(t, rr, contact)
            await self.send(round(t, 6), p.raw, beats=[p.beats])
            t += self.period_s

    async def advance(self, t_s: float) -> None:
        """Move the clock with no notifications; wait until the pipeline saw that time."""
        self.clock.t_s = t_s
        await self.watch.until(
            lambda: self.watch.t_s >= t_s,
            f"a tick at {t_s}",
        )

    async def drop(self, t_s: float) -> None:
        """The link drops at t_s and the strap is out of range."""
        self.clock.t_s = t_s
        n = self.watch.counts["lost"] + 1
        self.strap.drop_link(advertise=False)
        await self.watch.until(lambda: self.watch.counts["lost"] >= n, "lost")
        self.gaps.append((t_s, float("nan")))

    async def restore(self, t_s: float) -> None:
        """Back in range at t_s: wait until reconnected and subscribed again."""
        self.clock.t_s = t_s
        n = self.watch.counts["restored"] + 1
        self.strap.start_advertising()
        await self.watch.until(lambda: self.watch.counts["restored"] >= n, "restored")
        await self.strap.until_notifying()
        self.heart.take(t_s)  # the beats while away were never sent
        self.gaps[-1] = (self.gaps[-1][0], t_s)


def run(coro_fn: Callable[[], object], guard_s: float = 60.0) -> object:
    async def guarded() -> object:
        async with asyncio.timeout(guard_s):
            return await coro_fn()  # type: ignore[misc]

    return asyncio.run(guarded())


# ------------------------------------------------------------------ the promises


def check_recording(
    rec: Recording,
    rig: Rig,
    *,
    extra_gap_starts: int = 0,
    max_late_s: float = AHEAD_TOL_S,
) -> None:
    """The promises every fault test checks (see the module doc)."""
    sent = rig.sent
    # 1. the notifications in the file are exactly those sent, at their arrival times
    hrms = [e for e in rec.events if isinstance(e, Hrm)]
    assert [h.raw for h in hrms] == [s.raw for s in sent]
    assert [h.t_s for h in hrms] == [s.t_s for s in sent]
    assert rig.strap.sent == [s.raw for s in sent]  # and the emulator sent nothing else

    # 2. every RR sent appears once, in order, nothing else
    units_sent = [u for s in sent for u in rr_units_of(s.raw)]
    units_loaded = np.rint(rec.rr_ms * UNITS_PER_S / 1000.0).astype(int)
    assert units_loaded.tolist() == units_sent
    assert np.allclose(rec.rr_ms, units_loaded * 1000.0 / UNITS_PER_S, rtol=0, atol=1e-9)

    # 3. monotonic times: events, and beats strictly increasing
    times = [e.t_s for e in rec.events]
    assert times == sorted(times)
    assert not [w for w in rec.warnings if "backwards" in w]
    assert np.all(np.diff(rec.beat_t_s) > 0), "beat times must strictly increase"

    # 4. a beat is timed between when it happened and when its packet arrived (the
    # strap's own beat times are known here), and none inside a gap
    packet_t = np.repeat([s.t_s for s in sent], [len(rr_units_of(s.raw)) for s in sent])
    true_t = np.array([t for s in sent for t, _ in s.beats])
    assert true_t.size == rec.beat_t_s.size
    late_s = rec.beat_t_s - packet_t
    assert late_s.max(initial=0.0) <= max_late_s + 1e-9, (
        f"a beat timed {late_s.max():.3f} s after its packet"
    )
    early_s = true_t - rec.beat_t_s
    assert early_s.max(initial=0.0) <= 0.1 + 1e-9, (
        f"a beat timed {early_s.max():.3f} s before it happened"
    )
    for lost_s, restored_s in rig.gaps:
        if np.isnan(restored_s):  # never came back
            restored_s = np.inf
        inside = rec.beat_t_s[(rec.beat_t_s > lost_s) & (rec.beat_t_s < restored_s)]
        assert inside.size == 0, f"beats timed inside the gap {lost_s}..{restored_s}: {inside}"

    # 5. every gap is marked, in the file and on the first beat after it
    states = [(c.t_s, c.state) for c in rec.connections if c.state in ("lost", "restored")]
    expected = [
        x
        for lost_s, restored_s in rig.gaps
        for x in ((lost_s, "lost"), (restored_s, "restored"))
        if not np.isnan(x[0])
    ]
    assert states == expected
    first_after_gap: list[int] = []
    n_beats, pending = 0, True  # the very first beat starts a segment too
    for e in rec.events:
        if isinstance(e, Connection) and e.state == "lost":
            pending = True
        elif isinstance(e, Hrm):
            k = len(rr_units_of(e.raw))
            if k and pending:
                first_after_gap.append(n_beats)
                pending = False
            n_beats += k
    marked = np.flatnonzero(rec.gap_before).tolist()
    assert set(first_after_gap) <= set(marked), "a beat after a gap is not marked gap_before"
    assert len(marked) == len(first_after_gap) + extra_gap_starts, (marked, first_after_gap)

    # 6. the file ends with the end event
    assert rec.end is not None and rec.events[-1] == rec.end


def check_phases(rec: Recording, proto: Protocol) -> None:
    """Phases started on the clock, at their planned times, whatever the strap did."""
    planned = np.cumsum([0.0] + [p.duration_s or 0.0 for p in proto.phases])[:-1]
    assert [p.index for p in rec.phases] == list(range(len(proto.phases)))
    assert [p.start_s for p in rec.phases] == pytest.approx(planned.tolist(), abs=1e-6)


def reconnecting_shown(model: ViewModel) -> bool:
    return (
        view_text.connection_text(model.status) == "reconnecting…"
        and view_text.hr_text(model) == (view_text.DASH, "reconnecting…")
        and view_text.ln_rmssd_text(model) == (view_text.DASH, "reconnecting…")
    )


# ------------------------------------------------------------------ tests


async def drop_every(rig: Rig, every_s: float, until_s: float, seed: int) -> End:
    """Stream until until_s with the link dropping every every_s for 0.2-8 s.

    Every third gap is shorter than an RR plus the beat timer's slack, so only the
    `lost` event can mark it. At each drop the view must say "reconnecting…" and time
    must keep moving (a phase that is due starts while the strap is away).
    """
    rng = random.Random(seed)
    t = 0.0
    k = 0
    while (drop_s := every_s * (k + 1) - 1.5) < until_s - 10.0:
        k += 1
        await rig.stream(t + 0.5, drop_s)
        await rig.drop(drop_s)
        assert reconnecting_shown(rig.model)
        away_s = rng.uniform(0.2, 1.0) if k % 3 == 1 else rng.uniform(3.0, 8.0)
        back_s = round(drop_s + away_s, 3)
        phases_before = len(rig.model.phases)
        await rig.advance(round(back_s - 0.1, 3))  # time passes while away
        assert reconnecting_shown(rig.model)
        due = [p.start_s for p in rig.model.phases[phases_before:]]
        assert all(drop_s < s <= back_s for s in due)  # started in the gap, on time
        await rig.restore(back_s)
        assert view_text.connection_text(rig.model.status) == "connected (restored)"
        t = back_s
    await rig.stream(t + 0.5, until_s)
    return await rig.finish(until_s + 0.5)


def test_drops_every_30_s_over_a_long_session(strap: EmulatedPeripheral, tmp_path: Path) -> None:
    """10 simulated minutes, the link dropping every 30 s: 19 gaps, none papered over."""
    proto = protocol(("baseline", 240), ("hold", 120), ("recovery", 240))
    rig = Rig(strap, tmp_path, proto, Heart(seed=1))

    async def main() -> End:
        await rig.start()
        return await drop_every(rig, 30.0, 600.0, seed=7)

    end = run(main)
    assert (end.t_s, end.reason) == (600.0, "completed")
    rec = rig.load()
    check_recording(rec, rig)
    check_phases(rec, proto)
    assert len(rig.gaps) == 19 and strap.connects == 20
    # the phase changes at 240 s and 360 s happened while the strap was away
    for start_s in (240.0, 360.0):
        assert any(lost < start_s < back for lost, back in rig.gaps)
    assert rig.source.reconnects == 19
    assert rig.model.n_breaks == 19  # the live curve is broken at every gap


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_soak_24_h_with_a_drop_every_30_s(strap: EmulatedPeripheral, tmp_path: Path) -> None:
    """24 simulated hours, 2 879 drops, 75 172 notifications: the same promises hold."""
    proto = protocol(("baseline", 8 * 3600), ("hold", 8 * 3600), ("recovery", 8 * 3600))
    rig = Rig(strap, tmp_path, proto, Heart(seed=24))

    async def main() -> End:
        await rig.start()
        return await drop_every(rig, 30.0, 24 * 3600.0, seed=24)

    end = run(main, guard_s=1800.0)
    assert (end.t_s, end.reason) == (24 * 3600.0, "completed")
    rec = rig.load()
    check_recording(rec, rig)
    check_phases(rec, proto)
    assert len(rig.gaps) == strap.connects - 1 == rig.source.reconnects == 2879
    assert len(rig.sent) == 75172


def test_strap_that_stops_sending_rr_and_starts_again(
    strap: EmulatedPeripheral, tmp_path: Path
) -> None:
    """40 s of HR-only packets mid-session: HR is kept, HRV says why it is unavailable."""
    proto = protocol(("baseline", 90), ("hold", 60))
    rig = Rig(strap, tmp_path, proto, Heart(seed=2))

    async def main() -> End:
        await rig.start()
        await rig.stream(0.5, 70.0)
        value, _ = view_text.ln_rmssd_text(rig.model)
        assert value != view_text.DASH  # HRV valid after 70 s of beats
        await rig.stream(70.5, 72.0, rr=False)  # a packet or two without RR: a slow beat
        assert view_text.ln_rmssd_text(rig.model)[0] == value
        await rig.stream(72.5, 110.0, rr=False)  # the strap stopped sending RR
        ln_value, ln_note = view_text.ln_rmssd_text(rig.model)
        assert ln_value == view_text.DASH and "HRV unavailable" in ln_note
        assert "beat intervals" in ln_note
        hr_value, hr_note = view_text.hr_text(rig.model)
        assert hr_value == str(rig.hr_bpm) and "from the strap" in hr_note
        assert len(rig.model.phases) == 2  # the hold began while there were no RR
        await rig.stream(110.5, 150.0)  # RR again
        assert view_text.ln_rmssd_text(rig.model)[0] != view_text.DASH
        assert view_text.hr_text(rig.model)[1].startswith("mean of the last")
        return await rig.finish(150.5)

    end = run(main)
    assert end.reason == "completed"
    rec = rig.load()
    # the first beat after the silence starts a new segment (beats were not sent)
    check_recording(rec, rig, extra_gap_starts=1)
    check_phases(rec, proto)
    i = int(np.searchsorted(rec.beat_t_s, 110.0))
    assert rec.gap_before[i] and rec.beat_t_s[i - 1] < 70.0
    assert rig.model.n_breaks == 1  # and the live curve is broken there
    # the HR field of every packet is kept, HR-only ones too
    assert rec.hr_t_s.tolist() == [s.t_s for s in rig.sent]
    assert rec.hr_bpm.tolist() == [s.raw[1] for s in rig.sent]
    assert rec.connections == [rec.connections[0]]  # no connection event: the link was fine


def test_contact_lost_and_restored_around_a_drop(strap: EmulatedPeripheral, tmp_path: Path) -> None:
    """Contact lost (strap slipping), then the link drops, then it is back and worn again."""
    proto = protocol(("baseline", 60), ("hold", 60))
    rig = Rig(strap, tmp_path, proto, Heart(seed=3))

    async def main() -> End:
        await rig.start()
        await rig.stream(0.5, 30.0)
        assert view_text.contact_text(rig.model.status) == "contact ✓"
        await rig.stream(30.5, 40.0, rr=False, contact=False)  # no contact: no RR either
        st = rig.model.status
        assert view_text.contact_text(st) == "NO SKIN CONTACT"
        assert view_text.connection_text(st) == "connected, contact lost"
        ln_value, ln_note = view_text.ln_rmssd_text(rig.model)
        assert ln_value == view_text.DASH and "no skin contact" in ln_note
        await rig.drop(40.0)
        assert reconnecting_shown(rig.model)
        await rig.advance(61.0)  # the hold starts while the strap is away
        await rig.restore(62.0)
        await rig.stream(62.5, 64.0, rr=False, contact=False)  # back, not yet in contact
        assert view_text.contact_text(rig.model.status) == "NO SKIN CONTACT"
        await rig.stream(64.5, 120.0)  # in contact again
        assert view_text.contact_text(rig.model.status) == "contact ✓"
        assert view_text.connection_text(rig.model.status) == "connected"
        assert view_text.ln_rmssd_text(rig.model)[0] != view_text.DASH
        return await rig.finish(120.5)

    end = run(main)
    assert end.reason == "completed"
    rec = rig.load()
    check_recording(rec, rig)
    check_phases(rec, proto)
    assert [(c.t_s, c.state) for c in rec.connections] == [
        (0.0, "connected"),
        (30.5, "contact_lost"),
        (40.0, "lost"),
        (62.0, "restored"),
        (64.5, "contact_restored"),
    ]


def test_bursts_back_to_back_packets_and_several_rr_per_packet(
    strap: EmulatedPeripheral, tmp_path: Path
) -> None:
    """Radio stalls deliver held packets back to back; some straps pack 2-4 RR a packet.

    Within the beat timer's slack (an RR plus 1 s) nothing is a gap: beat times follow
    the RR exactly, one constant offset from the true beats all session long.
    """
    proto = protocol(("baseline", 60), ("hold", 60))
    heart = Heart(seed=4)
    rig = Rig(strap, tmp_path, proto, heart)
    rng = random.Random(4)

    async def main() -> End:
        await rig.start()
        # 0-60 s: a packet at every beat; every 5-8 s the radio stalls for 1.2-1.55 s (less
        # than the shortest RR, 0.625 s, plus 1 s) and what it held goes out back to back
        stalls, t = [], 8.0
        while t < 55.0:
            stalls.append((t, round(t + rng.uniform(1.2, 1.55), 6)))
            t += rng.uniform(5.0, 8.0)
        held: list[Sent] = []
        t = 0.0
        while t < 60.0:
            t_beat, units = heart.next_beat()
            t = round(t_beat + 0.02, 6)
            held.append(Sent(t, hrm_bytes(round(61440 / units), [units]), [(t_beat, units)]))
            if stalls and t >= stalls[0][0]:
                resume_s = stalls[0][1]
                if t < resume_s:
                    continue  # held by the stalled radio
                burst, held = held[:-1], held[-1:]
                if burst:
                    await rig.send(
                        resume_s, *(x.raw for x in burst), beats=[x.beats for x in burst]
                    )
                stalls.pop(0)
            await rig.send(t, *(x.raw for x in held), beats=[x.beats for x in held])
            held = []
        # 60-120 s: a packet every 2.5 s carrying every RR since the last (2-4 of them)
        t = round(t + 2.5, 6)
        while t < 120.0:
            p = rig.packet(t)
            assert 2 <= len(p.beats) <= 4
            await rig.send(t, p.raw, beats=[p.beats])
            t = round(t + 2.5, 6)
        assert view_text.ln_rmssd_text(rig.model)[0] != view_text.DASH
        return await rig.finish(120.5)

    end = run(main)
    assert end.reason == "completed"
    rec = rig.load()
    check_recording(rec, rig)
    bursts = [i for i in range(1, len(rig.sent)) if rig.sent[i].t_s == rig.sent[i - 1].t_s]
    assert len(bursts) >= 5  # the test did deliver bursts
    true_t = np.array([t for s in rig.sent for t, _ in s.beats])
    offset = rec.beat_t_s - true_t
    assert np.ptp(offset) < 1e-6 and 0 < offset[0] <= 0.02 + 1e-6  # host times: to the µs
    assert rec.gap_before.tolist() == [True] + [False] * (len(true_t) - 1)


def test_delayed_packets_whose_rr_belong_earlier(strap: EmulatedPeripheral, tmp_path: Path) -> None:
    """A held notification arrives late, then the ones queued behind it, back to back.

    Their RR happened before they arrived (arrival order is the only host time). A delay
    within the timer's slack changes nothing: the beats are timed by RR. A longer one is
    taken for a gap (marked, conservatively: the beats cannot be placed), and the rest
    of that burst, whose RR sum now runs ahead of the host clock, must still be timed in
    order: no beat twice, none going back, and the timeline back on the host clock soon.
    """
    proto = protocol(("baseline", 90))
    rig = Rig(strap, tmp_path, proto, Heart(seed=5))

    async def main() -> End:
        await rig.start()
        await rig.stream(0.5, 30.0)
        late = rig.packet(30.5)  # held 0.5 s: within the slack
        await rig.send(31.0, late.raw, beats=[late.beats])
        await rig.stream(31.5, 40.0)
        held = [rig.packet(t) for t in (40.5, 41.5, 42.5)]  # held 2.8 s, then all three
        await rig.send(43.3, *(p.raw for p in held), beats=[p.beats for p in held])
        await rig.stream(43.5, 90.0)
        return await rig.finish(90.5)

    end = run(main)
    assert end.reason == "completed"
    rec = rig.load()
    check_recording(rec, rig, extra_gap_starts=1, max_late_s=0.01)
    true_t = np.array([t for s in rig.sent for t, _ in s.beats])
    packet_t = np.repeat([s.t_s for s in rig.sent], [len(s.beats) for s in rig.sent])
    offset = rec.beat_t_s - true_t
    late = packet_t == 31.0  # the packet held 0.5 s: timed by RR like the beat before
    i30 = int(np.argmax(late))
    assert late.any() and offset[late] == pytest.approx(offset[i30 - 1], abs=1e-9)
    burst = packet_t == 43.3  # the packets held 2.8 s
    i40 = int(np.argmax(burst))
    assert burst.sum() >= 3 and rec.gap_before[i40]  # a gap, marked
    # the burst's beats: distinct and in order, though they all arrived at 43.3 s
    burst_t = rec.beat_t_s[burst]
    assert burst_t[-1] == pytest.approx(43.3, abs=0.01) and np.all(np.diff(burst_t) > 0)
    after = true_t > 60.0
    assert np.all(rec.beat_t_s[after] <= packet_t[after] + AHEAD_TOL_S)  # caught up


def test_strap_away_for_minutes_comes_back_before_the_deadline(
    strap: EmulatedPeripheral, tmp_path: Path
) -> None:
    """Out of range for 4.5 min (deadline 5 min): two phases change meanwhile; it resumes."""
    proto = protocol(("baseline", 120), ("hold", 120), ("recovery", 240))
    rig = Rig(strap, tmp_path, proto, Heart(seed=6))

    async def main() -> End:
        await rig.start()
        await rig.stream(0.5, 100.0)
        await rig.drop(100.0)
        strap.set_battery(41)  # it ran down while away
        tries = strap.emu.discoveries
        for t in (150.0, 200.0, 250.0, 300.0, 350.0, 399.0):
            await rig.advance(t)
            assert reconnecting_shown(rig.model)
            _, title, *_ = view_text.header_texts(rig.model)
            assert rig.model.end is None
        assert [p.start_s for p in rig.model.phases] == [0.0, 120.0, 240.0]
        assert "recovery" in title
        # it kept looking for the strap all along
        await strap.emu.until(lambda: strap.emu.discoveries >= tries + 3, what="scans")
        await rig.restore(399.5)
        assert view_text.battery_text(rig.model.status) == "battery 41%"
        await rig.stream(400.0, 480.0)
        assert view_text.ln_rmssd_text(rig.model)[0] != view_text.DASH
        return await rig.finish(480.5)

    end = run(main)
    assert (end.t_s, end.reason) == (480.0, "completed")
    rec = rig.load()
    check_recording(rec, rig)
    check_phases(rec, proto)
    restored = next(c for c in rec.connections if c.state == "restored")
    assert restored.detail == "after 299.5 s"
    assert [(b.t_s, b.percent) for b in rec.events if isinstance(b, Battery)] == [(399.5, 41)]
    assert rig.source.reconnects == 1 and strap.connects == 2


def test_strap_that_never_comes_back_ends_the_session_cleanly(
    strap: EmulatedPeripheral, tmp_path: Path
) -> None:
    """Gone for good: the session ends at the deadline with the reason; all of it is saved."""
    proto = protocol(("baseline", 60), ("hold", 600))
    rig = Rig(
        strap, tmp_path, proto, Heart(seed=8), config=replace(FAST, reconnect_deadline_s=120.0)
    )

    async def main() -> End:
        await rig.start()
        await rig.stream(0.5, 50.0)
        tries = strap.emu.discoveries
        await rig.drop(50.0)
        # a second scan began: the first found nothing (the reason will say so)
        await strap.emu.until(lambda: strap.emu.discoveries >= tries + 2, what="scans")
        await rig.advance(169.9)  # just before the deadline: still trying
        assert reconnecting_shown(rig.model) and rig.model.end is None
        assert [p.start_s for p in rig.model.phases] == [0.0, 60.0]  # the hold began
        assert rig.task is not None and not rig.task.done()
        rig.clock.t_s = 170.0
        async with asyncio.timeout(GUARD_S):
            return await rig.task

    end = run(main)
    reason = "strap lost: not back within 2 min (last: strap not in range)"
    assert (end.t_s, end.reason) == (170.0, reason)
    rec = rig.load()
    assert rec.end == end and rec.events[-1] == end
    assert [(c.t_s, c.state) for c in rec.connections] == [(0.0, "connected"), (50.0, "lost")]
    check_recording(rec, rig)
    assert [p.start_s for p in rec.phases] == [0.0, 60.0] and rec.phases[-1].end_s == 170.0
    assert rec.beat_t_s.max() < 50.0
    # the view says the session ended and why
    assert rig.model.end == end
    _, title, *_ = view_text.header_texts(rig.model)
    assert reason in title
    assert not strap.connected and strap.connects == 1


def test_beat_timer_never_times_a_beat_at_or_before_the_previous_one() -> None:
    """The timer's side of the delayed burst above, pure: late anchors never go backwards."""
    timer = BeatTimer()

    def push(t_s: float, *rr_ms: float) -> list[float]:
        return [b.t_s for b in timer.push(t_s, HeartRateMeasurement(70, rr_ms))]

    assert push(10.0, 800.0) == [10.0]
    # the rest of a burst, all arriving at 10.0: strictly after 10.0, spaced by RR after
    # the first, which is squeezed (the host clock cannot tell more)
    out = push(10.0, 900.0, 700.0)
    assert out[0] > 10.0 and out[1] - out[0] == pytest.approx(0.7)
    # the next packet pulls the timeline back to its arrival
    assert push(11.3, 800.0) == [11.3]
    # across a reset too: a packet after a reconnect carrying RR from before it
    timer.reset()
    out = push(11.9, 800.0, 800.0, 800.0)  # the host clock says 10.3, 11.1, 11.9
    assert out[0] > 11.3 and np.all(np.diff(out) > 0)
