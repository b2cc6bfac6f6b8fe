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
`tools/equivalent_mutants.toml` with the reason it cannot change behaviour, *flaky* when
another module's test failed but passed on a re-run (not credited). Score =
(killed + timeout) / (killed + timeout + survived). Details: docs/mutation.md.

Why not mutmut or cosmic-ray: mutmut 3 rewrites every function into a trampoline and runs
the whole suite first to map tests to functions, has no seeded sampling, and marks
equivalent mutants with pragmas in the source; cosmic-ray applies each mutant to the
working tree in place. Sampling, a reviewed list outside src/ and an untouchable working
tree are what this project needs. tools/mutants.py makes the mutants and finds the tests,
tools/mutation_runner.py runs them, this file is the command and the report.

    .venv/bin/python tools/mutation.py                       # the core modules, 60 each
    .venv/bin/python tools/mutation.py src/holdbeat/beats.py --sample 0 --jobs 2
    .venv/bin/python tools/mutation.py src/holdbeat/hrs.py --list   # mutants, no run

Not in CI: it takes minutes (each mutant is a pytest run).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from mutants import Mutant, dotted, mutants_of, sample, tests_for
from mutation_runner import Outcome, Runner, snapshot

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULES = (
    "src/holdbeat/hrs.py",
    "src/holdbeat/beats.py",
    "src/holdbeat/metrics.py",
    "src/holdbeat/analysis/stats.py",
    "src/holdbeat/correct.py",
    "src/holdbeat/detect.py",
    "src/holdbeat/analysis/catchup.py",
    "src/holdbeat/analysis/baseline_band.py",
    "src/holdbeat/analysis/time_constant.py",
)
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.toml"

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
