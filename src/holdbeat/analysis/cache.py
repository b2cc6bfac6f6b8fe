"""A cache of per-recording compare summaries, so comparing a growing folder again is fast.

`compare` spends almost all its time turning each recording into a `SessionSummary` (load,
re-parse every notification, correct, summarise: ~15 ms a file). The summary of an
unchanged file under unchanged settings and code is always the same, so it is kept:

* key: the recording's bytes (SHA-256), its path, the whole CompareConfig, holdbeat's
  version and a fingerprint of holdbeat's own source files — any change recomputes;
* value: the summary, pickled (floats and arrays come back bit for bit);
* where: the platform's user cache folder (Linux: $XDG_CACHE_HOME/holdbeat/summaries or
  ~/.cache/holdbeat/summaries), folder 0700 and files 0600 — summaries are derived health
  data and stay as private as the recordings; never sent anywhere. Unpickling runs code, so
  an entry is read only when it and the folder belong to this user and nobody else may
  write to them, and only a SessionSummary is taken. `compare --no-cache`
  neither reads nor writes it; deleting the folder is always safe.

A damaged or unreadable entry is ignored and recomputed; anything in the folder that is not
a regular file (a FIFO, a link) is never read and never replaced. An entry not used for 90
days is removed after a run (`prune`), so the cache does not grow for ever.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from holdbeat import __version__

FORMAT = 1


def cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("holdbeat", appauthor=False) / "summaries"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over holdbeat's own .py files: an edit to any of them invalidates the cache."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def key(path: Path, data: bytes, config: object) -> str:
    h = hashlib.sha256()
    for part in (
        f"holdbeat-summary/{FORMAT}",
        __version__,
        code_fingerprint(),
        str(Path(path).resolve()),
        repr(sorted(asdict(config).items())),  # type: ignore[call-overload]
    ):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


class _NoEntry(Exception):
    """No entry to read: none, or not a regular file."""


def private_folder(d: Path) -> bool:
    """A folder (not a link to one) of this user's that nobody else may write to: the only
    place entries are read from, written to or pruned in."""
    from holdbeat.inputs import owner_only

    st = os.lstat(d)
    return stat.S_ISDIR(st.st_mode) and owner_only(st)


def get(k: str, directory: Path | None = None, kind: type | None = None) -> object | None:
    """The entry for key `k` (of type `kind` when given), or None: none yet, or one that is
    not holdbeat's (a link, a FIFO, not owner-only, in a folder others may write to), or
    damaged - never read, never removed."""
    from holdbeat.inputs import open_regular, owner_only

    d = directory or cache_dir()
    p = d / f"{k}.pickle"
    try:
        if not private_folder(d) or os.path.islink(p):
            raise _NoEntry  # a folder others may write to, or a link: not holdbeat's entry
        f = open_regular(p, "summary cache entry", _NoEntry)
    except (_NoEntry, OSError):  # none yet - or a FIFO, a folder: never read (a FIFO
        return None  # would block), never removed
    with f:
        if not owner_only(os.fstat(f.fileno())):
            return None  # another user's file, or writable by others
        try:
            value = pickle.load(f)
        except Exception:  # damaged (cut short, another version): recompute
            value = None
    if value is None or (kind is not None and not isinstance(value, kind)):
        with contextlib.suppress(OSError):
            p.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(p)  # used now: `prune` keeps it
    return value


#: an entry not used for this long goes (a file long gone or changed, settings no longer
#: used, an older holdbeat: every upgrade starts new keys)
MAX_AGE_S = 90 * 86400.0
#: a temp file this old is left from a process that was killed while writing
TEMP_AGE_S = 86400.0


def prune(
    directory: Path | None = None, now_s: float | None = None, max_age_s: float = MAX_AGE_S
) -> int:
    """Remove holdbeat's entries (and temp files) not used for `max_age_s`, so the cache
    does not grow for ever across months of sessions and upgrades. Returns how many went."""

    def age_limit(name: str) -> float | None:
        if name.startswith(".tmp-") and name.endswith(".pickle"):
            return TEMP_AGE_S
        if name.endswith(".pickle") and len(name) == 64 + len(".pickle"):
            return max_age_s
        return None  # not a name holdbeat gives

    return remove_stale(directory or cache_dir(), age_limit, now_s)


def remove_stale(
    d: Path, age_limit: Callable[[str], float | None], now_s: float | None = None
) -> int:
    """Remove the files of folder `d` that `age_limit` names (it gives their longest time
    unused, or None: not ours) and that were not touched for that long - only this user's
    regular files, in a private folder. Returns how many went."""
    from holdbeat.inputs import owner_only

    now_s = time.time() if now_s is None else now_s
    gone = 0
    try:
        if not private_folder(d):
            return 0
        entries = list(os.scandir(d))
    except OSError:
        return 0
    for e in entries:
        limit = age_limit(e.name)
        if limit is None:
            continue
        try:
            est = e.stat(follow_symlinks=False)
            if stat.S_ISREG(est.st_mode) and owner_only(est) and now_s - est.st_mtime > limit:
                os.unlink(e.path)
                gone += 1
        except OSError:
            continue
    return gone


def put(k: str, value: object, directory: Path | None = None) -> None:
    """Store atomically (temp file + rename), owner-only; a failure only loses the cache."""
    from holdbeat.output import private_dirs

    d = directory or cache_dir()
    try:
        private_dirs(d)
        if not private_folder(d):
            return  # a folder others may write to: what is put there would never be read
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".pickle")  # 0600
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            final = d / f"{k}.pickle"
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(final).st_mode):  # only a regular file is replaced
                    raise OSError(f"{final} is not a regular file")
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass
