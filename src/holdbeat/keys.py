"""The one table of session key bindings, shared by the console view and the window."""

from __future__ import annotations

from dataclasses import dataclass

from holdbeat.events import ActionDone, ActionPlan, Marker, Rating

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
RATING_PREFIX = {"b": "belief", "s": "safety", "g": "satisfaction"}
#: act-and-savor (console; the window asks in small dialogs): what the action is, and
#: whether it was done ("d", "dy", "d yes" / "dn", "d no")
ACTION_KEYS = {"w": "what the action is (text after the key)", "d": "done? dy = yes, dn = no"}
_YES = ("", "y", "yes", "done")
_NO = ("n", "no", "not", "not done")


def key_legend() -> str:
    parts = [f"{k}={v}" for k, v in MARKER_KEYS.items()]
    parts += ["a=action done", "q=end", "b0-10 / s0-10 = rate belief / safety"]
    return "  ".join(parts)


def action_legend() -> str:
    return "w TEXT = what the action is   dy / dn = done: yes / no   g0-10 = satisfaction"


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


@dataclass(frozen=True, slots=True)
class ActionCmd:
    """act-and-savor: `text` says what the action is, or `done` says whether it was done."""

    text: str = ""
    done: bool | None = None


Command = RateCmd | MarkerCmd | ControlCmd | ActionCmd


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
    if key == "w":
        if not rest:
            raise CommandError(f"{s!r}: say what the action is after the w, e.g. w send the email")
        return ActionCmd(text=rest)
    if key == "d":
        answer = rest.lower().strip()
        if answer in _YES:
            return ActionCmd(done=True)
        if answer in _NO:
            return ActionCmd(done=False)
        raise CommandError(f"{s!r}: was the action done? dy = yes, dn = no")
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


def action_slot(
    action_indices: list[int], current_index: int, current_kind: str, for_plan: bool
) -> int | None:
    """Which action phase an action command belongs to: the running one; for the plan,
    else the next one (said beforehand); for `done`, else the last one that ran."""
    if current_kind == "action":
        return current_index
    later = [i for i in action_indices if i > current_index]
    earlier = [i for i in action_indices if i < current_index]
    if for_plan and later:
        return later[0]
    if earlier:
        return earlier[-1]
    return later[0] if later else None


def action_event(cmd: ActionCmd, t_s: float, phase_index: int) -> ActionPlan | ActionDone:
    if cmd.done is not None:
        return ActionDone(t_s, phase_index, cmd.done)
    return ActionPlan(t_s, phase_index, cmd.text)


@dataclass
class DigitEntry:
    """A rating typed without looking (the window's rating dialog): digits set the value
    ("1" then "0" is 10), + and - step it, Enter or space confirms, Backspace clears."""

    buffer: str = ""

    def feed(self, key: str) -> tuple[str, int | None] | None:
        """-> ("set", value or None) while typing, ("confirm", value), or None (not ours)."""
        if len(key) == 1 and key.isdigit():
            candidate = (self.buffer + key)[-2:]
            self.buffer = candidate if int(candidate) <= 10 else key
            return "set", int(self.buffer)
        if key in ("+", "=", "-") and self.buffer:
            step = -1 if key == "-" else 1
            self.buffer = str(min(10, max(0, int(self.buffer) + step)))
            return "set", int(self.buffer)
        if key in ("\r", "\n", " ") and self.buffer:
            value, self.buffer = int(self.buffer), ""
            return "confirm", value
        if key in ("\x08", "\x7f"):
            self.buffer = ""
            return "set", None
        return None
