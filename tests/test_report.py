"""`holdbeat report`: rolling metrics == live, phase HRV == neurokit2, lapses, felt leads,
caveats, outputs (0600, never over a recording), exit codes."""

from __future__ import annotations

import json
import math
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.analysis.lapses import lapse_spans
from holdbeat.analysis.prep import prepare, time_domain
from holdbeat.analysis.report import ReportConfig, build_report
from holdbeat.analysis.report_render import format_text, report_csv_rows, report_to_dict
from holdbeat.analysis.trajectory import rolling_metrics
from holdbeat.beats import Beat
from holdbeat.cli import main
from holdbeat.events import Marker
from holdbeat.metrics import LiveWindow
from holdbeat.session import Phase, Protocol
from holdbeat.sim.body import CLEAR_RESPONSES, no_effect_responses
from holdbeat.sim.sessions import synth_recording

FAST = ReportConfig(frequency=False)


def short_protocol(hold_s: float = 90.0, baseline: bool = True) -> Protocol:
    phases = [Phase("baseline", "baseline", "neutral", 180.0)] if baseline else []
    phases += [
        Phase("soft hold", "hold", "soft", hold_s),
        Phase("recovery", "recovery", "neutral", 60.0),
    ]
    return Protocol("short", tuple(phases))


# ---------------------------------------------------------------- numbers


def test_rolling_metrics_equal_the_live_window_beat_for_beat() -> None:
    rec = synth_recording("alternating", seed=11, artifact_rate=0.04)
    assert rec.artifact.any() and rec.artifact.mean() > 0.02
    roll = rolling_metrics(rec.beat_t_s, rec.rr_ms, rec.gap_before, rec.artifact, 60.0)
    win = LiveWindow(60.0)
    live = [
        win.update(Beat(float(t), float(r), bool(g), str(f)))
        for t, r, g, f in zip(rec.beat_t_s, rec.rr_ms, rec.gap_before, rec.flag, strict=True)
    ]
    valid = np.array([m.valid for m in live])
    np.testing.assert_array_equal(roll.valid, valid)
    for name, attr in (("hr", "hr_bpm"), ("rmssd", "rmssd_ms"), ("sdnn", "sdnn_ms")):
        want = np.array([getattr(m, attr) if m.valid else np.nan for m in live])
        np.testing.assert_allclose(roll.metric(name), want, rtol=1e-9, equal_nan=True)
    want_ln = np.array([m.ln_rmssd if m.valid else np.nan for m in live])
    np.testing.assert_allclose(roll.ln_rmssd, want_ln, rtol=1e-9, equal_nan=True)


def test_phase_time_domain_equals_neurokit2_hrv_time() -> None:
    import neurokit2 as nk

    from holdbeat.hrv.intervals import nk_input

    rec = synth_recording("alternating", seed=2, artifact_rate=0.03)
    prep = prepare(rec, correction=False)
    for ph in rec.phases[:4]:
        m = prep.phase_mask(ph)
        td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, m)
        sel = np.flatnonzero(m)
        inp = nk_input(prep.t_s[sel], prep.rr_ms[sel], prep.gap_before[sel], prep.usable[sel])
        ref = nk.hrv_time(inp, sampling_rate=1000)
        assert td.rmssd_ms == pytest.approx(float(ref["HRV_RMSSD"].iloc[0]), rel=1e-9)
        assert td.sdnn_ms == pytest.approx(float(ref["HRV_SDNN"].iloc[0]), rel=1e-9)
        assert td.hr_bpm == pytest.approx(60000.0 / float(ref["HRV_MeanNN"].iloc[0]), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(250.0, 2500.0), min_size=2, max_size=300),
    st.integers(0, 2**32 - 1),
)
def test_time_domain_is_numpys_mean_and_std_bit_for_bit(rr_list, seed) -> None:
    """time_domain spells out numpy's mean / std(ddof=1) / sqrt(mean) to skip their wrappers:
    the same bits as numpy, for any beats, holes and gaps."""
    rng = np.random.default_rng(seed)
    rr = np.resize(np.array(rr_list), 150)  # >= 37 s: past the time-domain minimum mostly
    rr[: len(rr_list)] = rr_list
    n = rr.size
    usable = rng.random(n) > 0.1
    gap = rng.random(n) < 0.05
    mask = np.ones(n, bool)
    mask[: rng.integers(0, 3)] = False
    td = time_domain(rr, gap, usable, mask)
    use = mask & usable
    x = rr[use]
    ok = np.zeros(n, bool)
    ok[1:] = use[1:] & use[:-1] & ~gap[1:]
    d = np.diff(rr)[ok[1:]]
    assert td.n_beats == int(mask.sum()) and td.n_usable == x.size and td.n_diffs == d.size
    if td.reason.startswith("time domain needs") or td.reason.startswith("no beats"):
        assert math.isnan(td.hr_bpm) and math.isnan(td.sdnn_ms)
        return
    assert td.hr_bpm == 60000.0 / float(x.mean())
    assert td.sdnn_ms == float(x.std(ddof=1))
    if d.size:
        assert td.rmssd_ms == float(np.sqrt(np.mean(d * d)))
        if td.rmssd_ms > 0:
            assert td.ln_rmssd == math.log(td.rmssd_ms)
        else:
            assert math.isnan(td.ln_rmssd)
    else:
        assert math.isnan(td.rmssd_ms)


def test_report_and_compare_see_the_same_numbers_and_quality() -> None:
    """The report takes holdbeat.hrv's table; the comparison its own fast numpy. Same beats,
    same numbers; the same quality verdict as holdbeat.hrv."""
    from holdbeat.analysis.prep import phase_quality
    from holdbeat.hrv.table import phase_table

    rec = synth_recording("alternating", seed=8, artifact_rate=0.04)
    prep = prepare(rec)
    rep = build_report(prep, ReportConfig())
    table = phase_table(rec, corrected=prep.corrected)
    for ph, row, (_, ref) in zip(rec.phases, rep.phases, table.iterrows(), strict=True):
        td = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(ph))
        assert row.hr_bpm == pytest.approx(td.hr_bpm, rel=1e-9)
        assert row.rmssd_ms == pytest.approx(td.rmssd_ms, rel=1e-9)
        assert row.sdnn_ms == pytest.approx(td.sdnn_ms, rel=1e-9)
        q = phase_quality(prep, ph)
        assert q.low == bool(ref["low_quality"]) and row.low_quality == q.low
        assert q.changed_pct == pytest.approx(100 * float(ref["corrected_share"]))
    assert any(r.low_quality for r in rep.phases) or all(r.corrected_pct <= 5 for r in rep.phases)


def test_lapse_spans_from_markers() -> None:
    ms = [
        Marker(5.0, "rehold"),  # rehold while holding: ignored
        Marker(20.0, "lapse"),
        Marker(25.0, "lapse"),  # a second lapse while lapsed: counted, span unchanged
        Marker(32.0, "rehold"),
        Marker(50.0, "felt"),
        Marker(70.0, "lapse"),  # never reheld: lapsed to the end of the hold
        Marker(150.0, "rehold"),  # after the hold
    ]
    n, spans = lapse_spans(ms, 0.0, 100.0)
    assert n == 3
    assert spans == ((20.0, 32.0), (70.0, 100.0))
    assert lapse_spans([], 0.0, 100.0) == (0, ())


# ---------------------------------------------------------------- the report


def test_report_phases_deltas_and_holds_on_a_planted_session() -> None:
    rec = synth_recording("alternating", seed=5, artifact_rate=0.0, responses=CLEAR_RESPONSES)
    rep = build_report(prepare(rec), FAST)
    assert [r.name for r in rep.phases] == [p.name or p.kind for p in rec.phases]
    base = rep.phases[0]
    assert base.kind == "baseline" and math.isnan(base.d_hr_bpm)
    for r in rep.phases[1:]:
        assert r.d_hr_bpm == pytest.approx(r.hr_bpm - base.hr_bpm)
        assert r.d_ln_rmssd == pytest.approx(r.ln_rmssd - base.ln_rmssd)
    assert all(r.corrected_pct == 0.0 and not r.low_quality for r in rep.phases)
    soft = [h for h in rep.holds if h.mode == "soft"]
    fierce = [h for h in rep.holds if h.mode == "fierce"]
    assert len(soft) == 2 and len(fierce) == 2
    # planted: soft lowers HR and raises vagal HRV
    for h in soft:
        ln = h.catchup_of("ln_rmssd")
        assert ln is not None and ln.catchup.expected == "up"
        hr = h.catchup_of("hr")
        assert hr is not None and hr.catchup.expected == "down"
    assert any(h.catchup_of("ln_rmssd").catchup.reached for h in soft)  # type: ignore[union-attr]
    for h in fierce:
        assert h.catchup_of("hr").catchup.expected == "both"  # type: ignore[union-attr]
    for h in rep.holds:
        assert h.holding_s + h.lapsed_s == pytest.approx(h.duration_s)
        prim = h.catchups[0].catchup
        for f in h.felt:
            if prim.reached:
                assert f.lead_s == pytest.approx(f.t_s - prim.t_left_s)
            else:
                assert math.isnan(f.lead_s) and "no catch-up" in f.reason
    text = format_text(rep)
    for word in ("PHASES", "BASELINE BANDS", "HOLDS", "BODY BEFORE EMOTION", "CAVEATS"):
        assert word in text


def test_report_frequency_domain_only_where_long_enough() -> None:
    rec = synth_recording(short_protocol(hold_s=90.0), seed=1, artifact_rate=0.0)
    rep = build_report(prepare(rec), ReportConfig())
    base, hold, rec_ph = rep.phases
    assert math.isfinite(base.hf_ms2) and math.isfinite(base.lf_ms2)
    assert math.isfinite(hold.hf_ms2) and math.isnan(hold.lf_ms2)
    assert hold.freq_reason.startswith("LF needs")  # only the HF/LF reasons are kept
    assert math.isnan(rec_ph.lf_ms2)  # 60 s phase: too short for LF
    assert "ULF" not in format_text(rep)


def test_short_holds_low_quality_and_missing_baseline_are_said() -> None:
    rec = synth_recording(short_protocol(hold_s=90.0), seed=3)
    rep = build_report(prepare(rec), FAST)
    assert rep.holds[0].short
    assert any("may show nothing" in c and "soft hold" in c for c in rep.caveats)
    # artifacts: far above 5 % of beats
    noisy = synth_recording("single", seed=3, artifact_rate=0.12)
    rep = build_report(prepare(noisy), FAST)
    low = [r for r in rep.phases if r.low_quality]
    assert low, [r.corrected_pct for r in rep.phases]
    for r in low:
        assert r.corrected_pct > 5.0
        assert any(f"phase '{r.name}' is low quality" in c for c in rep.caveats)
    # no baseline: no band, no deltas, a reason instead of a latency
    nob = synth_recording(short_protocol(hold_s=180.0, baseline=False), seed=3)
    rep = build_report(prepare(nob), FAST)
    assert rep.baseline_index is None
    assert any("no baseline" in c for c in rep.caveats)
    cu = rep.holds[0].catchups[0].catchup
    assert not cu.reached and "no baseline" in cu.reason
    assert all(math.isnan(r.d_hr_bpm) for r in rep.phases)


def test_no_effect_session_rarely_catches_up_planted_one_does() -> None:
    """Not a calibration (tests/test_calibration.py), a sanity check of direction."""
    hits_null = hits_planted = 0
    for seed in range(12):
        for resp, planted in ((no_effect_responses(), False), (CLEAR_RESPONSES, True)):
            rec = synth_recording(short_protocol(hold_s=240.0), seed=seed, responses=resp)
            rep = build_report(prepare(rec, correction=False), FAST)
            reached = rep.holds[0].catchups[0].catchup.reached
            if planted:
                hits_planted += reached
            else:
                hits_null += reached
    assert hits_planted >= 8
    assert hits_null <= 3


def test_json_and_csv_renderings_hold_every_phase_and_hold() -> None:
    rec = synth_recording("alternating", seed=9)
    rep = build_report(prepare(rec), FAST)
    d = json.loads(json.dumps(report_to_dict(rep), allow_nan=False))
    assert len(d["phases"]) == len(rec.phases) and len(d["holds"]) == 4
    assert set(d["holds"][0]["catch_up"]) == {"ln_rmssd", "hr"}
    cols, rows = report_csv_rows(rep)
    assert len(rows) == len(rec.phases) and all(len(r) == len(cols) for r in rows)
    assert "ln_rmssd_catchup_s" in cols and "felt_lead_s" in cols


def test_exponential_fit_appears_for_holds_with_a_clear_approach() -> None:
    rec = synth_recording(short_protocol(hold_s=300.0), seed=4, artifact_rate=0.0)
    rep = build_report(prepare(rec), FAST)
    fit = rep.holds[0].catchup_of("hr").fit  # type: ignore[union-attr]
    assert fit.ok and 10 < fit.tau_s < 300 and fit.r2 > 0.6, fit


def test_custom_directions_and_metrics() -> None:
    rec = synth_recording("single", seed=6)
    cfg = replace(FAST, metrics=("hr",), directions={"hr": {"fierce": "up"}})
    rep = build_report(prepare(rec), cfg)
    assert rep.holds[0].catchups[0].metric == "hr"
    assert rep.holds[0].catchups[0].catchup.expected == "up"
    with pytest.raises(ValueError):
        build_report(prepare(rec), replace(FAST, metrics=("pnn50",)))


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import record_simulated

    from holdbeat.sim.body import SimConfig

    return record_simulated(tmp_path_factory.mktemp("rec"), "single", SimConfig(seed=1))


def test_cli_report_writes_private_outputs(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = recorded.read_bytes()
    png, js, csv = tmp_path / "r.png", tmp_path / "r.json", tmp_path / "r.csv"
    code = main(["report", str(recorded), "--png", str(png), "--json", str(js), "--csv", str(csv)])
    assert code == 0
    out = capsys.readouterr().out
    assert "PHASES" in out and "CAVEATS" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(js.read_text())["holds"][0]["mode"] == "fierce"
    assert csv.read_text().startswith("index,name,kind")
    for f in (png, js, csv):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert recorded.read_bytes() == before


def test_cli_report_refuses_to_write_over_a_recording(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = recorded.read_bytes()
    assert main(["report", str(recorded), "--json", str(recorded)]) == 2
    assert "refusing to write over a recording" in capsys.readouterr().err
    assert recorded.read_bytes() == before


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty file, not a holdbeat recording"),
        (b"\n\n" + b'{"format": "holdbeat/1"}\n', "(line 1 is blank, not a header)"),
        (b" \n", "(line 1 is blank, not a header)"),
        (b'{"hello": "world"}\n', "not a holdbeat recording"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"format": "holdbeat/9"}\n', "newer than this holdbeat"),
    ],
)
def test_cli_report_bad_input_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and words in err
    missing = tmp_path / "missing.jsonl"
    assert main(["report", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_cli_report_rejects_bad_flags(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--k", "0"],
        ["--dwell", "-1"],
        ["--direction", "hr:fierce=sideways"],
        ["--direction", "nonsense"],
        ["--metric", "pnn50"],
    ):
        with pytest.raises(SystemExit) as e:
            main(["report", str(recorded), *argv])
        assert e.value.code == 2
    capsys.readouterr()


def test_synthetic_session_written_as_a_real_file_loads_back(tmp_path: Path) -> None:
    from holdbeat.recording import load
    from holdbeat.sim.sessions import write_recording

    rec = synth_recording("single", seed=2)
    path = write_recording(tmp_path, rec)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = load(path)
    assert not back.warnings
    np.testing.assert_allclose(back.rr_ms, rec.rr_ms, atol=1000 / 1024)  # 1/1024 s units
    assert [(p.kind, p.mode, p.start_s) for p in back.phases] == [
        (p.kind, p.mode, p.start_s) for p in rec.phases
    ]
    assert [m.kind for m in back.markers] == [m.kind for m in rec.markers]


def test_heart_rate_only_strap_reports_hr_and_says_hrv_is_unavailable(tmp_path: Path) -> None:
    from holdbeat.events import Hrm
    from holdbeat.hrs import encode_hrm
    from holdbeat.recording_writer import RecordingWriter
    from holdbeat.sim.sessions import recording_events

    rec = synth_recording(short_protocol(hold_s=180.0), seed=1)
    w = RecordingWriter(tmp_path, rec.header, "hr-only", clock=lambda: 0.0)
    for ev in recording_events(rec):
        w.write(Hrm(ev.t_s, encode_hrm(72, [])) if isinstance(ev, Hrm) else ev)
    w.close()
    js = tmp_path / "out.json"
    assert main(["report", str(w.path), "--json", str(js), "--quiet"]) == 0
    d = json.loads(js.read_text())
    assert all(p["hr_bpm"] == 72.0 and p["rmssd_ms"] is None for p in d["phases"])
    assert any("heart rate only" in c for c in d["caveats"])
    assert not d["holds"][0]["catch_up"]["hr"]["reached"]


def test_figure_shows_control_characters_in_a_belief_as_escapes(tmp_path: Path) -> None:
    """A belief with ESC and BEL is drawn as \\x1b / \\x07 in the table, so no missing-glyph
    warning carries the raw character to the terminal."""
    import warnings

    from holdbeat.analysis.figures import save
    from holdbeat.analysis.report_figure import report_figure

    evil = "I am \x1b[31mheld\x1b]0;pwned\x07 ok $x"
    protocol = Protocol(
        "evil",
        (Phase("baseline", "baseline", "neutral", 120.0),
         Phase("hold", "hold", "fierce", 120.0, belief=evil)),
    )  # fmt: skip
    prep = prepare(synth_recording(protocol, seed=1))
    rep = build_report(prep, ReportConfig(frequency=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning
        fig = report_figure(rep, prep)
        save(fig, tmp_path / "evil.png")
    cells = [c.get_text().get_text() for c in fig.axes[2].tables[0].get_celld().values()]
    drawn = [t for t in cells if "held" in t]
    assert drawn == ["“I am \\x1b[31mheld\\x1b]0;pwned\\x07 ok $x”"]  # '$': plain text
    from matplotlib.text import Text

    assert not any(t.get_parse_math() for t in fig.findobj(Text))
    assert not any("\x1b" in t or "\x07" in t for t in cells)


def test_figure_of_thousands_of_phases_is_capped(tmp_path: Path) -> None:
    """300 phases (10,000 took minutes before): one shading artist per colour, no per-phase
    labels, a capped table; file text with '$' is never parsed as mathtext."""
    from datetime import UTC, datetime

    from holdbeat.analysis.figures import save
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.analysis.report_figure import MAX_TABLE_ROWS, report_figure
    from holdbeat.interop.batch_lines import recording_bytes
    from holdbeat.interop.imported_session import build_recording
    from holdbeat.interop.importers import parse_rr_txt
    from holdbeat.interop.phases_file import PhaseSpec
    from holdbeat.recording import load

    n_phases, d = 300, 8.0
    rr = "\n".join(["800"] * int(n_phases * d / 0.8 + 10))
    specs = [
        PhaseSpec(
            "baseline" if i == 0 else f"p{i} $\\frac",
            "baseline" if i == 0 else ("hold" if i % 2 else "rest"),
            "neutral" if i == 0 or i % 2 == 0 else "soft",
            i * d,
            (i + 1) * d,
        )
        for i in range(n_phases)
    ]
    built = build_recording(
        parse_rr_txt(rr, "rr.txt"), started=datetime(2026, 1, 1, tzinfo=UTC), specs=specs
    )
    path = tmp_path / "many.jsonl"
    path.write_bytes(recording_bytes(built.header, built.events))
    prep = prepare(load(path), window_s=60.0)
    rep = build_report(prep, ReportConfig(frequency=False))
    assert len(rep.phases) == n_phases
    fig = report_figure(rep, prep)
    hr_ax = fig.axes[0]
    assert len(hr_ax.collections) <= 6  # shading by style + markers, not one per phase
    assert len(hr_ax.patches) <= 2
    labels = [t.get_text() for t in hr_ax.texts]
    assert labels == [f"{n_phases} phases: too many to label (the table and --csv list them)"]
    table = fig.axes[2].tables[0]
    rows = {r for r, _ in table.get_celld()}
    assert len(rows) == MAX_TABLE_ROWS + 1  # header + shown phases + the "more" row
    assert table.get_celld()[(MAX_TABLE_ROWS, 0)].get_text().get_text() == (
        f"… {n_phases - MAX_TABLE_ROWS + 1} more phases"
    )
    png = tmp_path / "many.png"
    save(fig, png)  # '$\frac' in the names must not raise a mathtext error
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("reason", "kept", "expected"),
    [
        ("completed", 3, None),
        ("imported", 3, None),
        ("terminated (SIGTERM)", 2, "the session ended early (terminated (SIGTERM)) at 4m; "
         "1 of the protocol's 3 phases were not reached: the last phase may be cut short."),
        ("hangup (SIGHUP)", 3, "the session ended early (hangup (SIGHUP)) at 4m: the last "
         "phase may be cut short."),  # every phase began; the last one was cut
    ],
)  # fmt: skip
def test_a_session_that_ended_early_says_so(reason: str, kept: int, expected: str | None) -> None:
    from holdbeat.events import End

    rec = synth_recording("quick", seed=2)
    assert len(rec.header.protocol["phases"]) == 3 and rec.end is not None
    rec = replace(rec, end=End(rec.end.t_s, reason), phases=rec.phases[:kept])
    caveats = build_report(prepare(rec), ReportConfig(frequency=False)).caveats
    early = [c for c in caveats if c.startswith("the session ended early")]
    assert early == ([expected] if expected else [])
    if expected:
        assert expected in json.dumps(report_to_dict(build_report(prepare(rec))))
