"""One event <-> one line of a holdbeat/1 recording (a JSON object), and the header.

The vocabulary of the format (docs/format.md): what each event type writes and what a line
must hold to be read back; the writer and the loader both speak it."""

from __future__ import annotations

from dataclasses import asdict

from holdbeat import FORMAT
from holdbeat.events import (
    ActionDone,
    ActionPlan,
    Battery,
    Connection,
    Cue,
    Device,
    End,
    Header,
    Hrm,
    Marker,
    PhaseStart,
    PracticeEvent,
    Rating,
    SessionEvent,
    SessionNote,
)
from holdbeat.header_check import seconds_problem
from holdbeat.limits import MAX_SESSION_TEXT, seconds_ok
from holdbeat.process import Processed


def time_field(t_s: float) -> float:
    """A time as recorded: seconds to the microsecond."""
    return round(float(t_s), 6)


def header_to_dict(h: Header) -> dict:
    d = asdict(h)
    d = {"format": d.pop("format"), **d}
    d["beliefs"] = list(h.beliefs)
    if not d["practice"]:
        del d["practice"]  # headers without practice details stay as they always were
    return d


def header_from_dict(d: dict) -> Header:
    dev = d.get("device") or {}
    if not isinstance(dev, dict):
        dev = {}
    known = set(Device.__dataclass_fields__)
    device = Device(**{k: v for k, v in dev.items() if k in known})
    return Header(
        session_id=str(d.get("session_id", "")),
        started_utc=str(d.get("started_utc", "")),
        device=device,
        protocol=d.get("protocol") if isinstance(d.get("protocol"), dict) else {},
        beliefs=tuple(b for b in d.get("beliefs") or () if isinstance(b, dict)),
        software=d.get("software") if isinstance(d.get("software"), dict) else {},
        settings=d.get("settings") if isinstance(d.get("settings"), dict) else {},
        format=str(d.get("format", FORMAT)),
        practice=d.get("practice") if isinstance(d.get("practice"), dict) else {},
    )


def event_to_dict(ev: SessionEvent, processed: Processed | None = None) -> dict:
    """One recording line. For `hrm`, decoded values are for people; `raw` is the truth."""
    if isinstance(ev, Hrm):
        d: dict = {"t": time_field(ev.t_s), "type": "hrm", "raw": ev.raw.hex()}
        if processed is not None:
            if processed.error:
                d["error"] = processed.error
            elif processed.measurement is not None:
                m = processed.measurement
                d["hr"] = m.hr_bpm
                d["rr"] = [round(r, 3) for r in m.rr_ms]
                if m.contact is not None:
                    d["contact"] = m.contact
                if m.energy_kj is not None:
                    d["energy"] = m.energy_kj
                flags = [b.flag for b in processed.beats]
                if any(flags):
                    d["flags"] = flags
        return d
    if isinstance(ev, PhaseStart):
        return {
            "t": time_field(ev.t_s),
            "type": "phase",
            "index": ev.index,
            "name": ev.name,
            "kind": ev.kind,
            "mode": ev.mode,
            "duration_s": ev.duration_s,
            "prompt": ev.prompt,
            "belief": ev.belief,
            "target": ev.target,
        }
    if isinstance(ev, Marker):
        return {"t": time_field(ev.t_s), "type": "marker", "kind": ev.kind, "text": ev.text}
    if isinstance(ev, Rating):
        return {
            "t": time_field(ev.t_s),
            "type": "rating",
            "phase": ev.phase_index,
            "when": ev.when,
            "scale": ev.scale,
            "value": ev.value,
        }
    if isinstance(ev, Connection):
        return {
            "t": time_field(ev.t_s),
            "type": "connection",
            "state": ev.state,
            "detail": ev.detail,
        }
    if isinstance(ev, Battery):
        return {"t": time_field(ev.t_s), "type": "battery", "percent": ev.percent}
    if isinstance(ev, End):
        return {"t": time_field(ev.t_s), "type": "end", "reason": ev.reason}
    if isinstance(ev, Cue | SessionNote | ActionPlan | ActionDone):
        return _practice_to_dict(ev)
    raise TypeError(f"not a recordable event: {ev!r}")


def _practice_to_dict(ev: PracticeEvent) -> dict:
    """The event types added for the practice (cues, notes, act-and-savor); docs/format.md."""
    if isinstance(ev, Cue):
        return {
            "t": time_field(ev.t_s),
            "type": "cue",
            "kind": ev.kind,
            "phase": ev.phase_index,
            "detail": ev.detail,
        }
    if isinstance(ev, SessionNote):
        return {"t": time_field(ev.t_s), "type": "session_note", "when": ev.when, "text": ev.text}
    if isinstance(ev, ActionPlan):
        return {"t": time_field(ev.t_s), "type": "action", "phase": ev.phase_index, "text": ev.text}
    return {
        "t": time_field(ev.t_s),
        "type": "action_done",
        "phase": ev.phase_index,
        "done": ev.done,
    }


NOTE_WHEN = ("before", "after")


def _practice_from_dict(kind: str, t: float, d: dict) -> SessionEvent:
    if kind == "cue":
        return Cue(t, str(d["kind"]), int(d["phase"]), str(d.get("detail", "")))
    if kind == "session_note":
        when = str(d["when"])
        if when not in NOTE_WHEN:
            raise ValueError(f"note 'when' must be one of {', '.join(NOTE_WHEN)}, not {when!r}")
        return SessionNote(t, when, str(d["text"]))
    if kind == "action":
        return ActionPlan(t, int(d["phase"]), str(d["text"]))
    if kind == "action_done":
        if not isinstance(d["done"], bool):
            raise TypeError("action_done 'done' must be true or false")
        return ActionDone(t, int(d["phase"]), d["done"])
    raise ValueError(f"unknown event type {kind!r}")


def event_from_dict(d: dict) -> SessionEvent:
    """Raise KeyError/TypeError/ValueError on a line that is not a valid event."""
    kind = d["type"]
    t = float(d["t"])
    if not seconds_ok(t):
        raise ValueError(f"time {t!r} is outside a session (0 to {MAX_SESSION_TEXT})")
    if kind == "hrm":
        raw = d["raw"]
        if not isinstance(raw, str):
            raise TypeError("raw must be a hex string")
        return Hrm(t, bytes.fromhex(raw))
    if kind == "phase":
        dur = d.get("duration_s")
        if dur is not None and (why := seconds_problem(dur, "duration_s")):
            raise ValueError(why)
        return PhaseStart(
            t_s=t,
            index=int(d["index"]),
            name=str(d.get("name", "")),
            kind=str(d["kind"]),
            mode=str(d.get("mode", "neutral")),
            duration_s=None if dur is None else float(dur),
            prompt=str(d.get("prompt", "")),
            belief=str(d.get("belief", "")),
            target=str(d.get("target", "")),
        )
    if kind == "marker":
        return Marker(t, str(d["kind"]), str(d.get("text", "")))
    if kind == "rating":
        return Rating(t, int(d["phase"]), str(d["when"]), str(d["scale"]), int(d["value"]))
    if kind == "connection":
        return Connection(t, str(d["state"]), str(d.get("detail", "")))
    if kind == "battery":
        return Battery(t, int(d["percent"]))
    if kind == "end":
        return End(t, str(d.get("reason", "")))
    return _practice_from_dict(kind, t, d)
