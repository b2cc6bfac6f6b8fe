"""The one writer for every output file: reports, comparisons, exports, imports, figures,
screenshots. Health data, so the rules are the same everywhere:

- **owner-only**: created 0600 whatever the umask;
- **atomic**: written to a temporary file in the target's folder, flushed and fsynced, then
  linked (new file) or renamed (replacement) into place; a crash leaves the old file or
  the new one, never half of either; several files land all together or not at all;
- **only regular files are replaced**: an existing device node (`/dev/null`), FIFO,
  socket, folder or symbolic link at the target is refused, `--force` or not, so running
  as root can never turn `/dev/null` into a file;
- **never a recording**: an existing file whose first line is a holdbeat header (judged by
  content, not by name) is never replaced, and neither is any input of the command;
- an existing regular file is replaced only with `force` (commands without a `--force`
  flag, report and compare, pass force=True: they always replaced their outputs);
- every error names the file: refusals raise OutputError (exit 2), failures of the disk
  raise WriteFailed, an OSError whose message is "cannot write PATH: reason" (exit 1).

The check runs twice: before a command does its work (fail fast) and again immediately
before each file is put in place. Between that second check and the rename a hostile
process could still swap the target; renameat2(RENAME_EXCHANGE) could close that window,
but it is Linux-only and the window is microseconds in a folder the user controls.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import orjson

from holdbeat.limits import MAX_HEADER_BYTES

Content = bytes | Callable[[BinaryIO], None]

_NO_HARDLINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV}
_SNIFF_BYTES = 64 * 1024
_HEADER_MARK = re.compile(rb'"format"\s*:\s*"holdbeat/')


class OutputError(ValueError):
    """An output that must not be written (exit 2); the message names the file."""


class OutputExists(OutputError):
    """The output file is already there and we were not asked to replace it."""


class WriteFailed(OSError):
    """The system refused to write an output (disk full, read-only, permissions)."""

    def __init__(self, path: Path, err: OSError) -> None:
        super().__init__(err.errno, err.strerror or str(err), str(path))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def is_recording(path: Path) -> bool:
    """Whether the regular file at `path` starts with a holdbeat recording header.

    Raises OSError when it cannot be read (then nobody can tell, and callers refuse)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        head = os.read(fd, _SNIFF_BYTES)
        if b"\n" not in head.lstrip():
            # a header carries the whole protocol, and its keys may come in any order: read
            # on to the end of the first line (as far as the loader would) before judging
            chunks, size = [head], len(head)
            while size <= MAX_HEADER_BYTES:
                more = os.read(fd, 1 << 20)
                if not more:
                    break
                chunks.append(more)
                size += len(more)
                if b"\n" in more:
                    break
            head = b"".join(chunks)
    finally:
        os.close(fd)
    first, newline, _ = head.lstrip().partition(b"\n")
    if newline:
        try:
            d = orjson.loads(first)
        except orjson.JSONDecodeError:
            pass
        else:
            fmt = d.get("format") if isinstance(d, dict) else None
            return isinstance(fmt, str) and fmt.startswith("holdbeat/")
    # a header longer than the sniff, or cut short by a crash
    return first.startswith(b"{") and _HEADER_MARK.search(first) is not None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: Path, *, force: bool, inputs: Iterable[Path] = ()) -> None:
    """Raise OutputError unless `path` may be written now (see the module rules)."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        parent = path.parent
        if not parent.is_dir():
            raise OutputError(f"{path}: the folder {parent} does not exist") from None
        return
    except OSError as e:
        raise OutputError(f"{path}: cannot check it: {e.strerror or e}") from None
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        raise OutputError(
            f"{path} is a symbolic link (to {target}); holdbeat replaces only regular "
            "files: give the real file's path, or remove the link"
        )
    if not stat.S_ISREG(st.st_mode):
        hint = "; give a file name" if stat.S_ISDIR(st.st_mode) else ""
        raise OutputError(
            f"{path} is {_kind(st.st_mode)}, not a regular file: holdbeat never replaces it{hint}"
        )
    try:
        recording = is_recording(path)
    except OSError as e:
        raise OutputError(
            f"{path}: cannot check whether it is a recording ({e.strerror or e}); not replacing it"
        ) from None
    if recording:
        raise OutputError(
            f"{path} is a holdbeat recording: refusing to write over a recording "
            "(recordings are never replaced, --force or not)"
        )
    if any(_same_file(path, Path(i)) for i in inputs):
        raise OutputError(f"{path} is an input of this command: refusing to write over it")
    if not force:
        raise OutputExists(f"{path} already exists; not overwriting it (use --force to replace it)")


def check_targets(
    paths: Iterable[Path | None], *, force: bool, inputs: Iterable[Path] = ()
) -> list[Path]:
    """Check every output before any work is done; refuse one path given twice."""
    inputs = [Path(i) for i in inputs]
    seen: list[Path] = []
    for p in paths:
        if p is None:
            continue
        p = Path(p)
        if any(p == q or _same_file(p, q) for q in seen) or any(
            os.path.abspath(p) == os.path.abspath(q) for q in seen
        ):
            raise OutputError(f"{p}: given for two outputs")
        check_target(p, force=force, inputs=inputs)
        seen.append(p)
    return seen


def _write_temp(path: Path, content: Content) -> Path:
    """The complete file as a 0600 temp file beside `path`, fsynced."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".holdbeat-", suffix=".part")
    except OSError as e:
        raise WriteFailed(path, e) from e
    try:
        os.fchmod(fd, 0o600)  # the umask can only remove bits; make it exactly 0600
        with os.fdopen(fd, "w+b") as f:  # w+: a writer may read back what it wrote
            if isinstance(content, bytes | bytearray | memoryview):
                f.write(content)
            else:
                content(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(e, OSError) and not isinstance(e, WriteFailed):
            raise WriteFailed(path, e) from e
        raise
    return Path(name)


def _link_new(tmp: Path, path: Path) -> None:
    """Put `tmp` at `path` only if nothing is there (atomic where hard links work)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        check_target(path, force=False)  # says what is there now
        raise
    except OSError as e:
        if e.errno not in _NO_HARDLINKS:
            raise WriteFailed(path, e) from e
        # No hard links on this file system: check, then rename (a tiny race).
        if os.path.lexists(path):
            check_target(path, force=False)
        try:
            os.rename(tmp, path)
        except OSError as e2:
            raise WriteFailed(path, e2) from e2
        return
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_files(
    files: Mapping[Path, Content], *, force: bool = False, inputs: Iterable[Path] = ()
) -> list[Path]:
    """Write every file or none (see the module rules). Returns the paths written."""
    inputs = [Path(i) for i in inputs]
    paths = check_targets(files, force=force, inputs=inputs)
    temps: dict[Path, Path] = {}
    created: list[Path] = []
    try:
        for p in paths:
            temps[p] = _write_temp(p, files[p])
        for p in paths:
            if os.path.lexists(p):
                check_target(p, force=force, inputs=inputs)  # again, right before replacing
                try:
                    os.replace(temps[p], p)
                except OSError as e:
                    raise WriteFailed(p, e) from e
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


def write_file(
    path: Path, content: Content, *, force: bool = False, inputs: Iterable[Path] = ()
) -> Path:
    return write_files({Path(path): content}, force=force, inputs=inputs)[0]


def private_dirs(directory: Path) -> None:
    """`mkdir -p` whose every new folder is 0700. Path.mkdir(parents=True, mode=0o700) gives
    the parents it creates the umask's mode (0777 under umask 000): another user could then
    rename the folder holding the recordings and put their own in its place."""
    todo: list[Path] = []
    p = Path(directory)
    while not p.is_dir():
        todo.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(todo):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            if not d.is_dir():
                raise


def write_new(directory: Path, stem: str, suffix: str, content: Content) -> Path:
    """Write under a fresh name `stem[-N]suffix` in `directory` (created 0700); never
    replaces anything."""
    directory = Path(directory)
    try:
        private_dirs(directory)
    except OSError as e:
        raise WriteFailed(directory, e) from e
    if not directory.is_dir():
        raise OutputError(f"{directory} is not a folder")
    first = directory / f"{stem}{suffix}"
    tmp = _write_temp(first, content)
    try:
        for n in range(1, 10_000):
            path = first if n == 1 else directory / f"{stem}-{n}{suffix}"
            try:
                os.link(tmp, path)
            except FileExistsError:
                continue
            except OSError as e:
                if e.errno not in _NO_HARDLINKS:
                    raise WriteFailed(path, e) from e
                if os.path.lexists(path):
                    continue
                try:
                    os.rename(tmp, path)
                except OSError as e2:
                    raise WriteFailed(path, e2) from e2
            _sync_dir(directory)
            return path
        raise OutputError(f"no free file name for {stem!r} in {directory}")
    finally:
        with contextlib.suppress(OSError):
            if tmp.exists():
                os.unlink(tmp)
