"""`report --full`: neurokit2's complete index set per phase equals neurokit2 called directly
on the same corrected beats (selected here by a plain mask, not by the report's code)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import neurokit2 as nk
import pytest

from holdbeat.analysis.prep import prepare
from holdbeat.cli import main
from holdbeat.hrv.intervals import nk_input
from holdbeat.recording import load
from holdbeat.session import Phase, Protocol
from holdbeat.sim.sessions import synth_recording, write_recording

PROTO = Protocol(
    "short",
    (
        Phase("baseline", "baseline", "neutral", 150.0),
        Phase("soft hold", "hold", "soft", 180.0, belief="I am held", target="self"),
        Phase("tiny", "rest", "neutral", 4.0),
    ),
)


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[dict]]:
    d = tmp_path_factory.mktemp("nkfull")
    path = write_recording(d, synth_recording(PROTO, seed=3, artifact_rate=0.02), "nk")
    js, cs = d / "r.json", d / "r.csv"
    assert main(["report", str(path), "--full", "--json", str(js), "--csv", str(cs), "-q"]) == 0
    rows = list(csv.DictReader(cs.open(encoding="utf-8")))
    return path, json.loads(js.read_text("utf-8")), rows


def direct(path: Path, index: int) -> tuple[dict[str, float], int]:
    """neurokit2 on the phase's usable corrected beats, called here without the bridge."""
    prep = prepare(load(path))
    ph = prep.rec.phases[index]
    mask = (prep.t_s >= ph.start_s) & (prep.t_s < ph.end_s)
    gap = prep.gap_before[mask].copy()
    gap[0] = True
    data = nk_input(prep.t_s[mask], prep.rr_ms[mask], gap, prep.usable[mask])
    out: dict[str, float] = {}
    for df in (
        nk.hrv_time(data),
        nk.hrv_frequency(data, psd_method="welch", interpolation_rate=4, normalize=False),
        nk.hrv_nonlinear(data),
    ):
        out.update({c: float(df[c].iloc[0]) for c in df.columns})
    return out, len(data["RRI"])


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("index", [0, 1])
def test_full_equals_neurokit2_called_directly(reported, index: int) -> None:
    path, d, rows = reported
    want, n = direct(path, index)
    got = d["neurokit2"]["phases"][index]
    assert got["index"] == index and got["n_beats"] == n and got["missing"] == {}
    assert set(got["indices"]) == set(want)
    assert len(want) > 80  # the whole set: time, frequency and non-linear
    for k, v in want.items():
        if math.isfinite(v):
            assert got["indices"][k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
            assert float(rows[index][f"nk_{k}"]) == pytest.approx(v, rel=1e-12, abs=1e-12), k
        else:
            assert got["indices"][k] is None, k
            assert rows[index][f"nk_{k}"] == "", k


def test_version_settings_and_a_phase_too_short(reported) -> None:
    _, d, rows = reported
    full = d["neurokit2"]
    assert full["version"] == nk.__version__
    assert full["settings"]["hrv_frequency"] == {
        "psd_method": "welch",
        "interpolation_rate": 4.0,
        "normalize": False,
    }
    tiny = full["phases"][2]
    assert tiny["indices"] == {} and tiny["n_beats"] < 10
    assert set(tiny["missing"]) == {"time", "frequency", "nonlinear"}
    assert all("needs >= 10 usable beats" in r for r in tiny["missing"].values())
    assert [r["neurokit2_version"] for r in rows] == [nk.__version__] * 3
    assert rows[2]["nk_HRV_RMSSD"] == ""


def test_nonlinear_skipped_above_the_cap_with_the_reason(reported) -> None:
    from holdbeat.analysis.nkfull import full_indices

    path, d, _ = reported
    n1 = d["neurokit2"]["phases"][1]["n_beats"]
    full = full_indices(prepare(load(path)), max_nonlinear_beats=n1 - 1)
    hold = full.phases[1]
    assert "nonlinear" in hold.reasons and f"not run on {n1} beats" in hold.reasons["nonlinear"]
    assert "HRV_SampEn" not in hold.values and "HRV_RMSSD" in hold.values
    assert full.phases[0].n_beats <= n1 - 1 or "nonlinear" in full.phases[0].reasons


def test_without_full_no_neurokit_section(reported, tmp_path: Path) -> None:
    path = reported[0]
    js = tmp_path / "plain.json"
    assert main(["report", str(path), "--json", str(js), "-q"]) == 0
    assert "neurokit2" not in json.loads(js.read_text("utf-8"))
