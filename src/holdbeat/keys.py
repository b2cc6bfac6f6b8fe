"""The one table of session key bindings, shared by the console view and the window."""

from __future__ import annotations

from dataclasses import dataclass

from holdbeat.events import Marker, Rating

#: key -> marker kind (DESIGN.md §1)
MARKER_KEYS: dict[str, str] = {"l": "lapse", "r": "rehold", "f": "felt", "n": "note"}
#: key -> what it does besides markers
CONTROL_KEYS: dict[str, str] = {"a": "action done / next phase", "q": "end the session"}
MARKER_HELP = {
    "lapse": "I stopped holding it",
    "rehold": "holding it again",
    "felt": "the felt (emotional) shift arrived",
    "note": "anything else (text after the key)",
}
RATING_PREFIX = {"b": "belief", "s": "safety"}


def key_legend() -> str:
    parts = [f"{k}={v}" for k, v in MARKER_KEYS.items()]
    parts += ["a=action done", "q=end", "b0-10 / s0-10 = rate belief / safety"]
    return "  ".join(parts)


@dataclass(frozen=True, slots=True)
class RateCmd:
    scale: str
    value: int


@dataclass(frozen=True, slots=True)
class MarkerCmd:
    kind: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class ControlCmd:
    what: str  # "next" | "stop"


Command = RateCmd | MarkerCmd | ControlCmd


class CommandError(ValueError):
    pass


def parse_command(line: str) -> Command | None:
    """One typed line (console) or key (window) -> a command; None for an empty line."""
    s = line.strip()
    if not s:
        return None
    key, rest = s[0].lower(), s[1:].strip()
    if key in MARKER_KEYS and (not rest or key == "n"):
        return MarkerCmd(MARKER_KEYS[key], rest)
    if key == "a" and not rest:
        return ControlCmd("next")
    if key == "q" and not rest:
        return ControlCmd("stop")
    if key in RATING_PREFIX:
        try:
            v = int(rest)
        except ValueError:
            raise CommandError(f"{s!r}: a rating is {key} followed by 0-10, e.g. {key}7") from None
        if not 0 <= v <= 10:
            raise CommandError(f"{s!r}: ratings go from 0 to 10")
        return RateCmd(RATING_PREFIX[key], v)
    raise CommandError(f"{s!r}: unknown key; {key_legend()}")


def rating_slot(
    hold_indices_seen: list[int], current_index: int, current_is_hold: bool
) -> tuple[int, str] | None:
    """Which hold a rating belongs to: the running hold ("pre"), else the last one ("post")."""
    if current_is_hold:
        return current_index, "pre"
    if hold_indices_seen:
        return hold_indices_seen[-1], "post"
    return None


def to_event(
    cmd: MarkerCmd | RateCmd, t_s: float, slot: tuple[int, str] | None
) -> Marker | Rating | None:
    if isinstance(cmd, MarkerCmd):
        return Marker(t_s, cmd.kind, cmd.text)
    if slot is None:
        return None
    return Rating(t_s, slot[0], slot[1], cmd.scale, cmd.value)
