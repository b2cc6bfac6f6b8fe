"""Whether a window can be shown: one rule for the session runner (fall back to the
console) and the Qt application (go offscreen). Imports no Qt, so asking is cheap."""

from __future__ import annotations

import os
import sys


def display_available() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
