"""Where recordings live, and finding one by file name, stem or date.

New recordings go to one folder, chosen in this order (the first that is set wins):

1. `--out DIR` / `-o` on the command line;
2. the environment variable HOLDBEAT_RECORDINGS;
3. `recordings = "…"` in the config file `config.toml` in the platform's config folder
   (Linux: $XDG_CONFIG_HOME/holdbeat or ~/.config/holdbeat; HOLDBEAT_CONFIG names another file);
4. the platform's user data folder + `recordings` (Linux: $XDG_DATA_HOME/holdbeat/recordings
   or ~/.local/share/holdbeat/recordings; macOS: ~/Library/Application Support/holdbeat/…;
   Windows: %LOCALAPPDATA%\\holdbeat\\…).

Reading (`report`, `replay`, `export`, `compare`, `history`) accepts a path as given first, so
`recordings/2026-…jsonl` from an older holdbeat keeps working; a name that is not a path is
looked up in the recordings folder, then in `./recordings/` (where holdbeat wrote before it had
a home), by exact file name, by stem (without `.jsonl`), or by a date-time prefix of the name
(`2026-03-01`, `2026-03-01_0930`); `latest` is the newest recording.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from holdbeat import log

APP = "holdbeat"
ENV_DIR = "HOLDBEAT_RECORDINGS"
ENV_CONFIG = "HOLDBEAT_CONFIG"
CONFIG_NAME = "config.toml"
LEGACY_DIR = Path("recordings")
SUFFIX = ".jsonl"  # as holdbeat.recording.SUFFIX (not imported: that pulls in numpy)
LATEST = "latest"
CONFIG_MAX_BYTES = 1 << 20  # a config file is a few lines


class HomeError(ValueError):
    """A bad config file, or a recording name that matches nothing or several files."""


class Where(NamedTuple):
    """The recordings folder and why it is that one."""

    path: Path
    source: str  # "environment HOLDBEAT_RECORDINGS", "config file …", "default"


def config_path() -> Path:
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False) / CONFIG_NAME


def default_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False) / "recordings"


def read_config(path: Path | None = None) -> dict:
    """The config file as a dict ({} when there is none); a broken one is an error."""
    path = path or config_path()
    if not os.path.lexists(path):
        return {}
    # regular files only: a FIFO would block forever
    from holdbeat.inputs import parse_toml, read_small

    data = read_small(path, "config file", HomeError, CONFIG_MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HomeError(f"{path}: cannot read the config file: {e}") from None
    try:
        cfg = parse_toml(text)
    except ValueError as e:  # tomllib.TOMLDecodeError, or nesting too deep
        raise HomeError(f"{path}: not valid TOML: {e}") from None
    rec = cfg.get("recordings")
    if rec is not None and not (isinstance(rec, str) and rec.strip()):
        raise HomeError(f"{path}: 'recordings' must be a folder path in quotes, not {rec!r}")
    return cfg


def where(out: str | os.PathLike | None = None) -> Where:
    """The folder new recordings go to, by the precedence in the module docstring."""
    if out is not None and str(out) != "":
        return Where(Path(out).expanduser(), "--out")
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        return Where(Path(env).expanduser(), f"environment {ENV_DIR}")
    cfg_path = config_path()
    rec = read_config(cfg_path).get("recordings")
    if rec:
        p = Path(rec).expanduser()
        if not p.is_absolute():
            p = cfg_path.parent / p  # relative to the config file, not to where you are
        return Where(p, f"config file {cfg_path}")
    return Where(default_dir(), "default (user data folder)")


def recordings_dir(out: str | os.PathLike | None = None) -> Path:
    """The folder new recordings go to (not created here)."""
    w = where(out)
    log.info("recordings folder: %s (%s)", w.path, w.source)
    return w.path


def search_dirs() -> list[Path]:
    """Folders searched for a recording name: the recordings folder, then ./recordings/."""
    dirs = [recordings_dir()]
    legacy = LEGACY_DIR
    if legacy.is_dir() and not any(_same(legacy, d) for d in dirs):
        dirs.append(legacy)
    return dirs


def folders_with_recordings() -> tuple[list[Path], list[Path]]:
    """The search folders that hold a recording, and every folder searched (to say where
    none was found). An old ./recordings/ with none - the source tree's own, say - is no
    error when nobody named it."""
    dirs = search_dirs()
    return [d for d in dirs if d.is_dir() and any(d.rglob("*.jsonl"))], dirs


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _recordings_in(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.rglob(f"*{SUFFIX}") if p.is_file())
    except OSError:
        return []


def matches(name: str, dirs: list[Path] | None = None) -> list[Path]:
    """Every recording `name` means: a path as given, else a file name, stem or name prefix
    in the search folders (the first folder with a match wins); `latest`: the newest."""
    p = Path(name).expanduser()
    if p.exists():  # (a FIFO or device too: the reader refuses it, saying what it is)
        return [p]
    dirs = search_dirs() if dirs is None else dirs
    if name == LATEST:
        found = [f for d in dirs for f in _recordings_in(d)]
        return [max(found, key=lambda f: (f.stat().st_mtime, f.name))] if found else []
    if os.sep in name or (os.altsep and os.altsep in name):
        return []  # a path that does not exist: not a name to look up
    for d in dirs:
        files = _recordings_in(d)
        exact = [f for f in files if f.name == name or f.name == name + SUFFIX]
        if exact:
            return exact[:1]
        pref = [f for f in files if f.name.startswith(name)]
        if pref:
            return pref
    return []


def resolve(name: str | os.PathLike) -> Path:
    """Exactly one recording for `name`, or HomeError saying what matched or where it looked."""
    name = str(name)
    found = matches(name)
    if len(found) == 1:
        if str(found[0]) != name:
            log.info("%s -> %s", name, found[0])
        return found[0]
    if found:
        shown = "\n  ".join(str(f) for f in found[:10])
        more = f"\n  … and {len(found) - 10} more" if len(found) > 10 else ""
        raise HomeError(
            f"{name!r} matches {len(found)} recordings; give more of the name:\n  {shown}{more}"
        )
    looked = ", ".join(str(d) for d in search_dirs())
    raise HomeError(
        f"{name}: no such file, and no recording named like it in {looked} "
        "(give a path, a file name, a date like 2026-03-01, or 'latest')"
    )


def resolve_many(names: list[str]) -> tuple[list[Path], list[str]]:
    """For compare/history: every match of each name (a date prefix may mean many)."""
    files: list[Path] = []
    errors: list[str] = []
    for n in names:
        found = matches(str(n))
        if found:
            files.extend(found)
        else:
            errors.append(f"{n}: no such file or folder, and no recording named like it")
    return files, errors


# ---------------------------------------------------------------- argparse types


def recording_arg(value: str) -> Path:
    """argparse type for a recording argument: a path, file name, stem, date or 'latest'.

    A name matching nothing stays the path as given, so the command's own "cannot read"
    error names it (exit 2 from the command); a name matching several files is a usage error.
    """
    import argparse

    try:
        found = matches(value)
        if len(found) > 1:
            resolve(value)  # raises: several match
    except HomeError as e:  # several match, or the config file is bad
        raise argparse.ArgumentTypeError(str(e)) from None
    if not found and value == LATEST:
        looked = " or ".join(str(d) for d in search_dirs())
        raise argparse.ArgumentTypeError(f"no recordings yet in {looked}")
    if found and str(found[0]) != value:
        log.info("%s -> %s", value, found[0])
    return found[0] if found else Path(value)


def out_arg(value: str) -> Path:
    """argparse type for --out (default ""): the recordings folder by the precedence above."""
    import argparse

    try:
        d = recordings_dir(value or None)
    except HomeError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if os.path.exists(d) and not os.path.isdir(d):  # before a strap is sought or a session run
        raise argparse.ArgumentTypeError(
            f"{d} is not a folder (give a folder: --out, HOLDBEAT_RECORDINGS)"
        )
    return d


RECORDING_HELP = (
    "a holdbeat/1 recording: a path, or a file name, stem or date (2026-03-01_0930) in the "
    "recordings folder, or 'latest'"
)
