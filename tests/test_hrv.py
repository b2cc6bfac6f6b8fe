"""Per-phase HRV: fast metrics equal neurokit2's, window-length rules, quality columns."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers import record_simulated
from holdbeat.hrv.intervals import contiguous, nk_input
from holdbeat.hrv.nonlinear import dfa, poincare, sample_entropy
from holdbeat.hrv.phase_metrics import FREQ_COLUMNS, TIME_COLUMNS, HrvConfig
from holdbeat.hrv.spectrum import frequency_domain
from holdbeat.hrv.table import hrv_table, phase_table, to_long
from holdbeat.hrv.time_domain import time_domain
from holdbeat.recording import PhaseSpan, load
from holdbeat.sim.artifacts import beat_times, inject_artifacts
from holdbeat.sim.body import SimConfig
from holdbeat.sim.rr import synthetic_rr

nk = pytest.importorskip("neurokit2")


def _series(n: int, seed: int, holes: bool):
    rr = synthetic_rr(n, seed=seed)
    t = beat_times(rr) + 2.0
    gap = np.zeros(n, bool)
    keep = np.ones(n, bool)
    if holes:
        keep[[40, 41, n // 3, n // 2 + 7]] = False  # removed (artifact) beats
        gap[n // 2] = True
        t[n // 2 :] += 30.0  # a connection loss
    return t, rr, gap, keep


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= rel * max(1.0, abs(b))


@pytest.mark.parametrize(("n", "holes"), [(80, False), (400, True), (2500, True)])
def test_time_domain_equals_neurokit_hrv_time(n, holes):
    t, rr, gap, keep = _series(n, n, holes)
    data = nk_input(t, rr, gap, keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time(data)
    ours = time_domain(data["RRI"], contiguous(gap, keep)[keep])
    assert set(ours) == set(TIME_COLUMNS)
    for k in TIME_COLUMNS:
        assert _close(ours[k], float(ref[f"HRV_{k}"].iloc[0])), k
    if n >= 2500:
        assert math.isfinite(ours["SDANN5"]) or math.isfinite(ours["SDANN1"])


@pytest.mark.parametrize("n", [90, 300, 1400])
def test_frequency_domain_equals_neurokit_hrv_frequency(n):
    rr = synthetic_rr(n, seed=n)
    t = beat_times(rr) + 1.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_frequency(
            {"RRI": rr, "RRI_Time": t}, normalize=False, interpolation_rate=4, psd_method="welch"
        )
    ours = frequency_domain(rr, t, 4.0, method="neurokit")
    for k in FREQ_COLUMNS:
        assert _close(ours[k], float(ref[f"HRV_{k}"].iloc[0])), k
    assert math.isfinite(ours["HF"])


@pytest.mark.parametrize("n", [1, 2, 7, 256, 1201])
def test_hann_window_is_scipys(n):
    from scipy.signal import get_window

    from holdbeat.hrv.spectrum import hann_periodic

    assert np.array_equal(hann_periodic(n), get_window("hann", n))


def test_nonlinear_equal_neurokit():
    from neurokit2.hrv.hrv_nonlinear import _hrv_nonlinear_poincare

    t, rr, gap, keep = _series(1200, 5, True)
    data = nk_input(t, rr, gap, keep)
    rri = data["RRI"]
    ref = _hrv_nonlinear_poincare(rri, rri_time=data["RRI_Time"], rri_missing=True, out={})
    ours = poincare(rri, contiguous(gap, keep)[keep])
    for k in ("SD1", "SD2", "SD1SD2"):
        assert _close(ours[k], ref[k]), k
    alpha, _ = nk.fractal_dfa(rri, scale=np.arange(4, 12), multifractal=False)
    assert _close(dfa(rri), float(alpha))
    se, _ = nk.entropy_sample(rri, delay=1, dimension=2, tolerance=0.2 * np.std(rri, ddof=1))
    assert _close(sample_entropy(rri), float(se))


def test_nonlinear_equal_neurokit_hrv_nonlinear_itself():
    rr = synthetic_rr(260, seed=8)
    data = {"RRI": rr, "RRI_Time": beat_times(rr)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_nonlinear(data)
    cont = np.ones(len(rr), bool)
    got = {**poincare(rr, cont), "DFA_alpha1": dfa(rr), "SampEn": sample_entropy(rr)}
    for k, v in got.items():
        assert _close(v, float(ref[f"HRV_{k}"].iloc[0])), k


def test_nk_input_makes_neurokit_use_exactly_the_contiguous_differences():
    rr = synthetic_rr(200, seed=1)
    t = beat_times(rr)
    t[100:] += 0.004  # a clock re-anchor step (<10 ms): still contiguous for neurokit
    t[150:] += 0.5  # a 0.5 s step without a gap flag: holdbeat says contiguous
    gap = np.zeros(200, bool)
    gap[60] = True  # a gap flag where the times happen to line up: not contiguous
    keep = np.ones(200, bool)
    keep[[20, 21, 120]] = False
    data = nk_input(t, rr, gap, keep)
    assert np.all(np.diff(data["RRI_Time"]) > 0)
    cont = contiguous(gap, keep)
    d = np.diff(rr)[cont[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time(data)
    assert _close(float(ref["HRV_RMSSD"].iloc[0]), float(np.sqrt(np.mean(d**2))))
    # the raw times would not: neurokit would also cut at the 0.5 s step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = nk.hrv_time({"RRI": rr[keep], "RRI_Time": t[keep]})
    assert not _close(float(raw["HRV_RMSSD"].iloc[0]), float(ref["HRV_RMSSD"].iloc[0]))


# ------------------------------------------------------------------ the table


def _session(durations: list[float], seed: int = 0, hr_bpm: float = 65.0):
    total = sum(durations)
    rr = synthetic_rr(int(total * hr_bpm / 60 * 1.3), seed=seed, hr_bpm=hr_bpm)
    t = beat_times(rr)
    rr, t = rr[t < total], t[t < total]
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    phases = [(f"p{i}", edges[i], edges[i + 1]) for i in range(len(durations))]
    return t, rr, phases


def test_window_length_rules_and_reasons():
    t, rr, phases = _session([20.0, 90.0, 150.0, 1300.0])
    df = hrv_table(t, rr, phases)
    p20, p90, p150, p1300 = (df.iloc[i] for i in range(4))
    assert math.isnan(p20["HRV_RMSSD"]) and "30 s" in p20["reason_time"]
    assert math.isnan(p20["HRV_HF"]) and "60 s" in p20["reason_frequency"]
    assert math.isfinite(p90["HRV_RMSSD"]) and math.isfinite(p90["HRV_HF"])
    assert math.isnan(p90["HRV_LF"]) and "LF needs >= 120 s" in p90["reason_frequency"]
    assert math.isnan(p90["HRV_LFHF"])
    assert math.isfinite(p150["HRV_LF"]) and math.isfinite(p150["HRV_LFHF"])
    assert math.isnan(p150["HRV_VLF"]) and "VLF" in p150["reason_frequency"]
    assert math.isfinite(p1300["HRV_VLF"])
    assert math.isnan(p90["HRV_DFA_alpha1"]) and "DFA" in p90["reason_nonlinear"]
    assert math.isfinite(p150["HRV_DFA_alpha1"])
    assert math.isnan(p150["HRV_SampEn"]) and "SampEn needs >= 200" in p150["reason_nonlinear"]
    assert math.isfinite(p1300["HRV_SampEn"]) and p1300["reason_nonlinear"] == ""
    long = to_long(df)
    assert len(long) == 4 * len([c for c in df.columns if c.startswith("HRV_") or c == "HR_bpm"])
    nan_rows = long[long["value"].isna()]
    assert len(nan_rows) > 0 and (nan_rows["reason"] != "").all()
    assert (long.loc[long["value"].notna(), "reason"] == "").all()
    assert not np.isinf(long["value"].astype(float)).any()


def test_fast_engine_equals_neurokit_engine_on_a_simulated_recording(tmp_path):
    rec = load(record_simulated(tmp_path, "single", SimConfig(seed=2, artifact_rate=0.02)))
    # the fast engine with neurokit2's spectrum layout is neurokit2, number for number
    fast = phase_table(rec, config=HrvConfig(spectrum="neurokit"))
    slow = phase_table(rec, engine="neurokit")
    assert "HRV_TINN" in slow.columns and "HRV_TINN" not in fast.columns
    metric_cols = [c for c in fast.columns if c.startswith("HRV_") or c == "HR_bpm"]
    for c in metric_cols:
        a = fast[c].to_numpy(float)
        b = slow[c].to_numpy(float)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=c)
    assert list(fast["phase"]) == [p.name for p in rec.phases]
    assert fast["n_beats"].sum() == np.sum(
        (rec.beat_t_s >= rec.phases[0].start_s) & (rec.beat_t_s < rec.phases[-1].end_s)
    )
    assert (fast["n_flagged_live"] > 0).any()


def test_full_nonlinear_adds_neurokit_columns():
    t, rr, phases = _session([70.0])
    df = hrv_table(t, rr, phases, full_nonlinear=True)
    for c in ("HRV_ApEn", "HRV_CSI", "HRV_HFD", "HRV_SD1"):
        assert c in df.columns and math.isfinite(df[c].iloc[0])


def _two_phases(step: int):
    rr = synthetic_rr(1000, seed=4)
    kinds = ("missed", "extra", "ectopic")
    noisy = [(i, kinds[(i // step) % 3]) for i in range(700, 990, step)]
    inj = inject_artifacts(rr, 0.0, positions=[(200, "missed"), (650, "ectopic"), *noisy])
    t_mid = beat_times(rr)[600]
    phases = [("calm", 0.0, t_mid), ("noisy", t_mid, inj.t_s[-1] + 1)]
    return hrv_table(inj.t_s, inj.rr_ms, phases), len(noisy)


def test_correction_counts_per_phase_and_low_quality():
    df, n_noisy = _two_phases(step=8)  # ~9 % of the noisy phase's beats are artifacts
    calm, noisy = df.iloc[0], df.iloc[1]
    assert calm["n_missed"] == 1 and calm["n_ectopic"] == 0 and not calm["low_quality"]
    assert calm["share_missed"] == pytest.approx(1 / calm["n_beats"])
    # corrected_share counts recorded beats changed: the one missed beat is one beat
    assert calm["corrected_share"] == pytest.approx(1 / calm["n_beats"])
    assert calm["quality_reason"] == "" and calm["gap_share"] == pytest.approx(0.0, abs=0.01)
    events = sum(int(noisy[f"n_{k}"]) for k in ("missed", "extra", "ectopic"))
    assert abs(events - (n_noisy + 1)) <= 2
    assert noisy["n_ectopic"] >= 10 and noisy["corrected_share"] > 0.05
    assert noisy["low_quality"] and "corrected" in noisy["quality_reason"]


def test_overwhelmed_detector_still_gates_the_phase():
    # every 4th beat an artifact: the quartile thresholds are contaminated; the phase must
    # still come out as low quality, saying why
    df, _ = _two_phases(step=4)
    noisy = df.iloc[1]
    assert noisy["low_quality"]
    assert noisy["corrected_share"] > 0.05 or noisy["premature_share"] > 0.02
    assert "corrected" in noisy["quality_reason"] or "ectopy" in noisy["quality_reason"]


@pytest.mark.parametrize("rate", [0.01, 0.05])
def test_rmssd_after_correction_within_5_percent_per_phase(rate):
    rr = synthetic_rr(1500, seed=6)
    t = beat_times(rr)
    inj = inject_artifacts(rr, rate, seed=6)
    phases = [("a", 0.0, t[700]), ("b", t[700], t[-1] + 0.5)]
    clean = hrv_table(t, rr, phases)
    dirty = hrv_table(inj.t_s, inj.rr_ms, phases)
    for i in range(2):
        ref = clean["HRV_RMSSD"].iloc[i]
        assert abs(dirty["HRV_RMSSD"].iloc[i] / ref - 1) < 0.05
        assert abs(dirty["HRV_HF"].iloc[i] / clean["HRV_HF"].iloc[i] - 1) < 0.15


def test_gap_inside_a_phase():
    rr = synthetic_rr(600, seed=3)
    t = beat_times(rr)
    gap = np.zeros(600, bool)
    gap[300] = True
    t[300:] += 120.0  # two minutes without beats
    df = hrv_table(t, rr, [("all", 0.0, t[-1] + 1)], gap_before=gap)
    row = df.iloc[0]
    assert row["freq_span_s"] == pytest.approx(max(t[299], t[-1] - t[300] + rr[300] / 1000), 0.02)
    d = np.diff(rr)
    d = np.delete(d, 299)
    assert row["HRV_RMSSD"] == pytest.approx(np.sqrt(np.mean(d**2)), rel=0.01)


def test_empty_phase_and_phase_input_forms():
    t, rr, _ = _session([300.0])
    spans = [
        PhaseSpan(0, "baseline", "baseline", "neutral", 0.0, 150.0, 150.0),
        PhaseSpan(1, "hold", "hold", "soft", 150.0, 300.0, 150.0),
        PhaseSpan(2, "after", "recovery", "neutral", 400.0, 500.0, 100.0),
    ]
    df = hrv_table(t, rr, spans)
    assert list(df["mode"]) == ["neutral", "soft", "neutral"]
    empty = df.iloc[2]
    assert empty["n_beats"] == 0 and bool(empty["low_quality"])
    assert math.isnan(empty["HRV_RMSSD"]) and empty["reason_time"]
    same = hrv_table(t, rr, [(s.name, s.start_s, s.end_s) for s in spans])
    pd.testing.assert_series_equal(same["HRV_RMSSD"], df["HRV_RMSSD"])
    with pytest.raises(ValueError, match="phase 0"):
        hrv_table(t, rr, ["nonsense"])
    with pytest.raises(ValueError, match="bad span"):
        hrv_table(t, rr, [("x", 10.0, 5.0)])
    with pytest.raises(ValueError, match="engine"):
        hrv_table(t, rr, spans, engine="kubios")


@pytest.mark.parametrize("n", [3, 4, 5, 10, 333, 5000])
def test_quadratic_interp_equals_scipy_interp1d(n: int) -> None:
    """neurokit2's RR interpolation re-done without scipy.interpolate: same values, the
    flat fill outside the beats included (points before, on and after both ends)."""
    from scipy.interpolate import interp1d

    from holdbeat.hrv.spectrum import quadratic_interp

    rng = np.random.default_rng(n)
    rr = rng.normal(850.0, 60.0, n)
    t = np.cumsum(rr) / 1000.0
    x_new = np.concatenate([np.arange(t[0] - 0.3, t[-1] + 0.6, 0.25), t, [t[0] - 5, t[-1] + 5]])
    ref = interp1d(t, rr, kind="quadratic", bounds_error=False, fill_value=([rr[0]], [rr[-1]]))
    np.testing.assert_allclose(quadratic_interp(t, rr, x_new), ref(x_new), rtol=1e-12, atol=1e-9)


def test_quadratic_interp_needs_three_points() -> None:
    from holdbeat.hrv.spectrum import quadratic_interp

    with pytest.raises(ValueError, match="needs >= 3 points, got 2"):
        quadratic_interp(np.array([0.0, 1.0]), np.array([800.0, 810.0]), np.array([0.5]))
