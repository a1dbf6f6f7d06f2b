"""The Ibis engine: hand-checked results, equality with pandas, parity DuckDB ↔ Spark."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_roi import backends, engine, memory, months, panel_views, processed, segments
from loyalty_roi.lift_panel import LiftPanel

from . import reference


def test_panel_on_a_hand_made_frame(tiny_processed):
    eng = engine.connect(tiny_processed)
    p = engine.customer_month_panel(eng).set_index(["customer_id", "month"])
    jan, feb, mar = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))
    assert p.loc[("A", jan), "orders"] == 1 and p.loc[("A", feb), "orders"] == 2
    assert p.loc[("A", feb), "revenue"] == 100.0
    assert p.loc[("B", feb), "orders"] == 0 and p.loc[("B", feb), "revenue"] == -50.0
    assert p.loc[("B", feb), "returns"] == 1 and not p.loc[("B", feb), "active"]
    assert p.loc[("A", mar), "discounts"] == 10.0 and p.loc[("A", mar), "gross_sales"] == 90.0
    # membership and tier as of the month
    assert not p.loc[("A", jan), "is_member"] and p.loc[("A", feb), "is_member"]
    assert p.loc[("A", feb), "tier"] == "bronze" and p.loc[("A", mar), "tier"] == "silver"
    assert pd.isna(p.loc[("B", mar), "tier"])
    assert p.loc[("A", mar), "points_redeemed"] == 100 and p.loc[("A", mar), "points_earned"] == 80
    # D is in the panel from its first month only, inactive
    assert ("D", feb) not in p.index and not p.loc[("D", mar), "active"]
    assert len(p) == 3 * 3 + 1


def test_panel_views_equal_what_the_panel_gives(tiny_processed, small_processed):
    eng = engine.connect(tiny_processed)
    share = panel_views.engagement_share(eng)
    # A: orders in Jan, Feb, Mar → 1; D: one month, no order or points event → 0
    assert share["A"] == 1.0 and share["D"] == 0.0
    for processed_dir in (tiny_processed, small_processed):
        eng = engine.connect(processed_dir)
        month = months.label(engine.data_months(eng)[1] - 1)
        panel = engine.customer_month_panel(eng, end=month)
        want = panel.groupby("customer_id")["engaged"].mean()
        got = panel_views.engagement_share(eng, month)
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
        tiers = panel_views.member_tiers(eng, month)
        members = panel[panel["is_member"] & panel["tier"].notna()]
        assert len(tiers) == len(members)
        pd.testing.assert_frame_equal(
            segments.tier_distribution(tiers), segments.tier_distribution(panel)
        )
        pd.testing.assert_frame_equal(
            panel_views.tier_counts(eng, month), segments.tier_distribution(panel)
        )
        two = panel_views.member_tiers(eng, month, last=2)  # what the migration reads
        assert set(two["mi"]) == {months.index(month) - 1, months.index(month)}
        got_m, got_moves = segments.tier_migration(two, month)
        want_m, want_moves = segments.tier_migration(panel, month)
        pd.testing.assert_frame_equal(got_m, want_m)
        assert got_moves == want_moves
    assert want_moves["stayed"] + want_moves["upgrades"] > 0  # the small program has tiers


def test_rfm_and_cohorts_on_a_hand_made_frame(tiny_processed):
    eng = engine.connect(tiny_processed)
    r = engine.rfm_summary(eng).set_index("customer_id")
    assert r.loc["A", "frequency"] == 4 and r.loc["A", "monetary"] == 280.0
    assert r.loc["B", "frequency"] == 2 and r.loc["B", "monetary"] == 70.0  # 50 + 70 − 50 returned
    assert r.loc["A", "recency_days"] == pytest.approx(
        (pd.Timestamp("2026-04-01") - pd.Timestamp("2026-03-05 10:00")).total_seconds() / 86400
    )
    assert "D" not in r.index
    c = engine.cohort_matrix(eng).set_index(["cohort", "offset"])
    jan = pd.Timestamp("2026-01-01")
    assert c.loc[(jan, 0), "cohort_size"] == 3 and c.loc[(jan, 0), "rate"] == 1.0
    assert c.loc[(jan, 1), "active"] == 2  # A and C bought in February, B only returned
    assert c.loc[(jan, 2), "rate"] == pytest.approx(2 / 3)  # A and B in March
    s = engine.store_month_totals(eng).set_index(["store", "month"])
    assert s.loc[("S1", jan), "anonymous_receipts"] == 1 and s.loc[("S1", jan), "customers"] == 2


def test_engine_equals_the_pandas_reference(small_processed):
    eng = engine.connect(small_processed)
    t = processed.load_processed(small_processed)
    lo, hi = engine.data_months(eng)
    pairs = [
        (engine.customer_month_panel(eng), reference.customer_month_panel(t, lo, hi)),
        (engine.rfm_summary(eng), reference.rfm_summary(t, hi)),
        (
            engine.cohort_matrix(eng, "acquisition"),
            reference.cohort_matrix(t, "acquisition", lo, hi),
        ),
        (engine.cohort_matrix(eng, "enrollment"), reference.cohort_matrix(t, "enrollment", lo, hi)),
        (engine.store_month_totals(eng), reference.store_month_totals(t)),
    ]
    for got, expected in pairs:
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)


def test_engine_runs_without_optional_tables(small_processed, tmp_path):
    for name in ("customers", "transactions"):
        shutil.copy(small_processed / f"{name}.parquet", tmp_path / f"{name}.parquet")
    eng = engine.connect(tmp_path)
    p = engine.customer_month_panel(eng)
    assert (p["points_earned"] == 0).all() and p["tier"].isna().all()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_cohort_month_zero_is_one_and_rates_are_shares(small_processed, data):
    eng = engine.connect(small_processed)
    lo, hi = engine.data_months(eng)
    end = data.draw(st.integers(lo, hi))
    c = engine.cohort_matrix(eng, "acquisition", end=months.label(end))
    assert (c.loc[c["offset"] == 0, "rate"] == 1.0).all()
    assert c["rate"].between(0, 1).all() and (c["active"] <= c["cohort_size"]).all()
    assert (c["cohort_mi"] + c["offset"] <= end).all()


@pytest.mark.slow
def test_spark_gives_exactly_the_duckdb_results(small_processed):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: the PySpark backend needs a Java 17 runtime")
    pytest.importorskip("pyspark", reason="install the 'spark' extra (make test does)")
    spark = backends.spark_session()
    es, ed = (
        engine.connect(small_processed, "pyspark", spark=spark),
        engine.connect(small_processed),
    )
    for fn in (engine.customer_month_panel, engine.rfm_summary, engine.store_month_totals):
        pd.testing.assert_frame_equal(fn(es), fn(ed), check_dtype=False, rtol=1e-9)
    for kind in ("acquisition", "enrollment"):
        pd.testing.assert_frame_equal(
            engine.cohort_matrix(es, kind),
            engine.cohort_matrix(ed, kind),
            check_dtype=False,
            rtol=1e-9,
        )
    pd.testing.assert_frame_equal(
        panel_views.kpi_month_counts(es, None, 12, 3),
        panel_views.kpi_month_counts(ed, None, 12, 3),
        check_dtype=False,
        rtol=1e-9,
    )
    a, b = LiftPanel.from_engine(es), LiftPanel.from_engine(ed)  # notebook 04's arrays
    assert a.ids.equals(b.ids) and a.lo == b.lo and a.revenue.sum() > 0
    for field in ("revenue", "orders", "first", "enroll"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_duckdb_gets_a_memory_limit_and_spill_folder_from_the_config(tiny_processed, tmp_path):
    from loyalty_roi.config import EngineConfig

    opts = EngineConfig(memory_limit="1500MB", spill_dir=str(tmp_path / "spill"), threads=1)
    eng = engine.connect(tiny_processed, options=opts)
    got = eng.session.sql(
        "select current_setting('memory_limit'), current_setting('temp_directory'), "
        "current_setting('threads')"
    ).fetchall()[0]
    assert got[0] in ("1.3 GiB", "1.4 GiB") and got[1] == str(tmp_path / "spill") and got[2] == 1
    eng.close()
    # without a limit: the configured share of this machine's RAM (never below 1 GiB)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = memory.duckdb_settings(EngineConfig(memory_share=0.25))["memory_limit"]
    assert limit == f"{max(1024, int(ram * 0.25 / 2**20))}MiB"


def test_a_large_result_hands_duckdbs_cached_buffers_back_and_keeps_the_limit(
    tiny_processed, monkeypatch
):
    from loyalty_roi.config import EngineConfig

    eng = engine.connect(tiny_processed, options=EngineConfig(memory_limit="1500MB"))
    limits = []
    real = memory.release_duckdb_cache

    def spy(session, limit):
        real(session, limit)
        limits.append(session.execute("select current_setting('memory_limit')").fetchall()[0][0])

    monkeypatch.setattr(engine, "release_duckdb_cache", spy)
    monkeypatch.setattr(memory, "RELEASE_AFTER_BYTES", 0)  # every result counts as large here
    panel = engine.customer_month_panel(eng)
    assert len(panel) and limits and all(x in ("1.3 GiB", "1.4 GiB") for x in limits)
    monkeypatch.setattr(memory, "RELEASE_AFTER_BYTES", 2**40)
    monkeypatch.setattr(memory, "RELEASE_AFTER_SECONDS", 3600)
    limits.clear()
    engine.customer_month_panel(eng)
    assert limits == []  # small results of quick queries leave the cache alone
    monkeypatch.setattr(memory, "RELEASE_AFTER_SECONDS", 0)  # every query counts as long here
    engine.rfm_summary(eng)
    assert limits and all(x in ("1.3 GiB", "1.4 GiB") for x in limits)
    eng.close()


def test_engine_settings_that_cannot_work_are_refused_at_load_time():
    from pydantic import ValidationError

    from loyalty_roi.config import EngineConfig

    for bad in ({"memory_limit": "lots"}, {"memory_share": 1.5}, {"spark_connect": "http://x"}):
        with pytest.raises(ValidationError):
            EngineConfig(**bad)


def test_a_large_result_through_parquet_equals_the_direct_one(small_processed):
    """The panel and daily purchases come from DuckDB through a file: same rows, order, dtypes."""
    eng = engine.connect(small_processed)
    lo, hi = engine.data_months(eng)
    expr = engine.customer_month_panel_expr(eng, lo, hi)
    direct, via_file = eng.execute(expr), eng.execute(expr, large=True)
    assert len(direct) > 1000
    pd.testing.assert_frame_equal(via_file, direct)
    tx = eng.table("transactions")
    daily = tx.group_by(["customer_id", tx.ts.truncate("D").name("date")]).aggregate(
        amount=tx.net_amount.sum()
    )
    daily = daily.order_by(["customer_id", "date"])
    pd.testing.assert_frame_equal(eng.execute(daily, large=True), eng.execute(daily))
    eng.close()


def test_customers_are_numbered_in_id_order(small_processed):
    """Notebook 04's arrays number the customers (4 bytes, not a text id): consent follows."""
    eng = engine.connect(small_processed)
    c = eng.execute(engine.customer_months(eng, numbered=True).order_by("customer_id"))
    assert c["key"].dtype == "int32" and (c["key"].to_numpy() == np.arange(len(c))).all()
    consent_id = eng.read("customers").set_index("customer_id")["marketing_consent"]
    consent_key = engine.customer_keys(eng, "marketing_consent")
    assert consent_id.nunique() == 2
    assert (consent_key.to_numpy() == consent_id.reindex(c["customer_id"]).to_numpy()).all()
    eng.close()


def test_tiers_from_spells_equal_the_panels_on_awkward_histories(tmp_path):
    """Tier changes before first seen or before enrollment, two in a month, one without a tier,
    and a non-member's history: the spells give the panel's tier in every member-month."""
    from loyalty_roi import panel_views, segments

    from .conftest import tiny_tables

    t = tiny_tables()
    ts = pd.Timestamp
    extra = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "C", "C"],
            "date": [
                ts("2025-12-01"),
                ts("2026-03-10"),
                ts("2026-03-20"),
                ts("2026-02-01"),
                ts("2026-02-05"),
                ts("2026-03-02"),
            ],
            "from_tier": [None, "silver", "gold", None, "bronze", "gold"],
            "to_tier": ["gold", "gold", "bronze", "silver", "gold", None],
        }
    )
    t["tier_history"] = pd.concat([t["tier_history"], extra], ignore_index=True)
    for name, df in t.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    eng = engine.connect(tmp_path)
    for month in ("2026-02", "2026-03"):
        panel = engine.customer_month_panel(eng, end=month)
        members = panel[panel["is_member"] & panel["tier"].notna()]
        rows = panel_views.member_tiers(eng, month)
        want = members[["customer_id", "mi", "tier"]].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows[["customer_id", "mi", "tier"]], want)
        pd.testing.assert_frame_equal(
            panel_views.tier_counts(eng, month), segments.tier_distribution(panel)
        )
    # by hand, March: A's last change is bronze (20th), C's tierless change keeps gold
    mar = panel_views.member_tiers(eng, "2026-03", last=1).set_index("customer_id")["tier"]
    assert mar.to_dict() == {"A": "bronze", "C": "gold"}
    eng.close()


def test_the_panel_laid_out_from_its_sparse_sums_equals_its_one_query_definition(
    small_processed, tmp_path
):
    """``customer_month_panel`` places the engine's sums per customer-month with a receipt, a
    points event or a tier change into rows laid out with numpy (at 10M receipts 35 → 11 s);
    ``customer_month_panel_expr`` — the whole panel as one query — is its definition.  Equal
    for every window of months and for column subsets, on the synthetic program and on
    hand-made histories (changes before first seen, two in a month, one naming no tier)."""
    from .conftest import tiny_tables

    t = tiny_tables()
    t["tier_history"] = pd.concat(
        [
            t["tier_history"],
            pd.DataFrame(
                {
                    "customer_id": ["A", "A", "C", "C"],
                    "date": pd.to_datetime(
                        ["2025-12-01", "2026-03-20", "2026-02-05", "2026-03-02"]
                    ),
                    "from_tier": [None, "gold", "bronze", "gold"],
                    "to_tier": ["gold", "bronze", "gold", None],
                }
            ),
        ],
        ignore_index=True,
    )
    for name, df in t.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    for d in (small_processed, tmp_path):
        eng = engine.connect(d)
        lo, hi = engine.data_months(eng)
        for start, end in ((lo, hi), (lo + 1, hi - 1), (hi, hi)):
            want = eng.execute(engine.customer_month_panel_expr(eng, start, end))
            want["months_since_enrollment"] = want["months_since_enrollment"].astype("Int64")
            s, e = (
                months.from_index(pd.Series([m])).iloc[0].strftime("%Y-%m") for m in (start, end)
            )
            got = engine.customer_month_panel(eng, start=s, end=e)
            assert len(got) > 0 and got["tier"].notna().any()
            pd.testing.assert_frame_equal(got.drop(columns="month"), want)
            some = ["revenue", "engaged", "tier"]
            pd.testing.assert_frame_equal(
                engine.customer_month_panel(eng, start=s, end=e, columns=some),
                got[["customer_id", "mi", "month", *some]],
            )
        eng.close()


def test_the_same_spend_is_the_same_monetary_whatever_order_it_was_added_in(tmp_path):
    """A parallel sum adds a customer's receipts in a different order on each run, so the
    sums differ in their last bits, and an RFM quantile cut could split customers who spent
    the same: 0.1 + 0.2 + 0.3 is 0.6000000000000001, 0.3 + 0.2 + 0.1 is 0.6."""
    from .conftest import tiny_tables

    t = tiny_tables()
    cust, tx = t["customers"], t["transactions"]
    extra = cust.iloc[[0, 0]].copy()
    extra["customer_id"] = ["Y1", "Y2"]
    t["customers"] = pd.concat([cust, extra], ignore_index=True)
    rows = tx[~tx["is_return"]].iloc[[0] * 6].copy()
    rows["transaction_id"] = [f"Y{i}" for i in range(6)]
    rows["customer_id"] = ["Y1"] * 3 + ["Y2"] * 3
    rows["net_amount"] = [0.1, 0.2, 0.3, 0.3, 0.2, 0.1]
    rows["ts"] = rows["ts"].iloc[0] + pd.to_timedelta(range(6), unit="h")
    t["transactions"] = pd.concat([tx, rows], ignore_index=True)
    for name, df in t.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    assert 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1
    eng = engine.connect(tmp_path, options=type("O", (), {"threads": 1})())  # rows in file order
    m = engine.rfm_summary(eng).set_index("customer_id")["monetary"]
    assert m["Y1"] == m["Y2"] == 0.6
    eng.close()
