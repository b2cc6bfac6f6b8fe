"""The words and numbers the window shows, as pure functions of the model (no Qt).

Kept apart from the widgets so a test can check what a person will read.
"""

from __future__ import annotations

import math

from holdbeat.gui.model import CatchUpView, PhaseView, Status, ViewModel

MODE_MEANING = {
    "fierce": "boundary + authority",
    "soft": "reward + safety after action",
    "loving-kindness": "openness + safety",
    "neutral": "rest, no belief held",
}
EXPECTED = {
    "fierce": "either direction (arousal may rise while HRV rises)",
    "soft": "ln RMSSD up, HR down",
    "loving-kindness": "ln RMSSD up, HR down",
}
DASH = "—"


def clock(t_s: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour)."""
    t = max(0, round(t_s))
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def no_signal_reason(model: ViewModel) -> str:
    """Why the beat-based numbers are unavailable although the strap is connected ("": they are).

    Without skin contact, or when a strap that sent RR stops sending them, the last
    metrics would be stale: they are not shown.
    """
    if model.status.contact is False:
        return "no skin contact"
    since = model.rr_missing_since_s
    if model.metrics is not None and model.rr_stopped and since is not None:
        return f"no beat intervals from the strap for {model.now_s - since:.0f} s"
    return ""


def hr_text(model: ViewModel) -> tuple[str, str]:
    """(big value, small note) for heart rate."""
    m = model.metrics
    if model.status.reconnecting:
        return DASH, "reconnecting…"
    why = no_signal_reason(model)
    if why:
        if model.status.contact is not False and model.last_strap_hr:
            return f"{model.last_strap_hr}", f"from the strap; {why}"
        return DASH, why
    if m is not None and finite(m.hr_bpm):
        return f"{m.hr_bpm:.0f}", f"mean of the last {m.window_s:.0f} s"
    if m is not None and m.reason and model.last_strap_hr:
        return f"{model.last_strap_hr}", f"from the strap; {m.reason}"
    if model.last_strap_hr is not None and model.last_strap_hr > 0:
        return f"{model.last_strap_hr}", "from the strap (no beat intervals yet)"
    return DASH, "waiting for beats"


#: ln RMSSD in plain words, wherever its number is shown
LN_RMSSD_HINT = "higher = more vagal activity, calmer"


def ln_rmssd_text(model: ViewModel) -> tuple[str, str]:
    """(big value, small note): '—' with the reason whenever LiveMetrics.valid is False."""
    m = model.metrics
    if model.status.reconnecting:
        return DASH, "reconnecting…"
    why = no_signal_reason(model)
    if why:
        return DASH, f"{why}: HRV unavailable"
    if m is None:
        if model.last_strap_hr is not None:
            return DASH, "this strap sends no beat intervals: HRV unavailable"
        return DASH, "waiting for beats"
    if not finite(m.ln_rmssd):
        return DASH, m.reason or "not valid yet"
    note = f"RMSSD {m.rmssd_ms:.0f} ms over {m.window_s:.0f} s"
    if not m.valid:
        return f"{m.ln_rmssd:.2f}", f"{note}; {m.reason}"
    return f"{m.ln_rmssd:.2f}", f"{note}\n{LN_RMSSD_HINT}"


def phase_title(ph: PhaseView | None, n_phases: int) -> str:
    if ph is None:
        return "waiting to start"
    kind = ph.kind if ph.kind != "hold" else "hold"
    of = f" · phase {ph.index + 1} of {n_phases}" if n_phases else ""
    return f"{ph.mode.upper()} {kind}{of}" if ph.mode != "neutral" else f"{ph.name}{of}"


def time_left_text(ph: PhaseView | None, now_s: float, ended: bool) -> str:
    if ended:
        return "session ended"
    if ph is None:
        return ""
    left = ph.time_left_s(now_s)
    if left is None:
        return "press a when done"
    return f"{clock(left)} left"


def belief_text(ph: PhaseView | None) -> str:
    if ph is None:
        return ""
    if ph.belief:
        return f"“{ph.belief}”"
    return ph.prompt


def prompt_text(ph: PhaseView | None) -> str:
    if ph is None:
        return ""
    if ph.belief:
        about = f" — about {ph.target}" if ph.target else ""
        return f"{ph.prompt}{about}"
    return ""


def catchup_text(model: ViewModel) -> tuple[str, str]:
    """(headline, detail) of the catch-up indicator."""
    ph = model.current_phase
    has_baseline = any(p.kind == "baseline" for p in model.phases)
    if ph is not None and ph.kind == "hold":
        cu = model.catchup_of(ph.index)
        expected = f"expected: {EXPECTED.get(ph.mode, 'either direction')}"
        if cu is None or cu.state == "no baseline":
            why = (
                cu.reason
                if cu is not None and cu.reason
                else "catch-up needs a baseline phase first"
            )
            return "no baseline", why
        hr = model.catchup_of(ph.index, "hr")
        hr_line = (
            f"HR: {_catchup_headline(hr, with_metric=False)}"
            if hr and hr.state != "no baseline"
            else ""
        )
        onset = ""
        if cu.out_at_onset:
            side = "above" if cu.direction == "up" else "below"
            onset = f"ln RMSSD was already {side} the band when the hold began"
        return _catchup_headline(cu), "\n".join(x for x in (onset, expected, hr_line) if x)
    if ph is not None and ph.kind == "baseline":
        return (
            "measuring baseline",
            "your resting band (the range a 1-minute estimate takes at rest) is drawn when "
            "the baseline ends",
        )
    last = _last_hold_catchup(model)
    if last is not None:
        name = next((p.name for p in model.phases if p.index == last.phase_index), "last hold")
        onset = "\nalready out of the band at onset" if last.out_at_onset else ""
        return _catchup_headline(last), f"{name}: catch-up result{onset}"
    if not has_baseline and model.phases:
        return DASH, "no baseline phase: catch-up not available"
    return DASH, "catch-up is shown during holds"


METRIC_NAMES = {"ln_rmssd": "ln RMSSD", "hr": "HR"}
ARROWS = {"up": "↑", "down": "↓"}


def _catchup_headline(cu: CatchUpView, with_metric: bool = True, onset_note: bool = False) -> str:
    arrow = ARROWS.get(cu.direction, "")
    metric = METRIC_NAMES.get(cu.metric, cu.metric) if with_metric else ""
    what = f" ({metric} {arrow})" if with_metric and arrow else (f" {arrow}" if arrow else "")
    if cu.state == "caught up" and cu.latency_s is not None:
        if cu.out_at_onset and with_metric and onset_note:
            what = f" ({metric} {arrow}, already out at onset)"
        return f"caught up at {clock(cu.latency_s)}{what}"
    if cu.state == "catching up":
        return f"catching up…{what}"
    if cu.state == "out of band at onset":
        return f"out of band at onset{what} — carried over, not a catch-up"
    if cu.state == "not reached":
        return "not reached"
    return "not yet"


def _last_hold_catchup(model: ViewModel) -> CatchUpView | None:
    for p in reversed(model.phases):
        cu = model.catchup_of(p.index) if p.kind == "hold" else None
        if cu is not None:
            return cu
    return None


def battery_text(st: Status) -> str:
    return "battery ?" if st.battery_percent is None else f"battery {st.battery_percent}%"


def contact_text(st: Status) -> str:
    if st.contact is None:
        return "contact: not reported"
    return "contact ✓" if st.contact else "NO SKIN CONTACT"


def connection_text(st: Status) -> str:
    return {
        "connecting": "connecting…",
        "connected": "connected",
        "restored": "connected (restored)",
        "lost": "reconnecting…",
        "contact_lost": "connected, contact lost",
        "contact_restored": "connected",
    }.get(st.connection, st.connection.replace("_", " "))


def quality_text(model: ViewModel) -> str:
    m = model.metrics
    if m is None or m.n_beats + m.n_flagged == 0:
        return "signal: no beats yet"
    return f"signal: {m.flagged_share:.0%} flagged (last {m.window_s:.0f} s)"


def quality_ok(model: ViewModel, limit: float = 0.05) -> bool:
    m = model.metrics
    return m is None or m.flagged_share <= limit


def header_texts(model: ViewModel) -> tuple[str, str, str, str, str]:
    """(mode, title line, big line, small line, time line) of the header.

    During a phase: its mode, name and place, the belief (or the prompt) large, the
    prompt small, the time left. After the session: a summary of the holds.
    """
    m = model
    n_phases = len(m.protocol.phases) if m.protocol is not None else 0
    now = clock(m.now_s)
    if m.end is not None:
        holds = [p for p in m.phases if p.kind == "hold"]
        last = holds[-1] if holds else (m.phases[-1] if m.phases else None)
        mode = last.mode if last else "neutral"
        name = m.protocol.name if m.protocol is not None and m.protocol.name else "session"
        title = f"session ended ({m.end.reason}) · {name} protocol"
        big = belief_text(last) if last is not None and last.belief else "Session ended"
        results = []
        for p in holds:
            cu = model.catchup_of(p.index)
            if cu is not None:
                results.append(f"{p.name}: {_catchup_headline(cu, onset_note=True)}")
        small = " · ".join(results) or "close the window to finish"
        return mode, title, big, small, f"ended\nsession {now}"
    ph = m.current_phase
    if ph is None:
        if m.status.connection == "connecting":
            return "neutral", "connecting to your strap…", "Put the strap on and wait.", "", now
        return "neutral", "waiting for the first phase", "", "", now
    place = f" · phase {ph.index + 1} of {n_phases}" if n_phases else ""
    meaning = MODE_MEANING.get(ph.mode, "")
    title = f"{ph.name}{place}" + (f" · {meaning}" if ph.kind == "hold" and meaning else "")
    return (
        ph.mode,
        title,
        belief_text(ph),
        prompt_text(ph),
        f"{time_left_text(ph, m.now_s, False)}\nsession {now}",
    )
