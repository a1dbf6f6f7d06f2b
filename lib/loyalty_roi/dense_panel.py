"""The dense customer × month panel, laid out from the engine's sparse aggregates.

The panel has a row for every customer and month from the customer's first
month on (11.6M rows at 10M receipts), but only the customer-months with a
receipt, a points event or a tier change carry anything.  The engine computes
those (grouped by the customers' numbers, :func:`engine.customer_months`); the
rows are then laid out here with numpy: one block of consecutive months per
customer, in id order, the sums placed at their row, the tier carried forward
within the customer's block.

Built as one engine query, the same panel took 35 s and 2.7 GB at 10M receipts
within DuckDB's memory bound (a global sort of 11.6M wide rows that spills; the
hand-written SQL 24 s at 10.7 GB); laid out from the sums, 11 s and 2.2 GB.
Its definition is :func:`engine.customer_month_panel_expr`, which the tests
compare it with; the report itself never builds it, but notebook 04's arrays
(:class:`.lift_panel.LiftPanel`) are filled from the same receipt sums.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from . import months
from .engine_totals import tx_identified

TX_SUMS = ("orders", "revenue", "gross_sales", "discounts", "returns", "return_amount")
POINT_SUMS = ("points_earned", "points_redeemed", "points_expired", "point_events")
COUNTS = ("orders", "returns", *POINT_SUMS)  # int32, as the engine's panel gives them


def panel_customers_of(c, start_mi: int, end_mi: int):
    """The customers of ``c`` (:func:`engine.customer_months`) with a panel month in ``start_mi … end_mi``.

    ``customer_id, row_mi, enroll_mi`` (and ``key`` when ``c`` is numbered);
    ``row_mi``: the customer's first panel month (first seen, or ``start_mi``).
    """
    c = c.filter(c.first_mi.notnull()).mutate(
        row_mi=ibis.greatest(c.first_mi, ibis.literal(start_mi))
    )
    keys = ["key"] if "key" in c.columns else []
    return c.filter(c.row_mi <= end_mi).select("customer_id", "row_mi", "enroll_mi", *keys)


def _within(t, c, end_mi: int):
    """Rows of ``t`` (with ``mi``) joined to the numbered customers ``c``, in a month of their block."""
    t = t.inner_join(c.select("customer_id", "key", "row_mi"), "customer_id")
    return t.filter((t.mi >= t.row_mi) & (t.mi <= end_mi))


def receipt_cells(eng, c, end_mi: int):
    """Sums per numbered customer-month with a receipt: ``key, mi, orders, revenue, …``.

    ``c``: :func:`panel_customers_of` numbered customers.  The receipts are
    joined to the customers first and grouped by two integers, not by the text
    id: at 10M receipts 1.8 s instead of 2.9, and the rows come grouped by
    customer, which makes filling arrays from them three times faster.  Sums a
    caller does not select are not computed.
    """
    t = _within(tx_identified(eng), c, end_mi)
    ret = t.is_return
    return t.group_by(["key", "mi"]).aggregate(
        orders=ret.ifelse(0, 1).sum().cast("int32"),
        revenue=t.net_amount.sum(),
        gross_sales=ret.ifelse(0.0, t.gross_amount).sum(),
        discounts=ret.ifelse(0.0, t.discount).sum(),
        returns=ret.ifelse(1, 0).sum().cast("int32"),
        return_amount=ret.ifelse(t.net_amount, 0.0).sum(),
    )


def _point_cells(eng, c, end_mi: int):
    pl = eng.table("points_ledger")
    t = _within(pl.mutate(mi=months.index_expr(pl.date)), c, end_mi)
    return t.group_by(["key", "mi"]).aggregate(
        points_earned=(t.type == "earn").ifelse(t.points, 0).sum().cast("int32"),
        points_redeemed=(t.type == "redeem").ifelse(-t.points, 0).sum().cast("int32"),
        points_expired=(t.type == "expire").ifelse(-t.points, 0).sum().cast("int32"),
        point_events=t.count().cast("int32"),
    )


def _tier_changes(eng, c, end_mi: int):
    """Per customer and month with a tier change, the tier it ended on.

    A change before the customer's first panel month holds from that month on.
    """
    th = eng.table("tier_history")
    th = th.inner_join(c.select("key", "customer_id", "row_mi"), "customer_id")
    th = th.mutate(mi=ibis.greatest(months.index_expr(th.date), th.row_mi))
    th = th.filter(th.mi <= end_mi)
    return th.group_by(["key", "mi"]).aggregate(tier=th.to_tier.argmax(th.date))


class _Layout:
    """Where each customer-month sits: one block of rows per customer, in id (key) order."""

    def __init__(self, cust: pd.DataFrame, end_mi: int):
        keys = cust["key"].to_numpy(dtype=np.int64)
        self.row_mi = cust["row_mi"].to_numpy(dtype=np.int64)
        self.start = np.zeros(len(cust) + 1, dtype=np.int64)
        np.cumsum(end_mi - self.row_mi + 1, out=self.start[1:])
        self.n = int(self.start[-1])
        # the customer of each row
        self.owner = np.repeat(np.arange(len(cust), dtype=np.int32), end_mi - self.row_mi + 1)
        self.row_of = np.full(int(keys.max()) + 1 if len(keys) else 0, -1, dtype=np.int64)
        self.row_of[keys] = np.arange(len(keys))

    def mi(self) -> np.ndarray:
        """The month index of each row."""
        offset = np.arange(self.n, dtype=np.int64) - self.start[self.owner]
        return (offset + self.row_mi[self.owner]).astype(np.int16)  # as months.index_expr

    def rows(self, key: np.ndarray, mi: np.ndarray) -> np.ndarray:
        """The rows of customer-months ``(key, mi)``."""
        r = self.row_of[key.astype(np.int64)]
        return self.start[r] + mi.astype(np.int64) - self.row_mi[r]


def _fill(eng, expr, layout: _Layout, names, dtypes) -> dict[str, np.ndarray]:
    """Columns ``names`` of the cells ``expr`` (``key, mi, …``) placed at their rows; 0 elsewhere."""
    from .memory import batches

    out = {n: np.zeros(layout.n, dtype=d) for n, d in zip(names, dtypes, strict=True)}
    for b in batches(eng, expr):  # streamed: the cells are never held whole
        v = {k: b.column(k).to_numpy(zero_copy_only=False) for k in b.schema.names}
        at = layout.rows(v["key"], v["mi"])
        for n in names:
            out[n][at] = v[n]
    return out


def build(eng, customers, start_mi: int, end_mi: int, columns: set[str]) -> pd.DataFrame:
    """The panel's ``columns`` (with ``customer_id, mi``) for months ``start_mi … end_mi``, sorted by id and month.

    ``customers``: :func:`engine.customer_months` with ``numbered=True``.
    """
    import pyarrow as pa

    from .memory import release_arrow_memory

    c = panel_customers_of(customers, start_mi, end_mi)
    cust = eng.execute(c.order_by("key"))
    layout = _Layout(cust, end_mi)
    mi = layout.mi()
    ids = pa.array(cust["customer_id"].array)
    out = {"customer_id": ids.take(pa.array(layout.owner)), "mi": mi}
    flags = {"active", "engaged"}  # read the orders and the points events
    if columns & {*TX_SUMS, *flags}:
        types = [np.int32 if n in COUNTS else np.float64 for n in TX_SUMS]
        out |= _fill(eng, receipt_cells(eng, c, end_mi), layout, TX_SUMS, types)
    if columns & {*POINT_SUMS, *flags}:
        types = [np.int32] * len(POINT_SUMS)
        if eng.has("points_ledger"):
            out |= _fill(eng, _point_cells(eng, c, end_mi), layout, POINT_SUMS, types)
        else:
            out |= {n: np.zeros(layout.n, dtype=np.int32) for n in POINT_SUMS}
    if columns & flags:
        out["active"] = out["orders"] > 0
        out["engaged"] = out["active"] | (out["point_events"] > 0)
    enroll = cust["enroll_mi"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    never = np.isnan(enroll)[layout.owner]
    enroll = np.nan_to_num(enroll).astype(np.int64)[layout.owner]
    out["is_member"] = ~never & (enroll <= mi)
    out["months_since_enrollment"] = pa.array(mi - enroll, mask=never)
    if "tier" in columns:
        out["tier"] = _tiers(eng, c, end_mi, layout, out["is_member"])
    table = pa.table({k: out.pop(k) for k in list(out) if k in columns})
    df = table.to_pandas(  # each column as it is: no consolidation into 2-D blocks, no copy
        split_blocks=True,
        self_destruct=True,
        types_mapper={pa.int64(): pd.Int64Dtype()}.get,  # months since enrollment: nullable
    )
    del table
    release_arrow_memory()
    return df


def _tiers(eng, c, end_mi: int, layout: _Layout, member: np.ndarray):
    """The tier as of each panel row (Arrow strings): the last change up to the month, members only."""
    import pyarrow as pa

    if not eng.has("tier_history"):
        return pa.nulls(layout.n, pa.string())
    ch = eng.execute(_tier_changes(eng, c, end_mi))
    ch = ch[ch["tier"].notna()]  # a month whose last change names no tier keeps the one before
    if ch.empty:
        return pa.nulls(layout.n, pa.string())
    last = np.full(layout.n, -1, dtype=np.int64)  # the change made in each row's month
    last[layout.rows(ch["key"].to_numpy(), ch["mi"].to_numpy())] = np.arange(len(ch))
    pos = np.maximum.accumulate(np.where(last >= 0, np.arange(layout.n), -1))  # latest so far
    held = (pos >= layout.start[layout.owner]) & member  # this customer's change, a member now
    which = np.where(held, last[np.maximum(pos, 0)], 0)
    values = pa.array(ch["tier"].astype("str").to_numpy(dtype=object), pa.string())
    return values.take(pa.array(which, mask=~held))
