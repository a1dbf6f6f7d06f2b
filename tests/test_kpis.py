"""Every KPI on the hand-made frame of conftest.tiny_tables, with the answers worked out by hand."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty_roi import config, engine, kpis, scorecard

JAN, FEB, MAR = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))


@pytest.fixture
def tiny_kpis(tiny_processed):
    eng = engine.connect(tiny_processed)
    inp = kpis.gather_inputs(eng)
    return kpis.monthly_kpis(inp, retention_window=1, rolling_months=2), inp


def test_volume_and_purchase_kpis(tiny_kpis):
    v, _ = tiny_kpis
    assert v.loc[JAN, "active_customers"] == 3 and v.loc[MAR, "active_customers"] == 2
    assert v.loc[JAN, "net_revenue"] == 200.0  # 100 + 50 + 30 + 20 anonymous
    assert v.loc[FEB, "net_revenue"] == 60.0  # 60 + 40 + 10 − 50 return
    assert v.loc[JAN, "average_order_value"] == 50.0  # 200 / 4 receipts
    assert v.loc[FEB, "average_order_value"] == 20.0  # 60 / 3 receipts (the return is no order)
    assert v.loc[MAR, "average_order_value"] == 75.0
    assert v.loc[FEB, "purchase_frequency"] == 1.5  # 3 orders / 2 active (A, C)


def test_loyalty_kpis(tiny_kpis):
    v, _ = tiny_kpis
    assert np.isnan(v.loc[JAN, "retention_rate"])  # no previous window
    assert v.loc[FEB, "retention_rate"] == pytest.approx(2 / 3)  # Jan A,B,C → Feb A,C
    assert v.loc[MAR, "retention_rate"] == pytest.approx(1 / 2)  # Feb A,C → Mar A
    assert v.loc[MAR, "churn_rate"] == pytest.approx(1 / 2)
    assert np.isnan(v.loc[JAN, "repeat_purchase_rate"])
    assert v.loc[FEB, "repeat_purchase_rate"] == pytest.approx(
        2 / 3
    )  # Jan–Feb: A 3, B 1, C 2 orders
    assert v.loc[MAR, "repeat_purchase_rate"] == pytest.approx(1 / 3)  # Feb–Mar: A 3, B 1, C 1


def test_program_kpis(tiny_kpis):
    v, _ = tiny_kpis
    assert v.loc[JAN, "enrollment_rate"] == pytest.approx(1 / 3)  # C of A, B, C
    assert v.loc[FEB, "enrollment_rate"] == pytest.approx(2 / 3)
    assert v.loc[MAR, "enrollment_rate"] == pytest.approx(2 / 4)  # D first seen in March
    assert v.loc[FEB, "active_member_rate"] == 1.0 and v.loc[MAR, "active_member_rate"] == 0.5
    assert v.loc[JAN, "revenue_share_members"] == pytest.approx(30 / 200)
    assert v.loc[MAR, "revenue_share_members"] == pytest.approx(80 / 150)
    assert v.loc[JAN, "spend_per_active_member"] == 30.0
    assert (
        v.loc[JAN, "spend_per_active_non_member"] == 75.0
    )  # (A 100 + B 50) / 2 — A enrolls in Feb
    assert v.loc[MAR, "member_spend_premium"] == pytest.approx(80 / 70 - 1)


def test_points_and_survey_kpis(tiny_kpis):
    v, _ = tiny_kpis
    assert v.loc[JAN, "points_issued"] == 30 and v.loc[FEB, "points_issued"] == 110
    assert v.loc[MAR, "points_redeemed"] == 100 and v.loc[MAR, "points_expired"] == 0
    assert v.loc[FEB, "redemption_rate"] == 0.0
    assert v.loc[MAR, "redemption_rate"] == pytest.approx(100 / 190)
    assert v.loc[FEB, "nps"] == 100.0  # one answer, 9
    assert v.loc[MAR, "nps"] == pytest.approx(0.0)  # 10, 5, 8 → 1/3 − 1/3
    assert v.loc[MAR, "csat"] == 3.5  # 5 and 2; the missing answer is ignored


def test_missing_tables_say_not_available_never_zero(tiny_kpis):
    v, inp = tiny_kpis
    card = scorecard.build(
        v, "2026-03", config.load_config().kpi, available=inp.available
    ).set_index("key")
    assert (
        card.loc["campaign_response_rate", "status"]
        == "not available: needs campaigns, campaign_contacts"
    )
    assert np.isnan(card.loc["campaign_response_rate", "value"])
    assert card.loc["nps", "status"] == "no target" and card.loc["nps", "value"] == pytest.approx(
        0.0
    )


def test_scorecard_changes_and_sentences(tiny_kpis):
    v, inp = tiny_kpis
    card = scorecard.build(v, "2026-03", None, available=inp.available).set_index("key")
    assert card.loc["enrollment_rate", "mom"] == pytest.approx((0.5 - 2 / 3) * 100)  # pp
    assert card.loc["average_order_value", "mom"] == pytest.approx((75 / 20 - 1) * 100)  # %
    assert np.isnan(card.loc["average_order_value", "yoy"])
    assert card.loc["retention_rate", "note"] == "Retention rate fell 16.7 pp MoM."


@pytest.mark.parametrize(
    ("value", "expected_status"),
    [
        (0.60, "on track"),
        (0.595, "on track"),
        (0.58, "at risk"),
        (0.555, "at risk"),
        (0.54, "off track"),
        (0.49, "off track"),
    ],
)
def test_target_status_rule(value, expected_status):
    # baseline 0.50, the path expects 0.60 now: progress 0.9+ on track, 0.5+ at risk
    assert scorecard.target_status(value, 0.50, 0.60, True) == expected_status


def test_target_status_for_lower_is_better():
    assert scorecard.target_status(0.30, 0.40, 0.35, False) == "on track"
    assert scorecard.target_status(0.42, 0.40, 0.35, False) == "off track"
    assert (
        scorecard.target_status(0.38, 0.40, 0.35, False) == "off track"
    )  # 40 % of the planned fall
    assert scorecard.target_status(0.37, 0.40, 0.35, False) == "at risk"


def test_scorecard_target_sentence_on_synthetic_data(small_processed):
    eng = engine.connect(small_processed)
    inp = kpis.gather_inputs(eng)
    v = kpis.monthly_kpis(inp)
    cfg = config.load_config(
        overrides={
            "kpi.targets": {
                "average_order_value": {
                    "baseline_month": "2026-04",
                    "change": 0.15,
                    "by": "2026-12",
                }
            }
        }
    )
    card = scorecard.build(v, "2026-10", cfg.kpi, available=inp.available).set_index("key")
    row = card.loc["average_order_value"]
    assert row["baseline"] == pytest.approx(
        v.loc[pd.Timestamp("2026-04-01"), "average_order_value"]
    )
    assert row["target_value"] == pytest.approx(row["baseline"] * 1.15)
    assert row["expected_now"] == pytest.approx(
        row["baseline"] + (row["target_value"] - row["baseline"]) * 6 / 8
    )
    progress = (row["value"] - row["baseline"]) / (row["expected_now"] - row["baseline"])
    expected_status = (
        "on track" if progress >= 0.9 else ("at risk" if progress >= 0.5 else "off track")
    )
    assert row["status"] == expected_status
    assert f"{row['status']} for its target (15% above 2026-04 by 2026-12)" in row["note"]
    # the target cell starts with a word, so the XLSX shows it without a guarding apostrophe
    assert row["target"] == "15% above 2026-04 by 2026-12"
    assert scorecard.target_text(-0.1, "2026-01", "2026-06") == "10% below 2026-01 by 2026-06"
    assert scorecard.target_text(0.0, "2026-01", "2026-06") == "level with 2026-01 by 2026-06"


def test_every_brief_kpi_is_in_the_catalogue():
    keys = set(kpis.BY_KEY)
    for needed in (
        "enrollment_rate",
        "active_member_rate",
        "repeat_purchase_rate",
        "retention_rate",
        "churn_rate",
        "average_order_value",
        "purchase_frequency",
        "spend_per_active_member",
        "spend_per_active_non_member",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "redemption_rate",
        "breakage_rate",
        "nps",
        "csat",
        "campaign_response_rate",
        "revenue_share_members",
    ):
        assert needed in keys
    for k in kpis.CATALOGUE:
        assert k.formula and k.unit and k.needs


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_status_is_always_one_of_three(value, baseline, target, expected):
    assert scorecard.target_status(value, baseline, target, expected, True) in (
        "on track",
        "at risk",
        "off track",
    )


def test_rates_are_shares_on_synthetic_data(small_processed):
    v = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(small_processed)))
    for k in kpis.CATALOGUE:
        if k.is_rate and k.key in v and k.key != "member_spend_premium":
            assert v[k.key].dropna().between(0, 1).all(), k.key


def test_a_rate_target_above_100_percent_is_called_infeasible_not_off_track(small_processed):
    """Regression: a rate target beyond 100 % was silently 'off track'."""
    eng = engine.connect(small_processed)
    inp = kpis.gather_inputs(eng)
    v = kpis.monthly_kpis(inp)
    base = v.loc[pd.Timestamp("2026-04-01"), "retention_rate"]
    assert 0 < base < 1
    change = 1.2 / base - 1  # a target of 120 %
    cfg = config.load_config(
        overrides={
            "kpi.targets": {
                "retention_rate": {"baseline_month": "2026-04", "change": change, "by": "2026-12"}
            }
        }
    )
    card = scorecard.build(v, "2026-10", cfg.kpi, available=inp.available).set_index("key")
    status = card.loc["retention_rate", "status"]
    assert status.startswith("infeasible") and "120.0%" in status


def test_a_target_without_baseline_names_why_and_the_first_month_that_works():
    from loyalty_roi import scorecard

    months = pd.date_range("2024-12-01", periods=24, freq="MS")
    values = pd.Series([np.nan] * 11 + [0.9] * 13, index=months)  # a KPI that needs 12 months
    inside = scorecard.no_baseline(
        "Repeat purchase rate", "2025-10", pd.Timestamp("2025-10-01"), values
    )
    assert inside == (
        "no baseline: Repeat purchase rate has no value in 2025-10 — it needs more history than "
        "the data holds before that month; the first month with a value is 2025-11"
    )
    outside = scorecard.no_baseline("AOV", "2023-01", pd.Timestamp("2023-01-01"), values)
    assert (
        outside == "no baseline: 2023-01 not in the data; the first month with a value is 2025-11"
    )
