"""`holdbeat import` of HRV Logger CSV, Garmin FIT and EDF/EDF+ (own export and ECG).

Each format: a round trip (what the file says == what the recording loads back to) and
malformed files that exit 2 naming the file, the place (line, message or annotation) and the
reason, with nothing written.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import edfio
import numpy as np
import pytest
from tests.fit_build import build_fit, crc16
from tests.interop_samples import GAP, write_sample_recording

from holdbeat.cli import main
from holdbeat.commands.export import render
from holdbeat.hrs import RR_UNITS_PER_S
from holdbeat.recording import load

UNIT_MS = 1000.0 / RR_UNITS_PER_S


def to_unit(rr_ms) -> np.ndarray:
    """What a strap-unit recording keeps of an RR: the nearest 1/1024 s."""
    return np.rint(np.asarray(rr_ms, dtype=float) / UNIT_MS) * UNIT_MS


def imported(tmp_path: Path, src: Path, *extra: str) -> tuple[int, Path | None]:
    out = tmp_path / "out"
    code = main(["import", str(src), "-o", str(out) + "/", "-q", *extra])
    files = sorted(out.glob("*.jsonl")) if out.exists() else []
    assert len(files) <= 1
    return code, files[0] if files else None


def refused(tmp_path: Path, capsys, src: Path, *words: str, extra: tuple[str, ...] = ()) -> str:
    capsys.readouterr()
    code, path = imported(tmp_path, src, *extra)
    err = capsys.readouterr().err
    assert code == 2 and path is None, err
    assert str(src) in err, err
    for w in words:
        assert w in err, (w, err)
    leftovers = list((tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert leftovers == []  # nothing partial
    return err


# ---------------------------------------------------------------- HRV Logger

HRVL_RR = [823, 812, 840, 860, 851, 830, 815, 829, 845, 850] * 8


def hrv_logger_text(rr: list[int], gap_after: int | None = None) -> str:
    t = datetime(2025, 3, 15, 9, 0, 15, 123000)
    since = 0
    rows = ["date,rr,since start"]
    for i, r in enumerate(rr):
        t += timedelta(
            milliseconds=r + (20_000 if gap_after is not None and i == gap_after + 1 else 0)
        )
        rows.append(f"{t:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f",{r},{since}")
        since += r
    return "\n".join(rows) + "\n"


def test_hrv_logger_round_trip_with_a_gap(tmp_path: Path) -> None:
    src = tmp_path / "2025-03-15_RR_0001.csv"
    src.write_text(hrv_logger_text(HRVL_RR, gap_after=39))
    code, path = imported(tmp_path, src, "--mode", "soft")
    assert code == 0 and path is not None
    rec = load(path)
    assert np.array_equal(rec.rr_ms, to_unit(HRVL_RR))
    assert np.flatnonzero(rec.gap_before).tolist() == [0, 40]
    assert [c.state for c in rec.connections] == ["lost", "restored"]
    assert rec.header.settings["import"]["format"] == "hrv-logger"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("date;rr;since start\n2025-03-15 09:00:15.123;823;0\n", ["line 1", "wrong delimiter"]),
        ("date,rr,since start\n2025-03-15 09:00:15.123,823\n", ["line 2", "expected 3"]),
        ("date,rr,since start\nyesterday,823,0\n", ["line 2", "field 'date'", "yesterday"]),
        ("date,rr,since start\n2025-03-15 09:00:15.123,8x3,0\n", ["line 2", "field 'rr'"]),
        ("date,rr,since start\n2025-03-15 09:00:15.123,0,0\n", ["line 2", "cannot be zero"]),
        ("date,rr,since start\n", ["no RR intervals"]),
    ],
)
def test_hrv_logger_malformed(tmp_path: Path, capsys, text: str, words: list[str]) -> None:
    src = tmp_path / "x_RR_1.csv"
    src.write_text(text)
    refused(tmp_path, capsys, src, *words, extra=("--from", "hrv-logger"))


def test_hrv_logger_detected_without_from(tmp_path: Path, capsys) -> None:
    src = tmp_path / "rr.csv"
    src.write_text(hrv_logger_text(HRVL_RR[:30]))
    capsys.readouterr()
    code, path = imported(tmp_path, src)
    assert code == 0 and path is not None
    assert "format: hrv-logger" in capsys.readouterr().err


# ---------------------------------------------------------------- FIT

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_fit_builder_crc_matches_the_fit_specification_example() -> None:
    # A header with a known CRC: bytes of a FIT 2.0 header whose CRC fitdecode accepts is
    # checked below through parsing; here the CRC of nothing and of one byte by hand.
    assert crc16(b"") == 0
    assert crc16(b"\x00") == 0  # the table maps 0 to 0
    assert crc16(b"\x01") == 0xC0C1  # CRC-16/ARC of 0x01, the FIT CRC's polynomial


def test_fit_round_trip_with_missed_beats(tmp_path: Path) -> None:
    rr_s = [0.8 + 0.01 * (i % 7) for i in range(60)]
    with_hole = [*rr_s[:25], None, None, *rr_s[25:]]
    src = tmp_path / "activity.fit"
    src.write_bytes(build_fit(with_hole, START))
    code, path = imported(tmp_path, src, "--mode", "fierce")
    assert code == 0 and path is not None
    rec = load(path)
    assert np.array_equal(rec.rr_ms, to_unit(np.array(rr_s) * 1000))
    assert np.flatnonzero(rec.gap_before).tolist() == [0, 25]
    assert rec.header.started_utc == "2026-03-01T09:30:00Z"
    assert rec.header.settings["import"]["format"] == "fit"
    assert any("1 stretch(es) of invalid" in n for n in rec.header.settings["import"]["notes"])


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"bad_crc": True}, ["damaged FIT file", "CRC"]),
        ({"truncate": 7}, ["damaged FIT file", "after message"]),
    ],
)
def test_fit_damaged(tmp_path: Path, capsys, kw: dict, words: list[str]) -> None:
    src = tmp_path / "bad.fit"
    src.write_bytes(build_fit([0.8] * 20, START, **kw))
    refused(tmp_path, capsys, src, *words)


def test_fit_without_hrv_messages_and_not_fit(tmp_path: Path, capsys) -> None:
    src = tmp_path / "no-hrv.fit"
    src.write_bytes(build_fit([None] * 5, START))
    refused(tmp_path, capsys, src, "no beat-to-beat intervals", "log HRV")
    other = tmp_path / "other.fit"
    other.write_bytes(b"\x0e\x20" + b"\x00" * 30)
    refused(tmp_path, capsys, other, "not a FIT file", extra=("--from", "fit"))


def test_fit_absurd_interval_names_the_message(tmp_path: Path, capsys) -> None:
    src = tmp_path / "absurd.fit"
    src.write_bytes(build_fit([0.8] * 6 + [0.05], START))
    refused(tmp_path, capsys, src, "message 4", "absurd")


# ---------------------------------------------------------------- EDF: own export


def test_edf_export_reads_back_to_the_same_session(tmp_path: Path) -> None:
    orig = load(write_sample_recording(tmp_path))
    src = tmp_path / "sample.edf"
    src.write_bytes(render(orig, "edf", 4)[0])
    code, path = imported(tmp_path, src)
    assert code == 0 and path is not None
    back = load(path)
    assert np.array_equal(back.rr_ms, orig.rr_ms)
    assert np.array_equal(back.gap_before, orig.gap_before)
    assert np.array_equal(back.flag, orig.flag)
    before_gap = orig.beat_t_s < GAP[0]
    assert np.allclose(back.beat_t_s[before_gap], orig.beat_t_s[before_gap], atol=1e-3)
    assert [(p.name, p.kind, p.mode, p.belief, p.target) for p in back.phases] == [
        (p.name, p.kind, p.mode, p.belief, p.target) for p in orig.phases
    ]
    assert [round(p.start_s, 3) for p in back.phases] == [round(p.start_s, 3) for p in orig.phases]
    assert [(m.t_s, m.kind, m.text) for m in back.markers] == [
        (m.t_s, m.kind, m.text) for m in orig.markers
    ]
    assert [(r.t_s, r.phase_index, r.when, r.scale, r.value) for r in back.ratings] == [
        (r.t_s, r.phase_index, r.when, r.scale, r.value) for r in orig.ratings
    ]
    assert back.header.started_utc == orig.header.started_utc


def test_edf_without_ecg_or_beats_names_the_signals(tmp_path: Path, capsys) -> None:
    sig = edfio.EdfSignal(np.zeros(256 * 12), 256, label="Resp")
    buf = io.BytesIO()
    edfio.Edf([sig]).write(buf)
    src = tmp_path / "resp.edf"
    src.write_bytes(buf.getvalue())
    refused(tmp_path, capsys, src, "no ECG channel", "Resp", "--channel")


def test_edf_garbage_header(tmp_path: Path, capsys) -> None:
    src = tmp_path / "broken.edf"
    src.write_bytes(b"0       " + b"\xff" * 300)
    refused(tmp_path, capsys, src, "not a readable EDF file")


# ---------------------------------------------------------------- EDF: ECG


def synthetic_ecg(rr_ms: np.ndarray, fs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An ECG-like signal with a QRS (narrow biphasic spike) at known beats, P/T waves, noise."""
    total_s = 0.6 + float(np.sum(rr_ms)) / 1000.0 + 0.45
    lead_s = 0.6 + (np.ceil(total_s) - total_s)  # the signal ends 0.45 s after the last beat
    beats = np.cumsum(np.concatenate([[lead_s * 1000.0], rr_ms])) / 1000.0
    n = round(float(beats[-1]) + 0.45) * fs  # whole seconds: one EDF data record each
    t = np.arange(n) / fs
    x = np.zeros(n)
    for b in beats:
        x += 1.2 * np.exp(-(((t - b) / 0.010) ** 2))  # R
        x -= 0.25 * np.exp(-(((t - b - 0.025) / 0.012) ** 2))  # S
        x += 0.15 * np.exp(-(((t - b + 0.16) / 0.03) ** 2))  # P
        x += 0.3 * np.exp(-(((t - b - 0.3) / 0.06) ** 2))  # T
    x += np.random.default_rng(seed).normal(0, 0.01, n)
    return x, beats


def test_edf_ecg_r_peaks_give_the_true_rr(tmp_path: Path) -> None:
    fs = 500
    rng = np.random.default_rng(1)
    rr = 850 + 50 * np.sin(np.arange(80) / 3.0) + rng.normal(0, 10, 80)
    ecg, beats = synthetic_ecg(rr, fs)
    sig = edfio.EdfSignal(ecg, fs, label="ECG I", physical_dimension="mV")
    buf = io.BytesIO()
    edfio.Edf([sig], starttime=datetime(2026, 3, 1, 9, 30).time()).write(buf)
    src = tmp_path / "ecg.edf"
    src.write_bytes(buf.getvalue())
    code, path = imported(tmp_path, src, "--mode", "soft")
    assert code == 0 and path is not None
    rec = load(path)
    true_rr = np.diff(np.round(beats * fs)) * 1000.0 / fs
    assert len(rec.rr_ms) == len(true_rr)
    # within one sample (2 ms) and the 1/1024 s rounding of the recording
    assert np.max(np.abs(rec.rr_ms - true_rr)) <= 1000.0 / fs + UNIT_MS / 2 + 1e-9
    det = rec.header.settings["import"]["peak_detector"]
    assert det["channel"] == "ECG I" and det["sampling_rate_hz"] == fs
    assert det["library"].startswith("neurokit2 ") and det["rr_resolution_ms"] == 2.0
    assert len(det["beat_quality"]) == len(true_rr)
    q = np.array(det["beat_quality"])
    assert np.all((q >= 0) & (q <= 1))
    assert det["quality_mean"] == pytest.approx(q.mean(), abs=1e-3)
    assert det["share_below_0.5"] == pytest.approx(np.mean(q < 0.5), abs=1e-4)
    assert det["quality_min"] == pytest.approx(q.min(), abs=1e-3)


def test_edf_ecg_too_short_and_wrong_channel(tmp_path: Path, capsys) -> None:
    ecg, _ = synthetic_ecg(np.full(5, 800.0), 250)
    buf = io.BytesIO()
    edfio.Edf([edfio.EdfSignal(ecg[: 250 * 5], 250, label="ECG")]).write(buf)
    src = tmp_path / "short.edf"
    src.write_bytes(buf.getvalue())
    refused(tmp_path, capsys, src, "signal 'ECG'", "need >= 10 s")
    refused(tmp_path, capsys, src, "no signal labelled 'V5'", extra=("--channel", "V5"))
