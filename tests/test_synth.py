import numpy as np
import pandas as pd
import pytest

from loyalty_roi import synth


def test_same_seed_gives_identical_frames(small_synth):
    again = synth.generate(n_customers=400, months=12, end_month="2026-10", seed=3)
    for name, df in small_synth.tables.items():
        pd.testing.assert_frame_equal(df, again.tables[name])
    pd.testing.assert_frame_equal(small_synth.pii, again.pii)
    assert small_synth.truth == again.truth


def test_another_seed_gives_other_data(small_synth):
    other = synth.generate(n_customers=400, months=12, end_month="2026-10", seed=4)
    assert not small_synth.tables["transactions"]["net_amount"].equals(
        other.tables["transactions"]["net_amount"]
    )


@pytest.fixture(scope="module")
def mid():
    """A mid-size program where the planted effects are visible above noise."""
    return synth.generate(n_customers=6000, months=24, end_month="2026-10", seed=11)


def test_window_ends_at_the_requested_month(mid):
    tx = mid.tables["transactions"]
    assert tx["ts"].min() >= pd.Timestamp("2024-11-01")
    assert tx["ts"].max() < pd.Timestamp("2026-11-01")
    assert tx["ts"].dt.to_period("M").nunique() == 24


def test_self_selection_heavy_buyers_enroll_more_and_earlier(mid):
    s = mid.truth["self_selection"]
    assert s["mean_heaviness_members"] > 1.3 * s["mean_heaviness_non_members"]
    assert s["corr_heaviness_months_to_enrollment"] < -0.1
    # consequence: the naive member / non-member spend ratio far exceeds the true lift
    tx, cust = mid.tables["transactions"], mid.tables["customers"]
    spend = tx.groupby("customer_id")["net_amount"].sum()
    c = cust.set_index("customer_id").join(spend.rename("spend")).fillna({"spend": 0.0})
    naive = c.loc[c["is_member"], "spend"].mean() / c.loc[~c["is_member"], "spend"].mean() - 1
    assert naive > 3 * mid.truth["program_lift"]["revenue"]


def test_truth_records_the_planted_program_effect(mid):
    lift = mid.truth["program_lift"]
    assert lift["revenue"] == pytest.approx((1 + lift["frequency"]) * (1 + lift["order_value"]) - 1)
    assert lift["frequency"] > 0 and lift["order_value"] > 0


def test_tiers_points_and_breakage(mid):
    t = mid.tables
    assert set(t["customers"]["tier"].dropna()) == {"bronze", "silver", "gold"}
    th = t["tier_history"]
    order = {"bronze": 0, "silver": 1, "gold": 2}
    moves = th.dropna(subset=["from_tier"])
    up = (moves["to_tier"].map(order) > moves["from_tier"].map(order)).sum()
    down = (moves["to_tier"].map(order) < moves["from_tier"].map(order)).sum()
    assert up > 0 and down > 0
    pl = t["points_ledger"]
    by = pl.groupby("type")["points"].sum()
    assert by["earn"] > 0 and by["redeem"] < 0 and by["expire"] < 0
    assert pl["points"].sum() == by.sum()  # closing balance = all movements
    p = mid.truth["points"]
    assert (
        p["issued"] == by["earn"]
        and p["expired"] == -by["expire"]
        and p["redeemed"] == -by["redeem"]
    )
    breakage = p["expired"] / p["issued"]
    assert 0.05 < breakage < 0.6
    # no member's balance ever goes negative
    bal = pl.groupby("customer_id")["points"].cumsum()  # the ledger is in booking order
    assert (bal >= 0).all()


def test_campaigns_have_randomized_holdouts_and_a_double_points_event(mid):
    cc, camp = mid.tables["campaign_contacts"], mid.tables["campaigns"]
    assert "double_points" in set(camp["type"])
    share = cc.groupby("campaign_id")["is_holdout"].mean()
    assert share.between(0.12, 0.28).all()
    assert set(mid.truth["campaigns"]) == set(camp["campaign_id"])


def test_returns_anonymous_sales_surveys_and_costs(mid):
    tx = mid.tables["transactions"]
    ret = tx[tx["is_return"]]
    assert len(ret) > 0 and (ret["net_amount"] < 0).all()
    anon = tx["customer_id"].isna().mean()
    assert 0.1 < anon < 0.25
    s = mid.tables["surveys"]
    assert s["nps"].between(0, 10).all() and s["csat"].isna().any() and s["csat"].notna().any()
    pc = mid.tables["program_costs"]
    assert set(pc["category"]) == {"platform", "staff", "marketing"}
    assert (pc.groupby("month").size() == 3).all()


def test_raw_export_looks_like_a_real_export(small_raw_master):
    raw = (small_raw_master / "transactions.csv").read_bytes()
    header = raw.splitlines()[0].decode("latin-1")
    assert header.startswith("Bonnr;KundeID;Tidspunkt")
    assert b"," in raw.splitlines()[1]  # decimal comma
    cust = (small_raw_master / "customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cust.decode("utf-8")  # latin-1 with Nordic letters
    assert (small_raw_master / "mapping.yml").exists() and (
        small_raw_master / "truth.json"
    ).exists()
    assert (small_raw_master / "campaigns.xlsx").exists()
    assert (small_raw_master / "program_costs.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM


def test_scale_option_estimates_transactions():
    n = synth.scale_for_transactions(10_000_000)
    assert 400_000 < n < 1_000_000
    d = synth.generate(n_customers=synth.scale_for_transactions(50_000), months=24, seed=1)
    assert 35_000 < len(d.tables["transactions"]) < 70_000
    assert np.isfinite(d.tables["transactions"]["net_amount"]).all()
