"""Live, causal artifact flags: physiological range, jumps from the median, ectopic pairs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import record_simulated
from holdbeat.beats import Beat
from holdbeat.clean import FlagConfig, LiveFlagger
from holdbeat.recording import load
from holdbeat.sim.artifacts import beat_times, inject_artifacts
from holdbeat.sim.body import SimConfig
from holdbeat.sim.rr import synthetic_rr


def _flags(rr, gap=None, config=None) -> list[str]:
    f = LiveFlagger(config)
    t = beat_times(np.nan_to_num(np.asarray(rr, float), nan=800.0, posinf=800.0))
    gap = [False] * len(rr) if gap is None else gap
    return [f.flag(Beat(float(t[i]), float(rr[i]), gap[i])).flag for i in range(len(rr))]


def test_range_limits_flag_but_never_drop():
    f = LiveFlagger()
    for rr, want in ((299.0, "range"), (2001.0, "range"), (math.nan, "range"), (0.0, "range")):
        b = Beat(5.0, rr, False)
        out = f.flag(b)
        assert out.flag == want
        assert out.t_s == b.t_s and (out.rr_ms == b.rr_ms or math.isnan(rr))
    assert f.flag(Beat(6.0, 300.0)).flag == "" and f.flag(Beat(8.0, 2000.0)).flag in ("", "jump")


def test_limits_are_configurable():
    assert _flags([350.0, 360.0], config=FlagConfig(lo_ms=400.0)) == ["range", "range"]


def test_jump_from_running_median_is_flagged_and_threshold_tunable():
    rr = [800.0] * 10 + [1050.0] + [800.0] * 5  # +31 %
    assert _flags(rr)[10] == "jump"
    assert _flags(rr, config=FlagConfig(jump=0.4))[10] == ""
    assert _flags([800.0] * 10 + [950.0] + [800.0] * 5)[10] == ""  # +19 %: normal


def test_mild_ectopic_pair_is_flagged_on_the_long_beat():
    rr = [800.0] * 10 + [670.0, 930.0] + [800.0] * 5  # -16 %, +16 %: below `jump`
    fl = _flags(rr)
    assert fl[11] == "ectopic" and fl.count("") == len(rr) - 1
    assert _flags(rr, config=FlagConfig(pair_jump=0.0))[11] == ""


def test_ectopic_pair_boundary_is_strictly_above_pair_jump():
    # median 1000 exactly: pair_jump * med = 120.0 and (1 - pair_jump) * med = 880.0 in floats
    base = [1000.0] * 12
    on_limit = _flags([*base, 870.0, 1120.0, 1000.0])  # the long one exactly +120 ms
    above = _flags([*base, 870.0, 1120.5, 1000.0])
    assert on_limit[13] == "" and above[13] == "ectopic"
    assert on_limit[12] == above[12] == ""  # the short one is never flagged by the pair


def test_default_settings_are_the_documented_ones():
    # docs/hrv.md section 2 states each of these
    c = FlagConfig()
    assert (c.lo_ms, c.hi_ms, c.jump, c.history, c.relearn) == (300.0, 2000.0, 0.25, 9, 5)
    assert (c.pair_jump, c.spread_k, c.spread_beats, c.step) == (0.12, 4.5, 31, 0.2)


def test_real_heart_rate_step_is_relearned():
    rr = [1000.0] * 20 + [700.0] * 30
    fl = _flags(rr)
    flagged = [i for i, f in enumerate(fl) if f]
    assert flagged == list(range(20, 24))  # relearn=5: the 5th consistent beat passes
    assert all(f == "" for f in fl[24:])


def test_a_sudden_lengthening_is_flagged_once_then_followed():
    # long beats are judged for abruptness: the step is flagged, the beats after it are no
    # step from the beat before, so they are physiology and the median follows them
    f = LiveFlagger()
    fl = [f.judge(x) for x in [700.0] * 20 + [1000.0] * 30]
    assert [i for i, x in enumerate(fl) if x] == [20]
    assert f.median() == 1000.0
    # the plain rule (no abruptness test) needs `relearn` beats
    plain = LiveFlagger(FlagConfig(spread_k=0.0, step=0.0))
    fl = [plain.judge(x) for x in [700.0] * 20 + [1000.0] * 30]
    assert [i for i, x in enumerate(fl) if x] == list(range(20, 24))


def test_abruptness_limit_is_the_larger_of_step_and_spread():
    f = LiveFlagger(FlagConfig(spread_k=4.5, step=0.2, spread_beats=8))
    assert f.limit(1000.0) == pytest.approx(200.0)  # no differences yet: step x median
    for x in [1000.0, 1100.0] * 6:  # successive differences of 100 ms
        f.judge(x)
    assert f.limit(1000.0) == pytest.approx(4.5 * 1.4826 * 100.0)
    assert LiveFlagger(FlagConfig(spread_k=0.0, step=0.2)).limit(900.0) == pytest.approx(180.0)


def test_gap_restarts_the_median():
    rr = [1000.0] * 20 + [650.0] * 10
    gap = [False] * 20 + [True] + [False] * 9
    assert _flags(rr, gap) == [""] * 30


@pytest.mark.parametrize("rate", [0.01, 0.03, 0.05])
@pytest.mark.parametrize("kind", ["missed", "extra", "ectopic"])
def test_injected_artifacts_are_flagged_live(rate, kind):
    rr = synthetic_rr(4000, seed=int(rate * 100))
    inj = inject_artifacts(rr, rate, seed=7, kinds=(kind,))
    fl = np.array(_flags(inj.rr_ms))
    art = inj.kind != ""
    idx = np.flatnonzero(art)
    step = 1 if kind == "missed" else 2
    events = [idx[j : j + step] for j in range(0, len(idx), step)]
    assert len(events) >= 0.5 * rate * 4000
    caught = [bool((fl[e] != "").any()) for e in events]
    assert all(caught), f"{caught.count(False)} of {len(events)} {kind} events not flagged"
    false_pos = np.sum((fl != "") & ~art)
    assert false_pos <= 0.002 * (~art).sum()


def test_causal_flags_do_not_depend_on_future_beats():
    rr = inject_artifacts(synthetic_rr(600, seed=1), 0.05, seed=1).rr_ms
    full = _flags(rr)
    for cut in (50, 200, 401):
        assert _flags(rr[:cut]) == full[:cut]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(100.0, 3000.0), max_size=80))
def test_one_output_per_beat_same_time_and_value(rr):
    f = LiveFlagger()
    t = 0.0
    for r in rr:
        t += r / 1000.0
        out = f.flag(Beat(t, r))
        assert (out.t_s, out.rr_ms, out.gap_before) == (t, r, False)
        assert out.flag in ("", "range", "jump", "ectopic")
        assert (out.flag == "range") == (not 300.0 <= r <= 2000.0)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="lo_ms"):
        FlagConfig(lo_ms=2500.0)
    with pytest.raises(ValueError, match="jump"):
        FlagConfig(jump=1.5)
    msg = r"^spread_k must be >= 0 and spread_beats >= 8$"
    for kw in ({"spread_k": -0.1}, {"spread_beats": 7}):
        with pytest.raises(ValueError, match=msg):
            FlagConfig(**kw)
    FlagConfig(spread_k=0.0, spread_beats=8)  # the smallest allowed


def test_the_running_median_is_the_middle_or_the_mean_of_the_middle_two():
    f = LiveFlagger()
    assert f.median() is None
    for r, want in ((800.0, 800.0), (900.0, 850.0), (700.0, 800.0), (1000.0, 850.0)):
        assert f.judge(r) == ""
        assert f.median() == want  # 1, 2 (mean), 3 (middle), 4 (mean of 800 and 900)


def test_a_long_beat_that_steps_less_than_the_limit_is_not_abrupt():
    """With a tiny step limit (0.45 ms at 900 ms) a long beat right after another long beat
    is no new jump: only steps above the limit are abrupt."""
    f = LiveFlagger(FlagConfig(step=0.0005, spread_k=0.0))
    for _ in range(10):
        f.judge(900.0)
    assert f.limit(900.0) == pytest.approx(0.45)
    assert f.judge(1400.0) == "jump"  # a 500 ms step
    assert f.judge(1400.3) == ""  # 0.3 ms from the beat before: gradual
    assert f.judge(1401.0) == "jump"  # 0.7 ms: abrupt


def test_flags_travel_to_the_recording(tmp_path):
    path = record_simulated(tmp_path, "single", SimConfig(seed=4, artifact_rate=0.03))
    written: list[str] = []
    for line in path.read_text().splitlines()[1:]:
        d = json.loads(line)
        if d.get("type") == "hrm" and "rr" in d:
            written += d.get("flags", [""] * len(d["rr"]))
    rec = load(path)
    assert written == list(rec.flag)
    assert sum(1 for f in written if f) > 10
