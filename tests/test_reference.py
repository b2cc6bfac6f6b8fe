"""The per-hold band reference ("baseline" or "rest"): the pure choice of phase, the header
setting a session records, and one answer from the live window and `report` with it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holdbeat.analysis.baseline_band import (
    REFERENCE_SETTING,
    REFERENCES,
    baseline_band,
    recorded_reference,
    reference_position,
)

KINDS = ["baseline", "hold", "rest", "hold", "hold", "rest", "recovery", "hold"]


@pytest.mark.parametrize(
    ("hold_pos", "rest_ref"),
    [(1, 0), (3, 2), (4, 2), (7, 5)],  # the nearest rest or baseline before each hold
)
def test_reference_position(hold_pos: int, rest_ref: int) -> None:
    assert reference_position(KINDS, hold_pos, "baseline", 0) == 0
    assert reference_position(KINDS, hold_pos, "rest", 0) == rest_ref


def test_reference_position_without_a_rest_or_baseline_before_falls_back() -> None:
    kinds = ["hold", "baseline", "hold"]
    assert reference_position(kinds, 0, "rest", 1) == 1  # none before: the session's baseline
    assert reference_position(kinds, 2, "rest", 1) == 1
    assert reference_position(["hold"], 0, "rest", None) is None
    with pytest.raises(ValueError, match="reference must be one of"):
        reference_position(KINDS, 1, "previous", 0)


def test_recorded_reference() -> None:
    assert REFERENCES == ("baseline", "rest")
    assert recorded_reference({REFERENCE_SETTING: "rest"}) == "rest"
    assert recorded_reference({REFERENCE_SETTING: "baseline"}) == "baseline"
    assert recorded_reference({}) == "baseline"  # recordings from before the option
    assert recorded_reference({REFERENCE_SETTING: "bogus"}) == "baseline"
    assert recorded_reference([]) == "baseline"  # type: ignore[arg-type]


def test_the_cli_flag_writes_the_setting_the_analysis_reads() -> None:
    """The commands spell the setting and the choices without importing numpy: they must be
    the analysis' own."""
    import argparse

    from holdbeat.commands._session_args import add_reference_flag, reference_setting

    p = argparse.ArgumentParser()
    add_reference_flag(p, "x")
    (action,) = [a for a in p._actions if a.dest == "reference"]
    assert tuple(action.choices) == REFERENCES and action.default is None
    assert reference_setting(p.parse_args(["--reference", "rest"])) == {REFERENCE_SETTING: "rest"}
    assert reference_setting(p.parse_args(["--reference", "baseline"])) == {}
    assert reference_setting(p.parse_args([])) == {}


def _demo(tmp_path: Path, seed: int, *extra: str) -> Path:
    out = tmp_path / f"rec{seed}{'-'.join(extra)}"
    p = subprocess.run(
        [sys.executable, "-m", "holdbeat", "demo", "--headless", "--speed", "max", "--quiet",
         "--protocol", "alternating", "--seed", str(seed), "--out", str(out), *extra],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    (path,) = out.glob("*.jsonl")
    return path


@pytest.mark.parametrize("seed", [3, 4])
def test_rest_reference_live_equals_report_and_bands_come_from_each_rest(tmp_path, seed):
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.analysis.report_render import report_to_dict
    from holdbeat.recording import load
    from test_catchup_real import _window_states

    path = _demo(tmp_path, seed, "--reference", "rest")
    rec = load(path)
    assert rec.header.settings[REFERENCE_SETTING] == "rest"
    prep = prepare(rec)
    rep = report_to_dict(build_report(prep, ReportConfig(frequency=False)))
    assert rep["config"]["reference"] == "rest"
    kinds = [p.kind for p in rec.phases]
    roll = prep.catchup_rolling
    holds = rep["holds"]
    assert len(holds) == 4
    for h in holds:
        pos = next(i for i, p in enumerate(rec.phases) if p.index == h["index"])
        ref = h["reference_index"]
        assert ref == max(i for i in range(pos) if kinds[i] in ("baseline", "rest"))
        for metric, cu in h["catch_up"].items():
            # independent: the band over the reference phase's samples, from the band code
            ph = rec.phases[ref]
            sel = roll.between(ph.start_s, ph.end_s)
            want = baseline_band(roll.metric(metric)[sel], metric=metric, t_s=roll.t_s[sel])
            assert cu["band"]["mean"] == pytest.approx(want.mean)
            assert cu["band"]["hi"] == pytest.approx(want.hi)
    assert [h["reference_index"] for h in holds] == [0, 2, 4, 6]
    # the window, replaying the same recording, says the same, hold by hold
    live = _window_states(path)
    for h in holds:
        for metric, cu in h["catch_up"].items():
            state, t_caught = live[(h["index"], metric)]
            assert state == cu["state"], (h["name"], metric, state, cu)
            if cu["reached"]:
                assert t_caught == pytest.approx(cu["t_left_s"])
    # and `report --reference baseline` re-judges every hold against the baseline
    base = report_to_dict(build_report(prep, ReportConfig(frequency=False, reference="baseline")))
    assert base["config"]["reference"] == "baseline"
    assert [h["reference_index"] for h in base["holds"]] == [0, 0, 0, 0]
    b0 = base["holds"][0]["catch_up"]["ln_rmssd"]["band"]
    assert all(h["catch_up"]["ln_rmssd"]["band"] == b0 for h in base["holds"])
    later = [h["catch_up"]["ln_rmssd"]["band"]["mean"] for h in holds[1:]]
    assert not np.allclose(later, b0["mean"])  # the rests' bands are their own


def test_default_sessions_record_no_reference_and_use_the_baseline(tmp_path):
    from holdbeat.analysis.compare import CompareConfig, summarize
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.recording import load

    rec = load(_demo(tmp_path, 5))
    assert REFERENCE_SETTING not in rec.header.settings
    rep = build_report(prepare(rec), ReportConfig(frequency=False))
    assert rep.reference == "baseline" and {h.reference_index for h in rep.holds} == {0}
    with pytest.raises(ValueError, match="reference must be one of"):
        build_report(prepare(rec), ReportConfig(reference="previous"))
    with pytest.raises(ValueError, match="reference must be one of"):
        CompareConfig(reference="previous")
    # compare's latency uses the same per-hold band as the report
    for ref in ("baseline", "rest"):
        s = summarize(
            prepare(rec), CompareConfig(metric="latency", reference=ref, trajectories=False)
        )
        r = build_report(prepare(rec), ReportConfig(frequency=False, reference=ref))
        for unit, h in zip(s.holds, r.holds, strict=True):
            cu = h.catchup_of("ln_rmssd").catchup
            assert unit.reached == cu.reached
            assert (math.isnan(unit.latency) and math.isnan(cu.latency_s)) or (
                unit.latency == pytest.approx(cu.latency_s)
            )


def test_hold_bands_pieces(tmp_path):
    """The pieces the report, compare and history share: the baseline's position, the band
    over a phase (or the reason there is none), and each hold's reference phase."""
    from types import SimpleNamespace

    from holdbeat.analysis.hold_bands import (
        baseline_position,
        hold_bands,
        hold_reference,
        phase_bands,
        session_reference,
    )
    from holdbeat.analysis.prep import prepare
    from holdbeat.recording import load

    phases = [SimpleNamespace(kind=k) for k in ("rest", "baseline", "hold", "baseline")]
    assert baseline_position(phases) == 1  # the first baseline
    assert baseline_position(phases[:1]) is None
    prep = prepare(load(_demo(tmp_path, 6, "--reference", "rest")))
    none = phase_bands(prep, None, ("ln_rmssd", "hr"), 2.5, 60.0)
    assert set(none) == {"ln_rmssd", "hr"}
    for metric, b in none.items():
        assert not b.valid and b.reason == "no baseline phase" and b.metric == metric
        assert b.k == 2.5 and b.n == 0 and math.isnan(b.mean) and math.isnan(b.sd)
    roll = prep.catchup_rolling
    rest = prep.rec.phases[2]
    sel = roll.between(rest.start_s, rest.end_s)
    got = phase_bands(prep, 2, ("hr",), 1.5, 60.0)["hr"]
    want = baseline_band(roll.metric("hr")[sel], 1.5, "hr", t_s=roll.t_s[sel], window_s=60.0)
    assert (got.mean, got.sd, got.k, got.n) == (want.mean, want.sd, 1.5, want.n)
    assert session_reference(prep, None) == "rest"  # what the session recorded
    assert session_reference(prep, "baseline") == "baseline"
    assert [hold_reference(prep, i, "rest", 0) for i in (1, 3, 5, 7)] == [0, 2, 4, 6]
    assert [hold_reference(prep, i, "baseline", 0) for i in (1, 3, 5, 7)] == [0, 0, 0, 0]
    base = phase_bands(prep, 0, ("hr", "ln_rmssd"), 2.0, 60.0)
    assert hold_bands(prep, 3, "baseline", 0, base, 2.0, 60.0) == (base, 0)
    assert hold_bands(prep, 1, "rest", 0, base, 2.0, 60.0)[0] is base  # right after it
    rest_bands, ref = hold_bands(prep, 3, "rest", 0, base, 2.0, 60.0)
    assert ref == 2 and rest_bands == phase_bands(prep, 2, ("hr", "ln_rmssd"), 2.0, 60.0)


def test_report_text_says_where_each_hold_band_comes_from(tmp_path):
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.analysis.report_render import format_text
    from holdbeat.recording import load

    prep = prepare(load(_demo(tmp_path, 7, "--reference", "rest")))
    text = format_text(build_report(prep, ReportConfig(frequency=False)))
    assert (
        "each hold's band comes from the rest just before it (reference rest): "
        "fierce hold 1 ← baseline, soft hold 1 ← rest 1, soft hold 2 ← rest 2, "
        "fierce hold 2 ← rest 3"
    ) in text
    base = format_text(build_report(prep, ReportConfig(frequency=False, reference="baseline")))
    assert "reference rest" not in base
