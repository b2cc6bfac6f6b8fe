"""compare's summary cache: warm results equal cold ones exactly; any change recomputes;
owner-only files in the (test) user cache folder; --no-cache leaves nothing behind."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from tests.helpers import aged_file

import holdbeat.recording
from holdbeat.analysis import cache
from holdbeat.cli import main
from holdbeat.sim.sessions import synth_recording, write_recording


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = tmp_path / "recs"
    for seed in range(3):
        write_recording(d, synth_recording("alternating", seed=seed), f"s{seed}")
    return d


def run(folder: Path, out: Path, *extra: str) -> dict:
    assert (
        main(["compare", str(folder), "--json", str(out), "--resamples", "199", "-q", *extra]) == 0
    )
    return json.loads(out.read_text("utf-8"))


def entries() -> list[Path]:
    d = cache.cache_dir()
    return sorted(d.glob("*.pickle")) if d.exists() else []


def counting_load(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every recording compare parses (it reads a file once and parses the bytes it hashed)."""
    calls: list[Path] = []
    real = holdbeat.recording.load_stream

    def load_stream(path, f, *a):
        calls.append(Path(path))
        return real(path, f, *a)

    monkeypatch.setattr(holdbeat.recording, "load_stream", load_stream)
    return calls


def test_warm_equals_cold_and_loads_nothing(folder: Path, tmp_path: Path, monkeypatch) -> None:
    cold = run(folder, tmp_path / "cold.json")
    assert len(entries()) == 3
    assert cache.cache_dir().stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in entries())
    calls = counting_load(monkeypatch)
    warm = run(folder, tmp_path / "warm.json")
    assert calls == [] and warm == cold


def test_a_changed_file_or_setting_is_recomputed(folder: Path, tmp_path: Path, monkeypatch) -> None:
    run(folder, tmp_path / "a.json")
    calls = counting_load(monkeypatch)
    changed = sorted(folder.glob("*.jsonl"))[1]
    with changed.open("a", encoding="utf-8") as f:
        f.write('{"t":99999.0,"type":"marker","kind":"note","text":"later"}\n')
    run(folder, tmp_path / "b.json")
    assert calls == [changed]
    calls.clear()
    run(folder, tmp_path / "c.json", "--k", "3.1")  # not the default
    assert len(calls) == 3 and len(entries()) == 7


def test_a_damaged_entry_is_recomputed(folder: Path, tmp_path: Path, monkeypatch) -> None:
    cold = run(folder, tmp_path / "cold.json")
    entries()[0].write_bytes(b"\x80\x05not a pickle")
    calls = counting_load(monkeypatch)
    again = run(folder, tmp_path / "again.json")
    assert len(calls) == 1 and again == cold
    assert len(entries()) == 3


def test_no_cache_reads_and_writes_nothing(folder: Path, tmp_path: Path) -> None:
    run(folder, tmp_path / "x.json", "--no-cache")
    assert not cache.cache_dir().exists()


def test_the_key_covers_content_path_config_and_code(tmp_path: Path) -> None:
    from holdbeat.analysis.compare import CompareConfig

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    k = cache.key(a, b"x", CompareConfig())
    assert k == cache.key(a, b"x", CompareConfig())
    assert k != cache.key(b, b"x", CompareConfig())
    assert k != cache.key(a, b"y", CompareConfig())
    assert k != cache.key(a, b"x", CompareConfig(seed=1))
    cache.code_fingerprint.cache_clear()
    assert len(cache.code_fingerprint()) == 64
    assert cache.cache_dir() == Path(os.environ["XDG_CACHE_HOME"]) / "holdbeat" / "summaries"
    odd = Path(os.fsdecode(b"/x/\xff.jsonl"))  # a file name that is not UTF-8
    assert cache.key(odd, b"x", CompareConfig()) != cache.key(a, b"x", CompareConfig())


def test_the_fingerprint_follows_every_source_file(tmp_path: Path, monkeypatch) -> None:
    """Any edit, added or renamed .py file under holdbeat recomputes; other files do not."""
    tree = tmp_path / "holdbeat"
    (tree / "analysis").mkdir(parents=True)
    (tree / "a.py").write_text("x = 1\n")
    (tree / "notes.txt").write_text("n")
    monkeypatch.setattr(cache, "__file__", str(tree / "analysis" / "cache.py"))

    def fp() -> str:
        cache.code_fingerprint.cache_clear()
        return cache.code_fingerprint()

    first = fp()
    (tree / "notes.txt").write_text("changed")
    assert fp() == first
    (tree / "a.py").write_text("x = 2\n")
    edited = fp()
    assert edited != first
    (tree / "a.py").rename(tree / "b.py")
    assert fp() != edited
    cache.code_fingerprint.cache_clear()


def test_get_and_put_directly(tmp_path: Path) -> None:
    d = tmp_path / "c"
    cache.put("k", {"v": 1}, d)
    assert cache.get("k", d) == {"v": 1} and cache.get("k", d, kind=list) is None
    assert not (d / "k.pickle").exists()  # not what was asked for: removed, recomputed
    (d / "j.pickle").write_bytes(b"\x80\x05damaged")
    assert cache.get("j", d) is None and not (d / "j.pickle").exists()
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):  # a bug, not a miss
        cache.put("u", lambda: 0, d)
    assert sorted(p.name for p in d.iterdir()) == []  # and leaves no temp file


@pytest.mark.timeout(120)  # reading a FIFO entry would wait for a writer forever
def test_an_entry_that_is_not_a_regular_file_is_neither_read_nor_replaced(
    folder: Path, tmp_path: Path, monkeypatch
) -> None:
    import stat

    cold = run(folder, tmp_path / "cold.json")
    fifo, link = entries()[:2]
    fifo.unlink()
    os.mkfifo(fifo)
    target = tmp_path / "elsewhere.pickle"
    target.write_bytes(b"mine")
    link.unlink()
    link.symlink_to(target)
    calls = counting_load(monkeypatch)
    again = run(folder, tmp_path / "again.json")
    assert again == cold and len(calls) == 2  # both recomputed
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()  # both left as they were
    assert target.read_bytes() == b"mine"
    assert not list(cache.cache_dir().glob(".tmp-*"))  # no temp file left behind


class _Plant:
    """A pickle that creates a file when loaded: unpickling runs code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def plant(entry: Path, marker: Path) -> None:
    import pickle

    entry.write_bytes(pickle.dumps(_Plant(marker)))


def test_an_entry_others_may_write_is_never_unpickled(folder: Path, tmp_path: Path, monkeypatch):
    cold = run(folder, tmp_path / "cold.json")
    marker = tmp_path / "ran"
    e = entries()[0]
    plant(e, marker)
    planted = e.read_bytes()
    e.chmod(0o620)  # group-writable: anyone in the group could have written it
    calls = counting_load(monkeypatch)
    assert run(folder, tmp_path / "again.json") == cold
    assert not marker.exists() and len(calls) == 1  # recomputed, the planted file not run
    assert e.read_bytes() != planted and e.stat().st_mode & 0o777 == 0o600  # a fresh entry
    if os.geteuid() == 0:  # another user's file, however private
        plant(e, marker)
        os.chown(e, 65534, 65534)
        assert run(folder, tmp_path / "again2.json") == cold
        assert not marker.exists()


def test_a_folder_others_may_write_to_is_neither_read_nor_written(
    folder: Path, tmp_path: Path, monkeypatch
) -> None:
    cold = run(folder, tmp_path / "cold.json")
    marker = tmp_path / "ran"
    for e in entries():
        plant(e, marker)
        e.chmod(0o600)
    cache.cache_dir().chmod(0o1777)  # like /tmp: anyone may put files there
    calls = counting_load(monkeypatch)
    planted = {e: e.read_bytes() for e in entries()}
    assert run(folder, tmp_path / "again.json") == cold
    assert not marker.exists() and len(calls) == 3
    assert not list(cache.cache_dir().glob(".tmp-*"))
    assert {e: e.read_bytes() for e in entries()} == planted  # nothing written there either


def test_an_entry_of_another_type_is_recomputed_not_a_traceback(
    folder: Path, tmp_path: Path, monkeypatch
) -> None:
    import pickle

    cold = run(folder, tmp_path / "cold.json")
    e = entries()[0]
    e.write_bytes(pickle.dumps(42))
    calls = counting_load(monkeypatch)
    assert run(folder, tmp_path / "again.json") == cold
    assert len(calls) == 1 and pickle.loads(e.read_bytes()) != 42  # replaced by a summary


def test_prune_removes_only_holdbeats_unused_entries(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir(mode=0o700)
    day = 86400.0
    now = 1_000 * day

    def make(name: str, age_s: float, mode: int = 0o600) -> Path:
        return aged_file(d, name, age_s, now, mode)

    old = make("a" * 64 + ".pickle", cache.MAX_AGE_S + 1)
    at_limit = make("b" * 64 + ".pickle", cache.MAX_AGE_S)  # not older than the limit: kept
    shared = make("c" * 64 + ".pickle", cache.MAX_AGE_S + 1, 0o620)  # not holdbeat's
    other = make("notes.pickle", cache.MAX_AGE_S + 1)  # not a name holdbeat gives
    temp_old = make(".tmp-x1.pickle", day + 1)  # a killed writer's
    temp_new = make(".tmp-x2.pickle", day)
    link = d / ("d" * 64 + ".pickle")
    link.symlink_to(old)
    assert cache.prune(d, now_s=now) == 2
    assert sorted(p.name for p in d.iterdir()) == sorted(
        [at_limit.name, shared.name, other.name, temp_new.name, link.name]
    )
    assert not old.exists() and not temp_old.exists()
    d.chmod(0o777)  # a folder others may write to: nothing is touched
    os.utime(at_limit, (0, 0))
    assert cache.prune(d, now_s=now) == 0 and at_limit.exists()


def test_a_hit_keeps_an_entry_and_compare_prunes_after_its_run(
    folder: Path, tmp_path: Path
) -> None:
    import time

    run(folder, tmp_path / "a.json")
    kept = entries()
    for e in kept:
        os.utime(e, (0, 0))  # as if unused since 1970...
    stale = cache.cache_dir() / ("e" * 64 + ".pickle")
    stale.write_bytes(b"old")
    os.utime(stale, (0, 0))
    run(folder, tmp_path / "b.json")  # ...but this run uses them
    assert entries() == kept and not stale.exists()
    assert all(time.time() - e.stat().st_mtime < cache.MAX_AGE_S for e in kept)
