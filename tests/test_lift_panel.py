"""Notebook 04 without the dense panel: the customers × months arrays of :mod:`loyalty_roi.lift_panel`.

At 100M receipts the dense customer × month panel is 225M rows, and building it
ran out of the engine's memory in notebook 04.  The arrays are filled from the
months with a receipt; these tests check they equal the dense panel's, and that
the lift, the naive comparison, the P&L's member revenue and the retention value
read from them equal the same quantities computed on the dense panel's rows.
"""

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import engine, incrementality, lift_checks, roi, synth
from loyalty_roi.lift_panel import LiftPanel

from . import reference


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """A 30-month program with the shapes the sparse path must get right.

    Added to the generated customers: one first seen after the analysis month (no
    panel rows), one first seen before the data (the panel starts at the data), a
    member without an enrollment date (enrolled when first seen), a customer with a
    return only in a month, and a receipt before its customer's first-seen date
    (outside the panel).
    """
    d = synth.generate(n_customers=1500, months=30, end_month="2026-09", seed=11)
    t = {k: v.copy() for k, v in d.tables.items()}
    cust, tx = t["customers"], t["transactions"]
    ts = pd.Timestamp
    extra = pd.DataFrame(
        {
            "customer_id": ["Z-late", "Z-early", "Z-nodate", "Z-return"],
            "first_seen": [ts("2026-09-15"), ts("2020-01-01"), ts("2025-03-02"), ts("2025-01-10")],
            "is_member": [False, True, True, False],
            "enrolled_at": [pd.NaT, ts("2019-06-01"), pd.NaT, pd.NaT],
        }
    )
    for col in cust.columns.difference(extra.columns):
        extra[col] = cust[col].iloc[0]
    t["customers"] = pd.concat([cust, extra[cust.columns]], ignore_index=True)
    row = tx.iloc[[0] * 6].copy()
    row["transaction_id"] = [f"Z{i}" for i in range(6)]
    row["customer_id"] = ["Z-late", "Z-early", "Z-nodate", "Z-return", "Z-return", "Z-nodate"]
    row["ts"] = [
        ts("2026-09-20"),
        ts("2025-05-05"),
        ts("2025-04-04"),
        ts("2025-01-10"),
        ts("2025-06-10"),
        ts("2025-01-20"),  # before Z-nodate was first seen: not in the panel
    ]
    row["is_return"] = [False, False, False, False, True, False]
    row["net_amount"] = [10.0, 20.0, 30.0, 40.0, -15.0, 99.0]
    t["transactions"] = pd.concat([tx, row], ignore_index=True)
    out = tmp_path_factory.mktemp("lift_panel")
    for name, df in t.items():
        df.to_parquet(out / f"{name}.parquet", index=False)
    return out


def test_the_arrays_from_the_months_with_receipts_equal_the_dense_panels(program):
    eng = engine.connect(program)
    for end in ("2026-08", "2025-12"):  # the latest complete month, and an earlier one
        dense = engine.customer_month_panel(eng, end=end)
        a, b = LiftPanel.from_engine(eng, end), LiftPanel.from_panel(dense)
        ids = np.sort(eng.read("customers")["customer_id"].to_numpy())
        assert (ids[a.ids] == b.ids.to_numpy()).all()  # numbered in id order, same customers
        seen = eng.read("customers")["first_seen"] < pd.Period(end, "M").end_time
        assert "Z-late" not in set(b.ids) and len(b.ids) == seen.sum() < len(ids)
        assert (
            (a.lo, a.n_months) == (b.lo, b.n_months) == (dense["mi"].min(), dense["mi"].nunique())
        )
        np.testing.assert_allclose(a.revenue, b.revenue, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(a.orders, b.orders)
        np.testing.assert_array_equal(a.first, b.first)
        np.testing.assert_array_equal(a.enroll, b.enroll)
    # the hand-made customers, in the arrays of the latest month
    lp = LiftPanel.from_panel(engine.customer_month_panel(eng, end="2026-08"))
    row = {c: i for i, c in enumerate(lp.ids)}
    col = {m: i for i, m in enumerate(lp.month_starts().strftime("%Y-%m"))}
    early, nodate, ret = row["Z-early"], row["Z-nodate"], row["Z-return"]
    assert lp.first[early] == 0 and lp.enroll[early] < 0  # enrolled before the data
    assert lp.enroll[nodate] == lp.first[nodate] == col["2025-03"]  # no date: when first seen
    assert (
        lp.revenue[nodate, col["2025-01"]] == 0
    )  # a receipt before first seen is not in the panel
    assert lp.revenue[nodate, col["2025-04"]] == 30
    assert (lp.revenue[ret, col["2025-06"]], lp.orders[ret, col["2025-06"]]) == (-15, 0)
    assert np.isnan(lp.enroll[ret])
    eng.close()


def test_what_notebook_04_reads_equals_the_dense_panels_rows(program):
    eng = engine.connect(program)
    dense = engine.customer_month_panel(eng, end="2026-08")
    lp = LiftPanel.from_engine(eng, "2026-08")
    naive = incrementality.naive_lift(lp)
    m, n = reference.naive_lift(dense)
    assert naive["reason"] is None and np.isfinite(naive["lift"])
    assert naive["member_revenue_per_month"] == pytest.approx(m, rel=1e-12)
    assert naive["non_member_revenue_per_month"] == pytest.approx(n, rel=1e-12)
    totals = engine.store_month_totals(eng)
    data = roi.program_data(
        lp, totals, None, None, {"platform": 1.0}, months=12, measured_horizon=6
    )
    after, measured = reference.member_revenue(dense, 12, 6)
    assert (data.months == after.index).all() and after.sum() > 0 and measured.sum() > 0
    np.testing.assert_allclose(data.member_revenue, after.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(data.measured, measured.to_numpy(), rtol=1e-12)
    r, mg = roi.annual_retention_and_margin(lp, 0.3)
    r_ref, mg_ref = reference.annual_retention_and_margin(dense, 0.3)
    assert (
        0 < r < 1
        and r == pytest.approx(r_ref, rel=1e-12)
        and mg == pytest.approx(mg_ref, rel=1e-12)
    )
    eng.close()


def test_the_lift_and_placebo_from_the_arrays_equal_the_dense_panels(program):
    eng = engine.connect(program)
    dense = engine.customer_month_panel(eng, end="2026-08")
    lp = LiftPanel.from_engine(eng, "2026-08")
    by_id = eng.read("customers").set_index("customer_id")["marketing_consent"]
    by_key = engine.customer_keys(eng, "marketing_consent")
    kw = {"n_boot": 60, "min_treated": 5}
    a = incrementality.matched_did(dense, exact=by_id, **kw)
    b = incrementality.matched_did(lp, exact=by_key, **kw)
    assert a.treated > 50
    assert (b.treated, b.controls) == (a.treated, a.controls)
    assert b.lift == pytest.approx(a.lift, rel=1e-9) and b.ci == pytest.approx(a.ci, rel=1e-9)
    pd.testing.assert_frame_equal(a.cohorts, b.cohorts)
    pa = lift_checks.placebo(dense, exact=by_id, **kw)
    pb = lift_checks.placebo(lp, exact=by_key, **kw)
    assert pa is not None and pb.lift == pytest.approx(pa.lift, rel=1e-9)
    assert incrementality.corrected_lift(lp, **kw)[0] is not None
    eng.close()


def test_the_lift_is_the_same_whatever_order_the_engine_added_receipts_in(program):
    """Two runs on the same 10M data gave revenue sums differing in the last bits (DuckDB's
    parallel sums) and lifts of +17.04 % and +17.06 %; at 100M +15.8 % and +16.1 % (2026-12-04)."""
    eng = engine.connect(program)
    dense = engine.customer_month_panel(eng, end="2026-08")
    eng.close()
    noisy = dense.copy()
    wobble = np.where(np.arange(len(noisy)) % 2, 1 + 4e-16, 1 - 4e-16)  # a bit or two
    noisy["revenue"] = noisy["revenue"] * wobble
    assert (noisy["revenue"] != dense["revenue"]).sum() > 1000
    a, b = LiftPanel.from_panel(dense), LiftPanel.from_panel(noisy)
    np.testing.assert_array_equal(a.revenue, b.revenue)
    kw = {"n_boot": 40, "min_treated": 5}
    da, db = incrementality.matched_did(a, **kw), incrementality.matched_did(b, **kw)
    assert (da.lift, da.ci, da.controls) == (db.lift, db.ci, db.controls)


def test_a_panel_without_enrollment_inside_it_says_why(program):
    """Every member enrolled before the panel's months: no before/after, said in one sentence."""
    lp = LiftPanel.from_engine(engine.connect(program), "2026-08")
    lp.enroll = np.where(np.isnan(lp.enroll), np.nan, -1.0)
    did, why = incrementality.corrected_lift(lp)
    assert did is None and "no member enrolled inside the data window" in why
    empty = LiftPanel.from_panel(pd.DataFrame())
    assert roi.annual_retention_and_margin(empty, 0.4) == (pytest.approx(np.nan, nan_ok=True), 0.0)
