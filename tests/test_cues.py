"""Sound cues: the schedule (pure), the events a session records, the tones, the outputs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import demo_max, sim_header

from holdbeat.cues import (
    NOTES,
    SAMPLE_RATE,
    CueConfig,
    PhaseTiming,
    cue_pcm,
    cue_schedule,
    phase_cues,
    rating_pcm,
    tone,
    value_hz,
)
from holdbeat.events import Cue, Marker, Rating
from holdbeat.pipeline import NextPhase, Stop, from_iterable, run_session
from holdbeat.practice import PracticePlan, PracticePlanner
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.session import DEFAULT_ACTION_S
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.audio import AudioSink, WavOut, open_audio, read_wav, write_wav
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.simulator import simulate

# ---------------------------------------------------------------- the schedule (pure)


def cues(c: list[Cue]) -> list[tuple[float, str, int, str]]:
    return [(x.t_s, x.kind, x.phase_index, x.detail) for x in c]


def test_schedule_of_single_with_a_bell_by_hand() -> None:
    """baseline 0-180, hold 180-480 (bell 60 s), recovery 480-660, end 660."""
    phases = [
        PhaseTiming(0, "baseline", 0.0, 180.0),
        PhaseTiming(1, "hold", 180.0, 300.0),
        PhaseTiming(2, "recovery", 480.0, 180.0),
    ]
    got = cue_schedule(phases, 660.0, CueConfig(bell_s=60.0))
    assert cues(got) == [
        (0.0, "phase", 0, ""),
        (180.0, "hold", 1, ""),
        (182.0, "rate", 1, "pre"),
        (240.0, "bell", 1, ""),
        (300.0, "bell", 1, ""),
        (360.0, "bell", 1, ""),
        (420.0, "bell", 1, ""),
        (480.0, "phase", 2, ""),
        (482.0, "rate", 1, "post"),
        (660.0, "end", 2, ""),
    ]


def test_bell_boundaries_and_no_bell() -> None:
    hold = PhaseTiming(1, "hold", 100.0, 120.0)
    # a bell exactly at the end of the hold is not rung (the next phase's cue is there)
    assert [c.t_s for c in phase_cues(hold, None, CueConfig(bell_s=60.0)) if c.kind == "bell"] == [
        160.0
    ]
    assert [c.t_s for c in phase_cues(hold, None, CueConfig(bell_s=59.9)) if c.kind == "bell"] == [
        159.9,
        219.8,
    ]
    assert not [c for c in phase_cues(hold, None, CueConfig()) if c.kind == "bell"]
    # ratings off: no scale announcement
    assert [c.kind for c in phase_cues(hold, None, CueConfig(ratings=False))] == ["hold"]


def test_a_phase_that_ends_early_drops_what_it_had_pending() -> None:
    phases = [PhaseTiming(0, "baseline", 0.0, 60.0), PhaseTiming(1, "hold", 60.0, 300.0)]
    got = cue_schedule(phases, 61.5, CueConfig(bell_s=30.0))
    assert cues(got) == [(0.0, "phase", 0, ""), (60.0, "hold", 1, ""), (61.5, "end", 1, "")]


@pytest.mark.parametrize("bad", [0.0, 9.99, float("nan"), float("inf"), -60.0])
def test_bell_interval_is_checked(bad: float) -> None:
    with pytest.raises(ValueError, match="bell interval must be at least 10 s"):
        CueConfig(bell_s=bad)
    CueConfig(bell_s=10.0)  # the boundary itself is allowed


# ---------------------------------------------------------------- recorded as events


def run_with_planner(tmp: Path, protocol, plan: PracticePlan, cfg: SimConfig, controls=None):
    rec = RecorderSink(tmp)
    end = asyncio.run(
        run_session(
            from_iterable(simulate(protocol, cfg)),
            [rec],
            sim_header(protocol, cfg.seed),
            protocol,
            open_phase_s=DEFAULT_ACTION_S,
            planner=PracticePlanner(plan),
            controls=controls,
        )
    )
    assert rec.path is not None
    return load(rec.path), end


def test_a_session_records_exactly_the_schedule(tmp_path: Path) -> None:
    proto = load_protocol("fierce-then-soft")
    cfg = CueConfig(bell_s=90.0)
    rec, end = run_with_planner(tmp_path, proto, PracticePlan(cues=cfg), SimConfig(seed=2))
    timings = [PhaseTiming(p.index, p.kind, p.start_s, p.planned_s) for p in rec.phases]
    assert cues(rec.cues) == cues(cue_schedule(timings, end.t_s, cfg))
    # and by hand: the soft hold (480-780) rings at 570, 660, 750
    soft = [c.t_s for c in rec.cues if c.kind == "bell" and c.phase_index == 2]
    assert soft == [570.0, 660.0, 750.0]
    # in the file, cues sit in time order between the other events
    lines = [json.loads(x) for x in rec.path.read_text().splitlines()[1:]]
    ts = [x["t"] for x in lines]
    assert ts == sorted(ts)
    hold_line = next(i for i, x in enumerate(lines) if x["type"] == "phase" and x["index"] == 1)
    assert lines[hold_line + 1] == {
        "t": 180.0,
        "type": "cue",
        "kind": "hold",
        "phase": 1,
        "detail": "",
    }


class Keys:
    """A sink that presses keys when session time reaches them (as a person would)."""

    def __init__(self, queue: asyncio.Queue, presses: list) -> None:
        self.queue, self.presses = queue, list(presses)

    def start(self, header, protocol) -> None:
        pass

    def handle(self, ev, processed) -> None:
        while self.presses and ev.t_s >= self.presses[0][0]:
            self.queue.put_nowait(self.presses.pop(0))

    def finish(self, end) -> None:
        pass


def test_ending_a_phase_early_drops_its_pending_cues(tmp_path: Path) -> None:
    """act-and-savor: the action phase (360-…) ended by a key at 400 s, the session by q at
    700 s: every cue belongs to the phase running then, and the end cue comes last."""
    proto = load_protocol("act-and-savor")
    plan = PracticePlan(cues=CueConfig(bell_s=30.0))

    async def go():
        q: asyncio.Queue = asyncio.Queue()
        rec = RecorderSink(tmp_path)
        keys = Keys(q, [(400.0, NextPhase()), (700.0, Stop("ended by user"))])
        await run_session(
            from_iterable(simulate(proto, SimConfig(seed=1))),
            [rec, keys],
            sim_header(proto),
            proto,
            open_phase_s=DEFAULT_ACTION_S,
            planner=PracticePlanner(plan),
            controls=q,
        )
        return rec.path

    rec = load(asyncio.run(go()))
    starts = {p.index: p.start_s for p in rec.phases}
    assert 400.0 <= starts[3] < 401.5  # the soft hold began at the key (next packet)
    assert 700.0 <= rec.end.t_s < 701.5
    for c in rec.cues[:-1]:
        nxt = starts.get(c.phase_index + 1, rec.end.t_s)
        if c.kind == "rate" and c.detail == "post":
            continue  # announced in the phase after the hold it rates
        assert starts[c.phase_index] <= c.t_s < nxt, c
    soft_bells = [c.t_s for c in rec.cues if c.kind == "bell" and c.phase_index == 3]
    assert soft_bells == [round(starts[3] + k * 30.0, 6) for k in range(1, 8)]  # 4 min
    assert rec.cues[-1] == Cue(rec.end.t_s, "end", 4)  # in the recovery
    assert rec.events[-1] == rec.end


def test_replay_reproduces_cues_and_notes_bit_exact(tmp_path: Path) -> None:
    from holdbeat.session import protocol_from_dict
    from holdbeat.sources.replay import replay_events

    proto = load_protocol("act-and-savor")
    plan = PracticePlan(note_before="tense", cues=CueConfig(bell_s=45.0))
    rec, _ = run_with_planner(tmp_path / "a", proto, plan, SimConfig(seed=9))
    sink = RecorderSink(tmp_path / "b")
    asyncio.run(
        run_session(
            from_iterable(replay_events(rec)),
            [sink],
            rec.header,
            protocol_from_dict(rec.header.protocol),
            schedule_phases=False,
            planner=PracticePlanner(plan),  # ignored on replay: the file's own events count
        )
    )
    a = rec.path.read_text().splitlines()[1:]
    b = sink.path.read_text().splitlines()[1:]
    assert a == b
    kinds = {json.loads(x)["type"] for x in a}
    assert {"cue", "session_note", "action", "action_done"} <= kinds


def test_demo_cues_without_a_sound_device_say_so_and_go_on(tmp_path: Path) -> None:
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent/pulse", "QT_QPA_PLATFORM": "offscreen"}
    wav = tmp_path / "cues.wav"
    r = demo_max(
        tmp_path,
        "--protocol",
        "quick",
        "--cues",
        "--bell",
        "30",
        "--cues-wav",
        str(wav),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    notes = [x for x in r.stderr.splitlines() if x.startswith("sound cues:")]
    assert len(notes) == 1 and "continuing without sound" in notes[0], r.stderr
    assert "session ended: completed" in r.stdout
    rec = load(next(tmp_path.glob("*.jsonl")))
    assert [c.kind for c in rec.cues] == [
        "phase",
        "hold",
        "rate",
        "bell",
        "bell",
        "bell",
        "phase",
        "rate",
        "end",
    ]
    # the WAV has a sound at each cue (and each rating), silence between
    pcm, rate = read_wav(wav)
    end_sound_s = sum(d for _, d in NOTES["end"])
    assert rate == SAMPLE_RATE and pcm.size == round((240 + end_sound_s) * rate)
    for c in rec.cues:
        i = round(c.t_s * rate)
        assert np.abs(pcm[i : i + rate // 10]).max() > 1000, c
    quiet = pcm[round(20 * rate) : round(55 * rate)]  # baseline, nothing scheduled
    assert np.abs(quiet).max() == 0


def test_bad_bell_is_exit_2(tmp_path: Path) -> None:
    r = demo_max(tmp_path, "--cues", "--bell", "5")
    assert r.returncode == 2 and "at least 10 s" in r.stderr
    assert not list(tmp_path.glob("*.jsonl"))


# ---------------------------------------------------------------- the tones


def peak_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[spec.argmax()])


def test_each_note_sounds_at_its_pitch() -> None:
    """FFT of each note's stretch of the synthesised PCM finds its frequency (±1 bin)."""
    for kind, notes in NOTES.items():
        pcm = cue_pcm(kind).astype(float)
        i = 0
        for hz, dur in notes:
            n = round(dur * SAMPLE_RATE)
            seg = pcm[i : i + n]
            i += n
            if hz == 0:
                assert np.abs(seg).max() == 0
                continue
            assert abs(peak_hz(seg) - hz) <= SAMPLE_RATE / n, (kind, hz)
        assert i == pcm.size


def test_rating_pitch_is_the_value() -> None:
    assert value_hz(0) == pytest.approx(261.63)
    assert value_hz(5) == pytest.approx(261.63 * 2)  # one octave at the middle
    assert value_hz(10) == pytest.approx(261.63 * 4)
    pitches = [peak_hz(rating_pcm(v).astype(float)) for v in range(11)]
    assert pitches == sorted(pitches) and len(set(pitches)) == 11
    with pytest.raises(ValueError, match="from 0 to 10"):
        rating_pcm(11)
    with pytest.raises(ValueError, match="no sound for cue"):
        cue_pcm("fanfare")


def test_tones_start_and_end_silent_and_never_clip() -> None:
    for kind in NOTES:
        pcm = cue_pcm(kind)
        assert pcm.dtype == np.int16
        assert abs(int(pcm[0])) < 50 and abs(int(pcm[-1])) < 50  # no click
        assert np.abs(pcm).max() < 0.5 * 32767
    assert tone(()).size == 0


def test_wav_out_places_sounds_at_their_times(tmp_path: Path) -> None:
    out = WavOut(tmp_path / "x.wav", rate=8000)
    a = np.full(800, 1000, dtype=np.int16)
    out.play(1.0, a)
    out.play(1.05, a)  # overlapping: mixed, clipped to int16
    out.play(-3.0, a[:10])  # before the start: at 0
    out.close()
    pcm, rate = read_wav(tmp_path / "x.wav")
    assert rate == 8000 and pcm.size == 8000 + 400 + 800
    assert (pcm[:10] == 1000).all() and (pcm[10:8000] == 0).all()
    assert (pcm[8000:8400] == 1000).all() and (pcm[8400:8800] == 2000).all()
    assert (pcm[8800:] == 1000).all()
    write_wav(tmp_path / "y.wav", np.array([32767, -32768], dtype=np.int16), 8000)
    assert read_wav(tmp_path / "y.wav")[0].tolist() == [32767, -32768]


def test_audio_sink_plays_cues_ratings_and_lapses(tmp_path: Path) -> None:
    out = WavOut(tmp_path / "s.wav")
    sink = AudioSink(out, opener=None)
    sink.start(sim_header(load_protocol("single")), None)
    sink.handle(Cue(1.0, "hold", 1), None)
    sink.handle(Rating(2.0, 1, "pre", "belief", 7), None)
    sink.handle(Marker(3.0, "lapse"), None)
    sink.handle(Marker(4.0, "felt"), None)  # no sound
    sink.handle(Cue(5.0, "a-kind-from-the-future", 1), None)  # unknown: silent, no error
    assert sink.played == [(1.0, "hold"), (2.0, "rating 7"), (3.0, "rehold")]


# ---------------------------------------------------------------- the real device


def _audio_or_skip():
    out, note = open_audio()
    if out is None:
        pytest.skip(f"no sound device here: {note}")
    return out


def test_sound_reaches_the_device(qapp) -> None:
    # qapp: a QApplication first (open_audio would otherwise make a QCoreApplication, as the
    # console view does, and no window could be made in this process afterwards)
    """Where a sound device exists, the tones go out through Qt Multimedia; if the device is
    a PulseAudio null sink whose monitor we can record, the recording holds the tones."""
    out = _audio_or_skip()
    capture = None
    wav = Path(os.environ.get("TMPDIR", "/tmp")) / f"holdbeat-cap-{os.getpid()}.wav"
    if shutil.which("parec"):
        capture = subprocess.Popen(
            [
                "parec",
                "--device=@DEFAULT_MONITOR@",
                "--format=s16le",
                "--channels=1",
                "--rate=44100",
                "--file-format=wav",
                str(wav),
            ],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
    try:
        pcm = np.concatenate([cue_pcm("hold"), rating_pcm(10)])
        out.play(0.0, pcm)
        deadline = time.monotonic() + 10
        while out.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)
        assert out.bytes_played == 2 * pcm.size
        assert not out.errors
    finally:
        out.close()
        out.wait()
        if capture is not None:
            capture.terminate()
            capture.wait(5)
    if capture is not None and wav.exists():
        got, rate = read_wav(wav)
        wav.unlink()
        loud = np.flatnonzero(np.abs(got) > 1000)
        if loud.size:  # the monitor of the default sink heard it: check the pitches
            x = got[loud[0] :].astype(float)
            third = round(0.16 * rate)
            assert abs(peak_hz(x[:third], rate) - 523.25) < 15
            tail = x[round(0.64 * rate) : round(1.0 * rate)]
            assert abs(peak_hz(tail, rate) - value_hz(10)) < 15
