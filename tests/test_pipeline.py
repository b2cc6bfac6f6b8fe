"""One pipeline: demo → recording → replay reproduces the same beats and events exactly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
from tests.helpers import demo_max, record_simulated, run_cli, sim_header

from holdbeat.events import End, Hrm, PhaseStart, Tick
from holdbeat.pipeline import NextPhase, Stop, from_iterable, paced, run_session
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.recording_writer import new_header
from holdbeat.session import protocol_from_dict
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.replay import replay_events
from holdbeat.sources.simulator import simulate


def event_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()[1:]]


def test_replay_reproduces_identical_events(tmp_path: Path) -> None:
    first = record_simulated(tmp_path / "a", "alternating", SimConfig(seed=3, artifact_rate=0.03))
    rec = load(first)
    proto = protocol_from_dict(rec.header.protocol)
    sink = RecorderSink(tmp_path / "b")
    end = asyncio.run(
        run_session(
            from_iterable(replay_events(rec)), [sink], rec.header, proto, schedule_phases=False
        )
    )
    assert end == rec.end
    assert event_lines(first) == event_lines(sink.path)
    again = load(sink.path)
    np.testing.assert_array_equal(again.beat_t_s, rec.beat_t_s)
    np.testing.assert_array_equal(again.rr_ms, rec.rr_ms)
    np.testing.assert_array_equal(again.flag, rec.flag)


def test_live_beats_equal_loaded_beats(tmp_path: Path) -> None:
    """What the live pipeline computed is exactly what loading the file recomputes."""

    class Collect:
        def __init__(self) -> None:
            self.beats = []

        def start(self, header, protocol) -> None:
            pass

        def handle(self, ev, processed) -> None:
            if processed is not None:
                self.beats.extend(processed.beats)

        def finish(self, end) -> None:
            pass

    c = Collect()
    path = record_simulated(tmp_path, "single", SimConfig(seed=5), extra_sinks=[c])
    rec = load(path)
    assert [b.t_s for b in c.beats] == rec.beat_t_s.tolist()
    assert [b.rr_ms for b in c.beats] == rec.rr_ms.tolist()
    assert [b.flag for b in c.beats] == rec.flag.tolist()


def test_phases_advance_on_time_and_session_completes(tmp_path: Path) -> None:
    proto = load_protocol("alternating")
    rec = load(record_simulated(tmp_path, proto))
    assert [p.name for p in rec.phases] == [p.name for p in proto.phases]
    starts = np.cumsum([0] + [p.duration_s for p in proto.phases[:-1]])
    assert [p.start_s for p in rec.phases] == starts.tolist()
    for span, phase in zip(rec.phases, proto.phases, strict=True):
        assert span.duration_s == phase.duration_s
        assert (span.kind, span.mode, span.belief) == (phase.kind, phase.mode, phase.belief)
    assert rec.end is not None and rec.end.reason == "completed"
    assert rec.end.t_s == proto.total_s


def test_stop_control_ends_early_with_reason(tmp_path: Path) -> None:
    proto = load_protocol("single")
    sink = RecorderSink(tmp_path)

    async def main() -> End:
        q: asyncio.Queue = asyncio.Queue()

        async def source():
            for ev in simulate(proto, SimConfig(seed=1)):
                if ev.t_s > 200.0 and q.empty():
                    q.put_nowait((200.0, Stop("ended by user")))  # the user pressed q at 200 s
                yield ev

        return await run_session(source(), [sink], sim_header(proto), proto, controls=q)

    end = asyncio.run(main())
    assert end == End(200.0, "ended by user")
    rec = load(sink.path)
    assert rec.end == end
    assert rec.warnings == []
    assert rec.beat_t_s.max() <= 200.5


def test_next_phase_ends_open_action_phase(tmp_path: Path) -> None:
    proto = load_protocol("act-and-savor")
    sink = RecorderSink(tmp_path)
    action_start = sum(p.duration_s for p in proto.phases[:2])

    async def main() -> End:
        q: asyncio.Queue = asyncio.Queue()

        async def source():
            sent = False
            for ev in simulate(proto, SimConfig(seed=1)):
                if not sent and ev.t_s > action_start + 10:
                    q.put_nowait((action_start + 10.0, NextPhase()))
                    sent = True
                yield ev

        return await run_session(source(), [sink], sim_header(proto), proto, controls=q)

    asyncio.run(main())
    rec = load(sink.path)
    action = rec.phases[2]
    assert action.kind == "action" and action.planned_s is None
    assert action.duration_s == 10.0


def test_paced_source_interleaves_ticks_on_a_simulated_clock() -> None:
    class FakeClock:
        speed = 1.0

        def __init__(self) -> None:
            self.t = 0.0

        def now_s(self) -> float:
            return self.t

    clock = FakeClock()

    async def fake_sleep(dt: float) -> None:
        clock.t = round(clock.t + dt, 6)

    events = [Hrm(1.0, b"\x00\x46"), Hrm(2.0, b"\x00\x46")]

    async def collect() -> list:
        return [ev async for ev in paced(events, clock, sleep=fake_sleep, tick_s=0.25)]  # type: ignore[arg-type]

    out = asyncio.run(collect())
    ticks = [e.t_s for e in out if isinstance(e, Tick)]
    assert ticks == [0.25, 0.5, 0.75, 1.25, 1.5, 1.75]
    assert [e.t_s for e in out if isinstance(e, Hrm)] == [1.0, 2.0]


def test_phase_change_fires_without_packets() -> None:
    """A silent strap (Ticks only) still advances the protocol and ends it."""
    proto = load_protocol("single")
    seen: list = []

    class Spy:
        def start(self, header, protocol) -> None:
            pass

        def handle(self, ev, processed) -> None:
            seen.append(ev)

        def finish(self, end) -> None:
            seen.append(end)

    ticks = [Tick(float(t)) for t in range(0, 700, 5)]
    end = asyncio.run(run_session(from_iterable(ticks), [Spy()], sim_header(proto), proto))
    assert [e.index for e in seen if isinstance(e, PhaseStart)] == [0, 1, 2]
    assert end == End(660.0, "completed")


def test_demo_cli_max_speed_writes_a_valid_recording(tmp_path: Path) -> None:
    out = demo_max(tmp_path, "--seed", "7")
    assert out.returncode == 0, out.stderr
    files = list(tmp_path.glob("*.jsonl"))
    assert len(files) == 1
    rec = load(files[0])
    assert rec.end is not None and rec.end.reason == "completed"
    assert len(rec.rr_ms) > 600
    assert f"recorded: {files[0]}" in out.stdout
    replay = run_cli("replay", str(files[0]), "--headless", "--speed", "max")
    assert replay.returncode == 0, replay.stderr
    assert "session ended: completed" in replay.stdout
    assert len(list(tmp_path.glob("*.jsonl"))) == 1  # plain replay records nothing


def test_header_survives_round_trip(tmp_path: Path) -> None:
    proto = load_protocol("fierce-then-soft")
    rec = load(record_simulated(tmp_path, proto))
    assert protocol_from_dict(rec.header.protocol).phases == proto.phases
    assert [b["mode"] for b in rec.header.beliefs] == ["fierce", "soft"]
    assert rec.header.device.source == "simulator"
    h = new_header(rec.header.device)
    assert h.session_id != rec.header.session_id


def test_source_is_closed_even_when_a_sink_cannot_start() -> None:
    """A connected strap must be released if, say, the recording cannot be created."""
    closed: list[bool] = []

    class Source:
        def __aiter__(self):
            return self

        async def __anext__(self):
            raise StopAsyncIteration

        async def aclose(self) -> None:
            closed.append(True)

    class Broken:
        essential = True  # like the recorder: its failure ends the session

        def start(self, header, protocol) -> None:
            raise OSError("no room")

        def handle(self, ev, processed) -> None:
            pass

        def finish(self, end) -> None:
            pass

    proto = load_protocol("single")
    try:
        asyncio.run(run_session(Source(), [Broken()], sim_header(proto), proto))
    except OSError:
        pass
    else:
        raise AssertionError("the sink's failure must propagate")
    assert closed == [True]
