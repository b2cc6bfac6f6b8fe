"""The cache of `history`'s per-recording digests: keyed by the recording's content.

One JSON file per settings key (holdbeat.analysis.history.HistoryConfig.key: settings,
version and a fingerprint of the code) in the cache folder, mapping a recording's content
hash (BLAKE2b-128 of its bytes) to its digest; the files of other keys go once unwritten
for 90 days. A
recording that changes in any byte (a session still being written, a note appended, a
repaired file) has another hash and is digested again; a renamed or moved one is found
by its content. Hashing reads the file once (~0.1 ms for a 10-minute session), much less
than loading it (~10 ms: parse, beat timing, artifact correction).

The cache holds beliefs, notes and numbers about a person's sessions: it is written
owner-only (folder 0700, file 0600) atomically, and a damaged cache is ignored (and
rebuilt), never trusted. The folder defaults to the platform's cache location
(`default_cache_dir`); `--cache DIR` and HOLDBEAT_CACHE_DIR change it, `--no-cache` skips it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import orjson

FILE_PREFIX = "history-"


def default_cache_dir() -> Path:
    env = os.environ.get("HOLDBEAT_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "holdbeat" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "holdbeat"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "holdbeat"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_hash(path: Path) -> str:
    """The content hash of a recording; RecordingError unless it is a regular file (a FIFO
    swapped in would block forever), OSError when reading fails."""
    from holdbeat.inputs import open_regular
    from holdbeat.recording import RecordingError

    with open_regular(path, "holdbeat recording", RecordingError) as f:
        return content_hash(f.read())


class DigestCache:
    """hash -> digest dict, for one settings key. `directory` None: a cache that forgets."""

    def __init__(self, directory: Path | None, key: str) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.key = key
        self.entries: dict[str, dict] = {}
        self.changed = False
        self.note = ""  # why the cache could not be used, for the user
        if self.directory is not None:
            self._load()

    @property
    def path(self) -> Path | None:
        if self.directory is None:
            return None
        name = hashlib.blake2b(self.key.encode(), digest_size=6).hexdigest()
        return self.directory / f"{FILE_PREFIX}{name}.json"

    def _load(self) -> None:
        path = self.path
        assert path is not None
        if not os.path.lexists(path):
            return
        from holdbeat.inputs import open_regular, owner_only

        try:
            with open_regular(path, "history cache", OSError) as f:  # a FIFO would block
                if not owner_only(os.fstat(f.fileno())):
                    self.note = (
                        f"history cache {path} not used: another user's, or writable by "
                        "others; rebuilding it"
                    )
                    return
                data = orjson.loads(f.read())
        except (OSError, orjson.JSONDecodeError) as e:
            self.note = f"history cache {path} unreadable ({e}); rebuilding it"
            return
        if isinstance(data, dict) and data.get("key") == self.key:
            entries = data.get("entries")
            if isinstance(entries, dict):
                self.entries = entries

    def get(self, h: str) -> dict | None:
        d = self.entries.get(h)
        return d if isinstance(d, dict) else None

    def put(self, h: str, d: dict) -> None:
        self.entries[h] = d
        self.changed = True

    def drop(self, h: str) -> None:
        if self.entries.pop(h, None) is not None:
            self.changed = True

    def save(self, now_s: float | None = None) -> None:
        """Write the cache if it changed, then remove the files of other keys not written
        for 90 days (`prune_others`); a failure is noted, never fatal (it is a cache)."""
        path = self.path
        if path is None or not self.changed:
            return
        from holdbeat.output import OutputError, private_dirs, write_file

        try:
            private_dirs(path.parent)
            data = orjson.dumps({"key": self.key, "entries": self.entries})
            write_file(path, data, force=True)  # the one writer: 0600, atomic, regular files
            self.changed = False
            self.prune_others(now_s)
        except orjson.JSONEncodeError:  # a file name that is not UTF-8: not cached, still shown
            self.note = f"history cache not saved to {path}: a file name is not UTF-8"
        except (OSError, OutputError) as e:
            self.note = f"history cache not saved to {path}: {getattr(e, 'strerror', None) or e}"

    def prune_others(self, now_s: float | None = None, max_age_s: float | None = None) -> int:
        """Remove the cache files of other keys (other settings, an older holdbeat: every
        upgrade starts a new key) not written for `max_age_s` (90 days), as the summary
        cache does. Returns how many went."""
        import re

        from holdbeat.analysis.cache import MAX_AGE_S, remove_stale

        mine = self.path
        if mine is None:
            return 0
        limit = MAX_AGE_S if max_age_s is None else max_age_s
        ours = re.compile(re.escape(FILE_PREFIX) + r"[0-9a-f]{12}\.json")
        return remove_stale(
            mine.parent,
            lambda name: limit if name != mine.name and ours.fullmatch(name) else None,
            now_s,
        )
