"""Artifact correction, quality gating, live flags and the spectrum on real human RR.

The corpus (tests/data/README.md): two clean normal-sinus recordings (5 and 60 min), one
low-variability ECG-derived recording (RMSSD 26 ms) and MIT-BIH record 208 (frequent
ventricular ectopy). Goals from the real-hearts issue; figures in docs/hrv.md.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from holdbeat.clean import FlagConfig, LiveFlagger
from holdbeat.correct import correct, neurokit_kubios
from holdbeat.hrv.spectrum import frequency_domain, segment_starts
from holdbeat.hrv.table import hrv_table
from holdbeat.quality import premature_beats
from holdbeat.sim.artifacts import inject_artifacts
from real_corpus import ALL, CLEAN, KINDS, RATES, load_real, rmssd_ms, score

SEEDS = range(10)

#: Measured shortfalls, kept visible (strict: they must keep failing, or be promoted). None
#: left: the last, injected ectopic beats at 5 % in the 5-min MIT-BIH NSR recording (RMSSD
#: 101 ms; a beat 20-40 % premature against a long breath-peak beat lands near the local
#: median, where nothing median-based separates it from sinus arrhythmia), went from 93.5 %
#: found to 95.0 % with the rhythm model's pair test (docs/hrv.md 4, "Premature beats by the
#: rhythm"). It stays the tightest cell: over seeds 10-49 it finds 95.2 % (94.9 % without the
#: test) and one draw in 40 has HF 11.5 % off (the goal is 10 %), with or without it.
KNOWN_SHORT: set[tuple[str, str, float]] = set()


def test_corpus_has_what_the_goals_need():
    recs = {n: load_real(n) for n in ALL}
    clean_long = [n for n in CLEAN if recs[n].rr_ms.sum() >= 5 * 60_000 - 1000]
    assert len(clean_long) >= 2
    assert any(rmssd_ms(recs[n].rr_ms) < 30.0 for n in CLEAN)
    assert recs["mitbih_208"].ventricular.sum() >= 50
    for n in CLEAN:
        assert not recs[n].ventricular.any()
        assert np.all((recs[n].rr_ms > 300) & (recs[n].rr_ms < 2000))


@pytest.mark.parametrize("name", CLEAN)
def test_clean_real_rr_is_left_alone(name):
    rr = load_real(name).rr_ms
    s = score(rr, np.full(len(rr), ""), rr)
    assert s.changed_share <= 0.01
    ours = rmssd_ms(correct(np.cumsum(rr) / 1000, rr).rr_ms)
    published = rmssd_ms(neurokit_kubios(rr))
    raw = rmssd_ms(rr)
    assert min(published, raw) * 0.98 <= ours <= max(published, raw) * 1.02


@pytest.mark.parametrize("name", CLEAN)
def test_clean_real_rr_is_never_low_quality(name):
    r = load_real(name)
    t = r.t_s
    # the whole recording, and every 5-minute cut of it
    cuts = [("all", 0.0, t[-1] + 1)]
    cuts += [(f"{a:.0f}", a, a + 300.0) for a in np.arange(0.0, t[-1] - 299.0, 300.0)]
    df = hrv_table(t, r.rr_ms, cuts)
    assert not df["low_quality"].any(), df.loc[df["low_quality"], "quality_reason"].tolist()
    assert (df["corrected_share"] <= 0.01).all()


@pytest.mark.parametrize("name", CLEAN)
def test_injected_ten_percent_artifacts_are_gated(name):
    r = load_real(name)
    inj = inject_artifacts(r.rr_ms, 0.10, seed=3)
    df = hrv_table(inj.t_s, inj.rr_ms, [("all", 0.0, inj.t_s[-1] + 1)])
    assert bool(df["low_quality"].iloc[0]), df["corrected_share"].iloc[0]
    assert "corrected" in df["quality_reason"].iloc[0]


@functools.cache
def _scores(name: str, kind: str, rate: float) -> list:
    rr = load_real(name).rr_ms
    out = []
    for seed in SEEDS:
        inj = inject_artifacts(rr, rate, seed=seed, kinds=KINDS[kind])
        out.append(score(inj.rr_ms, inj.kind, rr))
    return out


def _params():
    for name in CLEAN:
        for kind in KINDS:
            for rate in RATES:
                marks = ()
                if (name, kind, rate) in KNOWN_SHORT:
                    marks = pytest.mark.xfail(strict=True, reason="measured shortfall")
                yield pytest.param(name, kind, rate, marks=marks, id=f"{name}-{kind}-{rate}")


@pytest.mark.parametrize(("name", "kind", "rate"), list(_params()))
def test_injected_artifacts_are_repaired(name, kind, rate):
    res = _scores(name, kind, rate)
    limit = 0.05 if rate <= 0.02 else 0.10
    for s in res:  # every draw
        assert abs(s.rmssd_err) <= limit, s
        assert abs(s.sdnn_err) <= limit, s
        assert abs(s.hf_err) <= limit, s
    assert np.mean([s.found for s in res]) >= 0.95
    assert max(s.false_share for s in res) <= 0.005


def test_record_208_is_reported_as_ectopy_not_corrected_into_normal():
    r = load_real("mitbih_208")
    prem = premature_beats(r.rr_ms)
    # every beat the RR rule calls premature is ventricular by ECG morphology
    assert prem.sum() >= 15
    assert r.ventricular[prem].mean() >= 0.9
    df = hrv_table(r.t_s, r.rr_ms, [("all", 0.0, r.t_s[-1] + 1)])
    row = df.iloc[0]
    assert bool(row["low_quality"])
    assert "frequent ectopy" in row["quality_reason"]
    assert row["premature_share"] > 0.02


@pytest.mark.parametrize("name", CLEAN)
def test_live_flagger_leaves_clean_real_rr_alone(name):
    f = LiveFlagger()
    flags = [f.judge(x) for x in load_real(name).rr_ms]
    assert np.mean([x != "" for x in flags]) <= 0.01
    # the plain 25 % rule (no abruptness test) flags 4-6 % of a young healthy heart
    if name != "ecg_healthy_26min":
        plain = LiveFlagger(FlagConfig(spread_k=0.0, step=0.0))
        assert np.mean([plain.judge(x) != "" for x in load_real(name).rr_ms]) > 0.03


@pytest.mark.parametrize("name", ["nsr_60min", "ecg_healthy_26min"])
@pytest.mark.parametrize("beats", [150, 300, 600])
def test_spectrum_does_not_jump_when_a_phase_grows_by_one_beat(name, beats):
    rr = load_real(name).rr_ms
    t = np.cumsum(rr) / 1000.0
    for a in (0, 400, 1000):
        hf, lf = [], []
        for k in range(12):
            f = frequency_domain(rr[a : a + beats + k], t[a : a + beats + k])
            hf.append(f["HF"])
            lf.append(f["LF"])
        for v in (np.array(hf), np.array(lf)):
            if np.isfinite(v).all():
                assert np.max(np.abs(np.diff(v)) / v[:-1]) < 0.05


@pytest.mark.parametrize("n", [400, 401, 402, 403, 1199, 1200, 4801])
def test_welch_segments_cover_the_phase_and_match_scipy(n):
    from scipy.signal import periodogram, welch

    from holdbeat.hrv.spectrum import welch as holdbeat_welch

    rng = np.random.default_rng(n)
    y = rng.normal(size=n)
    nperseg = n // 2
    starts = segment_starts(n, nperseg)
    assert starts[0] == 0 and starts[-1] + nperseg == n  # the whole phase is used
    assert np.all(np.diff(starts) <= nperseg)  # no sample skipped between segments
    f, p = holdbeat_welch(y, 4.0, nperseg)
    # independent reference: scipy's periodogram of each segment, averaged
    ref = np.mean(
        [
            periodogram(y[s : s + nperseg], 4.0, window="hann", nfft=2 * nperseg, detrend=False)[1]
            for s in starts
        ],
        axis=0,
    )
    np.testing.assert_allclose(p, ref, rtol=1e-10, atol=1e-14)
    # where scipy's own layout reaches the end, it is the same layout
    step = nperseg - nperseg // 2
    if (n - nperseg) % step == 0:
        fw, pw = welch(y, 4.0, window="hann", nperseg=nperseg, noverlap=nperseg // 2,
                       nfft=2 * nperseg, detrend=False)  # fmt: skip
        np.testing.assert_allclose(p, pw, rtol=1e-10)
        np.testing.assert_allclose(f, fw)


def test_kubios_detrending_matches_a_dense_solve():
    from holdbeat.hrv.spectrum import smoothness_priors_detrend

    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(size=200))
    n = len(y)
    d2 = np.zeros((n - 2, n))
    for i in range(n - 2):
        d2[i, i : i + 3] = (1.0, -2.0, 1.0)
    trend = np.linalg.solve(np.eye(n) + 500.0**2 * d2.T @ d2, y)
    np.testing.assert_allclose(smoothness_priors_detrend(y, 500.0), y - trend, atol=1e-8)


def test_kubios_spectrum_option_gives_band_powers_near_the_default():
    rr = load_real("ecg_healthy_26min").rr_ms[:400]
    t = np.cumsum(rr) / 1000.0
    a = frequency_domain(rr, t)
    b = frequency_domain(rr, t, method="kubios")
    assert math.isfinite(b["HF"]) and math.isfinite(b["LF"])
    # same signal, different interpolation/detrending/segments: same order of magnitude
    assert 0.5 < b["HF"] / a["HF"] < 2.0
    with pytest.raises(ValueError, match="method must be one of"):
        frequency_domain(rr, t, method="lomb")


def test_short_phases_follow_one_rule_with_or_without_the_spectrum():
    from holdbeat.analysis.prep import prepare
    from holdbeat.analysis.report import ReportConfig, build_report
    from holdbeat.session import Phase, Protocol
    from holdbeat.sim.sessions import synth_recording

    proto = Protocol(
        "short",
        (
            Phase("baseline", "baseline", "neutral", 180.0),
            Phase("25 s", "hold", "soft", 25.0),
            Phase("35 s", "rest", "neutral", 35.0),
        ),
    )
    rec = synth_recording(proto, seed=1, artifact_rate=0.0)
    prep = prepare(rec)
    for freq in (True, False):
        rep = build_report(prep, ReportConfig(frequency=freq))
        short, ok = rep.phases[1], rep.phases[2]
        assert math.isnan(short.rmssd_ms) and math.isnan(short.sdnn_ms)
        assert "needs >= 30 s and 20 clean beats" in short.hrv_reason
        assert "no RR" not in short.hrv_reason
        assert math.isfinite(ok.rmssd_ms) and math.isfinite(ok.hr_bpm) and ok.hrv_reason == ""


def test_an_rr_file_imported_without_phases_is_reported_as_one_phase(tmp_path):
    import json
    import subprocess
    import sys

    rr = load_real("nsr_5min").rr_ms
    src = tmp_path / "rr.txt"
    src.write_text("\n".join(f"{x:.0f}" for x in rr) + "\n")
    out = tmp_path / "rec.jsonl"

    def cli(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "holdbeat", *a], capture_output=True, text=True, timeout=120
        )

    p = cli("import", str(src), "--from", "rr-txt", "-o", str(out))
    assert p.returncode == 0, p.stderr
    js = tmp_path / "r.json"
    p = cli("report", str(out), "--json", str(js))
    assert p.returncode == 0, p.stderr
    rep = json.loads(js.read_text())
    (phase,) = rep["phases"]
    assert phase["name"] == "whole recording (no phases)"
    assert phase["n_beats"] == len(rr)
    assert phase["low_quality"] is False
    assert phase["rmssd_ms"] == pytest.approx(rmssd_ms(rr), rel=0.02)
