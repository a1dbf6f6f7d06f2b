"""Campaign lift from randomized holdouts: the one unbiased comparison a program usually has.

Revenue per contacted customer against revenue per held-out customer during
the campaign window, with a delta-method interval on the log ratio; and what
each reward type costs per unit of incremental revenue, from those lifts
(:func:`reward_type_comparison`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def campaign_lifts(
    activity: pd.DataFrame, campaigns: pd.DataFrame, z: float = 1.96
) -> pd.DataFrame:
    """Holdout lift per campaign: revenue per contact, treated vs randomized holdout.

    ``lift = mean_treated / mean_holdout − 1`` with a delta-method interval on
    the log ratio; ``incremental_revenue = (mean_treated − mean_holdout) × treated contacts``.
    """
    rows = []
    for cid, g in activity.groupby("campaign_id"):
        t = g.loc[~g["is_holdout"], "revenue"].to_numpy()
        h = g.loc[g["is_holdout"], "revenue"].to_numpy()
        if len(t) < 2 or len(h) < 2 or h.mean() <= 0:
            continue
        mt, mh = t.mean(), h.mean()
        se = np.sqrt(t.var(ddof=1) / (len(t) * mt**2) + h.var(ddof=1) / (len(h) * mh**2))
        # the log-ratio interval needs positive revenue per contact (returns can make it ≤ 0)
        log_ratio = np.log(mt / mh) if mt > 0 else np.nan
        rows.append(
            {
                "campaign_id": cid,
                "contacts": len(t),
                "holdouts": len(h),
                "revenue_per_contact": mt,
                "revenue_per_holdout": mh,
                "lift": mt / mh - 1,
                "lift_lo": np.exp(log_ratio - z * se) - 1,
                "lift_hi": np.exp(log_ratio + z * se) - 1,
                "response_treated": (g.loc[~g["is_holdout"], "orders"] > 0).mean(),
                "response_holdout": (g.loc[g["is_holdout"], "orders"] > 0).mean(),
                "incremental_revenue": (mt - mh) * len(t),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    meta = campaigns.set_index("campaign_id")[["name", "type", "start", "end", "cost"]]
    return meta.join(out.set_index("campaign_id"), how="inner").reset_index()


def measurable_lifts(eng) -> tuple[pd.DataFrame | None, str | None]:
    """Campaign holdout lifts, or why none can be measured and what would enable it.

    Returns ``(lifts, None)`` when at least one campaign has a usable holdout,
    else ``(None, reason)`` — one sentence naming what is missing.
    """
    from .engine import campaign_window_activity

    if not eng.has("campaigns"):
        return None, (
            "Not available: no `campaigns` table — provide the campaigns export (id, name, type, "
            "start, end, cost) and its contact list with holdout flags to measure each campaign."
        )
    campaigns = eng.read("campaigns")
    if not eng.has("campaign_contacts"):
        return None, (
            f"Not available: {len(campaigns)} campaigns were ingested but no contact list — "
            "provide `campaign_contacts` (who was selected, and who was randomly held out)."
        )
    contacts = eng.table("campaign_contacts")  # 16M rows at 100M receipts: counted, not read
    held_out = eng.execute(contacts.aggregate(n=contacts.is_holdout.cast("int64").sum()))["n"]
    if not held_out.fillna(0).iloc[0] > 0:
        return None, (
            f"Not measurable on this data: none of the {len(campaigns)} campaigns kept a randomized "
            "holdout, so no campaign's own effect can be told apart from who was selected — hold "
            "out a random 10–20 % of each audience in future campaigns."
        )
    lifts = campaign_lifts(campaign_window_activity(eng), campaigns)
    if lifts.empty:
        return None, (
            "Not measurable on this data: the holdout groups are too small or bought nothing in "
            "the campaign windows — hold out at least a few hundred customers per campaign."
        )
    return lifts, None


def data_window_note(eng) -> str | None:
    """Campaigns that began before the transactions do: their response is only partly observed."""
    from .engine import data_months
    from .months import from_index

    if not eng.has("campaigns"):
        return None
    lo, _ = data_months(eng)
    start = pd.Timestamp(from_index(pd.Series([lo])).iloc[0])
    c = eng.read("campaigns")
    early = c[c["start"] < start]
    if early.empty:
        return None
    names = ", ".join(
        f"{n} ({d:%Y-%m-%d})" for n, d in zip(early["name"], early["start"], strict=True)
    )
    return (
        f"Started before the data begins ({start:%Y-%m-%d}): {names}. Their response counts only "
        "the days inside the data, so their lift and incremental revenue are understated or "
        "uncertain — read them with care, or export transactions from before the campaign."
    )


def reward_type_comparison(
    lifts: pd.DataFrame,
    data_ledger: pd.DataFrame | None,
    cost_per_point: float,
    redemption_rate: float,
    coupons: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cost per incremental unit of revenue by reward type, from campaign holdout results.

    Cost = campaign cost + for double-points campaigns the bonus points
    (× cost per point × redemption rate).  Coupon discounts are already in the
    net revenue the lift is measured on; with ``coupon_redemptions`` their
    count and amount are shown beside it (not added to the cost again).  A type
    with a campaign of unknown cost has an unknown total (never a zero).
    """
    if lifts is None or lifts.empty:
        return pd.DataFrame()
    d = lifts.copy()
    if coupons is not None and "campaign_id" in coupons and len(coupons):
        per = coupons.groupby("campaign_id").agg(
            coupons_redeemed=("coupon_id", "size"), coupon_discount=("discount", "sum")
        )
        d = d.join(per, on="campaign_id")
        d[["coupons_redeemed", "coupon_discount"]] = d[
            ["coupons_redeemed", "coupon_discount"]
        ].fillna(0)
    bonus = pd.Series(0.0, index=d["campaign_id"])
    if data_ledger is not None and "campaign_id" in data_ledger:
        b = data_ledger[data_ledger["campaign_id"].notna() & (data_ledger["type"] == "earn")]
        # bonus = the doubled half of the points earned under the campaign
        bonus = (
            (b.groupby("campaign_id")["points"].sum() / 2 * cost_per_point * redemption_rate)
            .reindex(d["campaign_id"])
            .fillna(0.0)
        )
    d["reward_cost"] = bonus.to_numpy()
    d["total_cost"] = d["cost"] + d["reward_cost"]
    extra = {k: (k, "sum") for k in ("coupons_redeemed", "coupon_discount") if k in d}
    g = d.groupby("type").agg(
        campaigns=("campaign_id", "size"),
        cost_unknown=("cost", lambda s: int(s.isna().sum())),
        incremental_revenue=("incremental_revenue", "sum"),
        total_cost=("total_cost", lambda s: s.sum() if s.notna().all() else np.nan),
        mean_lift=("lift", "mean"),
        **extra,
    )
    g["cost_per_incremental_unit"] = g["total_cost"] / g["incremental_revenue"].where(
        g["incremental_revenue"] > 0
    )
    return g.sort_values("cost_per_incremental_unit")


def reward_type_sentence(rewards: pd.DataFrame) -> str:
    """What the reward-type table shows, and why a cost per incremental unit may be missing."""
    if rewards is None or rewards.empty:
        return "No reward type has a measured campaign lift."
    notes = []
    no_rev = rewards.index[~(rewards["incremental_revenue"] > 0)].tolist()
    if no_rev:
        notes.append(
            f"{', '.join(no_rev)}: no cost per incremental unit — not meaningful, the campaigns "
            "added no measurable revenue"
        )
    unknown = rewards.index[rewards["cost_unknown"] > 0].tolist()
    if unknown:
        notes.append(f"{', '.join(unknown)}: cost unknown for some campaigns")
    best = rewards["cost_per_incremental_unit"].dropna()
    head = (
        f"Cheapest way to buy incremental revenue: {best.idxmin()} "
        f"({best.min():.2f} of cost per unit of revenue)."
        if len(best)
        else "No reward type both added revenue and has a known cost."
    )
    return head + (" " + "; ".join(notes) + "." if notes else "")


def unknown_cost_sentence(campaigns: pd.DataFrame) -> str | None:
    """Which campaigns have no cost (their cost per incremental unit is then unknown), or None."""
    if campaigns is None or "cost" not in campaigns or not campaigns["cost"].isna().any():
        return None
    names = campaigns.loc[campaigns["cost"].isna(), "name"].astype(str).tolist()
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f"{len(names)} campaigns have no cost in the data ({shown}): their reward type's cost per "
        "incremental unit is unknown, not zero — add the cost to the campaigns export."
    )
