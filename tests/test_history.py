"""`holdbeat history`: digests agree with `report`, the cache follows content, the outputs."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import stat
from datetime import date
from pathlib import Path

import pytest
from tests.helpers import aged_file, run_cli

from holdbeat.analysis.history import (
    HistoryConfig,
    HoldDigest,
    SessionDigest,
    digest,
    digest_from_dict,
    digest_to_dict,
)
from holdbeat.analysis.history_cache import DigestCache, file_hash
from holdbeat.analysis.history_trends import hold_value, weekly
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import build_report
from holdbeat.cli import main
from holdbeat.commands.history import load_digests
from holdbeat.home import recordings_dir
from holdbeat.notes import append_note
from holdbeat.recording import load

SPECS = [  # (start, extra demo args)
    ("2026-11-02T07:30:00Z", ["--protocol", "single", "--seed", "1"]),
    ("2026-11-04T20:00:00Z", ["--protocol", "act-and-savor", "--seed", "2", "--note", "tense"]),
    ("2026-11-10T07:00:00Z", ["--protocol", "quick", "--mode", "soft", "--target", "future"]),
    ("2026-11-12T21:00:00Z", ["--protocol", "boundary-then-held", "--seed", "3",
                              "--suggest", "I said no and now I don't feel safe"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("month")
    for start, extra in SPECS:
        r = main(["demo", "--headless", "--speed", "max", "--out", str(d), "--start", start,
                  *extra])  # fmt: skip
        assert r == 0
    first = sorted(d.glob("*.jsonl"))[0]
    append_note(first, "the fear came back twice")
    return d


def copy_of(month: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "recs"
    shutil.copytree(month, dst)
    return dst


def test_digest_agrees_with_report(month: Path) -> None:
    """Δ ln RMSSD and Δ HR as the report's HRV table (holdbeat.hrv, neurokit2 definitions),
    the catch-up as the report's, ratings and lapses as recorded."""
    for path in sorted(month.glob("*.jsonl")):
        prep = prepare(load(path))
        rep = build_report(prep)
        d = digest(prep)
        assert [h.index for h in d.holds] == [h.index for h in rep.holds]
        for h in d.holds:
            row = next(r for r in rep.phases if r.index == h.index)
            hold = next(x for x in rep.holds if x.index == h.index)
            assert h.d_ln_rmssd == pytest.approx(row.d_ln_rmssd, abs=1e-9)
            assert h.d_hr == pytest.approx(row.d_hr_bpm, abs=1e-9)
            cu = hold.catchup_of("ln_rmssd").catchup
            if cu.reached:
                assert h.catchup == "caught up"
                assert h.latency_s == pytest.approx(cu.latency_s)
            else:
                want = ("out at onset",) if cu.carried_over else ("not reached", "no band")
                assert h.catchup in want and math.isnan(h.latency_s)
            assert (h.lapses, h.lapsed_s) == (hold.lapses, pytest.approx(hold.lapsed_s))
            assert h.holding_s == pytest.approx(hold.holding_s)
            assert h.low_quality == row.low_quality
            pre = hold.ratings.get("pre belief")
            assert (h.belief_pre if pre is not None else None) == pre or math.isnan(h.belief_pre)


def test_digest_round_trips_through_json(month: Path) -> None:
    for path in sorted(month.glob("*.jsonl")):
        d = digest(prepare(load(path)))
        back = digest_from_dict(json.loads(json.dumps(digest_to_dict(d))))
        assert digest_to_dict(back) == digest_to_dict(d)
        for a, b in zip(d.holds, back.holds, strict=True):
            for f in ("d_ln_rmssd", "latency_s", "satisfaction", "lapse_dln"):
                x, y = getattr(a, f), getattr(b, f)
                assert (math.isnan(x) and math.isnan(y)) or x == y


def test_the_practice_is_in_the_digest(month: Path) -> None:
    files = sorted(month.glob("*.jsonl"))
    ds = [digest(prepare(load(f))) for f in files]
    assert ds[0].notes_after == ("the fear came back twice",)
    assert ds[1].notes_before == ("tense",)
    assert len(ds[1].actions) == 1 and ds[1].actions[0][0]  # the simulated person's action
    assert math.isfinite(ds[1].holds[1].satisfaction)
    assert (ds[2].holds[0].mode, ds[2].holds[0].target) == ("soft", "future")
    assert ds[3].situation == "I said no and now I don't feel safe"
    assert ds[3].suggested == "loving-kindness"
    local = ds[0].started_local
    assert local is not None and local.tzinfo is not None
    assert ds[0].week.weekday() == 0 and 0 <= (local.date() - ds[0].week).days < 7


# ---------------------------------------------------------------- the cache


def test_cache_hits_and_follows_content(month: Path, tmp_path: Path) -> None:
    recs = copy_of(month, tmp_path)
    files = sorted(recs.glob("*.jsonl"))
    cfg = HistoryConfig()
    cdir = tmp_path / "cache"
    c1 = DigestCache(cdir, cfg.key())
    first = load_digests(files, cfg, c1, jobs=1)
    c1.save()
    assert (first.hits, first.misses) == (0, 4)
    assert stat.S_IMODE(cdir.stat().st_mode) == 0o700
    (cache_file,) = cdir.iterdir()
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    second = load_digests(files, cfg, DigestCache(cdir, cfg.key()), jobs=1)
    assert (second.hits, second.misses) == (4, 0)
    assert [digest_to_dict(d) for d in second.digests] == [digest_to_dict(d) for d in first.digests]
    # a note appended changes the content: that one file is digested again
    append_note(files[2], "slept badly")
    third = load_digests(files, cfg, DigestCache(cdir, cfg.key()), jobs=1)
    assert (third.hits, third.misses) == (3, 1)
    assert third.digests[2].notes_after == ("slept badly",)
    # the same size and modification time, one byte different: still digested again
    f = files[1]
    st = f.stat()
    data = f.read_bytes()
    line = next(x for x in data.split(b"\n") if b'"scale":"belief"' in x and b'"pre"' in x)
    old_v = int(line.rsplit(b'"value":', 1)[1].rstrip(b"}"))
    new_line = line.replace(b'"value":%d}' % old_v, b'"value":%d}' % ((old_v + 1) % 10))
    f.write_bytes(data.replace(line, new_line, 1))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    fifth = load_digests(files, cfg, DigestCache(cdir, cfg.key()), jobs=1)
    assert fifth.misses == 2  # this one and the noted one (that run did not save)
    held = [h for h in fifth.digests[1].holds if math.isfinite(h.belief_pre)]
    assert held[0].belief_pre == (old_v + 1) % 10
    # a moved file is found by its content, under its new name
    moved = recs / "sub" / "moved.jsonl"
    moved.parent.mkdir()
    files[0].rename(moved)
    fourth = load_digests([moved], cfg, DigestCache(cdir, cfg.key()), jobs=1)
    assert (fourth.hits, fourth.misses) == (1, 0)
    assert fourth.digests[0].file == str(moved)


def test_other_settings_are_another_cache(month: Path, tmp_path: Path) -> None:
    files = sorted(month.glob("*.jsonl"))[:1]
    cdir = tmp_path / "cache"
    a = HistoryConfig()
    c = DigestCache(cdir, a.key())
    load_digests(files, a, c, jobs=1)
    c.save()
    b = HistoryConfig(dwell_s=30.0)
    assert load_digests(files, b, DigestCache(cdir, b.key()), jobs=1).misses == 1
    assert load_digests(files, a, DigestCache(cdir, a.key()), jobs=1).hits == 1


def test_other_code_is_another_cache(month: Path, tmp_path: Path, monkeypatch) -> None:
    """A fix to the correction between two releases: the digests the old code made are
    not shown (the key carries a fingerprint of holdbeat's code)."""
    from holdbeat.analysis import cache

    files = sorted(month.glob("*.jsonl"))[:1]
    cdir = tmp_path / "cache"
    cfg = HistoryConfig()
    old_key = cfg.key()
    assert f"code {cache.code_fingerprint()[:16]};" in old_key
    c = DigestCache(cdir, old_key)
    load_digests(files, cfg, c, jobs=1)
    c.save()
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "f" * 64)
    new_key = cfg.key()
    assert new_key != old_key and "code ffffffffffffffff;" in new_key
    assert load_digests(files, cfg, DigestCache(cdir, new_key), jobs=1).misses == 1


def test_save_removes_other_keys_files_unused_for_90_days(tmp_path: Path) -> None:
    from holdbeat.analysis.cache import MAX_AGE_S

    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    now = 1_000 * 86400.0

    def make(name: str, age_s: float, mode: int = 0o600) -> Path:
        return aged_file(d, name, age_s, now, mode)

    c = DigestCache(d, "the key in use")
    old = make("history-0123456789ab.json", MAX_AGE_S + 1)
    at_limit = make("history-aaaaaaaaaaaa.json", MAX_AGE_S)  # not older than the limit
    shared = make("history-bbbbbbbbbbbb.json", MAX_AGE_S + 1, 0o620)  # not holdbeat's
    other = make("history-notes.json", MAX_AGE_S + 1)  # not a name holdbeat gives
    upper = make("history-0123456789AB.json", MAX_AGE_S + 1)  # (nor this: lowercase hex)
    link = d / "history-cccccccccccc.json"
    link.symlink_to(at_limit)
    c.put("h", {"x": 1})
    c.save(now_s=now)  # writes its own file (new), then prunes the others
    assert not old.exists()
    kept = {at_limit.name, shared.name, other.name, upper.name, link.name, c.path.name}
    assert {p.name for p in d.iterdir()} == kept
    # its own file is never removed, however old; nothing is in a folder others may write
    os.utime(c.path, (0, 0))
    assert c.prune_others(now_s=now) == 0 and c.path.exists()
    os.utime(at_limit, (0, 0))
    d.chmod(0o777)
    assert c.prune_others(now_s=now) == 0 and at_limit.exists()
    d.chmod(0o700)
    assert c.prune_others(now_s=now) == 1 and not at_limit.exists()
    # an unchanged cache writes nothing and prunes nothing; a forgetting one has no folder
    make("history-dddddddddddd.json", MAX_AGE_S + 1)
    c.save(now_s=now)
    assert (d / "history-dddddddddddd.json").exists()
    assert DigestCache(None, "k").prune_others(now_s=now) == 0


def test_a_damaged_cache_is_rebuilt_never_trusted(month: Path, tmp_path: Path) -> None:
    files = sorted(month.glob("*.jsonl"))[:2]
    cfg = HistoryConfig()
    cdir = tmp_path / "cache"
    c = DigestCache(cdir, cfg.key())
    load_digests(files, cfg, c, jobs=1)
    c.save()
    path = c.path
    # an entry with the right hash but nonsense inside is recomputed
    data = json.loads(path.read_text())
    data["entries"][file_hash(files[0])] = {"file": str(files[0]), "holds": "nonsense"}
    path.write_text(json.dumps(data))
    got = load_digests(files, cfg, DigestCache(cdir, cfg.key()), jobs=1)
    assert got.errors == [] and len(got.digests) == 2
    assert got.digests[0].session_id == load(files[0]).header.session_id
    # an unreadable file: ignored with a note, and rewritten
    path.write_bytes(b"\x00garbage")
    c2 = DigestCache(cdir, cfg.key())
    assert "unreadable" in c2.note and c2.entries == {}
    load_digests(files, cfg, c2, jobs=1)
    c2.save()
    assert json.loads(path.read_text())["key"] == cfg.key()


# ---------------------------------------------------------------- trends


def _hold(mode: str, target: str, d_ln: float, **kw) -> HoldDigest:
    base = dict(
        index=1, name="h", mode=mode, target=target, belief="", duration_s=300.0,
        d_ln_rmssd=d_ln, d_hr=0.0, catchup="not reached", latency_s=math.nan,
        holding_s=300.0, lapsed_s=0.0, lapses=0, lapse_dln=math.nan, belief_pre=math.nan,
        belief_post=math.nan, safety_pre=math.nan, safety_post=math.nan,
        satisfaction=math.nan, low_quality=False,
    )  # fmt: skip
    base.update(kw)
    return HoldDigest(**base)


def _session(day: str, *holds: HoldDigest) -> SessionDigest:
    return SessionDigest("f", "s", f"{day}T12:00:00Z", "p", 600.0, "completed", holds=holds)


def test_a_target_with_control_characters_is_labelled_with_escapes(tmp_path) -> None:
    """As compare's labels: the group and the figure's legend show ESC as an escape, and
    the figure is drawn without a missing-glyph warning carrying the raw character."""
    import warnings

    from holdbeat.analysis.figures import save
    from holdbeat.analysis.history_figure import history_figure

    ds = [
        _session("2026-11-02", _hold("fierce", "s\x1b[31mX $\\foo{$", 0.1)),
        _session("2026-11-10", _hold("fierce", "s\x1b[31mX $\\foo{$", 0.3)),
    ]
    trend, _ = weekly(ds, "d_ln_rmssd", "target")
    assert {p.group for p in trend} == {"s\\x1b[31mX $\\foo{$"}  # '$': no mathtext
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning
        save(history_figure(ds), tmp_path / "h.png")


def test_weekly_means_by_hand() -> None:
    ds = [
        _session("2026-11-02", _hold("fierce", "self", 0.1)),  # Monday, week of Nov 2
        _session("2026-11-06", _hold("fierce", "future", 0.3), _hold("soft", "self", 0.5)),
        _session("2026-11-09", _hold("fierce", "self", 0.2, low_quality=True)),  # left out
        _session("2026-11-10", _hold("fierce", "self", -0.1, lapses=2, holding_s=240.0,
                                     lapsed_s=60.0)),
    ]  # fmt: skip
    trend, points = weekly(ds, "d_ln_rmssd", "mode")
    got = {(p.week.isoformat(), p.group): (p.n, p.mean) for p in trend}
    assert got == {
        ("2026-11-02", "fierce"): (2, pytest.approx(0.2)),
        ("2026-11-02", "soft"): (1, pytest.approx(0.5)),
        ("2026-11-09", "fierce"): (1, pytest.approx(-0.1)),
    }
    assert len(points) == 4
    trend, _ = weekly(ds, "d_ln_rmssd", "target")
    assert {(p.week.isoformat(), p.group): p.n for p in trend} == {
        ("2026-11-02", "self"): 2,
        ("2026-11-02", "future"): 1,
        ("2026-11-09", "self"): 1,
    }
    lapses, _ = weekly(ds, "lapses_per_10min", "mode")
    wk2 = next(p for p in lapses if p.week == date(2026, 11, 9))
    assert wk2.mean == pytest.approx((0 + 4.0) / 2)  # 2 lapses in 5 min = 4 per 10 min
    held, _ = weekly(ds, "held_pct", "mode")
    assert next(p for p in held if p.week == date(2026, 11, 9)).mean == pytest.approx(90.0)


def test_hold_values_boundaries() -> None:
    h = _hold("soft", "self", 0.1, catchup="out at onset", latency_s=math.nan)
    assert math.isnan(hold_value(h, "latency_s"))  # only holds that caught up
    h2 = _hold("soft", "self", 0.1, catchup="not reached", latency_s=12.0)
    assert math.isnan(hold_value(h2, "latency_s"))
    assert hold_value(_hold("soft", "", 0.1, catchup="caught up", latency_s=42.0),
                      "latency_s") == 42.0  # fmt: skip
    assert hold_value(_hold("soft", "", 0.1, belief_pre=3.0, belief_post=8.0), "d_belief") == 5.0
    with pytest.raises(ValueError, match="unknown trend measure"):
        hold_value(h, "mood")


# ---------------------------------------------------------------- the command


def test_history_command_outputs(month: Path, tmp_path: Path) -> None:
    out_csv, out_json, png = tmp_path / "h.csv", tmp_path / "h.json", tmp_path / "h.png"
    r = run_cli("history", str(month), "--cache", str(tmp_path / "c"), "--trends",
                "--csv", str(out_csv), "--json", str(out_json), "--png", str(png))  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert text.splitlines()[0].split()[:3] == ["when", "protocol", "hold:"]
    assert "situation: “I said no and now I don't feel safe” → loving-kindness" in text
    assert "after: the fear came back twice" in text
    assert "before: tense" in text and "action: " in text
    assert "TRENDS BY MODE" in text and "TRENDS BY TARGET" in text
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == 1 + 2 + 1 + 2  # holds: single, act-and-savor, quick, boundary
    assert rows[0]["note_after"] == "the fear came back twice"
    assert {r["target"] for r in rows} >= {"self", "future", "relational"}
    d = json.loads(out_json.read_text())
    assert len(d["sessions"]) == 4 and set(d["trends"]) == {"mode", "target"}
    assert d["sessions"][0]["started_utc"] == "2026-11-02T07:30:00Z"
    assert png.read_bytes()[:4] == b"\x89PNG"
    for f in (out_csv, out_json, png):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_history_figure_type_by_extension_checked_before_any_work(month, tmp_path) -> None:
    """As report and compare: .png/.svg/.pdf by the extension (--png or --figure), anything
    else refused with exit 2 before a recording is read, and nothing written."""
    bad = tmp_path / "trends.txt"
    r = run_cli("history", str(month), "--no-cache", "--png", str(bad))
    assert r.returncode == 2 and "use .png, .svg or .pdf (not '.txt')" in r.stderr
    assert not bad.exists() and r.stdout == "" and "Traceback" not in r.stderr
    svg = tmp_path / "trends.svg"
    r = run_cli("history", str(month), "--no-cache", "--figure", str(svg), "--quiet")
    assert r.returncode == 0, r.stderr
    assert svg.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))


def test_history_bad_inputs(month: Path, tmp_path: Path) -> None:
    recs = copy_of(month, tmp_path)
    (recs / "broken.jsonl").write_text("not a recording\n")
    r = run_cli("history", str(recs), "--no-cache")
    assert r.returncode == 2 and "broken.jsonl" in r.stderr and "--skip-bad" in r.stderr
    r = run_cli("history", str(recs), "--no-cache", "--skip-bad", "--brief")
    assert r.returncode == 0 and "4 sessions" in r.stdout and "situation:" not in r.stdout
    r = run_cli("history", str(tmp_path / "nowhere"), "--no-cache")
    assert r.returncode == 2 and "no such file or folder" in r.stderr
    r = run_cli("history", str(recs), "--no-cache", "--csv", str(next(recs.glob("2026*"))))
    assert r.returncode == 2 and "refusing to write over a recording" in r.stderr
    assert not (tmp_path / "c").exists()


def test_no_cache_writes_no_cache(month: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOLDBEAT_CACHE_DIR", str(tmp_path / "envcache"))
    r = run_cli("history", str(month), "--no-cache", "--quiet")
    assert r.returncode == 0 and not (tmp_path / "envcache").exists()
    r = run_cli("history", str(month), "--quiet", env={**__import__("os").environ})
    assert r.returncode == 0 and len(list((tmp_path / "envcache").iterdir())) == 1


def test_default_folder_is_the_recordings_home(month: Path, tmp_path: Path) -> None:
    shutil.copytree(month, tmp_path / "recordings")
    r = run_cli("history", "--no-cache", "--brief", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "4 sessions" in r.stdout
    assert recordings_dir().name == "recordings"


def test_no_recordings_yet_says_what_to_do(tmp_path: Path) -> None:
    r = run_cli("history", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2
    assert f"no recordings yet in {recordings_dir()}/ — " in r.stderr
    assert "holdbeat demo" in r.stderr


def test_an_old_recordings_folder_without_recordings_is_passed_over(
    month: Path, tmp_path: Path
) -> None:
    """Run from a source tree: its recordings/ holds a README, not sessions. Neither
    history nor compare may call that an unreadable input when nobody named it."""
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "README.md").write_text("recordings go here\n")
    home = tmp_path / "home"
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(home)}
    r = run_cli("history", "--no-cache", cwd=tmp_path, env=env)
    assert r.returncode == 2
    assert f"no recordings yet in {home}/ or recordings/ — " in r.stderr
    shutil.copytree(month, home)
    r = run_cli("history", "--no-cache", "--brief", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "4 sessions" in r.stdout and "unreadable" not in r.stderr
    r = run_cli("compare", "--no-cache", "--quiet", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    # named, the same folder is an error: the person asked for recordings there
    r = run_cli("history", "--no-cache", "recordings", cwd=tmp_path, env=env)
    assert r.returncode == 2 and "recordings: no .jsonl recordings in this folder" in r.stderr


@pytest.mark.timeout(60)  # hashing a FIFO would wait for a writer forever
def test_a_fifo_among_the_files_is_named_not_read(month: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)  # as if swapped in after the folder was listed
    files = sorted(month.glob("*.jsonl"))[:1]
    cfg = HistoryConfig()
    got = load_digests([fifo, *files], cfg, DigestCache(None, cfg.key()), jobs=1)
    assert got.errors == [
        f"{fifo} is a FIFO (named pipe), not a regular file: give the holdbeat recording as a "
        "file (holdbeat does not read pipes or devices, which can block forever)"
    ]
    assert [d.file for d in got.digests] == [str(files[0])]


@pytest.mark.timeout(60)  # reading a FIFO would wait for a writer forever
def test_a_cache_that_is_not_a_regular_file_is_noted_not_read_or_replaced(
    month: Path, tmp_path: Path
) -> None:
    files = sorted(month.glob("*.jsonl"))[:1]
    cfg = HistoryConfig()
    c = DigestCache(tmp_path / "cache", cfg.key())
    c.path.parent.mkdir(parents=True)
    os.mkfifo(c.path)
    c = DigestCache(tmp_path / "cache", cfg.key())
    assert c.entries == {}
    assert c.note.startswith(f"history cache {c.path} unreadable (")
    assert "is a FIFO (named pipe), not a regular file" in c.note
    got = load_digests(files, cfg, c, jobs=1)
    assert got.errors == [] and len(got.digests) == 1
    c.save()
    assert c.note.startswith(f"history cache not saved to {c.path}")
    assert stat.S_ISFIFO(c.path.lstat().st_mode)


def test_a_cache_others_may_write_is_not_trusted(month: Path, tmp_path: Path) -> None:
    files = sorted(month.glob("*.jsonl"))[:1]
    cfg = HistoryConfig()
    cdir = tmp_path / "cache"
    c = DigestCache(cdir, cfg.key())
    real = load_digests(files, cfg, c, jobs=1).digests
    c.save()
    data = json.loads(c.path.read_text())
    for d in data["entries"].values():
        d["session_id"] = "planted"  # made-up numbers someone else wrote
    c.path.write_text(json.dumps(data))
    c.path.chmod(0o606)
    c2 = DigestCache(cdir, cfg.key())
    assert c2.entries == {}
    assert c2.note == (
        f"history cache {c2.path} not used: another user's, or writable by others; rebuilding it"
    )
    got = load_digests(files, cfg, c2, jobs=1)
    assert [d.session_id for d in got.digests] == [d.session_id for d in real] != ["planted"]
    c2.save()
    assert stat.S_IMODE(c2.path.stat().st_mode) == 0o600  # rebuilt owner-only
    assert DigestCache(cdir, cfg.key()).note == ""
