"""A simulated practitioner's month: ~20 sessions over four weeks, for trying `history`.

    python scripts/simulate_month.py OUT_DIR [--start 2026-11-02] [--seed 7]
    holdbeat history OUT_DIR --png month.png
    holdbeat compare OUT_DIR --by target

Each session runs through the same pipeline as `holdbeat demo` (simulated strap → session
runner → recorder), with the session's start date set (`demo --start`), a situation and its
suggested mode (`--suggest`), a note before (`--note`), sometimes a note after (`holdbeat
note`), and the act-and-savor answers the simulated person gives.

The simulated person is made to *learn* so the figures have something to show: from week
1 to week 4 the body's response to a hold grows (bigger HR and vagal change, faster catch-up)
and lapses thin out; holds about the future-model respond more weakly than holds about the
self or a relationship. Real weeks will be noisier. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from holdbeat.events import Device
from holdbeat.notes import append_note
from holdbeat.pipeline import from_iterable, run_session
from holdbeat.practice import PracticePlan, PracticePlanner
from holdbeat.protocols import load_protocol
from holdbeat.recording_writer import new_header
from holdbeat.session import DEFAULT_ACTION_S, beliefs_of, with_beliefs
from holdbeat.sim.body import CLEAR_RESPONSES, ModeResponse, SimConfig
from holdbeat.sinks.recorder import RecorderSink
from holdbeat.sources.simulator import simulate
from holdbeat.suggest import suggest

# (day offset in the week, hour, protocol, mode, target, belief, situation, note after)
WEEK = [
    (0, 7.5, "single", "fierce", "self", None, "this mistake is defining who I am", ""),
    (
        1,
        21.0,
        "loving-kindness",
        None,
        "relational",
        None,
        "I feel unlovable after the fight",
        "softer by the end",
    ),
    (
        2,
        7.0,
        "quick",
        "soft",
        "self",
        "I acted, and it counts.",
        "I just sent the email I was avoiding",
        "",
    ),
    (3, 19.5, "act-and-savor", None, "self", None, "I keep putting off the call", ""),
    (
        4,
        8.0,
        "single",
        "fierce",
        "future",
        "I can handle what comes next.",
        "I'm scared the review will go badly",
        "the fear came back twice",
    ),
    (
        5,
        17.0,
        "boundary-then-held",
        None,
        "relational",
        None,
        "I said no to my brother and now I don't feel safe",
        "",
    ),
]


def person(week: int, target: str, seed: int) -> SimConfig:
    """The simulated person in a given week (0-3): learning, and weaker on the future."""
    grow = 0.45 + 0.18 * week  # response strength relative to the demo's clear responses
    if target == "future":
        grow *= 0.5
    responses = {
        m: ModeResponse(
            r.dhr_bpm * grow, 1.0 + (r.vagal_gain - 1.0) * grow, r.tau_s / (0.7 + 0.15 * week)
        )
        for m, r in CLEAR_RESPONSES.items()
    }
    return SimConfig(
        seed=seed, responses=responses, lapse_per_min=0.9 - 0.2 * week, artifact_rate=0.01
    )


def one_session(out: Path, when: datetime, spec: tuple, week: int, seed: int) -> Path:
    _, _, name, mode, target, belief, situation, after = spec
    proto = load_protocol(name)
    sug = suggest(situation)
    single = len(proto.holds) == 1
    if single and mode is None:
        mode = sug.mode
    proto = with_beliefs(proto, mode=mode if single else None, belief=belief, target=target)
    if not single:  # the protocol's own modes; the target of the day
        proto = replace(
            proto,
            phases=tuple(replace(p, target=target) if p.is_hold else p for p in proto.phases),
        )
    cfg = person(week, target, seed)
    header = new_header(
        Device(name="holdbeat simulated strap", address="SIM-0001", source="simulator"),
        protocol=proto.to_dict(),
        beliefs=beliefs_of(proto),
        settings={"window_s": 60.0, "seed": seed, "simulated_month_week": week + 1},
        started=when,
        practice={
            "situation": situation,
            "suggestion": sug.to_dict(),
            "applied": mode is None or mode == sug.mode,
        },
    )
    planner = PracticePlanner(PracticePlan(note_before=f"week {week + 1}: {situation}"))
    rec = RecorderSink(out)
    asyncio.run(
        run_session(
            from_iterable(simulate(proto, cfg)),
            [rec],
            header,
            proto,
            open_phase_s=DEFAULT_ACTION_S,
            planner=planner,
        )
    )
    assert rec.path is not None
    if after:
        append_note(rec.path, after)
    return rec.path


def simulate_month(out: Path, start: datetime, seed: int = 7, weeks: int = 4) -> list[Path]:
    paths = []
    for week in range(weeks):
        for i, spec in enumerate(WEEK):
            day, hour = spec[0], spec[1]
            if (week + i) % 7 == 6:  # a missed day now and then
                continue
            when = start + timedelta(days=7 * week + day, hours=hour)
            paths.append(one_session(out, when, spec, week, seed * 1000 + week * 10 + i))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--start", default="2026-11-02", help="Monday of week 1 (local date)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--weeks", type=int, default=4)
    a = ap.parse_args()
    start = datetime.fromisoformat(a.start)
    paths = simulate_month(a.out, start, a.seed, a.weeks)
    print(f"{len(paths)} sessions in {a.out}")


if __name__ == "__main__":
    main()
