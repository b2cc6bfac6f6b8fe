"""Figures that read right: the compare headline and g signs, only computable panels,
spread dots; the report figure's legend colours, phase labels, height, beliefs and ratings;
figure files by extension."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from matplotlib.colors import to_hex

from holdbeat.analysis.compare import CompareConfig, compare, summarize
from holdbeat.analysis.compare_figure import compare_figure, headline, swarm_offsets
from holdbeat.analysis.compare_render import verdict
from holdbeat.analysis.figures import save
from holdbeat.analysis.prep import prepare
from holdbeat.analysis.report import ReportConfig, build_report
from holdbeat.analysis.report_figure import phase_labels, report_figure
from holdbeat.cli import main
from holdbeat.gui import palette as pal
from holdbeat.session import Phase, Protocol
from holdbeat.sim.sessions import synth_recording

CFG = CompareConfig(n_resamples=999, traj_resamples=200)


@pytest.fixture(scope="module")
def cmp5():
    sums = [summarize(prepare(synth_recording("alternating", seed=s)), CFG) for s in range(5)]
    return compare(sums, CFG)


def with_contrast(cmp, **changes):
    par = dataclasses.replace(cmp.paired[0], **changes)
    return dataclasses.replace(cmp, paired=(par, *cmp.paired[1:]))


def test_headline_is_one_plain_sentence_and_says_when_sessions_are_few(cmp5) -> None:
    c = cmp5.paired[0]
    assert c.ok and c.excludes_zero and c.diff < 0 and c.n_a == 5
    text = headline(cmp5)
    assert text.startswith("In 5 sessions that held both, Δ ln RMSSD was ")
    assert "higher in soft holds than in fierce holds" in text
    assert "with only 5 sessions, take it as a first hint." in text
    assert text.count("(") == 1 and text.count(")") == 1
    assert not re.search(r"\b(YES|NO)\b", text)
    assert text.count(". ") == 0 and text.endswith(".")
    many = headline(with_contrast(cmp5, n_a=12, n_b=12))
    assert "first hint" not in many and many.startswith("In 12 sessions that held both")
    unclear = headline(with_contrast(cmp5, ci_lo=-0.05, ci_hi=0.1, diff=0.02))
    assert "did not clearly differ" in unclear and "-0.05 to +0.1" in unclear
    assert "5 sessions can miss a small difference." in unclear
    none = with_contrast(cmp5, reason="too few")
    none = dataclasses.replace(
        none, pairwise=(dataclasses.replace(cmp5.pairwise[0], reason="too few"), *cmp5.pairwise[1:])
    )
    assert headline(none) == "Fierce and soft holds cannot be compared yet: too few."


def test_g_has_the_contrasts_sign_in_words_and_table(cmp5) -> None:
    from holdbeat.analysis.compare_render import format_comparison

    table = format_comparison(cmp5)
    for c in (cmp5.pairwise[0], cmp5.paired[0]):
        words = verdict(c, "dlnrmssd")
        assert f"g = {c.g:+.2f} for {c.a} − {c.b}" in words
        assert c.g < 0 and f"{c.g:+.2f}" in table
        assert f"g = {abs(c.g):.2f}" not in words.replace(f"{c.g:+.2f}", "")


def test_swarm_spreads_close_values_deterministically() -> None:
    v = np.array([1.0, 1.001, 1.002, 2.0, 1.0005, 3.0])
    off = swarm_offsets(v, close=0.01)
    assert np.array_equal(off, swarm_offsets(v, close=0.01))
    close_group = off[[0, 1, 2, 4]]
    assert len(set(close_group.round(9))) == 4  # four close dots, four positions
    assert off[3] == 0.0 and off[5] == 0.0  # alone: in the middle
    assert np.all(np.abs(off) <= 0.3)
    assert swarm_offsets(np.array([5.0])).tolist() == [0.0]


def axes_titles(fig) -> list[str]:
    return [a.get_title() for a in fig.axes]


def test_compare_figure_draws_only_what_was_computed(cmp5) -> None:
    fig = compare_figure(cmp5)
    titles = axes_titles(fig)
    assert titles == [
        "per mode",
        "differences between modes (first minus second)",
        "around hold onset",
        "around lapse markers",
        "around rehold markers",
    ]
    modes_ax, diff_ax = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in modes_ax.get_xticklabels()] == ["fierce\nn = 5", "soft\nn = 5"]
    rows = [t.get_text() for t in diff_ax.get_yticklabels()]
    assert rows == ["fierce − soft", "fierce − soft\n(same sessions)"]
    # the diamonds promised in the legend are drawn
    diamonds = [ln for ln in modes_ax.get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == 2
    legend = [t.get_text() for t in modes_ax.get_legend().get_texts()]
    assert legend == ["one session (spread sideways)", "mean, bar = 95 % CI"]
    words = " ".join(t.get_text() for t in fig.texts)
    assert "not drawn, fierce − loving-kindness" in words
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_compare_figure_without_any_contrast_has_no_contrast_axes(cmp5) -> None:
    only = dataclasses.replace(
        cmp5,
        pairwise=tuple(dataclasses.replace(c, reason="too few") for c in cmp5.pairwise),
        paired=tuple(dataclasses.replace(c, reason="too few") for c in cmp5.paired),
        trajectories=(),
    )
    fig = compare_figure(only)
    assert axes_titles(fig) == ["per mode"]


# ---------------------------------------------------------------- report


@pytest.fixture(scope="module")
def rep_prep(tmp_path_factory: pytest.TempPathFactory):
    """A simulated session through the real pipeline: beliefs, markers and ratings."""
    from tests.helpers import record_simulated

    from holdbeat.recording import load

    rec = load(record_simulated(tmp_path_factory.mktemp("sim"), "fierce-then-soft"))
    prep = prepare(rec)
    return build_report(prep, ReportConfig()), prep


def test_legend_colours_match_the_lines(rep_prep) -> None:
    rep, prep = rep_prep
    fig = report_figure(rep, prep)
    handles = fig.legends[0].legend_handles
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    got = dict(zip(labels, handles, strict=True))
    assert to_hex(got["HR, rolling 60 s"].get_color()) == to_hex(pal.HR_TREND)
    assert to_hex(got["ln RMSSD, rolling 60 s"].get_color()) == to_hex(pal.LN_RMSSD)
    hr_ax, ln_ax = fig.axes[0], fig.axes[1]
    assert to_hex(pal.HR_TREND) in {to_hex(ln.get_color()) for ln in hr_ax.get_lines()}
    assert to_hex(pal.LN_RMSSD) in {to_hex(ln.get_color()) for ln in ln_ax.get_lines()}
    assert not any("(HR, ln RMSSD)" in x for x in labels)


def test_no_empty_band_at_the_bottom(rep_prep) -> None:
    rep, prep = rep_prep
    fig = report_figure(rep, prep)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    lowest = min(
        [a.get_window_extent(r).y0 for a in fig.axes[2:]]
        + [t.get_window_extent(r).y0 for t in fig.texts]
    )
    assert 0 <= lowest <= 0.35 * fig.dpi  # within a third of an inch of the edge


def test_beliefs_and_ratings_are_in_the_table(rep_prep) -> None:
    rep, prep = rep_prep
    fig = report_figure(rep, prep)
    table = fig.axes[2].tables[0]
    cells = [c.get_text().get_text() for c in table.get_celld().values()]
    assert {"belief", "belief (Δ)", "safety (Δ)"} <= set(cells)
    for h in rep.holds:
        assert f"“{h.belief}”" in cells
    rated = rep.practice.ratings if rep.practice else ()
    assert rated  # the simulator rates every hold
    for r in rated:
        want = f"{r.belief_pre:.0f} → {r.belief_post:.0f} ({r.belief_post - r.belief_pre:+.0f})"
        assert want in cells


def day_report():
    day = Protocol(
        "day",
        (
            Phase("baseline", "baseline", "neutral", 600.0),
            *(Phase(f"hold {i}", "hold", ("fierce", "soft")[i % 2], 1800.0) for i in range(46)),
            Phase("recovery", "recovery", "neutral", 1800.0),
        ),
    )
    phases = [
        dataclasses.replace(
            _row(),
            index=i,
            name=p.name,
            kind=p.kind,
            mode=p.mode,
            start_s=s,
            end_s=s + p.duration_s,
        )
        for i, (p, s) in enumerate(
            zip(day.phases, np.cumsum([0.0] + [p.duration_s for p in day.phases])[:-1], strict=True)
        )
    ]
    return phases


def _row():
    from holdbeat.analysis.report import PhaseRow

    nan = float("nan")
    return PhaseRow(0, "", "", "", 0.0, 0.0, 0.0, None, 0, nan, False, "", nan, nan, nan, nan,
                    nan, nan, "", "", nan, nan, nan, nan)  # fmt: skip


def test_phase_labels_fit_on_a_24_hour_recording(rep_prep) -> None:
    rep, _ = rep_prep
    phases = day_report()
    day = dataclasses.replace(rep, phases=tuple(phases), duration_s=phases[-1].end_s)
    labels = phase_labels(day, 12.9)
    assert [t for _, t in labels] == [str(k) for k in range(2, 49)]  # numbers, as the table
    width_in = 12.9 / (day.duration_s / 3600)  # inches per hour
    xs = [x for x, _ in labels]
    assert min(np.diff(xs)) * width_in > 2 * 7.5 * 0.55 / 72  # no two labels overlap
    short = phase_labels(rep, 12.9)
    assert [t for _, t in short][1] == "fierce hold\n[fierce]"


# ---------------------------------------------------------------- files


def test_figure_type_by_extension(rep_prep, tmp_path: Path) -> None:
    rep, prep = rep_prep
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}
    for ext, start in magic.items():
        path = tmp_path / f"r{ext}"
        save(report_figure(rep, prep), path)
        assert path.read_bytes().startswith(start) and path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match=r"unknown figure type '\.jpg'; use \.png, \.svg or \.pdf"):
        save(report_figure(rep, prep), tmp_path / "r.jpg")
    assert not (tmp_path / "r.jpg").exists()


def test_cli_refuses_other_extensions_before_working(tmp_path: Path, capsys) -> None:
    from tests.helpers import record_simulated

    rec = record_simulated(tmp_path / "rec", "single")
    out = tmp_path / "out"
    out.mkdir()
    for cmd in ("report", "compare"):
        assert main([cmd, str(rec), "--png", str(out / "fig.jpeg"), "-q"]) == 2
        err = capsys.readouterr().err
        assert "use .png, .svg or .pdf (not '.jpeg')" in err
    assert list(out.iterdir()) == []
