"""The recordings folder (holdbeat.home): precedence, the config file, finding recordings by
name, stem, date or 'latest', the old ./recordings/ folder; and the CLI using it. Every test
runs with its own XDG folders (never the real user's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.helpers import run_cli

from holdbeat import home


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HOLDBEAT_RECORDINGS", raising=False)
    monkeypatch.delenv("HOLDBEAT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(xdg: Path, text: str) -> Path:
    cfg = xdg / "config" / "holdbeat" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_default_is_the_user_data_folder(xdg: Path) -> None:
    w = home.where()
    assert w.path == xdg / "data" / "holdbeat" / "recordings"
    assert w.source == "default (user data folder)"
    assert home.config_path() == xdg / "config" / "holdbeat" / "config.toml"


def test_precedence_out_env_config_default(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(xdg, 'recordings = "from-config"\n')
    assert home.where().path == xdg / "config" / "holdbeat" / "from-config"  # relative to file
    assert home.where().source.startswith("config file ")
    monkeypatch.setenv("HOLDBEAT_RECORDINGS", str(xdg / "from-env"))
    assert home.where() == home.Where(xdg / "from-env", "environment HOLDBEAT_RECORDINGS")
    assert home.where(xdg / "from-out") == home.Where(xdg / "from-out", "--out")
    monkeypatch.setenv("HOLDBEAT_RECORDINGS", "  ")  # blank: not set
    assert home.where().source.startswith("config file ")


def test_config_absolute_home_relative_and_other_file(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(xdg, 'recordings = "~/hb"\n')
    assert home.where().path == xdg / "home" / "hb"
    other = xdg / "elsewhere.toml"
    other.write_text(f'recordings = "{xdg / "abs"}"\n')
    monkeypatch.setenv("HOLDBEAT_CONFIG", str(other))
    assert home.where().path == xdg / "abs"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("recordings = ", "not valid TOML"),
        ("recordings = 3\n", "'recordings' must be a folder path"),
        ('recordings = ""\n', "'recordings' must be a folder path"),
    ],
)
def test_broken_config_is_an_error_naming_the_file(xdg: Path, text: str, words: str) -> None:
    cfg = write_config(xdg, text)
    with pytest.raises(home.HomeError, match=words) as e:
        home.where()
    assert str(cfg) in str(e.value)


def test_config_without_recordings_key_keeps_the_default(xdg: Path) -> None:
    write_config(xdg, "[other]\nx = 1\n")
    assert home.where().source == "default (user data folder)"


def make(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, n in enumerate(names):
        p = folder / n
        p.write_text("{}\n")
        os.utime(p, (1_000_000 + i, 1_000_000 + i))
        out.append(p)
    return out


def test_resolve_by_path_name_stem_prefix_and_latest(xdg: Path) -> None:
    d = home.where().path
    a, b, c = make(
        d,
        "2026-03-01_093000_fierce.jsonl",
        "2026-03-01_180000_soft.jsonl",
        "2026-04-02_070000_soft.jsonl",
    )
    assert home.resolve(str(a)) == a  # a path as given
    assert home.resolve("2026-03-01_093000_fierce.jsonl") == a  # file name
    assert home.resolve("2026-03-01_180000_soft") == b  # stem
    assert home.resolve("2026-04") == c  # unique date prefix
    assert home.resolve("latest") == c  # newest by modification time
    with pytest.raises(home.HomeError, match="matches 2 recordings") as e:
        home.resolve("2026-03-01")
    assert str(a) in str(e.value) and str(b) in str(e.value)
    with pytest.raises(home.HomeError, match="no such file, and no recording named like it"):
        home.resolve("2027")
    files, errors = home.resolve_many(["2026-03-01", "nothing"])
    assert files == [a, b] and errors == [
        "nothing: no such file or folder, and no recording named like it"
    ]


def test_old_recordings_folder_is_searched_after_the_home(xdg: Path) -> None:
    (old,) = make(xdg / "recordings", "2025-12-24_200000_fierce.jsonl")
    (new,) = make(home.where().path, "2026-01-01_100000_soft.jsonl")
    assert home.search_dirs() == [home.where().path, Path("recordings")]
    assert home.resolve("2025-12-24").resolve() == old
    assert home.resolve("2026-01-01") == new
    assert home.resolve("recordings/2025-12-24_200000_fierce.jsonl").resolve() == old
    # a name in both: the recordings folder wins
    (dup,) = make(home.where().path, "2025-12-24_200000_fierce.jsonl")
    assert home.resolve("2025-12-24") == dup


def test_a_missing_path_is_not_looked_up_by_name(xdg: Path) -> None:
    make(home.where().path, "x.jsonl")
    assert home.matches("some/dir/x.jsonl") == []


# ---------------------------------------------------------------- the CLI


def test_cli_demo_report_compare_use_the_home(tmp_path: Path) -> None:
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path / "recs")}
    r = run_cli("demo", "--headless", "--speed", "max", "-q", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = list((tmp_path / "recs").glob("*.jsonl"))
    assert len(files) == 1 and f"recorded: {files[0]}" in r.stdout
    assert r.stdout.strip().splitlines() == [f"recorded: {files[0]}"]  # -q: no status lines
    assert not (tmp_path / "recordings").exists()
    stem = files[0].name.removesuffix(".jsonl")
    r = run_cli("report", stem, "--no-frequency", "-v", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"{stem} -> {files[0]}" in r.stderr
    assert f"holdbeat: loading {files[0]}" in r.stderr and "holdbeat: per-phase HRV" in r.stderr
    assert r.stdout.startswith(f"holdbeat report · {files[0]}")
    r = run_cli("report", "latest", "-q", env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
    r = run_cli("compare", "--jobs", "1", "--resamples", "99", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 recordings" in r.stdout


def test_cli_report_unknown_name_exits_2_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path / "recs")}
    r = run_cli("report", "2031-01-01", env=env, cwd=tmp_path)
    assert r.returncode == 2 and "2031-01-01" in r.stderr


def test_cli_help_says_where_recordings_go(tmp_path: Path) -> None:
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path / "recs"), "COLUMNS": "500"}
    r = run_cli("--help", env=env)
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    assert f"recordings: {tmp_path / 'recs'} (environment HOLDBEAT_RECORDINGS;" in flat


def test_a_config_that_is_not_a_regular_file_is_refused_not_waited_on(xdg: Path) -> None:
    cfg = xdg / "config" / "holdbeat" / "config.toml"
    cfg.parent.mkdir(parents=True)
    os.mkfifo(cfg)  # reading it would block until a writer came: never
    with pytest.raises(home.HomeError, match=r"config\.toml is a FIFO \(named pipe\)"):
        home.where()
    cfg.unlink()
    cfg.mkdir()
    with pytest.raises(home.HomeError, match=r"config\.toml is a folder, not a regular file"):
        home.where()
    cfg.rmdir()
    cfg.symlink_to(xdg / "nowhere.toml")  # a dangling link is a config file that is gone
    with pytest.raises(home.HomeError, match=r"cannot read the config file: no such file"):
        home.where()


def test_a_config_larger_than_the_limit_is_refused(xdg: Path) -> None:
    body = 'recordings = "x"\n'
    cfg = write_config(xdg, body + "#" * (home.CONFIG_MAX_BYTES - len(body) - 1) + "\n")
    assert cfg.stat().st_size == home.CONFIG_MAX_BYTES
    assert home.where().path == cfg.parent / "x"  # at the limit: read
    with cfg.open("a") as f:
        f.write("#")
    with pytest.raises(home.HomeError, match=r"too large for a config file \(over 1 MiB\)"):
        home.where()


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "latest"],
        ["replay", "latest", "--headless"],
        ["export", "latest", "--to", "csv"],
        ["compare", "-q"],
        ["history", "-q"],
    ],
)
def test_every_command_says_a_bad_config_file_and_exits_2(tmp_path: Path, argv: list[str]) -> None:
    cfg = tmp_path / "config.toml"
    os.mkfifo(cfg)
    env = {**os.environ, "HOLDBEAT_CONFIG": str(cfg), "XDG_DATA_HOME": str(tmp_path / "d")}
    env.pop("HOLDBEAT_RECORDINGS", None)
    r = run_cli(*argv, env=env, cwd=tmp_path, timeout=60)  # a hang fails by the timeout
    assert r.returncode == 2, r.stderr
    assert f"{cfg} is a FIFO (named pipe), not a regular file" in r.stderr
    assert "Traceback" not in r.stderr


def test_latest_with_no_recordings_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path / "none")}
    for command in ("report", "replay", "export"):
        r = run_cli(command, "latest", env=env, cwd=tmp_path)
        assert r.returncode == 2
        assert f"argument file: no recordings yet in {tmp_path / 'none'}" in r.stderr.replace(
            "FILE", "file"
        )
