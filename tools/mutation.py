#!/usr/bin/env python3
"""Mutation testing for holdbeat: how many small deliberate bugs do the tests catch?

A coverage figure says a line ran; a mutation score says a test would notice if the line
were wrong. For each module this makes classic mutants with the `ast` module (flip or
negate a comparison, change a number, swap an arithmetic or boolean operator, negate a
condition, swap min/max, garble a string, delete a statement, return None), draws a seeded
sample of them, and runs each in a throwaway copy of the tree (a temporary directory; the
working tree is only read, so a crash mid-run changes nothing) against the test files that
import the module, stopping at the first failing test. A mutant is *killed* when the tests
fail, *survived* when they pass, *timeout* when they run past the limit (counted as
killed: the mutant made something hang), *equivalent* when it is listed in
`tools/equivalent_mutants.toml` with the reason it cannot change behaviour. Score =
(killed + timeout) / (sampled - equivalent).

Why not mutmut or cosmic-ray: mutmut 3 rewrites every function into a trampoline and runs
the whole suite first to map tests to functions, has no seeded sampling, and marks
equivalent mutants with pragmas in the source; cosmic-ray applies each mutant to the
working tree in place. Sampling, a reviewed list outside src/ and an untouchable working
tree are what this project needs, in ~500 lines.

    .venv/bin/python tools/mutation.py                       # the core modules, 60 each
    .venv/bin/python tools/mutation.py src/holdbeat/beats.py --sample 0 --jobs 2
    .venv/bin/python tools/mutation.py src/holdbeat/hrs.py --list   # mutants, no run

Not in CI: it takes minutes (each mutant is a pytest run).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import json
import os
import queue
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULES = (
    "src/holdbeat/hrs.py",
    "src/holdbeat/beats.py",
    "src/holdbeat/metrics.py",
    "src/holdbeat/analysis/stats.py",
    "src/holdbeat/correct.py",
    "src/holdbeat/analysis/catchup.py",
)
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.toml"
# Not copied into the throwaway tree: version control, environments, caches.
IGNORED = {".git", ".venv", "venv", ".hypothesis", ".pytest_cache", ".ruff_cache", "build"}
KEY_WIDTH = 80  # mutation texts are cut here (they are keys of the equivalent list)

CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
BIN_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
    ast.MatMult: ast.Mult,
}
DELETABLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Continue,
    ast.Break,
)


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to the repository root
    index: int  # position among the module's mutants (stable for a given source)
    line: int
    function: str  # qualified name of the enclosing def/class, "<module>" at top level
    kind: str
    mutation: str  # "original -> replacement", the key of the equivalent list
    statement: str  # the enclosing statement's first line (tells equal mutations apart)
    start: int  # byte offsets of the replaced span
    end: int
    text: bytes  # what replaces it

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.text + source[self.end :]

    def where(self) -> str:
        return f"{self.module}:{self.line}"


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= KEY_WIDTH else text[: KEY_WIDTH - 1] + "…"


def _is_docstring(stmt: ast.stmt, parent: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(parent, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and bool(body)
        and body[0] is stmt
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class _Generator:
    """Walks one module's AST and yields (node, replacement node or "pass", kind, scope)."""

    def __init__(self, module: str, source: bytes) -> None:
        self.module = module
        self.source = source
        self.tree = ast.parse(source)
        self.line_starts = [0]
        for i, b in enumerate(source):
            if b == 0x0A:
                self.line_starts.append(i + 1)
        self.mutants: list[Mutant] = []
        self.stmt: ast.AST = self.tree

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col  # ast columns are UTF-8 byte offsets

    def add(self, node: ast.AST, new: ast.AST | None, kind: str, scope: str) -> None:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno, node.end_col_offset)
        extra_lines = b"\n" * (node.end_lineno - node.lineno)  # keep later line numbers
        if new is None:  # delete a statement
            text = b"pass" + extra_lines
            mutation = f"{_short(node).splitlines()[0]} -> pass"
        else:
            text = b"(" + ast.unparse(new).encode() + extra_lines + b")"
            mutation = f"{_short(node)} -> {_short(new)}"
        stmt = self.stmt
        if getattr(stmt, "decorator_list", None):
            stmt = copy.copy(stmt)
            stmt.decorator_list = []  # type: ignore[attr-defined]
        line = ast.unparse(stmt).splitlines()[0]
        statement = " ".join(line.split())[:160]
        self.mutants.append(
            Mutant(
                self.module,
                len(self.mutants),
                node.lineno,
                scope,
                kind,
                mutation,
                statement,
                start,
                end,
                text,
            )
        )

    def run(self) -> list[Mutant]:
        self.visit(self.tree, None, "<module>")
        return self.mutants

    def visit(self, node: ast.AST, parent: ast.AST | None, scope: str) -> None:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        if isinstance(node, ast.Import | ast.ImportFrom | ast.JoinedStr | ast.Global):
            return  # imports break loudly; f-string internals have no reliable positions
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return
        if isinstance(node, ast.stmt) and _is_docstring(node, parent):
            return
        outer = self.stmt
        if isinstance(node, ast.stmt):
            self.stmt = node
        self.mutate(node, scope)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue  # types and decorators are declarations, not behaviour
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.visit(child, node, scope)
        self.stmt = outer

    def mutate(self, node: ast.AST, scope: str) -> None:
        add = self.add
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for swap in CMP_SWAPS.get(type(op), ()):
                    new = copy.deepcopy(node)
                    new.ops[i] = swap()
                    add(node, new, "comparison", scope)
        elif isinstance(node, ast.BinOp) and type(node.op) in BIN_SWAPS:
            new = copy.deepcopy(node)
            new.op = BIN_SWAPS[type(node.op)]()
            add(node, new, "arithmetic", scope)
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            add(node, new, "boolean", scope)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.Invert):
            add(node, copy.deepcopy(node.operand), "unary", scope)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                new_value: object = not value
            elif isinstance(value, int):
                new_value = value + 1
            elif isinstance(value, float):
                new_value = float(f"{value * 1.5:.12g}") if value else 1.0
            elif isinstance(value, str):
                new_value = f"XX{value}XX"
            else:
                return
            add(node, ast.Constant(new_value), "constant", scope)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("min", "max")
        ):
            new = copy.deepcopy(node)
            new.func.id = "max" if node.func.id == "min" else "min"
            add(node, new, "min/max", scope)
        elif isinstance(node, ast.Return) and not (
            node.value is None
            or (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            add(node.value, ast.Constant(None), "return None", scope)
        if isinstance(node, ast.If | ast.While | ast.IfExp) and not isinstance(
            node.test, ast.Compare | ast.UnaryOp
        ):
            add(node.test, ast.UnaryOp(ast.Not(), copy.deepcopy(node.test)), "negate", scope)
        if isinstance(node, DELETABLE) and not (isinstance(node, ast.AnnAssign) and not node.value):
            add(node, None, "delete", scope)


def mutants_of(module: str, source: bytes) -> list[Mutant]:
    """All mutants of one module that still compile, in source order."""
    out = []
    for m in _Generator(module, source).run():
        try:
            compile(m.apply(source), module, "exec")
        except SyntaxError:
            continue
        out.append(m)
    return [Mutant(**{**m.__dict__, "index": i}) for i, m in enumerate(out)]


def sample(mutants: list[Mutant], k: int, seed: int) -> list[Mutant]:
    """k mutants drawn without replacement, the same for the same seed and source."""
    if k <= 0 or k >= len(mutants):
        return list(mutants)
    rng = random.Random(f"{seed}:{mutants[0].module}")
    return sorted(rng.sample(mutants, k), key=lambda m: m.index)


# --- which tests ---------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Dotted names a file imports (for `from a import b`: both a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def dotted(module: str) -> str:
    parts = Path(module).with_suffix("").parts
    return ".".join(parts[1:] if parts[0] == "src" else parts)


def tests_for(module: str, tests_dir: Path) -> list[str]:
    """Test files that import the module, directly or through a helper module in tests/."""
    files = sorted(tests_dir.glob("*.py"))
    imports = {f.stem: _imports(f) for f in files}
    target = dotted(module)
    reach = {stem for stem, names in imports.items() if target in names}
    grew = True
    while grew:  # helpers importing helpers that import the module
        grew = False
        for stem, names in imports.items():
            if stem not in reach and any(h in names or f"tests.{h}" in names for h in reach):
                reach.add(stem)
                grew = True
    own = f"test_{Path(module).stem}.py"
    found = [f.name for f in files if f.stem in reach and f.name.startswith("test_")]
    return sorted(found, key=lambda name: name != own)  # its own test file first


# --- running -------------------------------------------------------------------------------


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
        self, tree: Path, tests: list[str], timeout: float, extra: tuple[str, ...] = ()
    ) -> tuple[int | None, str]:
        """Run pytest in `tree`, importing holdbeat from tree/src; rc None on timeout."""
        pythonpath = [str(tree / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {"PYTHONPATH": os.pathsep.join(pythonpath)}  # for the CLI subprocesses tests run
        args = [
            "-x",
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
            for _ in range(4):
                t0 = time.monotonic()
                extra = ("--junitxml", str(xml), *deselect)
                rc, out = self.pytest(self.tree, tests, 1800, extra)
                took = time.monotonic() - t0
                node = _failed_node(out)
                if rc == 0 or not node:
                    break
                print(f"warning: {node} fails unmutated; deselected for {module}", file=sys.stderr)
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


def _failed_node(out: str) -> str:
    """The first failing test's node id in pytest's short summary ("" when none)."""
    for line in out.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] in ("FAILED", "ERROR"):
            return words[1]
    return ""


# --- equivalent mutants --------------------------------------------------------------------


def load_equivalents(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("mutant", [])
    for e in entries:
        missing = {"module", "function", "mutation", "reason"} - {
            k for k, v in e.items() if str(v).strip()
        }
        if missing:
            sys.exit(f"mutation: {path.name}: entry {e} lacks {', '.join(sorted(missing))}")
    return entries


def is_equivalent(m: Mutant, entries: list[dict[str, str]]) -> dict[str, str] | None:
    """The entry naming this mutant; `statement` (optional) tells apart equal mutations of
    one function, e.g. two `0.0 -> 1.0` in one __init__."""
    for e in entries:
        key = (e["module"], e["function"], e["mutation"], e.get("statement", m.statement))
        if key == (m.module, m.function, m.mutation, m.statement):
            return e
    return None


# --- report --------------------------------------------------------------------------------


def score(outcomes: list[Outcome]) -> tuple[int, int, float]:
    caught = sum(o.status in ("killed", "timeout") for o in outcomes)
    judged = sum(o.status in ("killed", "timeout", "survived") for o in outcomes)
    return caught, judged, (100.0 * caught / judged if judged else float("nan"))


def report(
    modules: list[str],
    totals: dict[str, int],
    results: dict[str, list[Outcome]],
    seed: int,
) -> Iterator[str]:
    for module in modules:
        outs = sorted(results[module], key=lambda o: o.mutant.index)
        count = defaultdict(int)
        for o in outs:
            count[o.status] += 1
        caught, judged, pct = score(outs)
        yield (
            f"\n{module}: {len(outs)} of {totals[module]} mutants (seed {seed}): "
            f"killed {count['killed']}, survived {count['survived']}, "
            f"timeout {count['timeout']}, equivalent {count['equivalent']}"
            + "".join(f", {k} {count[k]}" for k in ("flaky", "error") if count[k])
            + f" -> {pct:.1f} % ({caught}/{judged})"
        )
        for o in outs:
            if o.status in ("survived", "error", "flaky"):
                m = o.mutant
                yield f"  {o.status}: {m.where()} [{m.function}] {m.kind}: {m.mutation}"
                if o.status == "error":
                    yield "    " + o.detail.strip().replace("\n", "\n    ")
    yield "\n" + "module".ljust(36) + "mutants  sampled  killed  survived  timeout  equiv  score"
    for module in modules:
        outs = results[module]
        c = defaultdict(int)
        for o in outs:
            c[o.status] += 1
        _, _, pct = score(outs)
        yield (
            f"{module:<36}{totals[module]:>7}{len(outs):>9}{c['killed']:>8}{c['survived']:>10}"
            f"{c['timeout']:>9}{c['equivalent']:>7}{pct:>6.1f} %"
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM too: clean up the temporary trees and test processes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Mutation testing: a seeded sample of mutants per module, each run in a "
        "throwaway copy of the tree against the test files that import the module."
    )
    p.add_argument(
        "modules",
        nargs="*",
        default=list(DEFAULT_MODULES),
        help="module paths relative to the repository root (default: the core)",
    )
    p.add_argument("--sample", type=int, default=60, help="mutants per module; 0 = all")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel pytest runs")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per mutant (default: 3 x the unmutated run + 20)",
    )
    p.add_argument(
        "--tests",
        nargs="+",
        metavar="FILE",
        help="test files (in tests/) to run instead of those importing the module",
    )
    p.add_argument(
        "--ids",
        type=lambda s: {int(i) for i in s.split(",")},
        help="run only these mutant numbers (as --list shows them), one module",
    )
    p.add_argument("--rev", help="measure this git revision instead of the working tree")
    p.add_argument("--list", action="store_true", help="print the sampled mutants, run nothing")
    p.add_argument("--equivalents", type=Path, default=EQUIVALENTS)
    p.add_argument("--json", type=Path, help="also write every outcome to this file")
    p.add_argument(
        "--fail-under",
        type=float,
        default=None,
        help="exit 1 when a module scores below this percentage",
    )
    args = p.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends quietly
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # even where a background shell ignored it
    if args.ids is not None and len(args.modules) != 1:
        p.error("--ids needs exactly one module")
    entries = load_equivalents(args.equivalents)
    with tempfile.TemporaryDirectory(prefix="holdbeat-mutation-") as tmp:
        tree = snapshot(ROOT, args.rev, Path(tmp) / "snapshot")
        try:
            return _main(p, args, entries, tree)
        except KeyboardInterrupt:
            print("mutation: interrupted", file=sys.stderr)
            return 130


def _main(
    p: argparse.ArgumentParser,
    args: argparse.Namespace,
    entries: list[dict[str, str]],
    tree: Path,
) -> int:
    modules = [Path(m).as_posix() for m in args.modules]
    plan: dict[str, list[Mutant]] = {}
    totals: dict[str, int] = {}
    for module in modules:
        path = tree / module
        if not path.is_file():
            p.error(f"no such module: {module}")
        everything = mutants_of(module, path.read_bytes())
        totals[module] = len(everything)
        chosen = sample(everything, args.sample, args.seed)
        if args.ids is not None:
            chosen = [m for m in everything if m.index in args.ids]
        plan[module] = chosen
        for e in entries:
            if e["module"] == module and not any(is_equivalent(m, [e]) for m in everything):
                print(f"warning: stale equivalent entry (no such mutant): {e}", file=sys.stderr)

    if args.list:
        for module in modules:
            print(f"{module}: {len(plan[module])} of {totals[module]} mutants (seed {args.seed})")
            for m in plan[module]:
                eq = " (equivalent)" if is_equivalent(m, entries) else ""
                print(f"  #{m.index} {m.where()} [{m.function}] {m.kind}: {m.mutation}{eq}")
                if m.statement != m.mutation.split(" -> ")[0]:
                    print(f"      in: {m.statement}")
        return 0

    runner = Runner(tree, sys.executable, args.jobs)
    runner.check_import()
    tests: dict[str, list[str]] = {}
    for module in modules:
        tests[module] = args.tests or tests_for(module, tree / "tests")
        if not tests[module]:
            p.error(f"no test file imports {dotted(module)}")
    results: dict[str, list[Outcome]] = {m: [] for m in modules}
    timeouts: dict[str, float] = {}
    deselect: dict[str, list[str]] = {}
    base: dict[str, Future] = {}
    futures: list[Future] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        try:
            base = {m: pool.submit(runner.baseline, m, tests[m]) for m in modules}
            for module, fut in base.items():
                times, deselect[module] = fut.result()
                own = f"test_{Path(module).stem}.py"
                tests[module].sort(key=lambda f: (f != own, times.get(f, 0.0)))
                timeouts[module] = args.timeout or 3 * times["_total"] + 20
                print(
                    f"{module}: {len(tests[module])} test files, unmutated "
                    f"{times['_total']:.1f} s, timeout {timeouts[module]:.0f} s: "
                    f"{' '.join(tests[module])}",
                    file=sys.stderr,
                )

            todo = []
            for module in modules:
                for m in plan[module]:
                    if is_equivalent(m, entries):
                        results[module].append(Outcome(m, "equivalent"))
                    else:
                        todo.append(m)
            t0 = time.monotonic()
            futures = [
                pool.submit(
                    runner.run, m, tests[m.module], timeouts[m.module], tuple(deselect[m.module])
                )
                for m in todo
            ]
            for done, fut in enumerate(as_completed(futures), 1):
                o = fut.result()
                results[o.mutant.module].append(o)
                print(
                    f"[{done}/{len(todo)}] {o.status:<8} {o.seconds:5.1f} s  "
                    f"{o.mutant.where()} {o.mutant.mutation}",
                    file=sys.stderr,
                )
        except BaseException:
            for f in [*base.values(), *futures]:
                f.cancel()
            raise
        finally:
            runner.kill_all()
    for line in report(modules, totals, results, args.seed):
        print(line)
    print(
        f"\n{len(todo)} mutants run in {time.monotonic() - t0:.0f} s with {args.jobs} jobs"
        + (f" (revision {args.rev})" if args.rev else "")
    )
    if args.json:
        rows = [
            {
                **{k: v for k, v in o.mutant.__dict__.items() if k != "text"},
                "status": o.status,
                "seconds": round(o.seconds, 2),
                "detail": o.detail,
            }
            for module in modules
            for o in sorted(results[module], key=lambda o: o.mutant.index)
        ]
        args.json.write_text(json.dumps(rows, indent=1))
    if args.fail_under is not None:
        low = [m for m in modules if not score(results[m])[2] >= args.fail_under]
        return 1 if low else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
