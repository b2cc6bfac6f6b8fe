"""Type and range checks for a recording's header (line 1), done once at load. Pure.

holdbeat writes valid headers; a header with the wrong types (a phase that is a number, a
duration that is text, Infinity, a week-long window) comes from an edited or damaged file,
and must be a clear error at load rather than a traceback in whichever command uses it.
"""

from __future__ import annotations

import math

from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT

_DEVICE_TEXT = ("name", "address", "source", "body_location", "manufacturer", "model", "firmware")
_PHASE_TEXT = ("name", "kind", "mode", "prompt", "belief", "target")
_PROTOCOL_TEXT = ("name", "description", "source")


def _number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def seconds_problem(x: object, what: str, allow_zero: bool = False) -> str | None:
    """Why `x` is not a duration in seconds a session can have, or None."""
    if not _number(x):
        return f"{what} {x!r:.40} is not a number of seconds"
    v = float(x)  # type: ignore[arg-type]
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        return f"{what} {v!r} must be a positive, finite number of seconds"
    if v > MAX_SESSION_S:
        return f"{what} {v:g} s is longer than a session can be ({MAX_SESSION_TEXT})"
    return None


def _text_fields(d: dict, keys: tuple[str, ...], where: str, none_ok: bool) -> str | None:
    for k in keys:
        v = d.get(k)
        if v is None and (none_ok or k not in d):
            continue
        if not isinstance(v, str):
            return f"{where}'{k}' must be text, not {type(v).__name__}"
    return None


def protocol_problem(p: object) -> str | None:
    """Why a header's protocol cannot be used, or None."""
    if not isinstance(p, dict):
        return f"'protocol' must be an object, not {type(p).__name__}"
    why = _text_fields(p, _PROTOCOL_TEXT, "protocol ", none_ok=False)
    if why:
        return why
    phases = p.get("phases", [])
    if not isinstance(phases, list):
        return f"protocol 'phases' must be a list, not {type(phases).__name__}"
    for i, ph in enumerate(phases, start=1):
        if not isinstance(ph, dict):
            return f"protocol phase {i} must be an object, not {type(ph).__name__}"
        why = _text_fields(ph, _PHASE_TEXT, f"protocol phase {i}: ", none_ok=False)
        if why:
            return why
        dur = ph.get("duration_s")
        if dur is not None:
            why = seconds_problem(dur, f"protocol phase {i}: 'duration_s'")
            if why:
                return why
    return None


def header_problem(d: dict) -> str | None:
    """Why a header dict (format already checked) is not usable, or None."""
    for k in ("session_id", "started_utc"):
        if k in d and not isinstance(d[k], str):
            return f"'{k}' must be text, not {type(d[k]).__name__}"
    dev = d.get("device", {})
    if dev is not None:
        if not isinstance(dev, dict):
            return f"'device' must be an object, not {type(dev).__name__}"
        why = _text_fields(dev, _DEVICE_TEXT, "device ", none_ok=True)
        if why:
            return why
        bat = dev.get("battery_percent")
        if bat is not None and not (isinstance(bat, int) and not isinstance(bat, bool)):
            return "device 'battery_percent' must be a whole number"
    if "protocol" in d and d["protocol"] is not None:
        why = protocol_problem(d["protocol"])
        if why:
            return why
    for k in ("software", "settings"):
        if k in d and d[k] is not None and not isinstance(d[k], dict):
            return f"'{k}' must be an object, not {type(d[k]).__name__}"
    beliefs = d.get("beliefs")
    if beliefs is not None and not isinstance(beliefs, list):
        return f"'beliefs' must be a list, not {type(beliefs).__name__}"
    window = (d.get("settings") or {}).get("window_s")
    if window is not None:
        return seconds_problem(window, "settings 'window_s'")
    return None
