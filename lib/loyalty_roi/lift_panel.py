"""The customer × month arrays notebook 04 reads, built without the dense panel.

The corrected lift, the naive comparison, the program P&L's member revenue
and the retention value all read the same few things per customer and month:
revenue, orders, the first month the customer is known and the month of
enrollment.  :class:`LiftPanel` holds them as customers × months arrays
(revenue float64 to the micro-unit, orders float32; zero where nothing was
bought), with per customer the first panel month and the enrollment month.

Two ways in:

* :meth:`LiftPanel.from_engine` — the report's way: the engine computes the
  customers (first and enrollment month) and the *sparse* customer-months with
  a receipt, and the arrays are filled batch by batch.  The dense panel
  (customers × months rows, 225M at 100M receipts) is never built, in the
  engine or in pandas;
* :meth:`LiftPanel.from_panel` — from a dense panel frame
  (:func:`engine.customer_month_panel`), for generated programs, tests and
  the workshop.

Both give the same arrays for the same data (tests/test_lift_panel.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import engine, months
from .engine import MONEY_DECIMALS


def _money(values: np.ndarray) -> np.ndarray:
    """Summed amounts to the micro-unit: the same numbers from run to run.

    A parallel engine adds a customer-month's receipts in a different order on each
    run, so the sums differ in their last bits (38,110 of the 10M panel's cells,
    by up to 5e-13); the matching then picks other controls among equally near
    ones and the lift moved by up to 0.3 pp between two runs on the same data.
    Amounts are sums of cents, so rounding to 1e-6 recovers one value exactly.
    """
    return np.round(values, MONEY_DECIMALS)


@dataclass
class LiftPanel:
    """Customers × months arrays of revenue and orders, with first and enrollment months.

    Column ``j`` is month index ``lo + j``; row ``i`` is customer ``ids[i]``.
    ``first[i]``: column of the customer's first panel month (months before it are 0);
    ``enroll[i]``: column of enrollment (NaN: never; negative: before the data).
    """

    lo: int
    ids: pd.Index
    revenue: np.ndarray  # float64, customers × months
    orders: np.ndarray  # float32 (whole counts are exact), customers × months
    first: np.ndarray  # int64 per customer
    enroll: np.ndarray  # float64 per customer, NaN when never enrolled

    @property
    def n_months(self) -> int:
        """Months (columns) of the panel."""
        return int(self.revenue.shape[1])

    def month_starts(self, cols: np.ndarray | None = None) -> pd.DatetimeIndex:
        """Month starts of columns ``cols`` (all by default)."""
        cols = np.arange(self.n_months) if cols is None else np.asarray(cols)
        return pd.DatetimeIndex(months.from_index(pd.Series(self.lo + cols)), name="month")

    def enrolled_inside(self) -> bool:
        """Whether some member enrolled in a month the panel holds for them."""
        e = self.enroll
        return bool(((e >= self.first) & (e <= self.n_months - 1)).any())

    @classmethod
    def from_panel(cls, panel: pd.DataFrame) -> LiftPanel:
        """From a dense panel frame (``customer_id, mi, revenue, orders, months_since_enrollment``)."""
        if panel.empty:
            z = np.zeros((0, 0))
            return cls(0, pd.Index([]), z, z.astype(np.float32), np.zeros(0, int), np.zeros(0))
        mi = panel["mi"].to_numpy(dtype=np.int64)
        lo, hi = int(mi.min()), int(mi.max())
        codes, uniques = pd.factorize(panel["customer_id"])  # ids in order of appearance
        shape = (len(uniques), hi - lo + 1)
        cols = mi - lo
        revenue = np.zeros(shape)
        revenue[codes, cols] = _money(panel["revenue"].to_numpy(dtype=float))
        orders = np.zeros(shape, dtype=np.float32)
        orders[codes, cols] = panel["orders"].to_numpy(dtype=float)
        first = np.full(len(uniques), shape[1], dtype=np.int64)
        np.minimum.at(first, codes, cols)
        mse = (
            panel["months_since_enrollment"]
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
        enroll = np.full(len(uniques), np.nan)
        has = ~np.isnan(mse)
        enroll[codes[has]] = cols[has] - mse[has]
        return cls(lo, pd.Index(uniques), revenue, orders, first, enroll)

    @classmethod
    def from_engine(cls, eng: engine.Engine, end: str | None = None) -> LiftPanel:
        """From the engine's customers and sparse customer-months, as the panel up to ``end``.

        Customers are numbered in id order (``ids`` are :func:`engine.customer_keys`
        numbers); those first seen after ``end`` have no panel rows and are left out.
        """
        from .dense_panel import receipt_cells
        from .memory import batches
        from .panel_views import panel_customers

        start_mi, end_mi, c = panel_customers(eng, end, numbered=True)
        cust = eng.execute(c.select("key", "row_mi", "enroll_mi").order_by("key"))
        if cust.empty:
            return cls.from_panel(pd.DataFrame())
        lo = int(cust["row_mi"].min())
        keys = cust["key"].to_numpy()
        # key → row by lookup: a search of the keys took 1.1 s at 10M receipts
        row_of = np.full(int(keys.max()) + 1, -1, dtype=np.int64)
        row_of[keys] = np.arange(len(keys))
        shape = (len(cust), end_mi - lo + 1)
        revenue = np.zeros(shape)
        orders = np.zeros(shape, dtype=np.float32)
        a = receipt_cells(eng, c, end_mi)  # the panel's customer-months with a receipt
        a = a.select("key", col=(a.mi - lo).cast("int32"), revenue=a.revenue, orders=a.orders)
        for b in batches(eng, a):  # a batch at a time: the sparse months are never held whole
            v = {k: b.column(k).to_numpy(zero_copy_only=False) for k in b.schema.names}
            at = row_of[v["key"]] * shape[1] + v["col"]  # flat positions: one index, not two
            revenue.ravel()[at] = _money(v["revenue"])
            orders.ravel()[at] = v["orders"]
        enroll = cust["enroll_mi"].astype("Float64").to_numpy(dtype=float, na_value=np.nan) - lo
        first = cust["row_mi"].to_numpy(dtype=np.int64) - lo
        return cls(lo, pd.Index(keys), revenue, orders, first, enroll)


def of(panel: pd.DataFrame | LiftPanel) -> LiftPanel:
    """``panel`` as a :class:`LiftPanel` (a dense panel frame is converted)."""
    return panel if isinstance(panel, LiftPanel) else LiftPanel.from_panel(panel)


def member_masks(lp: LiftPanel, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For columns ``cols``: customer-months inside the panel, and of those the members'."""
    inside = cols[None, :] >= lp.first[:, None]
    member = inside & (cols[None, :] >= lp.enroll[:, None])  # NaN: never a member
    return inside, member
