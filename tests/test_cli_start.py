"""CLI start-up and conventions: lazy command imports, --verbose, --quiet, tab completion,
one version. Real processes where the behaviour is process-level."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import run_cli

from holdbeat import __version__, cli


def imported_by(argv: list[str]) -> set[str]:
    """Modules loaded by running `holdbeat ARGV` (help exits) in a fresh interpreter."""
    code = (
        "import sys, json\n"
        "from holdbeat.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


def test_top_level_help_imports_no_command_and_no_numpy() -> None:
    mods = imported_by(["--help"])
    assert not {"numpy", "asyncio", "scipy", "pandas", "holdbeat.pipeline"} & mods
    assert not any(m.startswith("holdbeat.commands.") for m in mods)


def test_a_command_imports_only_its_own_module() -> None:
    mods = imported_by(["protocols", "--help"])
    cmds = {m for m in mods if m.startswith("holdbeat.commands.") and "._" not in m}
    assert cmds == {"holdbeat.commands.protocols"}
    assert "numpy" not in mods and "holdbeat.runner" not in mods  # no session runner


def test_summaries_equal_each_module_help() -> None:
    for name, summary in cli.COMMANDS.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"holdbeat.commands.{cli.module_name(name)}").register(sub)
        action = next(a for a in sub._choices_actions if a.dest == name)
        assert action.help == summary, name


def test_every_command_takes_verbose_and_quiet() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) >= set(cli.COMMANDS)
    for name, p in sub.choices.items():
        opts = p._option_string_actions
        assert {"-v", "--verbose", "-q", "--quiet"} <= set(opts), name


def test_verbose_before_or_after_the_command(tmp_path: Path) -> None:
    env = {**os.environ, "HOLDBEAT_RECORDINGS": str(tmp_path)}
    for argv in (["-v", "protocols", "-q"], ["protocols", "-q", "--verbose"]):
        r = run_cli(*argv, env=env)
        assert r.returncode == 0 and r.stdout == ""
    r = run_cli("demo", "--headless", "--speed", "max", "-q", "-v", env=env)
    assert r.returncode == 0
    assert f"holdbeat: recordings folder: {tmp_path} (environment HOLDBEAT_RECORDINGS)" in r.stderr
    r = run_cli("demo", "--headless", "--speed", "max", "-q", env=env)
    assert "recordings folder" not in r.stderr


def test_quiet_protocols_and_its_check(tmp_path: Path) -> None:
    assert run_cli("protocols").stdout.count("\n") >= 5
    r = run_cli("protocols", "single", "-q")
    assert r.returncode == 0 and r.stdout == ""
    r = run_cli("protocols", "nope.toml", "-q", cwd=tmp_path)
    assert r.returncode == 2 and "nope.toml" in r.stderr


def test_version_has_one_source() -> None:
    assert importlib.metadata.version("holdbeat") == __version__
    r = run_cli("--version")
    assert r.stdout.strip() == f"holdbeat {__version__}"


@pytest.mark.parametrize(
    ("line", "expect"),
    [("holdbeat rep", {"replay", "report"}), ("holdbeat report --no-f", {"--no-frequency"})],
)
def test_tab_completion(tmp_path: Path, line: str, expect: set[str]) -> None:
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    r = subprocess.run(
        [sys.executable, "-m", "holdbeat"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    got = {w.strip() for w in out.read_text().split("\n") if w.strip()}
    assert got == expect
