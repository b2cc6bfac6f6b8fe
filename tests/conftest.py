"""Test-wide settings: Qt renders offscreen; no test touches the user's recordings/."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

# The recordings folder defaults to the user's data folder (platformdirs): point the XDG
# folders of this test run, and of every holdbeat process it starts, at a throw-away
# folder, so no test reads or writes the real user's recordings, config or cache.
_HOME = tempfile.mkdtemp(prefix="holdbeat-test-home-")
atexit.register(shutil.rmtree, _HOME, True)
for _var, _sub in (
    ("XDG_DATA_HOME", "data"),
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_CACHE_HOME", "cache"),
):
    os.environ[_var] = os.path.join(_HOME, _sub)
for _var in ("HOLDBEAT_RECORDINGS", "HOLDBEAT_CONFIG"):
    os.environ.pop(_var, None)
# Output that fits the terminal (tables, the console status line) is tested at explicit
# widths; the shell's COLUMNS must not shorten what the other tests read (their output is
# captured, not a terminal: unlimited).
os.environ.pop("COLUMNS", None)
