"""Points economics and ROI on frames small enough to check by hand."""

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import narrative, points, roi, synth

from .conftest import tiny_tables


def test_roll_forward_reconciles_by_hand():
    rf = points.roll_forward(
        tiny_tables()["points_ledger"], cost_per_point=0.01, expected_redemption=0.8
    )
    assert rf["issued"].tolist() == [30, 110, 80]
    assert rf["redeemed"].tolist() == [0, 0, 100]
    assert rf["opening"].tolist() == [0, 30, 140] and rf["closing"].tolist() == [30, 140, 120]
    assert rf["reconciles"].all()
    assert rf["liability"].iloc[-1] == pytest.approx(120 * 0.01 * 0.8)


def test_roll_forward_reconciles_exactly_on_the_synthetic_ledger(small_synth):
    led = small_synth.tables["points_ledger"]
    rf = points.roll_forward(led, 0.025, 0.7)
    assert rf["reconciles"].all()
    assert int(rf["closing"].iloc[-1]) == int(led["points"].sum())
    assert (rf["opening"].iloc[1:].to_numpy() == rf["closing"].iloc[:-1].to_numpy()).all()


def test_fifo_redemption_by_earn_cohort_by_hand():
    curves = points.redemption_by_cohort(tiny_tables()["points_ledger"]).set_index(
        ["cohort", "age"]
    )
    jan, feb, mar = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))
    # A's 100 redeemed points in March are the oldest of A: February's 100
    assert curves.loc[(feb, 1), "redeemed_cum"] == 100 and curves.loc[(feb, 1), "issued"] == 110
    assert curves.loc[(jan, 2), "redeemed_cum"] == 0  # C's January points are untouched
    assert curves.loc[(mar, 0), "redeemed_cum"] == 0


def test_breakage_estimate_against_the_generator(small_synth):
    led = small_synth.tables["points_ledger"]
    curves = points.redemption_by_cohort(led)
    ult = points.ultimate_redemption(curves, expiry_months=12)
    # mature cohorts (fully expired or redeemed) match their realised outcome exactly
    first = ult.index.min()
    realised = 1 - ult.loc[first, "expired_to_date"] / ult.loc[first, "issued"]
    assert ult.loc[first, "ultimate_share"] == pytest.approx(realised, abs=0.02)
    assert ((ult["ultimate_share"] >= 0) & (ult["ultimate_share"] <= 1)).all()
    liab = points.liability(led, ult, 0.025)
    assert liab["outstanding_points"] == int(led["points"].sum())
    assert 0 < liab["expected_redemption_of_outstanding"] <= 1


def tiny_program() -> roi.ProgramData:
    months = pd.date_range("2026-01-01", periods=2, freq="MS")
    return roi.ProgramData(
        months,
        np.array([1100.0, 1100.0]),
        np.array([1000.0, 1000.0]),
        pd.DataFrame({"platform": [50.0, 50.0]}, index=months),
        np.array([5000.0, 5000.0]),
        "test",
    )


BASE = roi.Drivers(lift=0.10, gross_margin=0.5, cost_per_point=0.01, redemption_rate=0.8)


def test_pnl_and_roi_by_hand():
    p = roi.monthly_pnl(tiny_program(), BASE)
    assert p["incremental_revenue"].tolist() == pytest.approx([100.0, 100.0])  # 1100 × 0.1 / 1.1
    assert p["rewards_cost"].tolist() == pytest.approx([8.0, 8.0])  # 1000 × 0.01 × 0.8
    assert p["program_cost"].tolist() == pytest.approx([58.0, 58.0])
    s = roi.summary(tiny_program(), BASE, 0.0)
    assert s["roi"] == pytest.approx((100 - 116) / 116)
    assert s["payback_month"] is None
    assert s["cost_share_of_revenue"] == pytest.approx(116 / 10_000)
    s2 = roi.summary(tiny_program(), roi.Drivers(0.5, 0.5, 0.01, 0.8), 0.0)
    # 1100 × 0.5/1.5 × 0.5 = 183.33 margin vs 58 cost per month: paid back in the first month
    assert s2["payback_months"] == 1 and s2["roi"] == pytest.approx(
        (2 * 183.333333 - 116) / 116, rel=1e-6
    )


def test_npv_discounts_monthly():
    s = roi.summary(tiny_program(), roi.Drivers(0.5, 0.5, 0.01, 0.8), 0.12)
    r = 1.12 ** (1 / 12) - 1
    net = 1100 * 0.5 / 1.5 * 0.5 - 58
    assert s["npv"] == pytest.approx(net / (1 + r) + net / (1 + r) ** 2)


def test_break_even_lift_gives_zero_roi():
    be = roi.break_even_lift(tiny_program(), BASE)
    assert be == pytest.approx(0.10545454 / (1 - 0.10545454), rel=1e-5)
    assert roi.summary(tiny_program(), roi.Drivers(be, 0.5, 0.01, 0.8), 0.0)[
        "roi"
    ] == pytest.approx(0, abs=1e-12)


def test_monte_carlo_uses_the_same_formula_and_tornado_orders_by_swing():
    data = tiny_program()
    mc = roi.monte_carlo(data, BASE, 0.0, {}, draws=10_000)
    assert len(mc) == 10_000 and np.allclose(mc["roi"], roi.summary(data, BASE, 0.0)["roi"])
    mc2 = roi.monte_carlo(data, BASE, 0.03, {"gross_margin": (0.4, 0.6)}, draws=10_000, seed=1)
    assert mc2["roi"].std() > 0 and mc2["gross_margin"].between(0.4, 0.6).all()
    t = roi.tornado(data, BASE, 0.2, 0.0)
    assert t["swing"].is_monotonic_decreasing
    assert t.attrs["base_roi"] == pytest.approx(roi.summary(data, BASE, 0.0)["roi"])


def test_retention_value_formula():
    v = roi.retention_value(0.6, 100.0, 0.1, 0.05)
    assert v["value_before"] == pytest.approx(100 * 0.6 / 0.5)
    assert v["value_after"] == pytest.approx(100 * 0.65 / 0.45)
    assert v["change"] == pytest.approx((0.65 / 0.45) / (0.6 / 0.5) - 1)


def test_scenarios_apply_the_config_overrides():
    from loyalty_roi import config

    named = config.load_config().scenarios.named()
    sc = roi.scenarios(tiny_program(), BASE, named, 0.0)
    assert sc.loc["conservative", "lift"] == pytest.approx(0.05)
    assert sc.loc["optimistic", "gross_margin"] == 0.40
    assert sc.loc["base", "redemption_rate"] == 0.8  # null in the config: keep the estimate
    assert sc.loc["conservative", "roi"] < sc.loc["base", "roi"] < sc.loc["optimistic", "roi"]


@pytest.mark.slow
def test_corrected_lift_is_far_closer_to_the_truth_than_the_naive_one(tmp_path):
    """Fast truth check.  Issue 4 asks more (±15 % on the default data, 90 % coverage over 20 seeds);
    `bench/coverage.py` measures that — see the issue note for the open campaign confound."""
    from loyalty_roi import engine, incrementality, lift_checks

    d = synth.generate(n_customers=12_000, seed=5)
    for k, v in d.tables.items():
        v.to_parquet(tmp_path / f"{k}.parquet", index=False)
    panel = engine.customer_month_panel(engine.connect(tmp_path))
    truth = d.truth["program_lift"]["revenue"]
    res = incrementality.matched_did(panel, n_boot=200, seed=1)
    naive = incrementality.naive_lift(panel)["lift"]
    assert naive > 3 * truth  # self-selection: the naive comparison overstates the effect
    assert abs(res.lift - truth) < abs(naive - truth) / 10
    assert res.ci[0] < res.lift < res.ci[1] and res.ci[0] > 0
    assert res.balance["smd_after"].head(4).abs().max() < 0.1  # matched features are balanced
    assert any(s.startswith("Pre-trends:") for s in lift_checks.diagnostics_sentences(res))


def test_whatif_explorer_shows_what_roi_computes():
    import re

    from loyalty_roi import widgets

    data = tiny_program()
    box = widgets.explorer(data, BASE, 0.0, "EUR")
    sliders = {c.description: c for c in box.children if hasattr(c, "value") and hasattr(c, "min")}
    headline = next(c for c in box.children if "whatif-roi" in str(getattr(c, "value", "")))
    assert widgets.roi_text(roi.summary(data, BASE, 0.0), "EUR") in headline.value
    sliders["Program lift"].value = 0.3
    expected = roi.summary(data, roi.Drivers(0.3, 0.5, 0.01, 0.8), 0.0)
    assert widgets.roi_text(expected, "EUR") in headline.value
    assert re.search(r"ROI: \+\d", headline.value)


def test_scenarios_without_named_scenarios_is_an_empty_table():
    sc = roi.scenarios(tiny_program(), BASE, {}, 0.0)
    assert sc.empty and "roi" in sc.columns and sc.index.name == "scenario"


def test_lift_applies_in_full_only_where_it_was_measured():
    """Issue 11: revenue the lift was not measured on is covered by an explicit assumption."""
    data = tiny_program()
    total = data.member_revenue.copy()
    data.measured_revenue = total * 0.4  # 40 % of member revenue is in measured member-months
    d = roi.Drivers(0.25, 0.5, 0.01, 0.8)
    full = roi.monthly_pnl(data, d)
    none = roi.monthly_pnl(data, roi.Drivers(0.25, 0.5, 0.01, 0.8, extrapolation=0.0))
    # by hand: incremental = covered × L / (1 + L) = covered × 0.2
    assert full["incremental_revenue"].to_numpy() == pytest.approx(total * 0.2)
    assert none["incremental_revenue"].to_numpy() == pytest.approx(total * 0.4 * 0.2)
    assert (full["revenue_measured"] + full["revenue_extrapolated"]).to_numpy() == pytest.approx(
        total
    )
    assert "40%" in narrative.extrapolation_sentence(
        data
    ) and "60%" in narrative.extrapolation_sentence(data)
    v = roi.roi_vectorised(
        data,
        np.array([0.25]),
        np.array([0.5]),
        np.array([0.01]),
        np.array([0.8]),
        np.array([1.0]),
        np.array([0.0]),
    )
    assert v[0] == pytest.approx(
        roi.summary(data, roi.Drivers(0.25, 0.5, 0.01, 0.8, extrapolation=0.0), 0.0)["roi"]
    )


def test_one_liability_figure_in_the_roll_forward_and_the_sentence(small_synth):
    """Regression: the roll-forward said 47,593 while the sentence and index said 19,921."""
    led = small_synth.tables["points_ledger"]
    curves = points.redemption_by_cohort(led)
    ultimate = points.ultimate_redemption(curves, expiry_months=12)
    liab = points.liability(led, ultimate, 0.025)
    rf = points.roll_forward(led, 0.025, liab["expected_redemption_of_outstanding"])
    assert rf["liability"].iloc[-1] == pytest.approx(liab["liability"], rel=1e-12)
    assert f"{liab['liability']:,.0f}" in points.liability_sentence(liab, "EUR")


def test_holdout_lift_with_negative_revenue_per_contact_has_no_interval_and_no_warning():
    """Returns can make revenue per contact negative: the log-ratio interval is then undefined."""
    import warnings

    from loyalty_roi import holdouts

    act = pd.DataFrame(
        {
            "campaign_id": "C1",
            "is_holdout": [False] * 4 + [True] * 3,
            "revenue": [-50.0, -20.0, 10.0, -5.0, 20.0, 30.0, 10.0],
            "orders": [1, 1, 1, 1, 1, 1, 1],
        }
    )
    camps = pd.DataFrame(
        {"campaign_id": ["C1"], "name": ["x"], "type": ["email"], "start": [pd.NaT], "end": [pd.NaT],
         "cost": [1.0]}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = holdouts.campaign_lifts(act, camps)
    assert out.loc[0, "lift"] == pytest.approx(-16.25 / 20 - 1)
    assert np.isnan(out.loc[0, "lift_lo"]) and np.isnan(out.loc[0, "lift_hi"])


def test_annual_retention_and_margin_on_a_frame_checked_by_hand():
    # 24 months; a: active in both years; b: only in the previous year; c: only in the last
    # year; d: never active.  Retention = |{a}| / |{a, b}| = 1/2; margin per active customer
    # in the last year = (a's 30 + c's 50 + a's -5 return month) / 2 active × 0.4
    rows = []
    for cid in "abcd":
        for mi in range(100, 124):
            rows.append({"customer_id": cid, "mi": mi, "active": False, "revenue": 0.0})
    panel = pd.DataFrame(rows)

    def set_(cid, mi, revenue, active=True):
        i = panel.index[(panel["customer_id"] == cid) & (panel["mi"] == mi)]
        panel.loc[i, ["active", "revenue"]] = [active, revenue]

    set_("a", 105, 10.0)
    set_("a", 120, 30.0)
    set_("a", 121, -5.0, active=False)  # a return in a month without an order
    set_("b", 101, 20.0)
    set_("c", 118, 50.0)
    set_("d", 119, -7.0, active=False)  # d never bought: not an active customer
    panel["orders"] = panel["active"].astype(int)
    panel["months_since_enrollment"] = pd.array([pd.NA] * len(panel), dtype="Int64")
    retention, margin = roi.annual_retention_and_margin(panel, gross_margin=0.4)
    assert retention == pytest.approx(0.5)
    assert margin == pytest.approx((30 - 5 + 50) / 2 * 0.4)
    assert roi.annual_retention_and_margin(panel.iloc[:0], 0.4)[1] == 0.0


def test_fifo_cohorts_in_customer_chunks_equal_one_pass(small_synth, monkeypatch):
    """The FIFO queues run over chunks of customers (16 GiB whole at 6M members × 36 months)."""
    led = small_synth.tables["points_ledger"]
    assert led["customer_id"].nunique() > 50
    whole = points.redemption_by_cohort(led)
    monkeypatch.setattr(points, "FIFO_CHUNK", 7)  # many chunks, the last one short
    chunked = points.redemption_by_cohort(led)
    pd.testing.assert_frame_equal(chunked, whole)
    assert whole["redeemed_cum"].max() > 0 and whole["expired_cum"].max() > 0


def test_the_ledger_summed_by_month_in_the_engine_gives_the_same_points_economics(
    small_synth, tmp_path
):
    """Notebook 04 reads the ledger per customer-month (33M rows of numbers at 100M receipts, not 64M
    with text ids): flows, FIFO cohorts, liability, P&L points and campaign bonus points unchanged —
    also where a customer has a positive and a negative adjustment in one month."""
    from loyalty_roi import engine, holdouts
    from loyalty_roi.lift_panel import LiftPanel

    t = {k: v.copy() for k, v in small_synth.tables.items()}
    led = t["points_ledger"]
    cid = led.loc[led["type"] == "earn", "customer_id"].iloc[0]
    adj = pd.DataFrame(
        {
            "customer_id": [cid, cid],
            "date": [pd.Timestamp("2026-06-03"), pd.Timestamp("2026-06-20")],
            "type": ["adjust", "adjust"],
            "points": [500, -40],
        }
    )
    t["points_ledger"] = led = pd.concat([led, adj], ignore_index=True)
    for name, df in t.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    eng = engine.connect(tmp_path)
    by_month = points.ledger_by_month(eng)
    assert len(by_month) < len(led) and by_month["customer_id"].dtype == "int32"
    assert by_month["points"].sum() == led["points"].sum()
    pd.testing.assert_frame_equal(points.monthly_flows(by_month), points.monthly_flows(led))
    curves, want = points.redemption_by_cohort(by_month), points.redemption_by_cohort(led)
    pd.testing.assert_frame_equal(curves, want)
    ult = points.ultimate_redemption(curves, expiry_months=12)
    assert points.liability(by_month, ult, 0.01) == points.liability(led, ult, 0.01)
    rf = points.roll_forward(by_month, 0.01, 0.7)
    pd.testing.assert_frame_equal(rf, points.roll_forward(led, 0.01, 0.7))
    totals = engine.store_month_totals(eng)
    lp = LiftPanel.from_engine(eng)
    a = roi.program_data(lp, totals, led, None, {"platform": 1.0})
    b = roi.program_data(lp, totals, by_month, None, {"platform": 1.0})
    assert a.points_issued.sum() > 0
    np.testing.assert_array_equal(a.points_issued, b.points_issued)
    campaigns = led.loc[led["campaign_id"].notna(), "campaign_id"].unique()
    assert len(campaigns) > 0
    lifts = pd.DataFrame(
        {
            "campaign_id": campaigns,
            "type": "double_points",
            "cost": 100.0,
            "incremental_revenue": 1e3,
            "lift": 0.1,
        }
    )
    pd.testing.assert_frame_equal(
        holdouts.reward_type_comparison(lifts, by_month, 0.01, 0.7),
        holdouts.reward_type_comparison(lifts, led, 0.01, 0.7),
    )
    eng.close()
