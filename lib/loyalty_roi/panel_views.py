"""Small views of the customer × month panel, computed in the engine.

Notebook 02 needs two things from the panel: each customer's share of engaged
months (a clustering feature) and the members' tier in each month.  Both are
computed here on the backend, so the notebook never holds the panel itself
(11.6M rows, 1.3 GiB at 10M transactions); notebooks 03 and 04, which need the
whole panel, build it once (``artefacts.shared("panel", ...)``).
"""

from __future__ import annotations

import pandas as pd

from . import engine, months


def _panel(eng: engine.Engine, end: str | None):
    """The panel expression over the same months as :func:`engine.customer_month_panel`."""
    lo, hi = engine.data_months(eng)
    return engine.customer_month_panel_expr(eng, lo, months.index(end) if end else hi)


def engagement_share(eng: engine.Engine, end: str | None = None) -> pd.Series:
    """Per customer, the share of panel months with an order or a points event.

    Equal to ``customer_month_panel(eng, end=end).groupby("customer_id")["engaged"].mean()``.
    """
    p = _panel(eng, end)
    agg = p.group_by("customer_id").aggregate(engagement=p.engaged.cast("float64").mean())
    return eng.execute(agg).set_index("customer_id")["engagement"]


def member_tiers(eng: engine.Engine, end: str | None = None) -> pd.DataFrame:
    """The panel's rows of members with a tier: ``customer_id, mi, month, is_member, tier``.

    What :func:`segments.tier_distribution` and :func:`segments.tier_migration`
    read, without the months of non-members.
    """
    p = _panel(eng, end)
    p = p.filter(p.is_member & p.tier.notnull()).select("customer_id", "mi", "is_member", "tier")
    df = eng.execute(p.order_by(["customer_id", "mi"]))
    df.insert(2, "month", months.from_index(df["mi"]))
    return df
