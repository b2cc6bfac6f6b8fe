"""The practice flags `hold` and `demo` share: the situation and its suggested mode, the note
before, the action of act-and-savor, sound cues. Thin: the rules live in holdbeat.suggest,
holdbeat.practice and holdbeat.cues."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from holdbeat.commands._types import positive_float, text
from holdbeat.cues import CueConfig
from holdbeat.practice import PracticePlan, PracticePlanner
from holdbeat.printing import say as say_line
from holdbeat.session import DEFAULT_BELIEFS, DEFAULT_PROMPTS, Protocol
from holdbeat.suggest import STANCE_PROMPTS, Suggestion, suggest
from holdbeat.textout import clean


def add_practice_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the practice")
    g.add_argument(
        "--note",
        type=text,
        metavar="TEXT",
        help="a note before you start (the situation, in your words); saved in the recording",
    )
    g.add_argument(
        "--action",
        type=text,
        metavar="TEXT",
        help="act-and-savor: the action you will take in the action phase (else asked then)",
    )
    g.add_argument(
        "--cues",
        action="store_true",
        help="sound cues for practising with eyes closed: phase and hold start, the rating "
        "scale, the end; ratings answered by a tone of their value",
    )
    g.add_argument(
        "--bell",
        type=positive_float,
        metavar="S",
        help="with --cues: a soft bell every S seconds during a hold (at least 10)",
    )
    g.add_argument(
        "--cues-wav",
        type=Path,
        metavar="PATH",
        help="also write the session's sounds to a WAV file (works without a sound device)",
    )


def cue_config(args: argparse.Namespace) -> CueConfig | None:
    """None unless --cues / --bell / --cues-wav. Raises ValueError on a bad --bell."""
    if not (getattr(args, "cues", False) or getattr(args, "bell", None) or args.cues_wav):
        return None
    return CueConfig(bell_s=args.bell, ratings=True)


def practice_plan(args: argparse.Namespace) -> PracticePlan:
    return PracticePlan(
        note_before=(args.note or "").strip(),
        action=(args.action or "").strip(),
        cues=cue_config(args),
    )


def planner_for(args: argparse.Namespace) -> PracticePlanner | None:
    plan = practice_plan(args)
    return None if plan.empty else PracticePlanner(plan)


def practice_header(args: argparse.Namespace, protocol: Protocol) -> dict:
    """The header's `practice` field: the situation and the mode suggested for it."""
    text = (getattr(args, "suggest", None) or "").strip()
    if not text:
        return {}
    s = suggest(text)
    return {
        "situation": text,
        "suggestion": s.to_dict(),
        "applied": args.mode is None and len(protocol.holds) == 1,
    }


def show_suggestion(text: str, protocol: Protocol, out: TextIO) -> tuple[Suggestion, str | None]:
    """Print the suggestion and its reason -> (it, the mode to use: None when the protocol
    has its own modes). Never a gate: --mode always wins (then this is not called)."""
    s = suggest(text)
    print(f"suggested mode: {s.label} — {clean(s.reason)}", file=out)
    if len(protocol.holds) != 1:
        print(f"(protocol {protocol.name!r} has its own modes; suggestion not applied)", file=out)
        return s, None
    print("(a suggestion, not a rule: --mode chooses another)", file=out)
    return s, s.mode


def with_stance(protocol: Protocol, s: Suggestion, belief_given: bool) -> Protocol:
    """The stance's prompt (refusal, remembrance) and a belief that fits the situation, for
    holds that still have the mode's defaults."""
    phases = list(protocol.phases)
    for i, p in enumerate(phases):
        if not p.is_hold:
            continue
        prompt = p.prompt
        if s.stance and prompt == DEFAULT_PROMPTS.get(f"hold:{p.mode}"):
            prompt = STANCE_PROMPTS[s.stance]
        belief = p.belief
        if not belief_given and s.belief and belief == DEFAULT_BELIEFS.get(p.mode):
            belief = s.belief
        phases[i] = replace(p, prompt=prompt, belief=belief)
    return replace(protocol, phases=tuple(phases))


def ask_practice(
    args: argparse.Namespace, protocol: Protocol, ask: Callable[[str], str], out: TextIO
) -> None:
    """--ask: what is happening (for a suggestion), a note, the action; Enter skips each."""
    if args.mode is None and not args.suggest and len(protocol.holds) == 1:
        text = ask("what is happening right now? (for a mode suggestion; Enter to skip): ")
        args.suggest = text.strip() or None
    if args.note is None:
        args.note = ask("a note before you start (Enter to skip): ").strip() or None
    if args.action is None and any(p.kind == "action" for p in protocol.phases):
        args.action = ask("the action you will take (Enter to say it later): ").strip() or None


def audio_sinks(args: argparse.Namespace, say: Callable[[str], None] | None = None) -> list:
    """The sound sinks for --cues (the device) and --cues-wav (a file)."""
    from holdbeat.sinks.audio import AudioSink, WavOut, open_audio

    out: list = []
    if getattr(args, "cues", False) or getattr(args, "bell", None):
        out.append(AudioSink(opener=open_audio, say=say or _stderr))
    if args.cues_wav is not None:
        from holdbeat.output import OutputError, check_target

        # OutputError now, not after the session; never over an input or the screenshot
        shot = getattr(args, "screenshot", None)
        check_target(args.cues_wav, force=True, inputs=input_files(args))
        if shot is not None and Path(shot).absolute() == Path(args.cues_wav).absolute():
            raise OutputError(f"{args.cues_wav} is also the --screenshot: give two names")
        out.append(AudioSink(WavOut(args.cues_wav), opener=None))
    return out


def input_files(args: argparse.Namespace) -> list[Path]:
    """The files a session command reads (a --protocol file, replay's recording): its
    outputs (--screenshot, --cues-wav) never write over them."""
    named = [getattr(args, "protocol", None), getattr(args, "file", None)]
    return [Path(f) for f in named if f is not None and Path(f).exists()]


def _stderr(line: str) -> None:
    say_line(line, sys.stderr)  # names a sound device (its owner chose the name): escaped
