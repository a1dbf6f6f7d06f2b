"""Plain-pandas implementations of the engine's outputs.

A test oracle (it lives under tests/, not in the package): the expected results of
the engine on synthetic data, and the pandas baseline of ``make bench``.  Same columns and
semantics as :mod:`loyalty_roi.engine`; not used by the notebooks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_roi.engine import PANEL_COLUMNS
from loyalty_roi.months import from_index as month_from_index


def _mi(ts: pd.Series) -> pd.Series:
    return (ts.dt.year * 12 + ts.dt.month - 1).astype("int64")


def customer_month_panel(t: dict[str, pd.DataFrame], start_mi: int, end_mi: int) -> pd.DataFrame:
    tx = t["transactions"]
    tx = tx[tx["customer_id"].notna()].assign(mi=lambda d: _mi(d["ts"]))
    tx = tx[(tx["mi"] >= start_mi) & (tx["mi"] <= end_mi)]
    ret = tx["is_return"]
    agg = (
        tx.assign(
            orders=(~ret).astype("int64"),
            gross_sales=tx["gross_amount"].where(~ret, 0.0),
            discounts=tx["discount"].where(~ret, 0.0),
            returns=ret.astype("int64"),
            return_amount=tx["net_amount"].where(ret, 0.0),
            revenue=tx["net_amount"],
        )
        .groupby(["customer_id", "mi"])[
            ["orders", "revenue", "gross_sales", "discounts", "returns", "return_amount"]
        ]
        .sum()
        .reset_index()
    )
    c = t["customers"]
    first = _mi(c["first_seen"])
    # a member without an enrollment date counts as enrolled before first seen
    enroll = _mi(c["enrolled_at"].fillna(c["first_seen"])).where(c["is_member"])
    months = np.arange(start_mi, end_mi + 1)
    grid = pd.DataFrame(
        {
            "customer_id": np.repeat(c["customer_id"].to_numpy(), len(months)),
            "mi": np.tile(months, len(c)),
            "first_mi": np.repeat(first.to_numpy(), len(months)),
            "enroll_mi": np.repeat(enroll.to_numpy(), len(months)),
        }
    )
    grid = grid[grid["mi"] >= grid["first_mi"]]
    p = grid.merge(agg, on=["customer_id", "mi"], how="left")
    for col in ("orders", "returns"):
        p[col] = p[col].fillna(0).astype("int64")
    for col in ("revenue", "gross_sales", "discounts", "return_amount"):
        p[col] = p[col].fillna(0.0)
    p["is_member"] = p["enroll_mi"].notna() & (p["enroll_mi"] <= p["mi"])
    p["months_since_enrollment"] = (p["mi"] - p["enroll_mi"]).astype("Int64")
    if "points_ledger" in t:
        pl = t["points_ledger"].assign(mi=lambda d: _mi(d["date"]))
        pts = (
            pl.assign(
                points_earned=pl["points"].where(pl["type"] == "earn", 0),
                points_redeemed=(-pl["points"]).where(pl["type"] == "redeem", 0),
                points_expired=(-pl["points"]).where(pl["type"] == "expire", 0),
                point_events=1,
            )
            .groupby(["customer_id", "mi"])[
                ["points_earned", "points_redeemed", "points_expired", "point_events"]
            ]
            .sum()
            .reset_index()
        )
        p = p.merge(pts, on=["customer_id", "mi"], how="left")
    for col in ("points_earned", "points_redeemed", "points_expired", "point_events"):
        p[col] = p.get(col, pd.Series(0, index=p.index)).fillna(0).astype("int64")
    p["active"] = p["orders"] > 0
    p["engaged"] = p["active"] | (p["point_events"] > 0)
    if "tier_history" in t:
        th = t["tier_history"].assign(mi=lambda d: _mi(d["date"]))
        th = (
            th.sort_values(["customer_id", "date"], kind="stable")
            .groupby(["customer_id", "mi"])
            .last()
            .reset_index()
        )
        p = p.sort_values(["mi", "customer_id"], kind="stable")
        p = pd.merge_asof(
            p,
            th[["customer_id", "mi", "to_tier"]].sort_values("mi"),
            on="mi",
            by="customer_id",
            direction="backward",
        )
        p["tier"] = p["to_tier"].where(p["is_member"])
    else:
        p["tier"] = np.nan
    p["tier"] = p["tier"].astype("str").where(p["tier"].notna(), np.nan).astype("str")
    cols = list(PANEL_COLUMNS)  # the engine's column contract; the values are computed here
    p = p[cols].sort_values(["customer_id", "mi"], kind="stable").reset_index(drop=True)
    p.insert(2, "month", month_from_index(p["mi"]))
    return p


def rfm_summary(t: dict[str, pd.DataFrame], as_of_mi: int) -> pd.DataFrame:
    tx = t["transactions"]
    tx = tx[tx["customer_id"].notna()].assign(mi=lambda d: _mi(d["ts"]))
    tx = tx[tx["mi"] <= as_of_mi]
    sales = tx[~tx["is_return"]]
    g = sales.groupby("customer_id")
    s = pd.DataFrame(
        {
            "first_purchase": g["ts"].min(),
            "last_purchase": g["ts"].max(),
            "frequency": g.size().astype("int64"),
            "purchase_days": sales.assign(day=sales["ts"].dt.normalize())
            .drop_duplicates(["customer_id", "day"])
            .groupby("customer_id")
            .size()
            .astype("int64"),
        }
    )
    s["monetary"] = tx.groupby("customer_id")["net_amount"].sum()
    end = month_from_index(pd.Series([as_of_mi + 1])).iloc[0]
    s["recency_days"] = (end - s["last_purchase"]).dt.total_seconds() / 86400.0
    s["tenure_days"] = (end - s["first_purchase"]).dt.total_seconds() / 86400.0
    s["aov"] = s["monetary"] / s["frequency"]
    s = s.reset_index()
    return (
        s[
            [
                "customer_id",
                "frequency",
                "purchase_days",
                "monetary",
                "first_purchase",
                "last_purchase",
                "recency_days",
                "tenure_days",
                "aov",
            ]
        ]
        .sort_values("customer_id")
        .reset_index(drop=True)
    )


def cohort_matrix(
    t: dict[str, pd.DataFrame], kind: str, start_mi: int, end_mi: int
) -> pd.DataFrame:
    tx = t["transactions"]
    tx = tx[tx["customer_id"].notna() & ~tx["is_return"]].assign(mi=lambda d: _mi(d["ts"]))
    active = tx.loc[tx["mi"] <= end_mi, ["customer_id", "mi"]].drop_duplicates()
    if kind == "acquisition":
        cohorts = active.groupby("customer_id")["mi"].min().rename("cohort_mi").reset_index()
    else:
        c = t["customers"]
        c = c[c["is_member"] & c["enrolled_at"].notna()]
        cohorts = pd.DataFrame(
            {"customer_id": c["customer_id"], "cohort_mi": _mi(c["enrolled_at"])}
        )
        cohorts = cohorts[(cohorts["cohort_mi"] >= start_mi) & (cohorts["cohort_mi"] <= end_mi)]
    size = cohorts.groupby("cohort_mi").size().rename("cohort_size")
    j = active.merge(cohorts, on="customer_id")
    j = j[j["mi"] >= j["cohort_mi"]].assign(offset=lambda d: d["mi"] - d["cohort_mi"])
    out = (
        j.groupby(["cohort_mi", "offset"])
        .size()
        .rename("active")
        .reset_index()
        .join(size, on="cohort_mi")
    )
    out["active"] = out["active"].astype("int64")
    out["cohort_size"] = out["cohort_size"].astype("int64")
    out["rate"] = out["active"] / out["cohort_size"]
    out = out.sort_values(["cohort_mi", "offset"]).reset_index(drop=True)
    out.insert(1, "cohort", month_from_index(out["cohort_mi"]))
    return out


def store_month_totals(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    tx = t["transactions"].assign(mi=lambda d: _mi(d["ts"]))
    ret = tx["is_return"]
    g = tx.assign(
        receipts=(~ret).astype("int64"),
        returns=ret.astype("int64"),
        anonymous_receipts=tx["customer_id"].isna().astype("int64"),
    ).groupby(["store", "channel", "mi"])
    out = g[["receipts", "net_amount", "discount", "returns", "anonymous_receipts"]].sum()
    out["customers"] = g["customer_id"].nunique().astype("int64")
    out = out.rename(columns={"net_amount": "revenue", "discount": "discounts"}).reset_index()
    out = (
        out[
            [
                "store",
                "channel",
                "mi",
                "receipts",
                "revenue",
                "discounts",
                "returns",
                "customers",
                "anonymous_receipts",
            ]
        ]
        .sort_values(["store", "channel", "mi"])
        .reset_index(drop=True)
    )
    out.insert(3, "month", month_from_index(out["mi"]))
    return out


def _window_sum(values: pd.Series, customer: pd.Series, window: int) -> pd.Series:
    """Per customer, the sum of ``values`` over the last ``window`` rows (dense rows in month order)."""
    cs = values.groupby(customer, sort=False).cumsum()
    return cs - cs.groupby(customer, sort=False).shift(window).fillna(0)


def kpi_month_counts(panel: pd.DataFrame, rolling: int, window: int) -> pd.DataFrame:
    """The panel KPIs' monthly counts from the dense panel itself (the engine's sparse query's oracle)."""
    p = panel.sort_values(["customer_id", "mi"], kind="stable").reset_index(drop=True)
    by, mem, active, cust = p["month"], p["is_member"], p["active"], p["customer_id"]
    out = pd.DataFrame(
        {
            "customers": by.value_counts().sort_index(),
            "members": mem.groupby(by).sum(),
            "active": active.groupby(by).sum(),
            "orders": p["orders"].groupby(by).sum(),
            "member_revenue": p["revenue"].where(mem, 0.0).groupby(by).sum(),
            "non_member_revenue": p["revenue"].where(~mem, 0.0).groupby(by).sum(),
            "active_members": (active & mem).groupby(by).sum(),
            "active_non_members": (active & ~mem).groupby(by).sum(),
            "engaged_members": (p["engaged"] & mem).groupby(by).sum(),
        }
    )
    for c in ("points_earned", "points_redeemed", "points_expired"):
        out[c] = p[c].groupby(by).sum()
    orders = _window_sum(p["orders"], cust, rolling)
    out["buyers_one"] = (orders >= 1).groupby(by).sum()
    out["buyers_two"] = (orders >= 2).groupby(by).sum()
    in_cur = _window_sum(active.astype("int64"), cust, window) > 0
    in_prev = in_cur.groupby(cust, sort=False).shift(window).fillna(False).astype(bool)
    out["prev"] = in_prev.groupby(by).sum()
    out["both"] = (in_prev & in_cur).groupby(by).sum()
    out.index.name = "month"
    return out


def clv_summary(t: dict[str, pd.DataFrame], calibration_end, observation_end=None) -> pd.DataFrame:
    """BG/NBD inputs the pandas way (the workbook's code before 2026-11-24): purchase days
    from the receipts, then frequency, recency, T, mean repeat spend and holdout purchases."""
    tx = t["transactions"]
    last = pd.Timestamp(observation_end if observation_end is not None else calibration_end)
    s = tx[
        tx["customer_id"].notna()
        & ~tx["is_return"]
        & (tx["ts"] < last.normalize() + pd.offsets.MonthBegin(1))
    ]
    daily = (
        s.assign(date=s["ts"].dt.normalize())
        .groupby(["customer_id", "date"], as_index=False)["net_amount"]
        .sum()
        .rename(columns={"net_amount": "amount"})
    )
    cal_end = pd.Timestamp(calibration_end).normalize()
    cal = daily[daily["date"] <= cal_end].sort_values(["customer_id", "date"], kind="stable")
    g = cal.groupby("customer_id")
    first, last_day, n = g["date"].min(), g["date"].max(), g.size()
    mv = cal[g.cumcount() > 0].groupby("customer_id")["amount"].mean()
    out = pd.DataFrame(
        {
            "frequency": (n - 1).astype("int64"),
            "recency": (last_day - first).dt.days / 7.0,
            "T": (cal_end - first).dt.days / 7.0,
            "monetary_value": mv.reindex(n.index).fillna(0.0),
            "first_purchase": first.astype("datetime64[us]"),
        }
    )
    if observation_end is not None:
        obs_end = pd.Timestamp(observation_end).normalize()
        hold = daily[(daily["date"] > cal_end) & (daily["date"] <= obs_end)]
        out["holdout_purchases"] = (
            hold.groupby("customer_id").size().reindex(out.index).fillna(0).astype("int64")
        )
        out["holdout_weeks"] = (obs_end - cal_end).days / 7.0
    return out.rename_axis("customer_id").reset_index()


# What notebook 04 reads from the dense panel, computed on its rows (the code the
# customers × months arrays of loyalty_roi.lift_panel replaced).


def naive_lift(panel: pd.DataFrame, months: int = 12) -> tuple[float, float]:
    """Mean revenue per member-month and per non-member-month over the last ``months`` months."""
    p = panel[panel["mi"] > panel["mi"].max() - months]
    return p.loc[p["is_member"], "revenue"].mean(), p.loc[~p["is_member"], "revenue"].mean()


def member_revenue(panel: pd.DataFrame, months: int, horizon: int) -> tuple[pd.Series, pd.Series]:
    """Per month of the last ``months``: members' revenue after enrollment, and the part the lift was
    measured on (joined inside the data, 1…``horizon`` months after sign-up)."""
    idx = pd.DatetimeIndex(np.sort(panel["month"].unique())[-months:], name="month")
    mse = panel["months_since_enrollment"]
    joined_inside = panel["mi"] - mse >= panel["mi"].min()
    after = panel[(mse >= 1).fillna(False)]
    measured = panel[((mse >= 1) & (mse <= horizon) & joined_inside).fillna(False)]

    def by_month(p):
        return p.groupby("month")["revenue"].sum().reindex(idx, fill_value=0.0)

    return by_month(after), by_month(measured)


def annual_retention_and_margin(panel: pd.DataFrame, gross_margin: float) -> tuple[float, float]:
    """Retention between two consecutive 12-month windows; gross margin per customer active in the last."""
    hi = panel["mi"].max()
    act = panel[panel["active"]]
    last = set(act.loc[act["mi"] > hi - 12, "customer_id"])
    prev = set(act.loc[(act["mi"] <= hi - 12) & (act["mi"] > hi - 24), "customer_id"])
    retention = len(last & prev) / len(prev) if prev else np.nan
    rows = panel[(panel["mi"] > hi - 12) & panel["customer_id"].isin(last)]
    return retention, rows["revenue"].sum() / max(1, len(last)) * gross_margin
