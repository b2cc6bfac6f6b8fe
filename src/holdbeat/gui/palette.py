"""Colours and key bindings of the live window. Pure (no Qt).

Modes use the Okabe–Ito palette (Okabe & Ito 2008), which stays distinguishable for
the common colour-vision deficiencies; each shaded phase is also labelled by name, so
colour is never the only cue.
"""

from __future__ import annotations

from holdbeat.keys import CONTROL_KEYS, MARKER_KEYS

# Okabe–Ito
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"

MODE_COLOURS: dict[str, str] = {
    "fierce": ORANGE,
    "soft": BLUISH_GREEN,
    "loving-kindness": REDDISH_PURPLE,
    "neutral": GREY,
}
MODE_ORDER = ("fierce", "soft", "loving-kindness", "neutral")
#: alpha (0-255) of the phase shading: holds a little stronger than neutral blocks
HOLD_ALPHA = 70
NEUTRAL_ALPHA = 40

MARKER_COLOURS: dict[str, str] = {
    "lapse": VERMILLION,
    "rehold": BLUE,
    "felt": "#7A3E9D",  # a darker purple than the loving-kindness fill, readable as a line
    "note": "#555555",
}
MARKER_DASH: dict[str, str] = {"lapse": "dash", "rehold": "solid", "felt": "dot", "note": "dashdot"}

BACKGROUND = "#FBFAF7"  # warm off-white: calm, high contrast for text
FOREGROUND = "#222222"
MUTED = "#6B6B6B"
HR_BEAT = "#9A9A9A"  # beat-by-beat HR: thin and quiet
HR_TREND = "#222222"  # rolling HR: the line to read
LN_RMSSD = BLUE
FLAGGED = VERMILLION  # artifact-flagged beats: a distinct symbol and colour
BAND = "#56B4E9"  # baseline band fill (sky blue, translucent)
CATCHUP = BLUISH_GREEN
WARN = VERMILLION
OK = BLUISH_GREEN

#: window-only keys (view, not session): never collide with holdbeat.keys
VIEW_KEYS: dict[str, str] = {"z": "zoom: whole session / follow"}

assert not set(VIEW_KEYS) & (set(MARKER_KEYS) | set(CONTROL_KEYS) | {"b", "s"}), "key clash"


def mode_colour(mode: str) -> str:
    return MODE_COLOURS.get(mode, GREY)


def rgba(hex_colour: str, alpha: int) -> tuple[int, int, int, int]:
    """'#RRGGBB' + alpha -> (r, g, b, a)."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


def phase_alpha(kind: str) -> int:
    return HOLD_ALPHA if kind == "hold" else NEUTRAL_ALPHA
