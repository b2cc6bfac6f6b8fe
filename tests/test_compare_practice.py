"""compare --by target / mode,target, rating change and lapse response with the same
statistics, and the CSV's new columns."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import record_simulated

from holdbeat.analysis.compare import CompareConfig, compare, summarize
from holdbeat.analysis.groups import group_key, group_order
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import build_report
from holdbeat.cli import main
from holdbeat.protocols import load_protocol
from holdbeat.recording import load
from holdbeat.session import with_beliefs
from holdbeat.sim.body import SimConfig

RES = 499


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("targets")
    single = load_protocol("single")
    for seed in range(5):
        for target in ("self", "future"):
            p = with_beliefs(single, mode="soft", target=target)
            record_simulated(d, p, SimConfig(seed=100 * seed + len(target), lapse_per_min=1.5))
    return d


@pytest.fixture(scope="module")
def sums(folder: Path):
    return [summarize(prepare(load(f))) for f in sorted(folder.glob("*.jsonl"))]


def by_hand(folder: Path) -> dict[str, dict[str, list[float]]]:
    """target -> {"dln": per-session Δ ln RMSSD from the report, "dbelief": post − pre}."""
    out: dict[str, dict[str, list[float]]] = {}
    for f in sorted(folder.glob("*.jsonl")):
        rec = load(f)
        rep = build_report(prepare(rec))
        (hold,) = rep.holds
        row = next(r for r in rep.phases if r.index == hold.index)
        last = {(r.when, r.scale): r.value for r in rec.ratings}
        g = out.setdefault(hold.target, {"dln": [], "dbelief": []})
        g["dln"].append(row.d_ln_rmssd)
        g["dbelief"].append(last[("post", "belief")] - last[("pre", "belief")])
    return out


def test_by_target_groups_and_means_by_hand(folder: Path, sums) -> None:
    cmp = compare(sums, CompareConfig(by="target", n_resamples=RES))
    hand = by_hand(folder)
    assert [g.mode for g in cmp.modes] == ["self", "future"]
    for g in cmp.modes:
        assert g.n_sessions == 5 and g.n_holds == 5
        assert g.estimate.mean == pytest.approx(np.mean(hand[g.mode]["dln"]), abs=1e-9)
        assert g.estimate.ok and g.estimate.ci_lo < g.estimate.mean < g.estimate.ci_hi
    (c,) = cmp.pairwise
    assert (c.a, c.b) == ("self", "future")
    assert c.diff == pytest.approx(
        np.mean(hand["self"]["dln"]) - np.mean(hand["future"]["dln"]), abs=1e-9
    )
    (p,) = cmp.paired
    assert p.n_a == 0 and not p.ok  # no session held both targets
    beliefs = cmp.extra["dbelief"]
    for g in beliefs.groups:
        assert g.estimate.mean == pytest.approx(np.mean(hand[g.mode]["dbelief"]))
        assert g.estimate.n == 5
    assert beliefs.by == "target" and len(beliefs.pairwise) == 1


def test_lapse_response_is_pooled_per_session(sums) -> None:
    cmp = compare(sums, CompareConfig(by="mode", n_resamples=RES))
    lapse = cmp.extra["lapse_dln"]
    soft = next(g for g in lapse.groups if g.mode == "soft")
    per_session = [
        np.mean([u.lapse_dln for u in s.holds if math.isfinite(u.lapse_dln)])
        for s in sums
        if any(math.isfinite(u.lapse_dln) for u in s.holds)
    ]
    assert soft.estimate.n == len(per_session) >= 4
    assert soft.estimate.mean == pytest.approx(np.mean(per_session))
    assert {g.mode for g in lapse.groups if g.n_holds == 0} == {"fierce", "loving-kindness"}


def test_extra_metrics_never_change_the_main_numbers(sums) -> None:
    a = compare(sums, CompareConfig(n_resamples=RES, extra=True))
    b = compare(sums, CompareConfig(n_resamples=RES, extra=False))
    assert a.modes == b.modes and a.pairwise == b.pairwise and a.paired == b.paired
    assert b.extra == {} and set(a.extra) == {"dbelief", "dsafety", "lapse_dln"}


def test_by_mode_and_target_labels(sums) -> None:
    cmp = compare(sums, CompareConfig(by="mode,target", n_resamples=RES, extra=False))
    assert [g.mode for g in cmp.modes] == ["soft · self", "soft · future"]
    key = group_key("mode,target")
    u = sums[0].holds[0]
    assert key(u) == f"{u.mode} · {u.target}"
    assert group_order([], "mode") == ["fierce", "soft", "loving-kindness"]
    with pytest.raises(ValueError, match="--by must be one of"):
        CompareConfig(by="belief")


def test_a_target_with_control_characters_is_labelled_with_escapes(sums, tmp_path) -> None:
    """A target comes from the file as written: its group label shows ESC and BEL as
    escapes, and the figure draws it without a missing-glyph warning (whose message would
    carry the raw character to the terminal) and without reading '$' as mathtext (a bad
    formula raised)."""
    import warnings
    from dataclasses import replace

    from holdbeat.analysis.compare_figure import compare_figure
    from holdbeat.analysis.figures import save

    u = replace(sums[0].holds[0], target="s\x1b[31mX\x07 $\\foo{$")
    assert group_key("target")(u) == "s\\x1b[31mX\\x07 $\\foo{$"
    assert group_key("mode,target")(u) == f"{u.mode} · s\\x1b[31mX\\x07 $\\foo{{$"
    evil = [replace(s, holds=tuple(replace(h, target=u.target) for h in s.holds)) for s in sums]
    cmp = compare(evil, CompareConfig(by="target", n_resamples=RES, extra=False))
    assert [g.mode for g in cmp.modes] == ["s\\x1b[31mX\\x07 $\\foo{$"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning
        save(compare_figure(cmp), tmp_path / "evil.png")


def test_cli_by_target_and_csv_columns(folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.csv"
    png = tmp_path / "c.png"
    code = main(["compare", str(folder), "--by", "target", "--csv", str(out), "--png", str(png),
                 "--resamples", "499", "--jobs", "1"])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    for word in ("BY TARGET", "BETWEEN TARGETS", "BELIEF RATING", "AFTER LAPSES: ln RMSSD"):
        assert word in text, word
    assert "after lapses, ln RMSSD" in text
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 10
    for r in rows:
        assert r["started_utc"].endswith("Z") and r["target"] in ("self", "future")
        assert float(r["dbelief"]) == float(r["belief_post"]) - float(r["belief_pre"])
        assert int(r["lapses"]) >= 0 and r["included"] == "True"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_metric_can_be_the_rating_change(folder: Path, capsys) -> None:
    code = main(["compare", str(folder), "--metric", "dbelief", "--by", "target",
                 "--resamples", "199", "--jobs", "1", "--quiet"])  # fmt: skip
    assert code == 0
