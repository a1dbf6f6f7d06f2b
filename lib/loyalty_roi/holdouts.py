"""Campaign lift from randomized holdouts: the one unbiased comparison a program usually has.

Revenue per contacted customer against revenue per held-out customer during
the campaign window, with a delta-method interval on the log ratio.
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
    contacts = eng.read("campaign_contacts")
    if not contacts["is_holdout"].any():
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
