"""The engine's small pieces: identified receipts, data months, totals, purchase days.

Store totals, campaign-window activity and the purchase days of each customer.

Ibis expressions like the panel's, returned as pandas frames; used through
:mod:`loyalty_roi.engine` (``engine.store_month_totals`` …), which imports them.
``eng`` is a :class:`loyalty_roi.engine.Engine` (not imported here: no cycle).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from . import months


def tx_identified(eng) -> ir.Table:
    """Receipts of identified customers, with their month index ``mi``."""
    tx = eng.table("transactions")
    return tx.filter(tx.customer_id.notnull()).mutate(mi=months.index_expr(tx.ts))


def data_months(eng) -> tuple[int, int]:
    """First and last month index with transactions."""
    tx = eng.table("transactions")
    # the first and last receipt, then their months: DuckDB answers min and max of a
    # column from the Parquet statistics (2 ms at 10M receipts; months of every receipt: 0.15 s)
    r = eng.execute(tx.aggregate(lo=tx.ts.min(), hi=tx.ts.max()))
    return months.index(r["lo"].iloc[0]), months.index(r["hi"].iloc[0])


def _finish(df: pd.DataFrame, keys: list[str] | None) -> pd.DataFrame:
    """Sort by ``keys`` (``None``: the engine already sorted it) and add ``month`` after ``mi``."""
    if keys:
        df = df.sort_values(keys, kind="stable").reset_index(drop=True)
    if "mi" in df.columns:
        df.insert(df.columns.get_loc("mi") + 1, "month", months.from_index(df["mi"]))
    return df


def store_month_totals_expr(eng) -> ir.Table:
    """Ibis expression of :func:`store_month_totals`."""
    tx = eng.table("transactions")
    tx = tx.mutate(mi=months.index_expr(tx.ts))
    return tx.group_by(["store", "channel", "mi"]).aggregate(
        receipts=tx.is_return.ifelse(0, 1).sum().cast("int64"),
        revenue=tx.net_amount.sum(),
        discounts=tx.discount.sum(),
        returns=tx.is_return.ifelse(1, 0).sum().cast("int64"),
        customers=tx.customer_id.nunique().cast("int64"),
        anonymous_receipts=tx.customer_id.isnull().ifelse(1, 0).sum().cast("int64"),
    )


def store_month_totals(eng) -> pd.DataFrame:
    """Receipts, net revenue, discounts, returns, distinct and anonymous customers per store, channel and month."""
    return _finish(eng.execute(store_month_totals_expr(eng)), ["store", "channel", "mi"])


def campaign_window_activity_expr(eng) -> ir.Table:
    """Ibis expression of :func:`campaign_window_activity`."""
    cc, camp = eng.table("campaign_contacts"), eng.table("campaigns")
    tx = eng.table("transactions")
    tx = tx.filter(tx.customer_id.notnull())
    c = cc.inner_join(camp, "campaign_id")
    c = c.select("campaign_id", "customer_id", "is_holdout", "start", "end")
    t = tx.select(
        tx_customer=tx.customer_id, ts=tx.ts, is_return=tx.is_return, net_amount=tx.net_amount
    )
    j = c.left_join(
        t, [c.customer_id == t.tx_customer, t.ts >= c.start, t.ts < c.end + ibis.interval(days=1)]
    )
    g = j.group_by(["campaign_id", "customer_id", "is_holdout"]).aggregate(
        orders=j.is_return.notnull().ifelse(j.is_return.ifelse(0, 1), 0).sum().cast("int64"),
        revenue=j.net_amount.fill_null(0.0).sum(),
    )
    return g


def campaign_window_activity(eng) -> pd.DataFrame:
    """Orders and net revenue of every campaign contact inside the campaign window.

    One row per ``campaign_id, customer_id`` with ``is_holdout``, ``orders``
    (receipts that are not returns, from ``start`` to the end of ``end``) and
    ``revenue`` (net, returns deducted).  Needs ``campaigns`` and ``campaign_contacts``.
    """
    df = eng.execute(campaign_window_activity_expr(eng))
    return df.sort_values(["campaign_id", "customer_id"], kind="stable").reset_index(drop=True)


def purchase_days(eng, end_mi: int) -> ir.Table:
    """Ibis table of purchase days up to month index ``end_mi``: ``customer_id, date, amount``.

    ``amount`` is the day's net sales; returns are left out, as in the CLV
    literature (a return is not a purchase).
    """
    tx = tx_identified(eng)
    s = tx.filter(~tx.is_return & (tx.mi <= end_mi))
    s = s.mutate(date=s.ts.truncate("D"))
    return s.group_by(["customer_id", "date"]).aggregate(amount=s.net_amount.sum())
