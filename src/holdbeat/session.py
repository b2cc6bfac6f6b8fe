"""Protocols, phases and beliefs: the hold practice as data. Pure (no file access here).

A protocol is an ordered list of phases. Built-ins live in `holdbeat/protocols/*.toml`;
`protocol_from_toml` validates user files and names the file, line and key on error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from holdbeat.inputs import parse_toml
from holdbeat.limits import MAX_SESSION_S, MAX_SESSION_TEXT
from holdbeat.safe_text import for_terminal

KINDS = ("baseline", "hold", "rest", "recovery", "action")
MODES = ("fierce", "soft", "loving-kindness", "neutral")
HOLD_MODES = ("fierce", "soft", "loving-kindness")
TARGETS = ("self", "future", "relational")
PHASE_KEYS = ("name", "kind", "mode", "duration", "prompt", "belief", "target", "rehold")
TOP_KEYS = ("name", "description", "phase")
#: an `action` phase with no duration is open-ended (ended by a key); the simulator
#: and max-speed runs need a length, so they use this one.
DEFAULT_ACTION_S = 60.0

DEFAULT_PROMPTS = {
    "baseline": "Sit still and breathe normally. Nothing to hold yet.",
    "rest": "Let go of the belief. Rest and breathe normally.",
    "recovery": "Let go. Sit quietly and notice what stays.",
    "action": "Do the small thing you have been avoiding. Press 'a' when it is done.",
    "hold:fierce": "Hold it with authority. Who gets to define me right now?",
    "hold:soft": "Let it count. Agency feels good; let the satisfaction land.",
    "hold:loving-kindness": "Push nothing away. Am I still held, even now?",
}

#: What the window and console show when a lapse is marked: the way back into the mode
#: (DESIGN.md §1). A hold's `rehold` key in the protocol replaces it.
DEFAULT_REHOLD = {
    "fierce": "Refuse it. Who gets to define me right now? Not this. Take your stance again.",
    "soft": "Let it count. Come back to what you did and let the satisfaction land.",
    "loving-kindness": "Am I still held, even now? Push nothing away; come back.",
}

DEFAULT_BELIEFS = {
    "fierce": "This does not get to define me.",
    "soft": "I acted, and it counts.",
    "loving-kindness": "I am still held, even now.",
}


class ProtocolError(ValueError):
    """A protocol file is wrong; the message names the file, place and what is allowed."""


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    kind: str
    mode: str
    duration_s: float | None  # None only for an open-ended action phase
    prompt: str = ""
    belief: str = ""
    target: str = ""
    rehold: str = ""  # the re-hold cue shown on a lapse; "" = the mode's default

    @property
    def is_hold(self) -> bool:
        return self.kind == "hold"

    @property
    def rehold_cue(self) -> str:
        return rehold_cue(self.mode, self.rehold)


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    phases: tuple[Phase, ...]
    description: str = ""
    source: str = "builtin"

    @property
    def total_s(self) -> float:
        return sum(
            p.duration_s if p.duration_s is not None else DEFAULT_ACTION_S for p in self.phases
        )

    @property
    def holds(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.is_hold)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "phases": [phase_to_dict(p) for p in self.phases],
        }


def rehold_cue(mode: str, custom: str = "") -> str:
    """The phase's own re-hold cue, else the mode's default ("" for neutral phases)."""
    return custom or DEFAULT_REHOLD.get(mode, "")


def phase_to_dict(p: Phase) -> dict:
    d = {
        "name": p.name,
        "kind": p.kind,
        "mode": p.mode,
        "duration_s": p.duration_s,
        "prompt": p.prompt,
        "belief": p.belief,
        "target": p.target,
    }
    if p.rehold:
        d["rehold"] = p.rehold  # only when set: headers of older protocols stay unchanged
    return d


def protocol_from_dict(d: dict) -> Protocol:
    """Inverse of Protocol.to_dict (used by the recording loader)."""
    phases = tuple(
        Phase(
            name=str(p.get("name", "")),
            kind=str(p.get("kind", "")),
            mode=str(p.get("mode", "neutral")),
            duration_s=None if p.get("duration_s") is None else float(p["duration_s"]),
            prompt=str(p.get("prompt", "")),
            belief=str(p.get("belief", "")),
            target=str(p.get("target", "")),
            rehold=str(p.get("rehold", "")),
        )
        for p in d.get("phases", [])
    )
    return Protocol(
        name=str(d.get("name", "")),
        phases=phases,
        description=str(d.get("description", "")),
        source=str(d.get("source", "")),
    )


_DURATION_RE = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$"
)


def parse_duration(value: object) -> float:
    """Seconds from 90, 90.5, "90s", "5m", "1m30s", "1h". Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{_quote(value)} is not a duration")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an integer with hundreds of digits
            seconds = float("inf")
    elif isinstance(value, str):
        m = _DURATION_RE.match(value)
        if not value.strip() or not m or not any(m.groups()):
            raise ValueError(
                f"{_quote(value)} is not a duration (use seconds or e.g. '5m', '1m30s')"
            )
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mi * 60 + s
    else:
        raise ValueError(f"{_quote(value)} is not a duration")
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"duration must be positive and finite, got {_quote(value)}")
    if seconds > MAX_SESSION_S:
        raise ValueError(f"{_quote(value)} is longer than a session can be ({MAX_SESSION_TEXT})")
    return seconds


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    if h:
        return f"{h}h{m:02d}m"
    return f"{m}m{s:02d}s" if s else f"{m}m"


def _quote(value: object) -> str:
    """A short, escaped rendering of a value from a file, for error messages."""
    text = for_terminal(value, 40)
    return repr(text) if isinstance(value, str) else text


def _allowed(what: str, value: object, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value)[:100], allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{what} {_quote(value)} is not allowed{hint}; allowed: {', '.join(allowed)}"


def _phase_lines(text: str) -> list[int]:
    return [
        i + 1 for i, line in enumerate(text.splitlines()) if line.strip().startswith("[[phase]]")
    ]


def protocol_from_toml(text: str, origin: str = "<protocol>") -> Protocol:
    """Parse and validate a protocol file's text; errors name `origin`, line and key."""
    try:
        doc = parse_toml(text)
    except ValueError as e:  # tomllib.TOMLDecodeError, or nesting too deep
        raise ProtocolError(f"{origin}: not valid TOML: {e}") from None
    for key in doc:
        if key not in TOP_KEYS:
            raise ProtocolError(f"{origin}: {_allowed('top-level key', key, TOP_KEYS)}")
    raw_phases = doc.get("phase")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise ProtocolError(
            f"{origin}: no phases: add [[phase]] tables (kind, mode, duration, prompt)"
        )
    lines = _phase_lines(text)
    phases: list[Phase] = []
    for i, raw in enumerate(raw_phases):
        where = f"{origin}: phase {i + 1}" + (f" (line {lines[i]})" if i < len(lines) else "")
        if not isinstance(raw, dict):
            raise ProtocolError(f"{where}: must be a [[phase]] table")
        for key in raw:
            if key not in PHASE_KEYS:
                raise ProtocolError(f"{where}: {_allowed('key', key, PHASE_KEYS)}")
        kind = raw.get("kind")
        if kind not in KINDS:
            if kind is None:
                raise ProtocolError(f"{where}: key 'kind' is missing; allowed: {', '.join(KINDS)}")
            raise ProtocolError(f"{where}: {_allowed('kind', kind, KINDS)}")
        mode = raw.get("mode", "neutral" if kind != "hold" else None)
        if mode is None:
            raise ProtocolError(
                f"{where}: a hold needs key 'mode'; allowed: {', '.join(HOLD_MODES)}"
            )
        if mode not in MODES:
            raise ProtocolError(f"{where}: {_allowed('mode', mode, MODES)}")
        if kind == "hold" and mode == "neutral":
            raise ProtocolError(
                f"{where}: a hold needs a belief mode, not 'neutral'; "
                f"allowed: {', '.join(HOLD_MODES)}"
            )
        if kind in ("action",) and mode != "neutral":
            raise ProtocolError(f"{where}: an action phase holds no belief; mode must be 'neutral'")
        if "duration" not in raw:
            if kind != "action":
                raise ProtocolError(f"{where}: key 'duration' is missing (seconds, or e.g. '5m')")
            duration = None
        else:
            try:
                duration = parse_duration(raw["duration"])
            except ValueError as e:
                raise ProtocolError(f"{where}: key 'duration': {e}") from None
        for key in ("name", "prompt", "belief", "target", "rehold"):
            if key in raw and not isinstance(raw[key], str):
                raise ProtocolError(f"{where}: key {key!r} must be a string")
        target = raw.get("target", "")
        if target and target not in TARGETS:
            raise ProtocolError(f"{where}: {_allowed('target', target, TARGETS)}")
        if kind != "hold" and (raw.get("belief") or target or raw.get("rehold")):
            raise ProtocolError(f"{where}: only hold phases carry 'belief' / 'target' / 'rehold'")
        prompt = raw.get("prompt") or DEFAULT_PROMPTS.get(
            f"hold:{mode}" if kind == "hold" else kind, ""
        )
        name = raw.get("name") or (f"{mode} hold" if kind == "hold" else kind)
        phases.append(
            Phase(
                name=name,
                kind=kind,
                mode=mode,
                duration_s=duration,
                prompt=prompt,
                belief=raw.get("belief", ""),
                target=target,
                rehold=raw.get("rehold", "").strip(),
            )
        )
    total_s = sum(p.duration_s or DEFAULT_ACTION_S for p in phases)
    if total_s > MAX_SESSION_S:
        raise ProtocolError(
            f"{origin}: the phases add up to {format_duration(total_s)}, longer than a session "
            f"can be ({MAX_SESSION_TEXT})"
        )
    if not any(p.kind == "baseline" for p in phases):
        raise ProtocolError(f"{origin}: no baseline phase: catch-up is measured against a baseline")
    if phases[0].kind != "baseline":
        raise ProtocolError(f"{origin}: phase 1 must be the baseline (got {phases[0].kind!r})")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise ProtocolError(f"{origin}: key 'name' must be a string")
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        raise ProtocolError(f"{origin}: key 'description' must be a string")
    return Protocol(name=name or origin, phases=tuple(phases), description=desc, source=origin)


def with_beliefs(
    protocol: Protocol,
    *,
    mode: str | None = None,
    belief: str | None = None,
    target: str | None = None,
) -> Protocol:
    """Apply --mode/--belief/--target; they address the hold of a single-hold protocol.

    With several holds, --belief/--target apply to every hold that has none and --mode is
    refused (it would change the protocol's design).
    """
    holds = [i for i, p in enumerate(protocol.phases) if p.is_hold]
    if mode is not None and mode not in HOLD_MODES:
        raise ProtocolError(_allowed("mode", mode, HOLD_MODES))
    if target is not None and target not in TARGETS:
        raise ProtocolError(_allowed("target", target, TARGETS))
    if mode is not None and len(holds) != 1:
        raise ProtocolError(
            f"--mode applies to single-hold protocols; {protocol.name!r} has {len(holds)} holds"
            " with their own modes"
        )
    phases = list(protocol.phases)
    for i in holds:
        p = phases[i]
        new_mode = mode or p.mode
        prompt = p.prompt
        if mode and prompt == DEFAULT_PROMPTS.get(f"hold:{p.mode}"):
            prompt = DEFAULT_PROMPTS[f"hold:{new_mode}"]
        name = f"{new_mode} hold" if mode and p.name == f"{p.mode} hold" else p.name
        single = len(holds) == 1
        phases[i] = replace(
            p,
            mode=new_mode,
            name=name,
            prompt=prompt,
            belief=(belief if belief is not None and (single or not p.belief) else p.belief)
            or DEFAULT_BELIEFS[new_mode],
            target=(target if target is not None and (single or not p.target) else p.target)
            or "self",
        )
    return replace(protocol, phases=tuple(phases))


def beliefs_of(protocol: Protocol) -> tuple[dict, ...]:
    return tuple(
        {"phase_index": i, "phase": p.name, "mode": p.mode, "belief": p.belief, "target": p.target}
        for i, p in enumerate(protocol.phases)
        if p.is_hold
    )


def suggest_mode(answer: str) -> tuple[str, str]:
    """Suggest a mode from what the user says is happening (a default, never a gate).

    The rules are the seeds' (holdbeat.suggest): meaning attacked -> fierce; safety missing
    -> loving-kindness; shame revoking love -> loving-kindness with remembrance; shame
    defining identity -> fierce with refusal; just acted and it worked -> soft.
    """
    from holdbeat.suggest import suggest

    s = suggest(answer)
    return s.mode, s.reason
