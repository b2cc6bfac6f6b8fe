"""Running pytest on mutants: a private snapshot of the tree, a throwaway copy per mutant,
and a warm forking test process per job. See tools/mutation.py."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from mutants import Mutant

# Not copied into the throwaway tree: version control, environments, caches.
IGNORED = {".git", ".venv", "venv", ".hypothesis", ".pytest_cache", ".ruff_cache", "build"}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in IGNORED or n.endswith(".egg-info")}


def snapshot(root: Path, rev: str | None, into: Path) -> Path:
    """A private copy of the tree (or of a git revision) that every run copies from, so
    editing the working tree while the tool runs changes nothing it measures."""
    if rev is None:
        shutil.copytree(root, into, ignore=_ignore, symlinks=True)
        return into
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", rev], capture_output=True
    )
    if archive.returncode:
        sys.exit(f"mutation: git archive {rev}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | equivalent | flaky | error
    seconds: float = 0.0
    detail: str = ""


# A warm interpreter that forks one child per pytest run: importing pytest, numpy, scipy,
# pandas and neurokit2 costs more than most mutants' tests, so it is paid once per job.
# holdbeat itself is never imported here (the child imports the mutated copy).
ZYGOTE = r"""
import json, os, sys, traceback
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for name in ("pytest", "hypothesis", "numpy", "scipy.stats", "scipy.signal", "pandas",
             "neurokit2", "orjson", "threadpoolctl"):
    try:
        __import__(name)
    except Exception:
        pass
assert "holdbeat" not in sys.modules
print(json.dumps({"ready": os.getpid()}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()  # its own process group: a timeout ends it and what it started
            fd = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.chdir(req["tree"])
            os.environ.update(req["env"])
            import tempfile
            tempfile.tempdir = None  # re-read TMPDIR (set to a folder the tool removes)
            sys.path[:0] = [os.path.join(req["tree"], "src"), req["tree"]]
            import importlib.util
            origin = importlib.util.find_spec("holdbeat").origin
            if not origin.startswith(req["tree"] + os.sep):
                print(f"holdbeat would be imported from {origin}", flush=True)
                os._exit(98)
            import pytest
            rc = int(pytest.main(req["args"]))
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(99)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class Zygote:
    def __init__(self, python: str) -> None:
        self.proc = subprocess.Popen(
            [python, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            cwd="/",
        )
        self.buf = b""
        self.child = 0
        self.read(600)

    def read(self, timeout: float) -> dict | None:
        """The zygote's next message, or None when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("mutation: the warm test process died")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def pytest(
        self, tree: Path, args: list[str], env: dict, out: Path, timeout: float
    ) -> int | None:
        req = {"tree": str(tree), "args": args, "env": env, "out": str(out)}
        self.proc.stdin.write(json.dumps(req).encode() + b"\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        self.child = self.read(60)["pid"]  # type: ignore[index]
        done = self.read(timeout)
        if done is None:
            self.kill_child()
            self.read(60)
            self.child = 0
            return None
        self.child = 0
        return done["rc"]

    def kill_child(self) -> None:
        if self.child:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child, signal.SIGKILL)

    def close(self) -> None:
        self.kill_child()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@dataclass
class Runner:
    tree: Path  # the snapshot
    python: str
    jobs: int
    zygotes: queue.Queue = field(default_factory=queue.Queue)
    started: list[Zygote] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pytest(
        self,
        tree: Path,
        tests: list[str],
        timeout: float,
        extra: tuple[str, ...] = (),
        stop_first: bool = True,
    ) -> tuple[int | None, str]:
        """Run pytest in `tree`, importing holdbeat from tree/src; rc None on timeout."""
        pythonpath = [str(tree / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        # PYTHONPATH for the CLI subprocesses tests run; TMPDIR inside the tool's own temp
        # folder, so what a killed (or os._exit-ed) run leaves behind goes when the tool ends
        tmp = tree.parent / "tmp"
        tmp.mkdir(mode=0o700, exist_ok=True)
        env = {"PYTHONPATH": os.pathsep.join(pythonpath), "TMPDIR": str(tmp)}
        args = [
            *(["-x"] if stop_first else []),
            "-q",
            "--no-header",
            "-p",
            "no:cacheprovider",
            "--hypothesis-seed=0",
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",  # the warm process imported plugins
            *extra,
            *[f"tests/{t}" for t in tests],
        ]
        try:
            z = self.zygotes.get_nowait()
        except queue.Empty:
            z = Zygote(self.python)
            with self.lock:
                self.started.append(z)
        with tempfile.NamedTemporaryFile(prefix="holdbeat-mutation-", suffix=".out") as out:
            rc = z.pytest(tree, args, env, Path(out.name), timeout)
            text = Path(out.name).read_text(errors="replace")
        self.zygotes.put(z)
        return rc, text

    def kill_all(self) -> None:
        """End the processes this tool started (and only those)."""
        with self.lock:
            for z in self.started:
                z.close()

    def check_import(self) -> None:
        """Refuse to run if holdbeat would not be imported from the snapshot."""
        env = {**os.environ, "PYTHONPATH": str(self.tree / "src")}
        code = "import holdbeat; print(holdbeat.__file__)"
        out = subprocess.run(
            [self.python, "-c", code], cwd=self.tree, env=env, capture_output=True, text=True
        )
        where = Path(out.stdout.strip() or "?").resolve()
        if self.tree.resolve() not in where.parents:
            sys.exit(f"mutation: holdbeat imports from {where}, not from the copy {self.tree}")

    def baseline(self, module: str, tests: list[str]) -> tuple[dict[str, float], list[str]]:
        """Run the tests unmutated in the snapshot and time each file, to order the files and
        set the time limit (this also fills the snapshot's bytecode caches). A test that
        fails unmutated cannot judge a mutant: it is deselected with a warning (GUI tests
        with wall-clock deadlines can fail on a loaded machine)."""
        deselect: list[str] = []
        with tempfile.TemporaryDirectory(prefix="holdbeat-mutation-") as tmp:
            xml = Path(tmp) / "times.xml"
            for attempt in range(3):  # all failures at once (no -x), then until none is left
                t0 = time.monotonic()
                extra = ("--junitxml", str(xml), *deselect)
                rc, out = self.pytest(self.tree, tests, 1800, extra, stop_first=attempt > 0)
                took = time.monotonic() - t0
                nodes = _failed_nodes(out)
                if rc == 0 or not nodes:
                    break
                for node in nodes:
                    print(
                        f"warning: {node} fails unmutated; deselected for {module}", file=sys.stderr
                    )
                    deselect.append(f"--deselect={node}")
            if rc != 0:
                sys.exit(f"mutation: the tests of {module} fail unmutated:\n{out[-3000:]}")
            per_file: dict[str, float] = defaultdict(float)
            for case in ET.parse(xml).iter("testcase"):
                name = case.get("classname", "").split(".")
                stem = next((p for p in name if p.startswith("test_")), "")
                per_file[f"{stem}.py"] += float(case.get("time", 0))
        per_file["_total"] = took
        return per_file, deselect

    def run(
        self, mutant: Mutant, tests: list[str], timeout: float, extra: tuple[str, ...] = ()
    ) -> Outcome:
        source = (self.tree / mutant.module).read_bytes()
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="holdbeat-mutation-") as tmp:
            tree = Path(tmp) / "tree"
            shutil.copytree(self.tree, tree, ignore=_ignore, symlinks=True)
            target = tree / mutant.module
            target.write_bytes(mutant.apply(source))
            for pyc in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
                pyc.unlink()
            # Its own test file alone first: most mutants die there, and collecting every
            # importing file (Qt, neurokit2) costs more than running the own file.
            stages = [tests[:1], tests[1:]] if len(tests) > 1 else [tests]
            for stage in stages:
                left = timeout - (time.monotonic() - t0)
                rc, out = self.pytest(tree, stage, left, extra) if left > 0 else (None, "")
                if rc != 0:
                    break
            node = _failed_node(out)
            flaky = False
            if rc not in (None, 0, 4, 5, 98, 99) and node and stage is not stages[0]:
                # Killed by another module's tests (GUI, subprocesses: timing under load):
                # the failure must happen again, or the kill is not credited.
                again, _ = self.pytest(tree, [node.removeprefix("tests/")], timeout)
                flaky = again == 0
        took = time.monotonic() - t0
        if rc is None:
            return Outcome(mutant, "timeout", took)
        if rc == 0:
            return Outcome(mutant, "survived", took)
        if rc in (4, 5, 98, 99):  # usage error, no tests, tool failure: not a kill
            return Outcome(mutant, "error", took, out[-2000:])
        return Outcome(mutant, "flaky" if flaky else "killed", took, node)


def _failed_nodes(out: str) -> list[str]:
    """The failing tests' node ids in pytest's short summary."""
    return [
        words[1]
        for words in map(str.split, out.splitlines())
        if len(words) > 1 and words[0] in ("FAILED", "ERROR")
    ]


def _failed_node(out: str) -> str:
    """The first failing test's node id ("" when none)."""
    return next(iter(_failed_nodes(out)), "")
