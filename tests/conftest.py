"""Test-wide settings: Qt renders offscreen; no test touches the user's recordings/."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
