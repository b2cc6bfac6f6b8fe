"""All-or-nothing output files: nothing partial is ever visible, nothing is overwritten silently.

Each file is written to a temporary file in its target folder (mode 0600: these are health
data), flushed and fsynced, and only then linked into place. `os.link` fails if the name
exists, so a file that appeared meanwhile is never clobbered; with `force` the temp file
replaces the old one atomically (`os.replace`). A failure removes every temp file and every
file this call already created, so a multi-file export lands completely or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from holdbeat.interop import InteropError

_NO_HARDLINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}


class OutputExists(InteropError):
    """The output file is already there and we were not asked to replace it."""


def _write_temp(directory: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".holdbeat-", suffix=".part")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _link_new(tmp: Path, path: Path) -> None:
    """Put `tmp` at `path` only if `path` does not exist (atomic where hard links work)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputExists(
            f"{path} already exists; not overwriting it (use --force to replace it)"
        ) from None
    except OSError as e:
        if e.errno not in _NO_HARDLINKS:
            raise
        # No hard links on this file system: check, then rename (a tiny race, in practice none).
        if os.path.lexists(path):
            raise OutputExists(
                f"{path} already exists; not overwriting it (use --force to replace it)"
            ) from None
        os.rename(tmp, path)
        return
    os.unlink(tmp)


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_files(files: Mapping[Path, bytes], *, force: bool = False) -> list[Path]:
    """Write every file or none. Refuses existing paths unless `force`."""
    paths = [Path(p) for p in files]
    for p in paths:
        if p.is_dir():
            raise OutputExists(f"{p} is a folder, not a file name")
        if not force and os.path.lexists(p):
            raise OutputExists(
                f"{p} already exists; not overwriting it (use --force to replace it)"
            )
        if not p.parent.is_dir():
            raise InteropError(f"{p.parent} is not an existing folder")
    temps: dict[Path, Path] = {}
    created: list[Path] = []
    try:
        for p in paths:
            temps[p] = _write_temp(p.parent, files[p])
        for p in paths:
            if force:
                os.replace(temps[p], p)
            else:
                _link_new(temps[p], p)
                created.append(p)
            del temps[p]
    except BaseException:
        for t in temps.values():
            with contextlib.suppress(OSError):
                os.unlink(t)
        for p in created:
            with contextlib.suppress(OSError):
                os.unlink(p)
        raise
    for d in {p.parent for p in paths}:
        _sync_dir(d)
    return paths


def write_new(directory: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` under a fresh name `stem[-N]suffix` in `directory`; never overwrite."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = _write_temp(directory, data)
    try:
        for n in range(1, 10_000):
            path = directory / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            try:
                _link_new(tmp, path)
            except OutputExists:
                continue
            _sync_dir(directory)
            return path
        raise InteropError(f"no free file name for {stem!r} in {directory}")
    finally:
        with contextlib.suppress(OSError):
            if tmp.exists():
                os.unlink(tmp)
