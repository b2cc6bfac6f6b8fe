"""`compare`'s practice sections: rating change and the body after lapses, by group, with
the same statistics as the physiology (holdbeat.analysis.groups). Rendering only."""

from __future__ import annotations

import math

from holdbeat.analysis.compare import METRIC_TEXT, Comparison, verdict
from holdbeat.analysis.groups import GroupStats
from holdbeat.analysis.stats import Estimate

TITLES = {
    "dbelief": "BELIEF RATING, after − before the hold (0–10 scale)",
    "dsafety": "FELT-SAFETY RATING, after − before the hold (0–10 scale)",
    "lapse_dln": "AFTER LAPSES: ln RMSSD 30–60 s after the lapse key − the 30 s before",
}


def _ci(e: Estimate) -> str:
    return f"{e.ci_lo:+.3g} to {e.ci_hi:+.3g}" if e.ok else e.reason


def lapse_sentence(group: str, e: Estimate) -> str:
    """'after lapses, ln RMSSD fell back by …' in words, with its interval."""
    if e.n == 0:
        return f"{group}: no measurable lapses."
    if not e.ok:
        return f"{group}: after lapses ln RMSSD changed by {e.mean:+.3g} on average ({e.reason})."
    way = "fell back" if e.mean < 0 else "rose"
    sure = (
        "clearly, the interval excludes zero"
        if e.excludes_zero
        else "the interval includes zero, so it could be no change"
    )
    return (
        f"{group}: after lapses, ln RMSSD {way} by {abs(e.mean):.3g} (95 % CI {_ci(e)}; "
        f"{e.n} sessions) — {sure}."
    )


def format_practice_sections(cmp: Comparison, table) -> list[str]:
    out: list[str] = []
    for metric, gs in cmp.extra.items():
        out += ["", TITLES.get(metric, METRIC_TEXT[metric][0].upper())]
        rows = []
        for g in gs.groups:
            e = g.estimate
            if not g.n_holds:
                continue
            rows.append(
                [g.mode, str(e.n), f"{e.mean:+.3g}" if e.n else "—", _ci(e) if e.n else "—"]
            )
        if not rows:
            out.append("  no values")
            continue
        out += table(["group", "sessions", "mean", "95 % CI"], rows, right={1, 2})
        if metric == "lapse_dln":
            out += [f"  • {lapse_sentence(g.mode, g.estimate)}" for g in gs.groups if g.n_holds]
        for unp, par in zip(gs.pairwise, gs.paired, strict=True):
            c = par if par.ok else unp
            if c.ok:
                out.append("  • " + verdict(c, metric))
    return out


def _num(x: float) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def extra_to_dict(gs: GroupStats) -> dict:
    def contrast(c) -> dict:
        return {
            "a": c.a,
            "b": c.b,
            "paired": c.paired,
            "n_a": c.n_a,
            "n_b": c.n_b,
            "diff": _num(c.diff),
            "ci": [_num(c.ci_lo), _num(c.ci_hi)],
            "hedges_g": _num(c.g),
            "p_permutation": _num(c.p),
            "reason": c.reason,
        }

    return {
        "metric": gs.metric,
        "by": gs.by,
        "groups": [
            {
                "group": g.mode,
                "sessions": g.estimate.n,
                "holds": g.n_holds,
                "mean": _num(g.estimate.mean),
                "median": _num(g.estimate.median),
                "ci": [_num(g.estimate.ci_lo), _num(g.estimate.ci_hi)],
                "reason": g.estimate.reason,
            }
            for g in gs.groups
        ],
        "pairwise": [contrast(c) for c in gs.pairwise],
        "within_session": [contrast(c) for c in gs.paired],
    }
