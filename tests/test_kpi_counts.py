"""The panel's views computed in the engine from months with activity only: KPI counts, engagement.

Checked against the dense customer × month panel itself (``reference.kpi_month_counts``)
on random small programs built to hit the edges: gaps between active months,
several orders in a month, months with only a return, customers first seen
before the data or after the report month, members with and without an
enrollment date, points events in months without an order and for unknown ids.
"""

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import engine, kpis, months, panel_views
from loyalty_roi.schema import coerce_canonical

from . import reference

START = pd.Timestamp("2025-01-01")
WINDOWS = [(12, 3), (2, 1), (5, 2), (1, 1), (3, 4)]


def random_program(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    ids = [f"C{i:03d}" for i in range(n)]
    first = START + pd.to_timedelta(rng.integers(-90, 420, n), unit="D")
    member = rng.random(n) < 0.5
    enrolled = first + pd.to_timedelta(rng.integers(-30, 300, n), unit="D")
    enrolled = pd.Series(enrolled).where(member & (rng.random(n) < 0.8))  # some members: no date
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "first_seen": first,
            "is_member": member,
            "enrolled_at": enrolled,
            "tier": pd.Series(np.where(member, "bronze", None)),
            "store": "S1",
            "marketing_consent": True,
        }
    )
    rows = []
    for i, cid in enumerate(ids):
        rate = rng.choice([0.0, 0.05, 0.3, 1.0])  # never, rarely, often, several a month
        days = np.flatnonzero(rng.random(480) < rate / 20)
        for d in days:
            ts = first[i] + pd.Timedelta(days=int(d) - 20)  # a few before first seen
            ret = rng.random() < 0.1
            amount = float(rng.integers(5, 120)) * (-1 if ret else 1)
            rows.append((cid, ts, amount, ret))
    for d in rng.integers(0, 480, 10):  # anonymous receipts
        rows.append((None, START + pd.Timedelta(days=int(d)), 20.0, False))
    tx = pd.DataFrame(rows, columns=["customer_id", "ts", "net_amount", "is_return"])
    tx = tx.assign(
        transaction_id=[f"T{k}" for k in range(len(tx))],
        store="S1",
        channel="store",
        gross_amount=tx["net_amount"],
        discount=0.0,
    )
    who = rng.choice([*ids, "UNKNOWN"], 60)
    kind = rng.choice(["earn", "redeem", "expire"], 60)
    pts = rng.integers(1, 200, 60) * np.where(kind == "earn", 1, -1)
    ledger = pd.DataFrame(
        {
            "customer_id": who,
            "date": START + pd.to_timedelta(rng.integers(-40, 480, 60), unit="D"),
            "type": kind,
            "points": pts,
        }
    )
    tables = {"customers": customers, "transactions": tx, "points_ledger": ledger}
    return {k: coerce_canonical(v, k) for k, v in tables.items()}


@pytest.mark.parametrize("seed", range(10))
def test_engine_counts_equal_the_dense_panel_counts(seed, tmp_path):
    for name, df in random_program(seed).items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    eng = engine.connect(tmp_path)
    lo, hi = engine.data_months(eng)
    rng = np.random.default_rng(seed)
    checked = 0
    for rolling, window in WINDOWS:
        end = months.label(int(rng.integers(lo, hi + 1)))
        panel = engine.customer_month_panel(eng, end=end)
        want = reference.kpi_month_counts(panel, rolling, window)
        got = panel_views.kpi_month_counts(eng, end, rolling, window)
        if panel.empty:  # a month before every customer's first: no panel, no counts
            assert got.empty
            continue
        assert len(got) == months.index(end) - panel["mi"].min() + 1
        pd.testing.assert_frame_equal(
            got[want.columns], want, check_dtype=False, check_freq=False, rtol=1e-9
        )
        share = panel_views.engagement_share(eng, end)  # notebook 02's feature, same months
        want_share = panel.groupby("customer_id")["engaged"].mean()
        pd.testing.assert_series_equal(share.sort_index(), want_share, check_names=False)
        checked += 1
    assert checked >= 3
    eng.close()


def test_the_hand_made_frames_counts(tiny_processed):
    """Customers A, B, C, D of conftest.tiny_tables, worked out by hand (rolling 2, window 1)."""
    c = panel_views.kpi_month_counts(engine.connect(tiny_processed), None, 2, 1)
    jan, feb, mar = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))
    assert list(c["customers"]) == [3, 3, 4] and list(c["members"]) == [1, 2, 2]
    assert list(c["buyers_one"]) == [3, 3, 3]  # Feb: A, C (Feb) and B (Jan); Mar: A, B, C (Feb)
    assert list(c["buyers_two"]) == [0, 2, 1]  # Feb: A (1 + 2), C (1 + 1); Mar: A (2 + 1)
    assert c.loc[feb, "prev"] == 3 and c.loc[feb, "both"] == 2  # Jan A, B, C → Feb A, C
    assert c.loc[mar, "prev"] == 2 and c.loc[mar, "both"] == 1  # Feb A, C → Mar A
    assert c.loc[jan, "engaged_members"] == 1 and c.loc[mar, "engaged_members"] == 1
    assert c.loc[feb, "non_member_revenue"] == -50.0  # B's return; A enrolled in Feb


def test_the_kpis_never_build_the_panel(small_processed, monkeypatch):
    """Notebook 03 holds no customer × month panel: its rows grow with customers × months."""

    def refuse(*args, **kwargs):
        raise AssertionError("the KPIs built the dense panel")

    monkeypatch.setattr(engine, "customer_month_panel", refuse)
    monkeypatch.setattr(engine, "customer_month_panel_expr", refuse)
    values = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(small_processed), end="2026-09"))
    assert values.index.max() == pd.Timestamp("2026-09-01")
    assert values["retention_rate"].notna().sum() >= 6
