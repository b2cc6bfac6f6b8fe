"""Catch-up on real hearts: the band's false-alarm rate, planted changes, and live = report.

Sessions are cut from the real resting recordings of tests/data (3-min baseline + 5-min hold,
nothing changing at onset); planted changes scale the beat-to-beat variation (ln RMSSD) or
shift HR from hold onset with a 20-s ramp. Figures: benchmarks/bench_real_hearts.py and
docs/analysis.md.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holdbeat.analysis.baseline_band import DEFAULT_K
from holdbeat.analysis.catchup import DEFAULT_DWELL_S
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import ReportConfig, build_report
from holdbeat.analysis.report_render import report_to_dict
from holdbeat.gui.model import ViewModel
from holdbeat.pipeline import Session
from holdbeat.recording import load
from holdbeat.sources.replay import replay_events
from real_corpus import catchup_on_cut, load_real, plant, resting_cuts

CUTS = list(resting_cuts())


@pytest.mark.parametrize(
    ("metric", "direction"),
    [("ln_rmssd", "up"), ("hr", "down"), ("ln_rmssd", "both"), ("hr", "both")],
)
def test_false_catch_up_on_real_resting_hearts_is_at_most_5_percent(metric, direction):
    assert len(CUTS) >= 60
    res = [catchup_on_cut(rr, metric, direction) for _, rr, _ in CUTS]
    assert np.mean([c.reached for c in res]) <= 0.05
    # and the old rule (SD of the rolling series, k = 2, 60 s) fired far more often
    old = [catchup_on_cut(rr, metric, direction, k=2.0, dwell_s=60.0) for _, rr, _ in CUTS]
    assert np.mean([c.reached for c in old]) >= np.mean([c.reached for c in res])


@pytest.mark.parametrize(("metric", "small", "large"), [("ln_rmssd", 0.3, 0.9), ("hr", -3.0, -9.0)])
def test_planted_changes_are_caught_more_the_larger_they_are(metric, small, large):
    d = "up" if metric == "ln_rmssd" else "down"
    rate = {}
    lat = {}
    for size in (small, large):
        res = [catchup_on_cut(plant(rr, 180.0, metric, size), metric, d) for _, rr, _ in CUTS]
        rate[size] = np.mean([c.reached for c in res])
        lat[size] = np.median([c.latency_s for c in res if c.reached])
    null = np.mean([catchup_on_cut(rr, metric, d).reached for _, rr, _ in CUTS])
    # a change the size of ordinary minute-to-minute variation is caught in some holds
    # only; a large one in most, within 90 s (docs/analysis.md has the whole curve)
    assert null < rate[small] < rate[large]
    assert rate[large] >= 0.75
    assert lat[large] < 90.0


def test_defaults_are_the_calibrated_ones():
    assert DEFAULT_K == 2.0 and DEFAULT_DWELL_S == 75.0


def _session_files(tmp_path: Path, name: str, start_s: float) -> tuple[Path, Path]:
    """Real RR as an RR text file, with a phases file: baseline, two holds back to back
    (the second may start out of band: carry-over), recovery."""
    r = load_real(name)
    m = (r.t_s >= start_s) & (r.t_s < start_s + 900.0)
    rr = tmp_path / f"{name}.txt"
    rr.write_text("\n".join(f"{x:.0f}" for x in r.rr_ms[m]) + "\n")
    phases = tmp_path / "phases.csv"
    phases.write_text(
        "name,kind,mode,start_s,end_s,belief,target\n"
        "baseline,baseline,neutral,0,180,,\n"
        "fierce,hold,fierce,180,480,This does not define me.,self\n"
        "soft,hold,soft,480,780,It counts.,self\n"
        "recovery,recovery,neutral,780,880,,\n"
    )
    return rr, phases


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdbeat", *args], capture_output=True, text=True, timeout=120
    )


def _window_states(rec_path: Path) -> dict[tuple[int, str], tuple[str, float | None]]:
    rec = load(rec_path)
    model = ViewModel()
    s = Session([model], rec.header, None)
    s.start()
    for ev in replay_events(rec):
        s.feed(ev)
    out = {}
    for (i, metric), cu in model.catchups.items():
        out[(i, metric)] = (cu.state, cu.t_caught_s)
    return out


@pytest.mark.parametrize(("name", "start_s"), [("nsr_60min", 0.0), ("nsr_60min", 1800.0),
                                               ("ecg_healthy_26min", 300.0)])  # fmt: skip
def test_window_and_report_give_the_same_catch_up_on_real_recordings(tmp_path, name, start_s):
    rr, phases = _session_files(tmp_path, name, start_s)
    out = tmp_path / "rec.jsonl"
    p = _cli("import", str(rr), "--from", "rr-txt", "--phases", str(phases), "-o", str(out))
    assert p.returncode == 0, p.stderr
    js = tmp_path / "rep.json"
    p = _cli("report", str(out), "--json", str(js), "--no-frequency")
    assert p.returncode == 0, p.stderr
    rep = json.loads(js.read_text())
    live = _window_states(out)
    assert rep["holds"]
    for h in rep["holds"]:
        for metric, cu in h["catch_up"].items():
            state, t_caught = live[(h["index"], metric)]
            assert state == cu["state"], (h["name"], metric, state, cu)
            if cu["reached"]:
                assert t_caught == pytest.approx(cu["t_left_s"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_and_report_agree_on_simulated_recordings_with_carry_over(tmp_path, seed):
    from tests.helpers import record_simulated

    from holdbeat.sim.body import CLEAR_RESPONSES, SimConfig

    path = record_simulated(
        tmp_path, "fierce-then-soft", SimConfig(seed=seed, responses=dict(CLEAR_RESPONSES))
    )
    rec = load(path)
    rep = report_to_dict(build_report(prepare(rec), ReportConfig(frequency=False)))
    live = _window_states(path)
    states = []
    for h in rep["holds"]:
        for metric, cu in h["catch_up"].items():
            state, t_caught = live[(h["index"], metric)]
            assert state == cu["state"]
            states.append(state)
            if cu["reached"]:
                assert t_caught == pytest.approx(cu["t_left_s"])
            else:
                assert math.isnan(cu["latency_s"] or math.nan)
    assert "caught up" in states


def test_one_minute_baseline_on_real_hearts_rarely_fires():
    """The quick protocol: 1-min baseline (one window; the band's width is the floor) and a
    2-min hold, cut from the real recordings every 30 s."""
    cuts = list(resting_cuts(base_s=60.0, hold_s=120.0, step_s=30.0))
    assert len(cuts) >= 100
    for metric, direction in (("ln_rmssd", "both"), ("hr", "both")):
        res = [
            catchup_on_cut(rr, metric, direction, base_s=60.0, hold_s=120.0) for _, rr, _ in cuts
        ]
        assert all("no baseline band" not in c.reason for c in res)
        assert np.mean([c.reached for c in res]) <= 0.05
