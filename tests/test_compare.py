"""`holdbeat compare`: statistics building blocks, exclusions with reasons, small-n honesty,
paired contrasts, trajectories, the command's outputs and exit codes."""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path

import numpy as np
import pytest

from holdbeat.analysis import stats
from holdbeat.analysis.compare import CompareConfig, compare, summarize
from holdbeat.analysis.compare_render import verdict
from holdbeat.analysis.prep import prepare
from holdbeat.cli import main
from holdbeat.session import Phase, Protocol
from holdbeat.sim.body import CLEAR_RESPONSES
from holdbeat.sim.sessions import synth_recording

QUICK = CompareConfig(n_resamples=999, traj_resamples=200)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- stats


def test_estimate_mean_median_and_interval() -> None:
    x = rng(1).normal(2.0, 1.0, 40)
    e = stats.estimate(x, rng(2), 1999)
    assert e.ok and e.n == 40
    assert e.mean == pytest.approx(x.mean()) and e.median == pytest.approx(np.median(x))
    assert e.ci_lo < x.mean() < e.ci_hi
    # about ± t·SE wide
    half = 2.02 * x.std(ddof=1) / math.sqrt(40)
    assert (e.ci_hi - e.ci_lo) / 2 == pytest.approx(half, rel=0.2)
    assert e.excludes_zero
    again = stats.estimate(x, rng(2), 1999)
    assert (again.ci_lo, again.ci_hi) == (e.ci_lo, e.ci_hi)  # seeded


def test_estimate_says_when_it_cannot_say() -> None:
    e = stats.estimate([1.0, 2.0, np.nan], rng())
    assert not e.ok and "too few" in e.reason and e.n == 2 and math.isnan(e.ci_lo)
    assert stats.estimate([], rng()).reason == "no values"
    flat = stats.estimate([3.0] * 10, rng())
    assert not flat.ok and "equal" in flat.reason


def test_hedges_g_formula() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    sp = math.sqrt((4 * a.var(ddof=1) + 5 * b.var(ddof=1)) / 9)
    d = (a.mean() - b.mean()) / sp
    j_approx = 1 - 3 / (4 * 9 - 1)
    assert stats.hedges_g(a, b) == pytest.approx(d * j_approx, rel=2e-3)
    assert stats.hedges_correction(9) < 1
    assert math.isnan(stats.hedges_g(a[:1], b))
    dz = np.array([0.5, 1.0, 1.5, 0.2])
    assert stats.hedges_gz(dz) == pytest.approx(
        dz.mean() / dz.std(ddof=1) * stats.hedges_correction(3)
    )


def test_contrast_detects_a_shift_and_not_noise() -> None:
    r = rng(3)
    a, b = r.normal(1.0, 1.0, 30), r.normal(0.0, 1.0, 30)
    c = stats.contrast(a, b, rng(4), ("a", "b"), 1999)
    assert c.ok and c.excludes_zero and c.p < 0.01 and c.g > 0.5
    assert c.ci_lo < a.mean() - b.mean() < c.ci_hi
    same = stats.contrast(r.normal(0, 1, 30), r.normal(0, 1, 30), rng(4), ("a", "b"), 1999)
    assert same.p > 0.05 and not same.excludes_zero
    few = stats.contrast([1.0, 2.0], [1.0, 2.0, 3.0, 4.0], rng())
    assert not few.ok and "too few" in few.reason


def test_paired_sign_flip_p_is_exact_for_small_n() -> None:
    d = np.array([0.3, 0.5, 0.2, 0.4, 0.6])  # all positive: only the two all-same-sign flips
    c = stats.paired_contrast(d, rng(), ("fierce", "soft"))
    assert c.paired and c.n_a == 5
    assert c.p == pytest.approx(2 / 2**5)
    assert c.excludes_zero and c.ci_lo > 0


def test_mean_band_covers_the_mean_and_skips_sparse_columns() -> None:
    x = rng(5).normal(0.0, 1.0, (60, 20))
    x[:, :3] = np.nan
    x[:57, 3] = np.nan  # only 3 units have data there: no band
    mean, lo, hi, n = stats.mean_band(x, rng(6), 500)
    assert np.isnan(mean[:3]).all() and np.isnan(lo[:4]).all()
    assert n[3] == 3 and n[5] == 60
    ok = slice(4, None)
    assert np.all(lo[ok] <= mean[ok]) and np.all(mean[ok] <= hi[ok])
    width = np.nanmean(hi[ok] - lo[ok])
    assert width == pytest.approx(2 * 1.96 / math.sqrt(60), rel=0.25)


# ---------------------------------------------------------------- summarize / compare


def proto(*holds: tuple[str, float], baseline_s: float | None = 180.0) -> Protocol:
    phases = [] if baseline_s is None else [Phase("baseline", "baseline", "neutral", baseline_s)]
    for i, (mode, dur) in enumerate(holds):
        phases.append(Phase(f"{mode} {i + 1}", "hold", mode, dur))
        phases.append(Phase(f"rest {i + 1}", "rest", "neutral", 60.0))
    return Protocol("test", tuple(phases))


def summary(p: Protocol, seed: int, cfg: CompareConfig = QUICK, **kw: object):
    return summarize(prepare(synth_recording(p, seed=seed, **kw), correction=False), cfg)


def test_every_excluded_hold_is_listed_with_its_reason() -> None:
    s = summary(proto(("soft", 180.0), ("fierce", 40.0)), 1)
    assert [u.mode for u in s.holds] == ["soft"]
    (ex,) = s.excluded
    assert ex.mode == "fierce" and "too short" in ex.reason
    nob = summary(proto(("soft", 180.0), baseline_s=None), 1)
    assert not nob.holds and "no baseline" in nob.excluded[0].reason
    noisy = summarize(
        prepare(synth_recording(proto(("soft", 180.0)), seed=2, artifact_rate=0.15)), QUICK
    )
    assert not noisy.holds and "low quality" in noisy.excluded[0].reason
    assert "corrected" in noisy.excluded[0].reason
    kept = summarize(
        prepare(synth_recording(proto(("soft", 180.0)), seed=2, artifact_rate=0.15)),
        CompareConfig(include_low_quality=True),
    )
    assert len(kept.holds) == 1 and kept.holds[0].low_quality


def test_holds_are_deltas_from_the_sessions_own_baseline() -> None:
    p = proto(("soft", 180.0))
    rec = synth_recording(p, seed=4)
    prep = prepare(rec, correction=False)
    s = summarize(prep, QUICK)
    from holdbeat.analysis.prep import time_domain

    b = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(rec.phases[0]))
    h = time_domain(prep.rr_ms, prep.gap_before, prep.usable, prep.phase_mask(rec.phases[1]))
    (u,) = s.holds
    assert u.dhr == pytest.approx(h.hr_bpm - b.hr_bpm)
    assert u.dlnrmssd == pytest.approx(h.ln_rmssd - b.ln_rmssd)
    assert u.drmssd == pytest.approx(h.rmssd_ms - b.rmssd_ms)


def test_small_n_says_too_few_rather_than_a_number() -> None:
    sums = [summary(proto(("fierce", 180.0)), 1), summary(proto(("soft", 180.0)), 2)]
    c = compare(sums, QUICK)
    fierce = next(m for m in c.modes if m.mode == "fierce")
    assert fierce.n_holds == 1 and not fierce.estimate.ok and "too few" in fierce.estimate.reason
    assert all(not x.ok for x in c.pairwise + c.paired)
    assert "can't say" in verdict(c.pairwise[0], "dlnrmssd")


def test_planted_difference_found_paired_and_unpaired_with_words() -> None:
    p = proto(("fierce", 180.0), ("soft", 180.0))
    sums = [summary(p, seed) for seed in range(10)]
    c = compare(sums, QUICK)
    fs = c.pairwise[0]
    assert (fs.a, fs.b) == ("fierce", "soft") and fs.ok
    assert fs.excludes_zero and fs.diff < 0  # soft raises ln RMSSD more (simulator defaults)
    paired = c.paired[0]
    both = {u.session for u in c.units if u.mode == "fierce"} & {
        u.session for u in c.units if u.mode == "soft"
    }
    assert len(both) >= 8  # a session may lose a hold to quality (listed in c.excluded)
    assert paired.paired and paired.n_a == len(both) and paired.excludes_zero
    words = verdict(paired, "dlnrmssd")
    assert "higher in soft than in fierce" in words and "CI" in words
    # trajectories per mode around onset, with bands
    onset = {t.mode: t for t in c.trajectories if t.event == "onset"}
    assert set(onset) == {"fierce", "soft"}
    t = onset["soft"]
    late = t.offsets_s > 120
    assert np.nanmean(t.mean[late]) > np.nanmean(t.mean[t.offsets_s < 0])
    assert np.all((t.lo <= t.mean + 1e-12) | np.isnan(t.lo))


def test_same_seed_same_numbers_other_seed_other_resamples() -> None:
    p = proto(("fierce", 180.0), ("soft", 180.0))
    sums = [summary(p, seed) for seed in range(6)]
    a = compare(sums, QUICK)
    b = compare(sums, QUICK)
    assert a.pairwise[0].ci_lo == b.pairwise[0].ci_lo and a.paired[0].p == b.paired[0].p
    other = compare(sums, CompareConfig(n_resamples=999, traj_resamples=200, seed=1))
    assert other.pairwise[0].ci_lo != a.pairwise[0].ci_lo
    assert other.pairwise[0].diff == a.pairwise[0].diff


def test_latency_metric_uses_reached_holds_only() -> None:
    p = proto(("soft", 240.0))
    cfg = CompareConfig(metric="latency", n_resamples=999)
    sums = [summary(p, seed, cfg, responses=CLEAR_RESPONSES) for seed in range(6)]
    c = compare(sums, CompareConfig(metric="latency", n_resamples=999))
    soft = next(m for m in c.modes if m.mode == "soft")
    assert soft.reached >= 4
    lat = [u.latency for u in c.units if u.reached]
    assert soft.estimate.mean == pytest.approx(np.mean(lat))
    assert any("caught up" in n or "reached" in n for n in c.notes)
    with pytest.raises(ValueError):
        CompareConfig(metric="pnn50")


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import record_simulated

    from holdbeat.sim.body import SimConfig

    d = tmp_path_factory.mktemp("recs")
    for seed in range(3):
        record_simulated(d / "alt", "alternating", SimConfig(seed=seed))
    return d


def test_cli_compare_folder_outputs(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    js, csv, png = tmp_path / "c.json", tmp_path / "c.csv", tmp_path / "c.png"
    code = main(
        [
            "compare",
            str(folder),
            "--json",
            str(js),
            "--csv",
            str(csv),
            "--png",
            str(png),
            "--resamples",
            "499",
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    for word in ("BY MODE", "BETWEEN MODES", "WITHIN SESSIONS", "IN WORDS", "EXCLUDED HOLDS"):
        assert word in out
    d = json.loads(js.read_text())
    assert d["n_recordings"] == 3
    fierce = next(m for m in d["modes"] if m["mode"] == "fierce")
    assert fierce["holds"] + sum(e["mode"] == "fierce" for e in d["excluded"]) == 6
    assert csv.read_text().splitlines()[0].startswith("file,session,index")
    assert png.read_bytes()[:4] == b"\x89PNG"
    for f in (js, csv, png):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_cli_compare_bad_file_named_exit_2_or_skipped(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "foreign.jsonl"
    bad.write_text('{"not": "a recording"}\n')
    good = sorted(folder.rglob("*.jsonl"))
    assert main(["compare", str(bad), *map(str, good), "--resamples", "199", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "--skip-bad" in err
    argv = ["compare", str(bad), *map(str, good), "--resamples", "199", "--skip-bad", "--jobs", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "SKIPPED FILES (1)" in out and str(bad) in out
    assert main(["compare", str(tmp_path / "nothing-here")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["compare", str(good[0]), "--csv", str(good[1])]) == 2
    assert "refusing to write over a recording" in capsys.readouterr().err
