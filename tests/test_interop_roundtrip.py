"""Round trips: export kubios -> import rr-txt, export edf -> read back, import -> export.

Uses the hand-built sample and the lead's simulator recorded through the real pipeline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import record_simulated
from tests.interop_samples import write_sample_recording

from holdbeat.commands import export as export_cmd
from holdbeat.commands import import_ as import_cmd
from holdbeat.hrs import RR_UNITS_PER_S
from holdbeat.interop.edf import export_edf, read_edf_series, tachogram
from holdbeat.recording import load
from holdbeat.sim.body import SimConfig


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="holdbeat")
    sub = parser.add_subparsers()
    export_cmd.register(sub)
    import_cmd.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def _units(rr_ms: np.ndarray) -> np.ndarray:
    return np.rint(rr_ms * RR_UNITS_PER_S / 1000).astype(int)


@pytest.fixture(scope="module", params=["sample", "simulated"])
def recording(request, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp(request.param)
    if request.param == "sample":
        return write_sample_recording(d)
    return record_simulated(d, "single", SimConfig(seed=11))


def test_kubios_export_then_rr_txt_import_gives_the_same_rr(
    recording: Path, tmp_path: Path
) -> None:
    rec = load(recording)
    txt = tmp_path / "k.txt"
    assert _cli(["export", str(recording), "--to", "kubios", "-o", str(txt)]) == 0
    out = tmp_path / "imported"
    assert _cli(["import", str(txt), "--from", "rr-txt", "-o", str(out)]) == 0
    back = load(next(out.iterdir()))
    assert len(back.rr_ms) == len(rec.rr_ms)
    assert np.array_equal(_units(back.rr_ms), _units(rec.rr_ms))  # exact in 1/1024 s units
    assert np.array_equal(back.rr_ms, rec.rr_ms)
    # Times: Kubios has no clock, so the import times beats by the RR sum from 0.
    assert np.allclose(back.beat_t_s, np.cumsum(rec.rr_ms) / 1000, atol=1e-6)
    # The live artifact check sees the same series: it flags the same beats, except that
    # the import has no gaps to reset it at.
    if not rec.gap_before[1:].any():
        assert np.array_equal(back.flag, rec.flag)


def test_edf_export_reads_back_the_same_series(recording: Path) -> None:
    rec = load(recording)
    back = read_edf_series(export_edf(rec))
    n = len(back.rr_ms)
    want = tachogram(rec.beat_t_s, rec.rr_ms, rec.gap_before, n, 4)
    assert np.abs(back.rr_ms - want).max() <= back.rr_step_ms / 2 + 1e-9
    assert np.array_equal(back.beat_rr_ms, rec.rr_ms)
    assert np.abs(back.beat_t_s - rec.beat_t_s).max() < 1e-9
    assert back.beat_flag == rec.flag.tolist()
    n_marker = sum(a[2].startswith("marker ") for a in back.annotations)
    assert n_marker == len(rec.markers)
    n_rating = sum(a[2].startswith("rating ") for a in back.annotations)
    assert n_rating == len(rec.ratings)
    phases = [a for a in back.annotations if a[2].startswith("phase ")]
    np.testing.assert_allclose(
        [(a[0], a[1]) for a in phases],
        [(p.start_s, p.end_s - p.start_s) for p in rec.phases],
        rtol=0,
        atol=1e-6,
    )


def test_import_with_phases_then_kubios_samples_match_the_phases_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    rr = 800 + 40 * np.sin(np.arange(700) / 0.75) + rng.normal(0, 12, 700)
    src = tmp_path / "2026-03-01 09-30-00.txt"  # Elite HRV: integer ms, named by start time
    src.write_text("\n".join(str(round(x)) for x in rr) + "\n")
    phases = tmp_path / "phases.csv"
    phases.write_text(
        "name,kind,mode,start_s,end_s,belief,target\n"
        "baseline,baseline,neutral,0,180,,\n"
        "hold,hold,,180,400,I am still held.,relational\n"
        "recovery,recovery,neutral,400,560,,\n"
    )
    out = tmp_path / "rec"
    assert (
        _cli(
            [
                "import",
                str(src),
                "--phases",
                str(phases),
                "--mode",
                "loving-kindness",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    path = next(out.iterdir())
    rec = load(path)
    assert rec.header.started_utc.startswith("2026-03-01T")
    assert [(p.kind, p.mode, p.start_s) for p in rec.phases] == [
        ("baseline", "neutral", 0.0),
        ("hold", "loving-kindness", 180.0),
        ("recovery", "neutral", 400.0),
    ]
    assert rec.phases[1].belief == "I am still held." and rec.phases[1].target == "relational"
    assert rec.phases[-1].end_s == pytest.approx(max(560.0, rec.beat_t_s[-1]), abs=1e-6)
    assert np.abs(rec.rr_ms - np.round(rr)).max() <= 0.49
    sidecar = tmp_path / "k.txt"
    assert _cli(["export", str(path), "--to", "kubios", "-o", str(sidecar)]) == 0
    rows = (tmp_path / "k.kubios-samples.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    starts = [float(r.split(",")[6]) for r in rows]
    assert starts == pytest.approx([0.0, 180.0, 400.0], abs=1e-6)  # session time 0 = Kubios 0


def test_cli_discovers_both_commands(tmp_path: Path, capsys) -> None:
    from holdbeat.cli import main

    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "polar-sensor-logger" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "kubios" in capsys.readouterr().out
    src = tmp_path / "rr.txt"
    src.write_text("812\n828\n")
    assert main(["import", str(src), "-o", str(tmp_path / "o")]) == 0
