"""The report's sentences (narrative) and the front page's trend rows (frontpage), on hand-made inputs."""

import numpy as np
import pandas as pd

from loyalty_roi import frontpage, narrative


def _card(rows):
    cols = ["key", "kpi", "unit", "mom", "yoy", "value", "target", "status", "higher_is_better"]
    return pd.DataFrame(rows, columns=cols)


CARD = _card(
    [
        ["net_revenue", "Net revenue", "money", -4.0, 2.0, 100.0, None, "no target", True],
        ["churn_rate", "Churn rate", "share", 1.5, 0.0, 0.2, None, "no target", False],
        [
            "active_member_rate",
            "Active member rate",
            "share",
            0.5,
            1.0,
            0.6,
            "+5%",
            "off track",
            True,
        ],
        ["nps", "NPS", "nps", np.nan, np.nan, 10.0, None, "no target", None],
        ["retention_rate", "Retention", "share", 0.0, 0.0, 0.9, "+20%", "infeasible: …", True],
    ]
)


def _headline(lift, roi, conf):
    return pd.DataFrame(
        {
            "figure": ["Corrected lift", "ROI", "Confidence", "Points liability"],
            "value": [lift, roi, None, None],
            "unit": ["change", "change", "text", "money"],
            "note": ["", "", conf, "not available: provide the points ledger"],
        }
    )


def test_what_changed_ranks_moves_and_says_whether_they_are_good_news():
    lines = narrative.what_changed(CARD, _headline(0.05, 0.2, "high"), None)
    # largest |MoM| first; an NPS without a previous month and an unchanged KPI are not listed
    assert lines[0] == "Net revenue fell 4.0 % on the month (a worsening)."
    assert lines[1] == "Churn rate rose 1.5 pp on the month (a worsening)."
    assert lines[2] == "Active member rate rose 0.5 pp on the month (good news)."
    assert (
        lines[3]
        == "Targets: 1 off track. 1 target(s) cannot be reached as set (see the KPI notebook)."
    )
    assert lines[4].startswith("This is the first published report")


def test_what_changed_compares_the_headline_with_the_previous_report():
    lines = narrative.what_changed(
        CARD, _headline(0.05, 0.2, "high"), _headline(0.06, 0.2, "moderate"), "2026-09"
    )
    assert lines[-1] == (
        "Since the 2026-09 report: Corrected lift +6.0% → +5.0%; confidence moderate → high."
    )
    same = narrative.what_changed(CARD, _headline(0.05, 0.2, "high"), _headline(0.05, 0.2, "high"))
    assert same[-1] == "Since the previous report: the headline figures are unchanged."
    assert not any("nan" in t.lower() for t in lines + same)


def test_what_changed_without_a_scorecard_or_targets_says_so():
    assert narrative.what_changed(None, _headline(0.05, 0.2, "high"), None)[0].startswith(
        "No KPI scorecard this month"
    )
    flat = CARD.assign(mom=np.nan, status="no target")
    lines = narrative.what_changed(flat, _headline(0.05, 0.2, "high"), None)
    assert lines[0].startswith("No KPI can be compared with the previous month")
    assert lines[1].startswith("No KPI has a target")


def test_break_even_sentence_when_no_lift_breaks_even():
    assert "does not break even at any lift" in narrative.break_even_sentence(np.inf, 0.05)
    assert narrative.break_even_sentence(0.03, 0.05).endswith("(above break-even).")
    assert narrative.break_even_sentence(0.08, 0.05).endswith("(below break-even).")


def test_sparkline_breaks_at_missing_months_and_needs_two_points():
    assert "too few months" in frontpage.sparkline([1.0, np.nan, None])
    svg = frontpage.sparkline([1.0, 2.0, np.nan, 3.0, 4.0])
    assert svg.count("<polyline") == 2 and "nan" not in svg
    flat = frontpage.sparkline([5.0, 5.0, 5.0])  # a constant series is drawn, not divided by zero
    assert flat.count("<polyline") == 1 and "nan" not in flat
    # a members-only revenue share: 100 % up to float noise is a flat line, not a jagged one
    noisy = frontpage.sparkline([1.0, 1.0 - 1.1e-16, 1.0, 1.0 - 2.2e-16])
    points = noisy.split("points='")[1].split("'")[0].split()
    assert len({p.split(",")[1] for p in points}) == 1


def test_previous_headline_is_the_latest_report_before_the_month(tmp_path):
    for m, lift in (("2026-07", 0.01), ("2026-09", 0.02), ("2026-11", 0.03)):
        (tmp_path / m).mkdir()
        _headline(lift, 0.1, "high").to_csv(tmp_path / m / "summary.csv", index=False)
    (tmp_path / "notes").mkdir()
    month, df = frontpage.previous_headline([tmp_path, tmp_path / "absent"], "2026-10")
    assert month == "2026-09"
    assert df.set_index("figure").loc["Corrected lift", "value"] == 0.02
    assert df["note"].map(type).eq(str).all()  # an empty note is "", not NaN
    assert frontpage.previous_headline([tmp_path], "2026-07") is None
