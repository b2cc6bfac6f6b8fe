"""Which mode fits what is happening: the seeds' rules as a small, explainable matcher.

The rules (DESIGN.md §1):

| what is happening                       | mode                              |
| --------------------------------------- | --------------------------------- |
| meaning is being attacked               | fierce (boundary, authority)      |
| safety is missing                       | loving-kindness                   |
| shame tries to revoke love              | loving-kindness with remembrance  |
| shame tries to define identity          | fierce with refusal               |
| an action just succeeded                | soft (let it count)               |

The text is lower-cased, contractions are expanded ("don't" -> "do not"), words are
reduced to rough stems (a few suffix rules plus irregular verbs, so "defining", "defines"
and "defined" meet), and a negation ("not", "no", "never", "nobody", "without"…) flips the
next few words up to a clause boundary, so "I don't feel safe" is safety missing while
"I feel safe" is not. Words after "but" count more: the last clause is usually the point.
Each rule scores the cue words it finds; the best score wins, ties go to the rule listed
first above in `PRIORITY`. The result always names its reason and the words behind it and
is only ever a suggestion: `--mode` wins, and a text with no cue gets the default (fierce)
saying so. No network, no model: tests/test_suggest.py holds the phrasings it must get right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------- words -> stems

_CONTRACTIONS = (
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bain't\b", "is not"),
    (r"\bshan't\b", "shall not"),
    (r"n't\b", " not"),
    (r"'m\b", " am"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"'s\b", " is"),
)


def _split(text: str) -> list[str]:
    return text.split()


_IRREGULAR = {
    "felt": "feel",
    "sent": "send",
    "did": "do",
    "done": "do",
    "does": "do",
    "made": "make",
    "told": "tell",
    "went": "go",
    "gone": "go",
    "spoke": "speak",
    "spoken": "speak",
    "left": "leave",
    "thought": "think",
    "said": "say",
    "got": "get",
    "gotten": "get",
    "paid": "pay",
    "stood": "stand",
    "kept": "keep",
    "held": "hold",
    "lost": "lose",
    "ran": "run",
    "wrote": "write",
    "written": "write",
    "took": "take",
    "taken": "take",
    "gave": "give",
    "given": "give",
    "faced": "face",
    "was": "be",
    "were": "be",
    "is": "be",
    "are": "be",
    "am": "be",
    "been": "be",
    "being": "be",
    "has": "have",
    "had": "have",
    "children": "child",
    "people": "person",
    "hates": "hate",
    "broke": "break",
    "broken": "broken",
    "fought": "fight",
    "dumped": "dump",
}
#: past forms that are not "-ed": an action in one of these is done, not planned
_PAST = frozenset(
    _split(
        """
        sent did done made told went spoke spoken wrote written paid stood took gave got
        finished said ran faced
        """
    )
)
_SUFFIXES = ("fulness", "ingly", "ness", "ment", "ing", "ies", "ied", "ed", "ly", "es", "s")
_CONSONANT_DOUBLES = re.compile(r"([bcdfgkmnprt])\1$")


def stem(word: str) -> str:
    """A rough stem: irregular verbs, one suffix, a doubled last consonant, a final 'e'."""
    w = _IRREGULAR.get(word, word)
    if w != word:
        return w
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    w = _CONSONANT_DOUBLES.sub(r"\1", w)
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


_NEGATORS = frozenset(
    _split("not no never nobody nothing none neither nor without hardly barely noone nowhere")
)
_CONTRAST = {"but", "yet", "though", "although", "however", "still"}
_BOUNDARY = {".", ",", ";", "!", "?", ":", "because", "so", "and", "then", "after", "since"}
_AUXILIARIES = {"do", "be", "have", "will", "would", "can", "could", "should", "must", "may"}
NEGATION_SPAN = 4  # words after a negator that it reaches (within the clause)


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # as written (lower case, contractions expanded)
    stem: str
    negated: bool
    weight: float  # 1.5 after "but", else 1


def tokenize(text: str) -> list[Token]:
    s = text.lower().replace("’", "'").replace("‘", "'")
    s = re.sub(r"\bno one\b", "noone", s)
    for pat, rep in _CONTRACTIONS:
        s = re.sub(pat, rep, s)
    raw = re.findall(r"[a-z]+|[.,;!?:]", s)
    out: list[Token] = []
    neg_left = 0
    weight = 1.0
    for w in raw:
        if w in _BOUNDARY or w in _CONTRAST:
            neg_left = 0
            if w in _CONTRAST:
                weight = 1.5
            out.append(Token(w, w, False, weight))
            continue
        if w in _NEGATORS:
            if out and out[-1].stem in _AUXILIARIES:  # "did not send": "did" is not done
                out[-1] = Token(out[-1].word, out[-1].stem, True, out[-1].weight)
            out.append(Token(w, w, False, weight))
            neg_left = NEGATION_SPAN
            continue
        out.append(Token(w, stem(w), neg_left > 0, weight))
        neg_left = max(0, neg_left - 1)
    return out


# ---------------------------------------------------------------- cue lexicon


def _stems(*words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


def _words(text: str) -> frozenset[str]:
    return _stems(*text.split())


THREAT = _words(
    """
    scared afraid fear frightened terrified anxious anxiety panic panicking threatened
    threat danger dangerous unsafe insecure exposed vulnerable overwhelmed shaking
    nervous dread alone lonely isolated helpless trapped unprotected tense uneasy
    worried worry
    """
)
SAFETY = _stems("safe", "safety", "secure", "protected", "calm", "grounded", "supported")
LOVE = _words(
    """
    love loved lovable loveable care wanted accepted belong liked welcome deserve
    forgive worthy
    """
)
LOVE_LOSS = _words(
    """
    unlovable unloveable unloved unwanted rejected reject abandoned abandon hate
    disgusted disappointed fight argument breakup dumped ignored burden withdrawn cold
    leave
    """
)
SHAME = _words(
    """
    shame ashamed shameful embarrassed humiliated humiliation guilty guilt disgusting
    disgrace pathetic mistake messed screwed failed
    """
)
IDENTITY = _words(
    """
    define defining redefine identity failure loser fraud idiot stupid worthless
    useless broken weak incompetent inadequate defective enough label impostor
    imposter
    """
)
#: "who I am", "what I am", "the kind of person", "I am a …": identity phrases
_IDENTITY_PHRASES = (
    ("who", "i", "be"),
    ("what", "i", "be"),
    ("kind", "of", "person"),
    ("bad", "person"),
)
MEANING = _words(
    """
    meaning meaningful matter point purpose value values work mission believe care
    calling art project idea
    """
)
MEANING_CORE = _stems("matter", "point", "meaning", "purpose")  # "it doesn't matter"
MEANING_LOST = _stems("meaningless", "pointless", "futile", "trivial", "worthless")
ATTACK = _words(
    """
    attacked attack mocked mock ridiculed belittled dismissed dismissive laughed
    insulted criticized criticised undermined trashed sneered scoffed invalidated
    questioned contempt waste silly naive
    """
)
ACTION = _words(
    """
    did done finished sent made called told spoke asked submitted applied cleaned wrote
    completed handled managed went showed faced confronted paid booked fixed delivered
    posted replied answered succeeded worked nailed accomplished achieved pulled set
    said ran started cancelled canceled returned opened
    """
)
SUCCESS = _stems("finally", "proud", "relieved", "success", "succeeded", "accomplished", "win")
_PAST_MARKERS = {"just", "finally", "already", "have", "actually"}


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    mode: str
    stance: str  # how to hold it: "refusal", "remembrance" or ""
    why: str
    how: str
    belief: str  # a belief to offer when the user gave none


RULES = {
    "shame-revokes-love": Rule(
        "shame-revokes-love",
        "loving-kindness",
        "remembrance",
        "shame is trying to revoke love",
        "remember that you are still held, even now",
        "I am still held, even now.",
    ),
    "shame-defines-identity": Rule(
        "shame-defines-identity",
        "fierce",
        "refusal",
        "shame is trying to define who you are",
        "refuse it with authority: this does not get to define me",
        "This does not get to define me.",
    ),
    "safety-missing": Rule(
        "safety-missing",
        "loving-kindness",
        "",
        "safety feels missing",
        "open up and push nothing away: am I still held, even now?",
        "I can be safe here, right now.",
    ),
    "meaning-attacked": Rule(
        "meaning-attacked",
        "fierce",
        "",
        "what you care about is being attacked",
        "hold your ground with authority: who gets to define this for me?",
        "What I care about is mine to hold.",
    ),
    "acted": Rule(
        "acted",
        "soft",
        "",
        "you acted and it worked",
        "let it count and let the satisfaction land",
        "I acted, and it counts.",
    ),
}
PRIORITY = tuple(RULES)  # ties: shame first, then safety, meaning, action
DEFAULT_MODE = "fierce"

#: the prompt shown during the hold for each stance (when the suggestion is applied)
STANCE_PROMPTS = {
    "refusal": "Refuse it: this does not get to define me. Who gets to define me right now?",
    "remembrance": "Remember: you are still held, even now. Push nothing away.",
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    mode: str
    stance: str
    rule: str  # a key of RULES, or "default"
    reason: str
    cues: tuple[str, ...]  # the words that decided it, as written
    belief: str  # a belief that fits, offered when the user gave none

    @property
    def label(self) -> str:
        return f"{self.mode} with {self.stance}" if self.stance else self.mode

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "stance": self.stance,
            "rule": self.rule,
            "reason": self.reason,
            "cues": list(self.cues),
        }


def _score(tokens: list[Token]) -> tuple[dict[str, float], dict[str, list[str]]]:
    score = dict.fromkeys(RULES, 0.0)
    cues: dict[str, list[str]] = {k: [] for k in RULES}
    love_loss = shame = identity = 0.0
    love_cues: list[str] = []
    shame_cues: list[str] = []
    id_cues: list[str] = []
    stems = [t.stem for t in tokens]

    def hit(rule: str, t: Token, w: float = 2.0) -> None:
        score[rule] += w * t.weight
        cues[rule].append(t.word)

    for i, t in enumerate(tokens):
        s = t.stem
        near_before = {x.word for x in tokens[max(0, i - 2) : i]}
        if (s in THREAT and not t.negated) or (s in SAFETY and t.negated):
            hit("safety-missing", t)
        if (s in LOVE_LOSS and not t.negated) or (s in LOVE and t.negated):
            love_loss += t.weight
            love_cues.append(t.word)
        if s in SHAME:
            shame += t.weight * (0.5 if t.negated else 1.0)
            shame_cues.append(t.word)
        if s in IDENTITY:
            identity += t.weight * (0.5 if t.negated and s != stem("enough") else 1.0)
            id_cues.append(t.word)
        for phrase in _IDENTITY_PHRASES:
            if tuple(stems[i : i + len(phrase)]) == phrase:
                identity += t.weight
                id_cues.append(" ".join(x.word for x in tokens[i : i + len(phrase)]))
        if (s in MEANING_LOST and not t.negated) or (s in MEANING_CORE and t.negated):
            hit("meaning-attacked", t)
        if s in ATTACK and not t.negated:
            hit("meaning-attacked", t, 1.0)
            if any(x in MEANING for x in stems):
                score["meaning-attacked"] += 1.0 * t.weight
        past = t.word in _PAST or t.word.endswith("ed") or bool(near_before & _PAST_MARKERS)
        if s in ACTION and past and not t.negated:
            hit("acted", t)
        if s in SUCCESS and not t.negated and t.word != "finally":
            hit("acted", t, 1.0)
    if love_loss:
        score["shame-revokes-love"] += 2.0 * love_loss + shame
        cues["shame-revokes-love"] += love_cues + shame_cues
    if identity:
        score["shame-defines-identity"] += 2.0 * identity + (0.0 if love_loss else shame)
        cues["shame-defines-identity"] += id_cues + ([] if love_loss else shame_cues)
    elif shame and not love_loss:
        # bare shame ("I feel so ashamed"): it is defining you until you refuse it
        score["shame-defines-identity"] += shame
        cues["shame-defines-identity"] += shame_cues
    return score, cues


def suggest(text: str) -> Suggestion:
    """The mode that fits `text` by the seeds' rules, with the reason and the cue words."""
    score, cues = _score(tokenize(text or ""))
    best = max(PRIORITY, key=lambda k: (score[k], -PRIORITY.index(k)))
    if score[best] <= 0:
        return Suggestion(
            DEFAULT_MODE,
            "",
            "default",
            "no clear cue in what you wrote; fierce (boundary, refusal) is the default "
            "— choose another with --mode",
            (),
            "",
        )
    rule = RULES[best]
    words = tuple(dict.fromkeys(cues[best]))
    quoted = ", ".join(f"'{w}'" for w in words[:4])
    return Suggestion(
        rule.mode,
        rule.stance,
        rule.name,
        f"{rule.why} ({quoted}): {rule.how}",
        words,
        rule.belief,
    )
