"""The KPI catalogue: every KPI defined once, computed for every month.

Each :class:`Kpi` has a name, its formula (also in the function docstring),
a unit, a direction (is higher better?) and the tables it needs.
:func:`monthly_kpis` computes all of them for all months from the engine's
monthly aggregates; :func:`loyalty_roi.scorecard.build` turns one month into a
scorecard with MoM / YoY change, the SMART target from the config and a status.

A KPI whose tables are missing is "not available: needs <table>" — never 0.
A KPI that is undefined in a month (e.g. no campaign ended, not enough
history) is missing for that month, shown as "—".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import engine
from .months import floor as month_floor


@dataclass(frozen=True)
class Kpi:
    """One KPI definition."""

    key: str
    name: str
    formula: str
    unit: str  # "share" (0–1), "money", "count", "orders", "points", "nps", "score"
    higher_is_better: bool | None  # None: neither (volume / context figures)
    needs: tuple[str, ...]
    group: str

    @property
    def is_rate(self) -> bool:
        """Whether the KPI is a share (its changes are percentage points)."""
        return self.unit == "share"


CATALOGUE: tuple[Kpi, ...] = (
    Kpi(
        "active_customers",
        "Active customers",
        "identified customers with ≥ 1 order in the month",
        "count",
        None,
        ("customers", "transactions"),
        "Volume",
    ),
    Kpi(
        "net_revenue",
        "Net revenue",
        "sum of net amounts of all receipts, returns deducted (incl. anonymous)",
        "money",
        True,
        ("transactions",),
        "Volume",
    ),
    Kpi(
        "average_order_value",
        "Average order value (AOV)",
        "net revenue / orders (all receipts)",
        "money",
        True,
        ("transactions",),
        "Purchase behaviour",
    ),
    Kpi(
        "purchase_frequency",
        "Purchase frequency",
        "orders of identified customers / active identified customers",
        "orders",
        True,
        ("customers", "transactions"),
        "Purchase behaviour",
    ),
    Kpi(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "customers with ≥ 2 orders / customers with ≥ 1 order, in the 12 months ending with the month",
        "share",
        True,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "retention_rate",
        "Retention rate",
        "customers active in both the previous and the current window / customers active in the previous window "
        "(windows of `retention_window` months ending with the month)",
        "share",
        True,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "churn_rate",
        "Churn rate",
        "1 − retention rate",
        "share",
        False,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "enrollment_rate",
        "Enrollment rate",
        "members / known customers (first seen by the month's end)",
        "share",
        True,
        ("customers",),
        "Program",
    ),
    Kpi(
        "active_member_rate",
        "Active member rate",
        "members with an order or a points event in the month / members",
        "share",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "revenue_share_members",
        "Revenue share from members",
        "members' net revenue / all net revenue",
        "share",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "spend_per_active_member",
        "Spend per active member",
        "members' net revenue / active members",
        "money",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "spend_per_active_non_member",
        "Spend per active non-member",
        "identified non-members' net revenue / active identified non-members",
        "money",
        None,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "member_spend_premium",
        "Member spend premium (naive)",
        "spend per active member / spend per active non-member − 1 — not the program's effect (members self-select)",
        "share",
        None,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "points_issued",
        "Points issued",
        "sum of earned points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "points_redeemed",
        "Points redeemed",
        "sum of redeemed points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "points_expired",
        "Points expired",
        "sum of expired points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "redemption_rate",
        "Redemption rate",
        "points redeemed / points issued, 12 months ending with the month",
        "share",
        True,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "breakage_rate",
        "Realised breakage",
        "points expired / points issued, 12 months ending with the month",
        "share",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "nps",
        "Net Promoter Score",
        "% promoters (9–10) − % detractors (0–6) of the month's answers, −100…100",
        "nps",
        True,
        ("surveys",),
        "Satisfaction",
    ),
    Kpi(
        "csat",
        "Customer satisfaction (CSAT)",
        "mean CSAT score (1–5) of the month's answers",
        "score",
        True,
        ("surveys",),
        "Satisfaction",
    ),
    Kpi(
        "campaign_response_rate",
        "Campaign response rate",
        "contacted (not held-out) customers with ≥ 1 order in the campaign window / contacted customers, "
        "campaigns ending in the month",
        "share",
        True,
        ("campaigns", "campaign_contacts", "transactions"),
        "Campaigns",
    ),
)
BY_KEY = {k.key: k for k in CATALOGUE}


@dataclass
class KpiInputs:
    """What every KPI is computed from: the engine's panel counts (read per window) and small tables."""

    engine: engine.Engine
    end: str | None  # the last month (None: the data's last)
    store_totals: pd.DataFrame
    surveys: pd.DataFrame | None
    campaign_activity: pd.DataFrame | None
    campaigns: pd.DataFrame | None
    available: set[str]

    def panel_counts(self, rolling_months: int, retention_window: int) -> pd.DataFrame:
        """The monthly counts of the customer × month panel (:func:`panel_views.kpi_month_counts`)."""
        from . import panel_views

        return panel_views.kpi_month_counts(self.engine, self.end, rolling_months, retention_window)


def gather_inputs(
    eng: engine.Engine, store_totals: pd.DataFrame | None = None, end: str | None = None
) -> KpiInputs:
    """Collect what the KPIs need from the engine, for the months up to ``end``.

    The store totals may be passed in when already built, e.g. by
    :func:`loyalty_roi.artefacts.shared`.  The panel is never built: its KPIs come
    from monthly counts the engine computes (:meth:`KpiInputs.panel_counts`).
    """
    has_campaigns = eng.has("campaigns") and eng.has("campaign_contacts")
    return KpiInputs(
        engine=eng,
        end=end,
        store_totals=store_totals if store_totals is not None else engine.store_month_totals(eng),
        surveys=eng.execute(eng.table("surveys")) if eng.has("surveys") else None,
        campaign_activity=engine.campaign_window_activity(eng) if has_campaigns else None,
        campaigns=eng.execute(eng.table("campaigns")) if has_campaigns else None,
        available=set(eng.tables),
    )


def monthly_kpis(
    inp: KpiInputs, retention_window: int = 3, rolling_months: int = 12
) -> pd.DataFrame:
    """All KPIs of the catalogue for every month: one row per month, one column per KPI.

    ``retention_window``: months per retention window; ``rolling_months``: the
    window of the repeat purchase, redemption and breakage rates (12 in the
    catalogue's definitions).  KPIs whose tables are missing are absent (see
    :func:`availability`); values undefined in a month (not enough history) are NaN.
    """
    c = inp.panel_counts(rolling_months, retention_window)
    out = pd.DataFrame(index=c.index)
    lo = c.index.min()

    def per(num: pd.Series, den: pd.Series) -> pd.Series:
        return num / den.replace(0, np.nan)

    out["active_customers"] = c["active"].astype(float)
    st = inp.store_totals.groupby("month")[["receipts", "revenue"]].sum()
    out["net_revenue"] = st["revenue"]
    out["average_order_value"] = per(st["revenue"], st["receipts"])
    out["purchase_frequency"] = per(c["orders"], c["active"])
    enough12 = out.index >= lo + pd.DateOffset(months=rolling_months - 1)
    out["repeat_purchase_rate"] = per(c["buyers_two"], c["buyers_one"]).where(enough12)
    # retention: active in the previous window and the current window
    enough = out.index >= lo + pd.DateOffset(months=2 * retention_window - 1)
    out["retention_rate"] = per(c["both"], c["prev"]).where(enough)
    out["churn_rate"] = 1 - out["retention_rate"]
    # program
    out["enrollment_rate"] = c["members"] / c["customers"]
    out["active_member_rate"] = per(c["engaged_members"], c["members"])
    out["revenue_share_members"] = per(c["member_revenue"], out["net_revenue"])
    out["spend_per_active_member"] = per(c["member_revenue"], c["active_members"])
    out["spend_per_active_non_member"] = per(c["non_member_revenue"], c["active_non_members"])
    out["member_spend_premium"] = (
        out["spend_per_active_member"] / out["spend_per_active_non_member"] - 1
    )
    # points
    if "points_ledger" in inp.available:
        pts = c[["points_earned", "points_redeemed", "points_expired"]]
        out["points_issued"] = pts["points_earned"].astype(float)
        out["points_redeemed"] = pts["points_redeemed"].astype(float)
        out["points_expired"] = pts["points_expired"].astype(float)
        roll = pts.rolling(rolling_months, min_periods=rolling_months).sum()
        out["redemption_rate"] = per(roll["points_redeemed"], roll["points_earned"])
        out["breakage_rate"] = per(roll["points_expired"], roll["points_earned"])
    if inp.surveys is not None:
        s = inp.surveys.assign(month=month_floor(inp.surveys["date"]))
        sg = s.groupby("month")
        out["nps"] = (sg["nps"].apply(lambda x: (x >= 9).mean() - (x <= 6).mean()) * 100).reindex(
            out.index
        )
        out["csat"] = sg["csat"].mean().reindex(out.index)
    if inp.campaign_activity is not None:
        a = inp.campaign_activity[~inp.campaign_activity["is_holdout"]]
        resp = (
            a.assign(responded=a["orders"] > 0)
            .groupby("campaign_id")["responded"]
            .agg(["sum", "size"])
        )
        ends = month_floor(inp.campaigns.set_index("campaign_id")["end"])
        resp["month"] = ends.reindex(resp.index)
        m = resp.groupby("month")[["sum", "size"]].sum()
        out["campaign_response_rate"] = (m["sum"] / m["size"]).reindex(out.index)
    return out


def catalogue_markdown() -> str:
    """The KPI catalogue as a Markdown table (docs/kpis.md; a test checks they agree)."""
    arrow = {True: "higher", False: "lower", None: "—"}
    lines = ["| KPI | formula | unit | better | needs |", "| --- | --- | --- | --- | --- |"]
    for k in CATALOGUE:
        lines.append(
            f"| {k.name} | {k.formula} | {k.unit} | {arrow[k.higher_is_better]} | {', '.join(k.needs)} |"
        )
    return "\n".join(lines)
