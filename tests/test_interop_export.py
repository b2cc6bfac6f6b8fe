"""Exports: CSV, Kubios and EDF+ contents, safe writing, the recording left untouched."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from tests.interop_samples import ARTIFACT_RR_MS, BELIEF, GAP, write_sample_recording

from holdbeat import output
from holdbeat.commands import export as export_cmd
from holdbeat.interop.edf import export_edf, read_edf_series, tachogram
from holdbeat.interop.export_csv import BEAT_COLUMNS, EVENT_COLUMNS, export_csv, phase_index_at
from holdbeat.interop.kubios import SAMPLE_COLUMNS, export_kubios, session_to_kubios
from holdbeat.output import OutputExists, write_files
from holdbeat.recording import PhaseSpan, load


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_sample_recording(tmp_path_factory.mktemp("rec"))


@pytest.fixture(scope="module")
def rec(sample: Path):
    return load(sample)


def _table(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheets
    assert b"\r\n" in data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# ---------------------------------------------------------------- CSV


def test_phase_index_at_half_open_spans() -> None:
    spans = [
        PhaseSpan(0, "a", "baseline", "neutral", 0.0, 10.0, 10.0),
        PhaseSpan(1, "b", "hold", "soft", 10.0, 20.0, 10.0),
    ]
    got = phase_index_at(spans, np.array([-1.0, 0.0, 9.999, 10.0, 20.0, 20.001]))
    assert got.tolist() == [-1, 0, 0, 1, 1, -1]
    assert phase_index_at([], np.array([1.0])).tolist() == [-1]


def test_beats_csv_one_row_per_beat_exact_rr(rec) -> None:
    beats_bytes, _ = export_csv(rec)
    rows = _table(beats_bytes)
    assert list(rows[0]) == list(BEAT_COLUMNS)
    assert len(rows) == len(rec.rr_ms)
    rr = np.array([float(r["rr_ms"]) for r in rows])
    assert np.array_equal(rr, rec.rr_ms)  # exact, not rounded
    t = np.array([float(r["t_s"]) for r in rows])
    assert np.abs(t - rec.beat_t_s).max() <= 5e-7
    hr = np.array([float(r["hr_bpm"]) for r in rows])
    assert np.abs(hr - 60000 / rec.rr_ms).max() <= 5e-4
    flagged = [r for r in rows if r["artifact"] == "1"]
    assert len(flagged) == int(rec.artifact.sum()) >= 1
    assert any(float(r["rr_ms"]) == pytest.approx(ARTIFACT_RR_MS, abs=0.5) for r in flagged)
    assert all(r["flag"] for r in flagged)
    for r in rows:
        ts = float(r["t_s"])
        expected = "baseline" if ts < 60 else "fierce hold" if ts < 150 else "recovery"
        assert r["phase"] == expected
        assert (r["belief"] == BELIEF) == (expected == "fierce hold")
        assert r["mode"] == ("fierce" if expected == "fierce hold" else "neutral")
    after_gap = [r for r in rows if r["gap_before"] == "1"]
    assert len(after_gap) == 2 and float(after_gap[1]["t_s"]) > GAP[1]


def test_events_csv_lists_phases_markers_ratings_gaps(rec) -> None:
    _, events_bytes = export_csv(rec)
    rows = _table(events_bytes)
    assert list(rows[0]) == list(EVENT_COLUMNS)
    kinds = [(r["type"], r["kind"]) for r in rows]
    assert ("phase", "hold") in kinds and ("marker", "felt") in kinds
    assert [r["type"] for r in rows].count("phase") == 3
    hold = next(r for r in rows if r["type"] == "phase" and r["kind"] == "hold")
    assert (hold["t_s"], hold["end_s"], hold["mode"], hold["text"], hold["target"]) == (
        "60.000000",
        "150.000000",
        "fierce",
        BELIEF,
        "self",
    )
    felt = next(r for r in rows if r["kind"] == "felt")
    assert felt["text"] == "warmth, chest" and felt["phase"] == "fierce hold"
    pre = next(r for r in rows if r["type"] == "rating" and r["when"] == "pre")
    assert (pre["kind"], pre["value"], pre["phase_index"], pre["phase"]) == (
        "belief",
        "4",
        "1",
        "fierce hold",
    )
    assert [r["kind"] for r in rows if r["type"] == "connection"] == ["lost", "restored"]
    assert rows[-1]["type"] == "end" and rows[-1]["text"] == "completed"
    assert [float(r["t_s"]) for r in rows] == sorted(float(r["t_s"]) for r in rows)


# ---------------------------------------------------------------- Kubios


def test_kubios_rr_text_one_value_per_line(rec) -> None:
    text, _ = export_kubios(rec)
    lines = text.decode("ascii").splitlines()
    assert len(lines) == len(rec.rr_ms)
    assert all(line.count(".") == 1 and len(line.split(".")[1]) == 3 for line in lines)
    assert np.abs(np.array([float(x) for x in lines]) - rec.rr_ms).max() <= 0.0005


def test_kubios_samples_on_the_rr_sum_axis(rec) -> None:
    _, side = export_kubios(rec)
    rows = _table(side)
    assert list(rows[0]) == list(SAMPLE_COLUMNS)
    assert [r["phase"] for r in rows] == ["baseline", "fierce hold", "recovery"]
    k_beats = np.cumsum(rec.rr_ms) / 1000
    # Without a gap the two axes differ by a constant: the first RR's start in session time.
    offset = rec.beat_t_s[0] - k_beats[0]
    base = rows[0]
    assert float(base["kubios_start_s"]) == pytest.approx(0.0, abs=1e-3)
    assert float(base["kubios_end_s"]) == pytest.approx(60.0 - offset, abs=1e-3)
    # The hold contains the 4 s gap: Kubios' axis closes it, so the hold is shorter there.
    hold = rows[1]
    closed = float(hold["kubios_end_s"]) - float(hold["kubios_start_s"])
    assert closed < 90.0 - 3.0 and hold["gaps"] == "1"
    assert hold["artifacts"] == "1" and int(hold["beats"]) > 90
    assert sum(int(r["beats"]) for r in rows) == len(rec.rr_ms)
    assert base["kubios_start"] == "0:00:00" and base["kubios_length"] == "0:01:00"
    # A beat's own session time maps exactly onto its Kubios time.
    assert np.allclose(session_to_kubios(rec.beat_t_s, rec.beat_t_s, k_beats), k_beats)


# ---------------------------------------------------------------- EDF+


def test_tachogram_linear_between_beats_zero_across_gaps() -> None:
    bt = np.array([1.0, 2.0, 3.0, 10.0, 11.0])
    rr = np.array([1000.0, 1000.0, 1200.0, 900.0, 800.0])
    gap = np.array([True, False, False, True, False])
    got = tachogram(bt, rr, gap, 48, 4)
    assert got[0] == 0 and got[3] == 0  # before the first beat
    assert got[4] == 1000 and got[10] == pytest.approx(1100)  # t=1.0, t=2.5
    assert np.all(got[13:40] == 0)  # 3.25 .. 9.75: across the gap
    assert got[42] == pytest.approx(850)  # t=10.5
    assert got[44] == 800 and np.all(got[45:] == 0)  # the last beat, then nothing


def test_edf_reads_back_with_edfio(rec) -> None:
    data = export_edf(rec)
    back = read_edf_series(data)
    n = int(np.ceil(rec.duration_s)) * 4
    expected_rr = tachogram(rec.beat_t_s, rec.rr_ms, rec.gap_before, n, 4)
    assert back.fs_hz == 4 and len(back.rr_ms) == n
    assert np.abs(back.rr_ms - expected_rr).max() <= back.rr_step_ms / 2 + 1e-9
    hr = np.where(expected_rr > 0, 60000 / np.where(expected_rr > 0, expected_rr, 1), 0)
    assert np.abs(back.hr_bpm - hr).max() <= back.hr_step_bpm / 2 + 1e-9
    assert back.rr_step_ms < 0.05 and back.hr_step_bpm < 0.005
    # Gap: no values invented.
    k0, k1 = int(GAP[0] * 4) + 8, int(GAP[1] * 4) - 1
    assert np.all(back.rr_ms[k0:k1] <= back.rr_step_ms / 2)  # physical minimum: 0
    assert np.all(back.strap_hr_bpm[k0:k1] < 0.01)
    # The beats themselves, exactly, from the annotations.
    assert np.array_equal(back.beat_rr_ms, rec.rr_ms)
    assert np.abs(back.beat_t_s - rec.beat_t_s).max() < 1e-9
    assert back.beat_flag == rec.flag.tolist() and np.array_equal(back.beat_gap, rec.gap_before)
    texts = [a[2] for a in back.annotations]
    assert "phase 1 hold fierce: fierce hold" in texts
    assert f"belief (self): {BELIEF}" in texts
    assert "marker felt: warmth, chest" in texts and "rating post belief 7/10 (phase 1)" in texts
    assert "connection lost: test gap" in texts and "end: completed" in texts
    phase = next(a for a in back.annotations if a[2].startswith("phase 1 "))
    assert phase[0] == 60.0 and phase[1] == 90.0
    assert back.start.isoformat() == "2026-03-01T09:30:00"


def test_edf_reads_with_pyedflib(rec, tmp_path: Path) -> None:
    """A second, strict reader (EDFlib in C) accepts the file and sees the same data."""
    pyedflib = pytest.importorskip("pyedflib")
    path = tmp_path / "x.edf"
    path.write_bytes(export_edf(rec))
    with pyedflib.EdfReader(str(path)) as f:
        assert f.getSignalLabels() == ["RR", "HR", "HR strap"]
        assert list(f.getSampleFrequencies()) == [4, 4, 4]
        assert f.getPhysicalDimension(0) == "ms"
        rr = f.readSignal(0)
        onsets, durations, texts = f.readAnnotations()
    back = read_edf_series(path.read_bytes())
    assert np.abs(rr - back.rr_ms).max() < 1e-6
    assert sum(t.startswith("beat RR=") for t in texts) == len(rec.rr_ms)
    i = list(texts).index("phase 2 recovery neutral: recovery")
    assert onsets[i] == 150.0 and durations[i] == 60.0


def test_edf_other_rates_and_bad_rate(rec) -> None:
    back = read_edf_series(export_edf(rec, fs_hz=10))
    assert back.fs_hz == 10 and len(back.rr_ms) == int(np.ceil(rec.duration_s)) * 10
    with pytest.raises(ValueError, match="whole number of Hz"):
        export_edf(rec, fs_hz=0)


# ---------------------------------------------------------------- safe writing


def test_write_files_all_or_nothing(tmp_path: Path, monkeypatch) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    b.write_text("keep")
    with pytest.raises(OutputExists, match=r"b.csv already exists.*--force"):
        write_files({a: b"1", b: b"2"})
    assert not a.exists() and b.read_text() == "keep"
    b.unlink()
    real_link = os.link
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_link(src, dst)

    monkeypatch.setattr(output.os, "link", flaky)
    with pytest.raises(OSError, match=r"cannot write .*b\.csv: No space"):
        write_files({a: b"1", b: b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # first file rolled back, no temps
    monkeypatch.setattr(output.os, "link", real_link)
    write_files({a: b"1", b: b"2"})
    assert stat.S_IMODE(a.stat().st_mode) == 0o600 and b.read_bytes() == b"2"
    write_files({a: b"new"}, force=True)
    assert a.read_bytes() == b"new" and stat.S_IMODE(a.stat().st_mode) == 0o600


# ---------------------------------------------------------------- the command


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="holdbeat")
    export_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["export", *argv])
    return args.func(args)


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode


@pytest.mark.parametrize(
    ("to", "names"),
    [
        ("csv", ["REC.beats.csv", "REC.events.csv"]),
        ("kubios", ["REC.kubios-samples.csv", "REC.kubios.txt"]),
        ("edf", ["REC.edf"]),
    ],
)
def test_cli_export_never_touches_the_recording_and_never_overwrites(
    tmp_path: Path, capsys, to: str, names: list[str]
) -> None:
    src = write_sample_recording(tmp_path)
    before = _fingerprint(src)
    assert _run([str(src), "--to", to]) == 0
    stem = src.name.removesuffix(".jsonl")
    made = sorted(p.name for p in tmp_path.iterdir() if p != src)
    assert made == sorted(n.replace("REC", stem) for n in names)
    assert all(stat.S_IMODE((tmp_path / n).stat().st_mode) == 0o600 for n in made)
    assert _fingerprint(src) == before
    first = {n: (tmp_path / n).read_bytes() for n in made}
    # Again: refused, exit 2, nothing changed.
    assert _run([str(src), "--to", to]) == 2
    assert "already exists" in capsys.readouterr().err
    assert {n: (tmp_path / n).read_bytes() for n in made} == first
    # --force replaces.
    assert _run([str(src), "--to", to, "--force"]) == 0
    assert _fingerprint(src) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p != src) == made  # no temp files left


def test_cli_export_refuses_to_write_over_the_recording(tmp_path: Path, capsys) -> None:
    src = write_sample_recording(tmp_path)
    before = _fingerprint(src)
    assert _run([str(src), "--to", "edf", "-o", str(src), "--force"]) == 2
    assert "refusing to write over a recording" in capsys.readouterr().err
    assert _fingerprint(src) == before


def test_cli_export_output_names(tmp_path: Path) -> None:
    src = write_sample_recording(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    assert _run([str(src), "--to", "csv", "-o", str(out / "s.csv")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["s.csv", "s.events.csv"]
    assert _run([str(src), "--to", "kubios", "-o", str(out / "k.txt")]) == 0
    assert {"k.txt", "k.kubios-samples.csv"} <= {p.name for p in out.iterdir()}
    assert _run([str(src), "--to", "edf", "-o", str(out)]) == 0
    assert any(p.suffix == ".edf" for p in out.iterdir())


def test_cli_export_bad_recording_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "notes.jsonl"
    bad.write_text("hello\n")
    assert _run([str(bad), "--to", "csv"]) == 2
    assert "not a holdbeat recording" in capsys.readouterr().err
    assert _run([str(tmp_path / "missing.jsonl"), "--to", "csv"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl"]


def _tiny_recording(directory: Path, packets: list[tuple[float, bytes]]) -> Path:
    from holdbeat.events import Device, End, Hrm
    from holdbeat.recording_writer import RecordingWriter, new_header

    w = RecordingWriter(directory, new_header(Device(name="t")), "tiny")
    for t, raw in packets:
        w.write(Hrm(t, raw))
    w.write(End(packets[-1][0] + 1.0))
    w.close()
    return w.path


def test_edf_keeps_beats_before_time_zero(tmp_path: Path) -> None:
    """The first packet's beats happened before it arrived, possibly before t=0: EDF+ allows
    negative onsets, and both readers return them unchanged."""
    from holdbeat.hrs import encode_hrm

    path = _tiny_recording(
        tmp_path, [(0.5, encode_hrm(75, [800.0, 800.0])), (1.3, encode_hrm(75, [800.0]))]
    )
    rec = load(path)
    assert rec.beat_t_s[0] < 0
    back = read_edf_series(export_edf(rec))
    assert np.array_equal(back.beat_t_s, rec.beat_t_s) and np.array_equal(
        back.beat_rr_ms, rec.rr_ms
    )


def test_cli_kubios_export_of_a_heart_rate_only_recording_is_refused(
    tmp_path: Path, capsys
) -> None:
    from holdbeat.hrs import encode_hrm

    path = _tiny_recording(tmp_path, [(1.0, encode_hrm(70)), (2.0, encode_hrm(71))])
    assert _run([str(path), "--to", "kubios"]) == 2
    assert "no RR intervals" in capsys.readouterr().err
    assert _run([str(path), "--to", "edf"]) == 0  # the strap's HR still goes to EDF
    back = read_edf_series((tmp_path / (path.stem + ".edf")).read_bytes())
    assert back.strap_hr_bpm[4] == pytest.approx(70, abs=0.01) and back.rr_ms.max() < 0.1


def test_cli_export_into_a_new_folder(tmp_path: Path) -> None:
    src = write_sample_recording(tmp_path)
    assert _run([str(src), "--to", "edf", "-o", str(tmp_path / "new" / "sub") + "/"]) == 0
    made = list((tmp_path / "new" / "sub").iterdir())
    assert [p.suffix for p in made] == [".edf"]
    assert _run([str(src), "--to", "csv", "-o", str(tmp_path / "nowhere" / "x.csv")]) == 2


def test_csv_reads_with_pandas(rec, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    beats, events = export_csv(rec)
    (tmp_path / "b.csv").write_bytes(beats)
    (tmp_path / "e.csv").write_bytes(events)
    b = pd.read_csv(tmp_path / "b.csv")
    assert list(b.columns) == list(BEAT_COLUMNS)  # the byte-order mark is not in the first name
    assert np.array_equal(b["rr_ms"].to_numpy(), rec.rr_ms)
    e = pd.read_csv(tmp_path / "e.csv", keep_default_na=False)
    assert BELIEF in e["text"].tolist()
