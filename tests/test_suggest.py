"""Mode suggestion by the seeds' rules: a table of phrasings a practitioner might type."""

from __future__ import annotations

import pytest

from holdbeat.session import suggest_mode
from holdbeat.suggest import RULES, Suggestion, stem, suggest, tokenize

LOVE = "shame-revokes-love"
IDENT = "shame-defines-identity"
SAFE = "safety-missing"
MEANING = "meaning-attacked"
ACTED = "acted"

# (what the person writes, the rule it must match); modes follow from the rule
TABLE = [
    # shame tries to define identity -> fierce with refusal
    ("it is defining me", IDENT),
    ("This mistake is defining who I am", IDENT),
    ("shame tries to define me", IDENT),
    ("I'm such a failure", IDENT),
    ("I feel like a complete loser today", IDENT),
    ("I am worthless", IDENT),
    ("I keep thinking I'm a fraud and everyone will find out", IDENT),
    ("I messed up the presentation and now I'm just stupid", IDENT),
    ("I'm not good enough", IDENT),
    ("I feel so ashamed", IDENT),
    ("Embarrassed about what I said, I'm an idiot", IDENT),
    ("failing the exam says what I am", IDENT),
    ("I feel like a bad person", IDENT),
    # shame tries to revoke love -> loving-kindness with remembrance
    ("I feel unlovable after the fight", LOVE),
    ("nobody loves me", LOVE),
    ("No one cares about me", LOVE),
    ("after the argument I feel unwanted", LOVE),
    ("I don't deserve to be loved", LOVE),
    ("I'm ashamed and I think she will leave me", LOVE),
    ("they hate me now", LOVE),
    ("I feel rejected by my friends", LOVE),
    ("I'm a burden to everyone around me", LOVE),
    ("he ignored me all evening and I feel like I'm too much", LOVE),
    # safety is missing -> loving-kindness
    ("I don't feel safe", SAFE),
    ("I do not feel safe at all", SAFE),
    ("I never feel secure around him", SAFE),
    ("I'm scared", SAFE),
    ("I feel anxious and alone", SAFE),
    ("panicking about tomorrow", SAFE),
    ("everything feels threatening and overwhelming", SAFE),
    ("I'm terrified of the appointment", SAFE),
    ("I can't calm down", SAFE),
    ("I'm scared the review will go badly", SAFE),
    # meaning is being attacked -> fierce
    ("they mocked the work I care about", MEANING),
    ("My boss dismissed the project I believe in", MEANING),
    ("nothing I do matters", MEANING),
    ("it feels pointless", MEANING),
    ("people laughed at my art", MEANING),
    ("someone said my values are naive", MEANING),
    ("there's no point to any of it", MEANING),
    # after an action that succeeded -> soft
    ("I just sent the email I was avoiding", ACTED),
    ("I finally did it", ACTED),
    ("I made the phone call and it went fine", ACTED),
    ("I told him no and it worked", ACTED),
    ("finished the report I had been putting off", ACTED),
    ("I spoke up in the meeting", ACTED),
    ("I've just submitted the application", ACTED),
    ("Cleaned the kitchen after weeks, I'm proud", ACTED),
]

NO_CUE = [
    "",
    "   ",
    "just sitting here",
    "the weather is grey",
    "I need to send the email tomorrow",  # planned, not done
    "I didn't send the email",  # not done: no success to savour
    "I feel safe",  # safety present
]


def test_the_table_is_large_enough_and_covers_every_rule() -> None:
    assert len(TABLE) >= 40
    assert {rule for _, rule in TABLE} == set(RULES)


@pytest.mark.parametrize("text,rule", TABLE)
def test_phrasings(text: str, rule: str) -> None:
    s = suggest(text)
    want = RULES[rule]
    assert (s.rule, s.mode, s.stance) == (rule, want.mode, want.stance), s.reason
    assert s.reason.startswith(want.why)
    assert s.cues, "a suggestion names the words behind it"
    assert all(c.split()[0] in text.lower().replace("'", " ") or c for c in s.cues)
    assert s.belief == want.belief


@pytest.mark.parametrize("text", NO_CUE)
def test_no_cue_is_the_default_and_says_so(text: str) -> None:
    s = suggest(text)
    assert s == Suggestion("fierce", "", "default", s.reason, (), "")
    assert "no clear cue" in s.reason and "--mode" in s.reason


def test_negation_flips_safety() -> None:
    assert suggest("I don't feel safe").rule == SAFE
    assert suggest("I feel safe").rule == "default"
    # the negation ends at the clause: "not" does not reach past "but"
    assert suggest("I am not alone but I feel unsafe").rule == SAFE
    assert suggest("I'm not scared").rule == "default"


def test_the_last_clause_weighs_more() -> None:
    """'I sent it, but now I'm terrified' is about the fear now."""
    assert suggest("I sent the message, but now I'm terrified").rule == SAFE
    assert suggest("I was terrified, but I sent the message").rule == ACTED


def test_labels_and_dict() -> None:
    s = suggest("I feel unlovable after the fight")
    assert s.label == "loving-kindness with remembrance"
    assert s.to_dict() == {
        "mode": "loving-kindness",
        "stance": "remembrance",
        "rule": LOVE,
        "reason": s.reason,
        "cues": list(s.cues),
    }
    assert suggest("I'm scared").label == "loving-kindness"


def test_stems_meet_across_word_forms() -> None:
    assert stem("defining") == stem("defines") == stem("defined") == stem("define")
    assert stem("loving") == stem("loved") == stem("love")
    assert stem("stopped") == stem("stop")
    assert stem("felt") == "feel"
    toks = tokenize("I don't feel safe, but I'm OK")
    assert [(t.word, t.negated) for t in toks][:5] == [
        ("i", False),
        ("do", True),  # the auxiliary before "not" is negated too ("did not send")
        ("not", False),
        ("feel", True),
        ("safe", True),
    ]
    assert toks[-1].weight == 1.5


def test_session_suggest_mode_uses_the_rules() -> None:
    mode, why = suggest_mode("I just sent the email I was avoiding")
    assert mode == "soft" and why.startswith("you acted")
