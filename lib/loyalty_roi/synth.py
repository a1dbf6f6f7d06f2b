"""Seeded synthetic loyalty program with known, planted effects.

The generator is the embedded default data of every notebook and the ground
truth of every estimator test.  What it plants (all written to ``truth.json``):

* **Self-selection and sign-up.**  Each customer has a latent heaviness ``h``
  (lognormal, mean 1) that scales the monthly order rate and, mildly, the order
  value.  How members sign up is a parameter (``enrollment``, see
  :data:`ENROLLMENT_MECHANISMS`): at the till (each purchase signs the customer
  up with a fixed chance — the demo's default, because real programs enrol
  while people buy), a launch wave, a sign-up bonus promotion, a hazard ∝ h²
  only while the customer still buys, or a hazard ∝ h² that ignores activity
  (the textbook case).  Heavy buyers join more and earlier under every one.
* **Program lift.**  From the month *after* enrollment a member's order rate
  is multiplied by ``1 + frequency_lift`` and order value by
  ``1 + spend_lift``, ramping up linearly over ``lift_ramp_months`` if set:
  ``truth.json`` gives the revenue lift per horizon and the mechanism.
* **Churn** is a constant monthly hazard independent of ``h`` and membership,
  so the corrected estimators can be unbiased.
* **Tiers** bronze/silver/gold from annualised 12-month spend, evaluated monthly.
* **Points**: 1 point per currency unit × tier multiplier (× 2 in double-points
  campaigns), vouchers of ``voucher_points``, FIFO expiry after 12 months,
  a quarter of members never redeem (breakage), rare goodwill adjustments.
* **Campaigns** with randomized holdouts and a true lift on the order rate in
  the campaign window (coupons also give a discount; double points double the
  points earned).
* Surveys (NPS, CSAT), monthly program costs, anonymous sales, returns.

``generate`` returns canonical frames plus the raw personal data; ``write_raw``
writes them as a real export would look (Danish/Dutch/German headers,
``;``-separated latin-1 CSV with decimal commas, Parquet, Excel) with the
mapping file that maps them back.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import safety
from .errors import ConfigError
from .schema import coerce_canonical

TIER_NAMES = np.array(["bronze", "silver", "gold"])
TIER_MULT = np.array([1.0, 1.25, 1.5])


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the synthetic program (the planted truth included)."""

    n_customers: int = 20_000
    months: int = 24
    end_month: str = "2026-10"
    seed: int = 42
    # behaviour
    heaviness_sigma: float = 0.7
    base_orders_per_month: float = 0.9
    base_order_value: float = 38.0
    churn_hazard: float = 0.012
    share_existing: float = 0.55
    # self-selection and how customers sign up (see ENROLLMENT_MECHANISMS)
    enrollment: str = "independent"
    enroll_prob_per_month: float = 0.035  # "independent", "while_buying": × heaviness²
    enroll_prob_per_purchase: float = 0.03  # "till", "launch_wave", "promotion"
    launch_month: int = 9  # "launch_wave": month index of the launch in the window
    launch_prob_per_purchase: float = 0.30  # "launch_wave": in the launch month and the next
    promo_months: tuple[int, ...] = (8, 14, 19)  # "promotion": sign-up bonus months
    promo_boost: float = 6.0  # "promotion": per-purchase sign-up chance × this in a promo month
    existing_member_prob: float = 0.10
    # planted program effect (ramps up linearly over lift_ramp_months after enrollment)
    frequency_lift: float = 0.10
    spend_lift: float = 0.05
    lift_ramp_months: int = 0
    # points
    points_per_unit: float = 1.0
    voucher_points: int = 200
    expiry_months: int = 12
    never_redeem_share: float = 0.25
    tier_thresholds: tuple[float, float] = (350.0, 900.0)
    # other
    return_rate: float = 0.04
    anonymous_share: float = 0.20
    holdout_share: float = 0.20
    survey_rate: float = 0.02

    @property
    def true_revenue_lift(self) -> float:
        """The long-run revenue lift (reached after ``lift_ramp_months``)."""
        return (1 + self.frequency_lift) * (1 + self.spend_lift) - 1

    def ramp(self, k: np.ndarray) -> np.ndarray:
        """Share of the full effect ``k`` months after enrollment (0 in the enrollment month)."""
        k = np.asarray(k, dtype=float)
        full = (
            np.ones_like(k)
            if self.lift_ramp_months <= 0
            else np.minimum(1, k / self.lift_ramp_months)
        )
        return np.where(k >= 1, full, 0.0)

    def lift_at(self, k: int) -> float:
        """True revenue lift ``k`` months after enrollment."""
        r = float(self.ramp(np.array([k]))[0])
        return (1 + self.frequency_lift * r) * (1 + self.spend_lift * r) - 1


# How members sign up.  Real programs enrol at the till or at online checkout, i.e.
# while buying; "independent" (a monthly hazard that ignores activity) is the
# textbook case that a naive DiD handles and real data rarely looks like.
ENROLLMENT_MECHANISMS = {
    "independent": "monthly hazard ∝ heaviness², whether or not the customer still buys",
    "while_buying": "monthly hazard ∝ heaviness², only while the customer is still alive (buying)",
    "till": "at a purchase: each purchase signs the customer up with a fixed chance",
    "launch_wave": "program launched in the window: most members join at a purchase in the "
    "launch month or the next, then at the till",
    "promotion": "at the till, with a sign-up bonus campaign multiplying the chance in a few months",
}


@dataclass
class SynthData:
    """Canonical tables, raw personal data and the planted truth."""

    tables: dict[str, pd.DataFrame]
    pii: pd.DataFrame  # customer_id, name, email, phone (raw, never leaves data/raw)
    truth: dict = field(default_factory=dict)


FIRST = [
    "Søren",
    "Mette",
    "Lars",
    "Anne",
    "Jens",
    "Karin",
    "Björn",
    "Åsa",
    "Jürgen",
    "Ülkü",
    "Sanne",
    "Pieter",
    "Inge",
    "Henrik",
    "Märta",
    "Øystein",
    "Bente",
    "Gitte",
    "Kees",
    "Lærke",
]
LAST = [
    "Jørgensen",
    "Nielsen",
    "Hansen",
    "Müller",
    "Andersson",
    "de Vries",
    "Schröder",
    "Bakker",
    "Lindqvist",
    "Åberg",
    "Pedersen",
    "Janssen",
    "Weiß",
    "Østergaard",
    "Berg",
    "Visser",
]
STORES = np.array(
    [
        "København Strøget",
        "Aarhus C",
        "Odense",
        "Malmö",
        "Göteborg",
        "Amsterdam Zuid",
        "Köln Altstadt",
        "Oslo Grünerløkka",
    ]
)
WEB = "Web shop"

CAMPAIGN_PLAN = [  # months before end, type, name, days, lift, audience, discount
    (19, "email", "Spring newsletter", 7, 0.06, "consenting", 0.0),
    (16, "double_points", "Double points weekend", 3, 0.30, "members", 0.0),
    (13, "coupon", "Summer coupon 10%", 14, 0.15, "consenting", 0.10),
    (10, "event", "Gold VIP evening", 1, 0.40, "gold", 0.0),
    (7, "email", "Autumn news & offers", 7, 0.06, "consenting", 0.0),
    (4, "double_points", "Double points weekend II", 3, 0.30, "members", 0.0),
    (2, "coupon", "Black week coupon 10%", 7, 0.15, "consenting", 0.10),
]


def _month_starts(end_month: str, months: int) -> pd.DatetimeIndex:
    end = pd.Period(end_month, freq="M")
    return pd.period_range(end=end, periods=months, freq="M").to_timestamp()


def _season(month_starts: pd.DatetimeIndex) -> np.ndarray:
    moy = month_starts.month.to_numpy()
    s = 1 + 0.12 * np.sin(2 * np.pi * (moy - 4) / 12) + np.where(moy == 12, 0.25, 0.0)
    trend = 1 + 0.004 * np.arange(len(month_starts))
    return s * trend


def _enroll_prob(
    p: SynthParams, t: int, pe: np.ndarray, alive: np.ndarray, purchases: np.ndarray
) -> np.ndarray:
    """Each at-risk customer's chance to sign up in month ``t`` under ``p.enrollment``."""
    if p.enrollment == "independent":
        return pe
    if p.enrollment == "while_buying":
        return np.where(alive, pe, 0.0)
    q = p.enroll_prob_per_purchase
    if p.enrollment == "launch_wave":
        if t < p.launch_month:
            return np.zeros_like(pe)
        if t < p.launch_month + 2:
            q = p.launch_prob_per_purchase
    elif p.enrollment == "promotion" and t in p.promo_months:
        q = min(0.9, q * p.promo_boost)
    return 1 - (1 - q) ** purchases  # at the till: one chance per purchase


def generate(params: SynthParams | None = None, **kwargs) -> SynthData:
    """Generate a synthetic loyalty program.

    Parameters
    ----------
    params
        A :class:`SynthParams`; keyword arguments override its fields
        (``generate(n_customers=2000, seed=1)``).

    Returns
    -------
    SynthData
        ``tables`` holds the eight canonical tables (dtypes as in
        :func:`loyalty_roi.schema.coerce_canonical`), ``truth`` the planted effects.
    """
    p = params or SynthParams()
    if kwargs:
        p = SynthParams(**{**asdict(p), **kwargs})
    rng = np.random.default_rng(p.seed)
    N, M = p.n_customers, p.months
    mstarts = _month_starts(p.end_month, M)
    window_start = mstarts[0]
    window_end = (
        mstarts[-1] + pd.offsets.MonthEnd(1) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    )
    days_in = mstarts.days_in_month.to_numpy()
    season = _season(mstarts)

    # --- customers ---------------------------------------------------------
    sig = p.heaviness_sigma
    h = np.exp(rng.normal(-(sig**2) / 2, sig, N))
    lam = p.base_orders_per_month * h
    aov = np.exp(rng.normal(np.log(p.base_order_value), 0.35, N)) * h**0.15
    existing = rng.random(N) < p.share_existing
    acq = np.where(existing, 0, rng.integers(1, M, N))
    death = acq + rng.geometric(p.churn_hazard, N)  # alive for acq <= t < death
    online = rng.random(N) < 0.25
    home = rng.integers(0, len(STORES), N)
    member_since = np.full(N, M + 1)  # month index of enrollment; -1 = before the window
    if p.enrollment not in ENROLLMENT_MECHANISMS:
        raise ValueError(
            f"enrollment '{p.enrollment}' is not one of {', '.join(ENROLLMENT_MECHANISMS)}"
        )
    pre_member = existing & (rng.random(N) < np.clip(p.existing_member_prob * h, 0, 0.8))
    if p.enrollment == "launch_wave":  # the program starts inside the window: nobody before
        pre_member[:] = False
    member_since[pre_member] = -1
    pe = np.clip(p.enroll_prob_per_month * h**2, 0, 0.5)
    redeem_p = np.where(rng.random(N) < p.never_redeem_share, 0.0, rng.uniform(0.3, 0.9, N))
    first_seen = np.full(N, np.datetime64("NaT"), dtype="datetime64[s]")
    pre_days = rng.integers(30, 1100, N)
    first_seen[existing] = (window_start - pd.to_timedelta(pre_days[existing], unit="D")).to_numpy()
    enrolled_at = np.full(N, np.datetime64("NaT"), dtype="datetime64[s]")
    fs_ts = first_seen[pre_member].astype("datetime64[s]")
    span = (np.datetime64(window_start, "s") - fs_ts).astype(np.int64)
    enrolled_at[pre_member] = fs_ts + (rng.random(pre_member.sum()) * span).astype(np.int64)

    # --- campaigns (planned now, effects applied in the monthly loop) -----
    campaigns = []
    for k, (back, ctype, name, days, lift, audience, disc) in enumerate(CAMPAIGN_PLAN):
        t = M - 1 - back
        if t < 1:
            continue
        ms = mstarts[t]
        if ctype == "double_points":  # first Friday on or after the 8th
            start = ms + pd.Timedelta(days=7)
            start = start + pd.Timedelta(days=(4 - start.weekday()) % 7)
        else:
            start = ms + pd.Timedelta(days=int(rng.integers(2, max(3, days_in[t] - days - 1))))
        end = start + pd.Timedelta(days=days - 1)
        campaigns.append(
            dict(
                campaign_id=f"CMP{k + 1:03d}",
                name=name,
                type=ctype,
                start=start,
                end=end,
                month=t,
                days=days,
                lift=lift,
                audience=audience,
                discount=disc,
            )
        )

    tier_idx = np.zeros(N, dtype=np.int64)
    # initial tier of pre-window members from expected annual spend
    exp_annual = lam * aov * 12 * (1 + p.true_revenue_lift)
    lo, hi = p.tier_thresholds
    tier_idx[pre_member] = np.where(
        exp_annual[pre_member] >= hi, 2, np.where(exp_annual[pre_member] >= lo, 1, 0)
    )
    spend = np.zeros((N, M))
    tier_rows = [
        pd.DataFrame(
            {
                "customer_id": np.flatnonzero(pre_member),
                "date": enrolled_at[pre_member],
                "from_tier": None,
                "to_tier": TIER_NAMES[tier_idx[pre_member]],
            }
        )
    ]
    contacts_rows, tx_chunks = [], []
    truth_campaigns = {}
    # marketing consent is given once, independently of membership, so campaign
    # audiences (and their extra orders) do not differ between members and non-members
    consent = rng.random(N) < 0.7

    for t in range(M):
        alive = (acq <= t) & (t < death)
        ramp = p.ramp(t - member_since)  # 0 before and in the enrollment month
        rate = lam * season[t] * (1 + p.frequency_lift * ramp)
        n = rng.poisson(rate * alive)
        n[(acq == t) & (t > 0)] = np.maximum(n[(acq == t) & (t > 0)], 1)  # acquired by a purchase
        cust = np.repeat(np.arange(N), n)
        day = rng.integers(0, days_in[t], cust.size)
        secs = rng.integers(8 * 3600, 21 * 3600, cust.size)
        camp_id = np.full(cust.size, -1)
        # campaign contacts and extra orders
        for c in (c for c in campaigns if c["month"] == t):
            known = acq < t
            if c["audience"] == "members":
                elig = known & (member_since < t)
            elif c["audience"] == "gold":
                elig = known & (member_since < t) & (tier_idx == 2)
            else:
                elig = known & consent
            elig = elig & consent
            ids = np.flatnonzero(elig)
            hold = rng.random(ids.size) < p.holdout_share
            contacts_rows.append(
                pd.DataFrame(
                    {"campaign_id": c["campaign_id"], "customer_id": ids, "is_holdout": hold}
                )
            )
            treated = ids[~hold & alive[ids]]
            extra = rng.poisson(rate[treated] * c["days"] / days_in[t] * c["lift"])
            ecust = np.repeat(treated, extra)
            cday = (c["start"] - mstarts[t]).days
            cust = np.concatenate([cust, ecust])
            day = np.concatenate([day, cday + rng.integers(0, c["days"], ecust.size)])
            secs = np.concatenate([secs, rng.integers(8 * 3600, 21 * 3600, ecust.size)])
            camp_id = np.concatenate([camp_id, np.full(ecust.size, -1)])
            # orders of treated customers inside the window carry the campaign
            in_win = (day >= cday) & (day < cday + c["days"])
            is_treated = np.zeros(N, bool)
            is_treated[treated] = True
            camp_id[in_win & is_treated[cust]] = int(c["campaign_id"][3:])
            truth_campaigns[c["campaign_id"]] = dict(
                name=c["name"],
                type=c["type"],
                order_lift=c["lift"],
                discount=c["discount"],
                net_revenue_lift=(1 + c["lift"]) * (1 - c["discount"]) - 1,
                contacts=int(ids.size),
                holdouts=int(hold.sum()),
            )
        ts = (
            np.datetime64(mstarts[t], "s")
            + day.astype("timedelta64[D]")
            + secs.astype("timedelta64[s]")
        )
        value_mult = 1 + p.spend_lift * ramp[cust]
        noise = np.exp(rng.normal(-0.045, 0.3, cust.size))
        gross_c = np.maximum(100, np.round(aov[cust] * value_mult * noise * 100)).astype(np.int64)
        disc_rate = np.zeros(cust.size)
        for c in (c for c in campaigns if c["month"] == t and c["discount"] > 0):
            disc_rate[camp_id == int(c["campaign_id"][3:])] = c["discount"]
        disc_c = np.round(gross_c * disc_rate).astype(np.int64)
        at_risk = (member_since > M) & (acq <= t)
        enroll = at_risk & (
            rng.random(N) < _enroll_prob(p, t, pe, alive, np.bincount(cust, minlength=N))
        )
        member_since[enroll] = t
        order = np.lexsort((secs, day, cust))
        cust, day, secs, ts, gross_c, disc_c, camp_id = (
            a[order] for a in (cust, day, secs, ts, gross_c, disc_c, camp_id)
        )
        first_idx = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
        first_ts = np.full(N, np.datetime64("NaT"), dtype="datetime64[s]")
        first_ts[cust[first_idx]] = ts[first_idx]
        # enrolled at the first purchase of the month, or online on a random day without one
        online_day = (
            np.datetime64(mstarts[t], "s")
            + rng.integers(0, days_in[t], N).astype("timedelta64[D]")
            + np.timedelta64(12 * 3600, "s")
        )
        enrolled_at[enroll] = np.where(
            np.isnat(first_ts[enroll]), online_day[enroll], first_ts[enroll]
        )
        new_cust = (acq == t) & (t > 0)
        first_seen[new_cust] = first_ts[new_cust]
        net_c = gross_c - disc_c
        spend[:, t] = np.bincount(cust, weights=net_c / 100, minlength=N)
        tier_at = np.where(member_since[cust] <= t, tier_idx[cust], -1)
        tx_chunks.append(
            pd.DataFrame(
                {
                    "cust": cust,
                    "ts": ts,
                    "gross_c": gross_c,
                    "disc_c": disc_c,
                    "camp": camp_id,
                    "tier": tier_at,
                    "month": t,
                }
            )
        )
        # enrollment tier row, then monthly tier review for the next month
        tier_idx[enroll] = 0
        tier_rows.append(
            pd.DataFrame(
                {
                    "customer_id": np.flatnonzero(enroll),
                    "date": enrolled_at[enroll],
                    "from_tier": None,
                    "to_tier": "bronze",
                }
            )
        )
        if t + 1 < M:
            k = min(12, t + 1)
            annual = spend[:, t + 1 - k : t + 1].sum(1) * 12 / k
            new_tier = np.where(annual >= hi, 2, np.where(annual >= lo, 1, 0))
            is_mem = member_since <= t
            changed = is_mem & (new_tier != tier_idx) & (t + 1 >= 3)
            tier_rows.append(
                pd.DataFrame(
                    {
                        "customer_id": np.flatnonzero(changed),
                        "date": np.datetime64(mstarts[t + 1], "s"),
                        "from_tier": TIER_NAMES[tier_idx[changed]],
                        "to_tier": TIER_NAMES[new_tier[changed]],
                    }
                )
            )
            tier_idx[changed] = new_tier[changed]

    tx = pd.concat(tx_chunks, ignore_index=True)
    is_member = member_since <= M

    # --- points ledger ------------------------------------------------------
    mem_tx = tx[tx["tier"] >= 0]
    dbl = np.isin(
        mem_tx["camp"].to_numpy(),
        [int(c["campaign_id"][3:]) for c in campaigns if c["type"] == "double_points"],
    )
    earn_pts = np.floor(
        mem_tx["gross_c"].sub(mem_tx["disc_c"]).to_numpy()
        / 100
        * p.points_per_unit
        * TIER_MULT[mem_tx["tier"].to_numpy()]
        * np.where(dbl, 2, 1)
    ).astype(np.int64)
    ledger_earn = pd.DataFrame(
        {
            "cust": mem_tx["cust"].to_numpy(),
            "ts": mem_tx["ts"].to_numpy(),
            "type": "earn",
            "points": earn_pts,
            "tx_row": mem_tx.index.to_numpy(),
            "camp": np.where(dbl, mem_tx["camp"].to_numpy(), -1),
        }
    )
    ledger_earn = ledger_earn[ledger_earn["points"] > 0]
    earned = np.zeros((N, M), dtype=np.int64)
    np.add.at(
        earned,
        (ledger_earn["cust"].to_numpy(), tx.loc[ledger_earn["tx_row"], "month"].to_numpy()),
        ledger_earn["points"].to_numpy(),
    )
    buckets = np.zeros((N, M), dtype=np.int64)
    credited = np.zeros(M, dtype=np.int64)  # points put into each month's bucket
    expired_total = 0
    other_rows = []
    for t in range(M):
        month_end = np.datetime64(mstarts[t] + pd.offsets.MonthEnd(0), "s") + np.timedelta64(
            23 * 3600, "s"
        )  # after closing time
        mem_now = member_since <= t
        adj_who = np.flatnonzero(mem_now & (rng.random(N) < 0.004))
        adj_pts = rng.choice([50, 100, 150], adj_who.size)
        buckets[:, t] = earned[:, t]
        buckets[adj_who, t] += adj_pts
        credited[t] = buckets[:, t].sum()
        other_rows.append(
            pd.DataFrame(
                {
                    "cust": adj_who,
                    "ts": month_end - np.timedelta64(3600, "s"),
                    "type": "adjust",
                    "points": adj_pts,
                }
            )
        )
        alive = (acq <= t) & (t < death)
        bal = buckets[:, : t + 1].sum(1)
        who = mem_now & alive & (bal >= p.voucher_points) & (rng.random(N) < redeem_p)
        red = np.where(who, (bal // p.voucher_points) * p.voucher_points, 0)
        cum = np.cumsum(buckets[:, : t + 1], axis=1)
        take = np.clip(red[:, None] - (cum - buckets[:, : t + 1]), 0, buckets[:, : t + 1])
        buckets[:, : t + 1] -= take
        r_who = np.flatnonzero(red > 0)
        other_rows.append(
            pd.DataFrame({"cust": r_who, "ts": month_end, "type": "redeem", "points": -red[r_who]})
        )
        k = t - (p.expiry_months - 1)
        if k >= 0:
            exp = buckets[:, k].copy()
            buckets[:, k] = 0
            expired_total += int(exp.sum())
            e_who = np.flatnonzero(exp > 0)
            other_rows.append(
                pd.DataFrame(
                    {
                        "cust": e_who,
                        "ts": month_end + np.timedelta64(1800, "s"),
                        "type": "expire",
                        "points": -exp[e_who],
                    }
                )
            )

    # --- returns and anonymous sales ----------------------------------------
    n_anon = rng.poisson(len(tx) * p.anonymous_share / M, M)
    anon = []
    for t in range(M):
        day = rng.integers(0, days_in[t], n_anon[t])
        secs = rng.integers(8 * 3600, 21 * 3600, n_anon[t])
        ts = (
            np.datetime64(mstarts[t], "s")
            + day.astype("timedelta64[D]")
            + secs.astype("timedelta64[s]")
        )
        g = np.maximum(100, np.round(np.exp(rng.normal(np.log(30), 0.5, n_anon[t])) * 100)).astype(
            np.int64
        )
        anon.append(
            pd.DataFrame(
                {
                    "cust": -1,
                    "ts": ts,
                    "gross_c": g,
                    "disc_c": 0,
                    "camp": -1,
                    "tier": -1,
                    "month": t,
                }
            )
        )
    sales = pd.concat([tx, *anon], ignore_index=True)
    sales["is_return"] = False
    ret = sales[rng.random(len(sales)) < p.return_rate].copy()
    ret["ts"] = ret["ts"].to_numpy() + rng.integers(86400, 30 * 86400, len(ret)).astype(
        "timedelta64[s]"
    )
    partial = rng.random(len(ret)) < 0.3
    ret["gross_c"] = -np.where(partial, np.round(ret["gross_c"] * 0.5), ret["gross_c"]).astype(
        np.int64
    )
    ret["disc_c"] = -np.where(partial, np.round(ret["disc_c"] * 0.5), ret["disc_c"]).astype(
        np.int64
    )
    ret["is_return"] = True
    ret = ret[ret["ts"] <= window_end]
    sales["src_row"] = np.arange(len(sales))
    ret["src_row"] = -1
    allx = pd.concat([sales, ret], ignore_index=True).sort_values(
        ["ts", "cust"], kind="stable", ignore_index=True
    )
    allx["transaction_id"] = [f"T{i:08d}" for i in range(1, len(allx) + 1)]
    store_idx = home[np.maximum(allx["cust"].to_numpy(), 0)]
    wander = rng.random(len(allx)) < 0.25
    store_idx = np.where(wander, rng.integers(0, len(STORES), len(allx)), store_idx)
    is_online = np.where(
        allx["cust"].to_numpy() >= 0,
        online[np.maximum(allx["cust"].to_numpy(), 0)],
        rng.random(len(allx)) < 0.15,
    )
    cid = np.array([f"C{i + 1:06d}" for i in range(N)], dtype=object)
    transactions = pd.DataFrame(
        {
            "transaction_id": allx["transaction_id"],
            "customer_id": np.where(
                allx["cust"].to_numpy() >= 0, cid[np.maximum(allx["cust"].to_numpy(), 0)], None
            ),
            "ts": allx["ts"].to_numpy(),
            "store": np.where(is_online, WEB, STORES[store_idx]),
            "channel": np.where(is_online, "online", "store"),
            "gross_amount": allx["gross_c"].to_numpy() / 100,
            "discount": allx["disc_c"].to_numpy() / 100,
            "net_amount": (allx["gross_c"] - allx["disc_c"]).to_numpy() / 100,
            "is_return": allx["is_return"].to_numpy(),
        }
    )
    # transaction ids for ledger earn rows
    pos = pd.Series(allx.index.to_numpy(), index=allx["src_row"].to_numpy())
    pos = pos[pos.index >= 0]
    ledger_earn["transaction_id"] = allx["transaction_id"].to_numpy()[
        pos.loc[ledger_earn["tx_row"]].to_numpy()
    ]
    ledger_earn["campaign_id"] = np.where(
        ledger_earn["camp"] > 0, [f"CMP{c:03d}" for c in ledger_earn["camp"].clip(lower=0)], None
    )
    ledger = pd.concat(
        [ledger_earn.drop(columns=["tx_row", "camp"]), *other_rows], ignore_index=True
    )
    ledger = ledger.sort_values(["ts", "cust", "type"], kind="stable", ignore_index=True)
    points_ledger = pd.DataFrame(
        {
            "customer_id": cid[ledger["cust"].to_numpy()],
            "date": pd.to_datetime(ledger["ts"]).dt.normalize(),
            "type": ledger["type"],
            "points": ledger["points"],
            "transaction_id": ledger["transaction_id"],
            "campaign_id": ledger["campaign_id"],
        }
    )

    # --- customers table ----------------------------------------------------
    never_seen = np.isnat(first_seen)  # acquired but churned before first purchase cannot happen;
    first_seen[never_seen] = np.datetime64(window_start, "s")  # defensive
    customers = pd.DataFrame(
        {
            "customer_id": cid,
            "first_seen": pd.to_datetime(first_seen).normalize(),
            "is_member": is_member,
            "enrolled_at": pd.to_datetime(
                np.where(is_member, enrolled_at, np.datetime64("NaT"))
            ).normalize(),
            "tier": np.where(is_member, TIER_NAMES[tier_idx], None),
            "store": np.where(online, WEB, STORES[home]),
            "marketing_consent": consent,
        }
    )
    th = pd.concat(tier_rows, ignore_index=True)
    tier_history = pd.DataFrame(
        {
            "customer_id": cid[th["customer_id"].to_numpy().astype(int)],
            "date": pd.to_datetime(th["date"]).dt.normalize(),
            "from_tier": th["from_tier"],
            "to_tier": th["to_tier"],
        }
    ).sort_values(["date", "customer_id"], kind="stable", ignore_index=True)
    camp_df = pd.DataFrame(
        [{k: c[k] for k in ("campaign_id", "name", "type", "start", "end")} for c in campaigns],
        columns=["campaign_id", "name", "type", "start", "end"],
    )
    contacts = (
        pd.concat(contacts_rows, ignore_index=True)
        if contacts_rows
        else pd.DataFrame(
            {"campaign_id": [], "customer_id": np.array([], dtype=np.int64), "is_holdout": []}
        )
    )
    camp_df["cost"] = [
        round(500 + 0.35 * (contacts["campaign_id"] == c).sum(), 2) for c in camp_df["campaign_id"]
    ]
    contacts["customer_id"] = cid[contacts["customer_id"].to_numpy()]

    scale = N / 20_000
    cost_rows = []
    for t, ms in enumerate(mstarts):
        mk = sum(cc for cc, c in zip(camp_df["cost"], campaigns, strict=True) if c["month"] == t)
        for cat, amt in (
            ("platform", 4500 * scale),
            ("staff", 3000 * scale),
            ("marketing", 1000 * scale + mk),
        ):
            cost_rows.append({"month": ms, "category": cat, "amount": round(amt, 2)})
    program_costs = pd.DataFrame(cost_rows)

    # surveys
    srows = []
    for t in range(M):
        alive = np.flatnonzero((acq <= t) & (t < death) & (rng.random(N) < p.survey_rate))
        mem = member_since[alive] <= t
        score = np.clip(np.round(rng.normal(7.2 + 0.8 * mem, 2.0)), 0, 10).astype(np.int64)
        csat = np.where(
            rng.random(alive.size) < 0.6,
            np.clip(np.round(score / 2.2 + rng.normal(0.6, 0.5, alive.size), 1), 1, 5),
            np.nan,
        )
        day = rng.integers(0, days_in[t], alive.size)
        srows.append(
            pd.DataFrame(
                {
                    "customer_id": cid[alive],
                    "date": (np.datetime64(mstarts[t], "D") + day.astype("timedelta64[D]")),
                    "nps": score,
                    "csat": csat,
                }
            )
        )
    surveys = pd.concat(srows, ignore_index=True).sort_values(
        ["date", "customer_id"], ignore_index=True
    )

    tables = {
        "customers": customers,
        "transactions": transactions,
        "points_ledger": points_ledger,
        "tier_history": tier_history,
        "campaigns": camp_df,
        "campaign_contacts": contacts,
        "program_costs": program_costs,
        "surveys": surveys,
    }
    tables = {k: coerce_canonical(v, k) for k, v in tables.items()}

    # --- raw personal data ----------------------------------------------------
    fn = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), N)]
    ln = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), N)]
    names = fn + " " + ln
    emails = [
        f"{_ascii(a)}.{_ascii(b)}.{i + 1}@example.{'dk' if i % 3 else 'nl'}"
        for i, (a, b) in enumerate(zip(fn, ln, strict=True))
    ]
    phones = [f"+45 {20000000 + (i * 7919) % 79999999:08d}" for i in range(N)]
    pii = pd.DataFrame({"customer_id": cid, "name": names, "email": emails, "phone": phones})

    in_window_enrolled = (member_since >= 0) & (member_since < M)
    pl = tables["points_ledger"]
    issued = int(pl.loc[pl["type"] == "earn", "points"].sum())
    truth = {
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items()},
        "window": {"start": str(mstarts[0].date()), "end": str(window_end.date())},
        "program_lift": {
            "revenue": p.true_revenue_lift,
            "frequency": p.frequency_lift,
            "order_value": p.spend_lift,
            "starts": "month after enrollment",
            "ramp_months": p.lift_ramp_months,
            "revenue_by_horizon": {str(k): p.lift_at(k) for k in range(1, 13)},
        },
        "enrollment": {
            "mechanism": p.enrollment,
            "description": ENROLLMENT_MECHANISMS[p.enrollment],
            "members_enrolled_in_window": int(in_window_enrolled.sum()),
        },
        "self_selection": {
            "mean_heaviness_members": float(h[is_member].mean()),
            "mean_heaviness_non_members": float(h[~is_member].mean()),
            # heavier buyers enroll sooner after they are first seen
            "corr_heaviness_months_to_enrollment": float(
                np.corrcoef(h[in_window_enrolled], (member_since - acq)[in_window_enrolled])[0, 1]
            )
            if in_window_enrolled.sum() > 2
            else None,
        },
        "campaigns": truth_campaigns,
        "points": {
            "issued": issued,
            "redeemed": int(-pl.loc[pl["type"] == "redeem", "points"].sum()),
            "expired": int(-pl.loc[pl["type"] == "expire", "points"].sum()),
            "outstanding": int(pl["points"].sum()),
            "never_redeem_share": p.never_redeem_share,
            "expiry_months": p.expiry_months,
            # points credited in the months whose buckets have reached expiry (earn + adjust),
            # against what expired from exactly those buckets
            "earn_share_matured_cohorts_expired": float(
                expired_total / max(1, credited[: max(0, M - p.expiry_months + 1)].sum())
            ),
        },
        "counts": {k: int(len(v)) for k, v in tables.items()},
        "members": int(is_member.sum()),
        "churn_hazard": p.churn_hazard,
    }
    return SynthData(tables=tables, pii=pii, truth=truth)


def _ascii(s: str) -> str:
    table = str.maketrans(
        {
            "ø": "oe",
            "Ø": "Oe",
            "å": "aa",
            "Å": "Aa",
            "æ": "ae",
            "ö": "oe",
            "ä": "ae",
            "ü": "ue",
            "Ü": "Ue",
            "ß": "ss",
            "é": "e",
            " ": "",
        }
    )
    return s.translate(table).lower().encode("ascii", "ignore").decode()


# ---------------------------------------------------------------------------
# raw export
# ---------------------------------------------------------------------------
_YN_DA = {True: "J", False: "N"}
_TIER_DA = {"bronze": "Bronze", "silver": "Sølv", "gold": "Guld"}
_CTYPE_NL = {
    "double_points": "dubbele punten",
    "coupon": "kortingsbon",
    "email": "e-mail",
    "event": "evenement",
    "partner": "partner",
    "other": "overig",
}
_COST_DE = {
    "platform": "Plattform",
    "marketing": "Marketing",
    "staff": "Personal",
    "rewards": "Prämien",
    "other": "Sonstiges",
}


def _dec(x: pd.Series) -> pd.Series:
    return x.map(lambda v: f"{v:.2f}".replace(".", ","))


def _ddmmyyyy(x: pd.Series, with_time: bool = False) -> pd.Series:
    fmt = "%d.%m.%Y %H:%M:%S" if with_time else "%d.%m.%Y"
    return x.dt.strftime(fmt).fillna("")


MAPPING_YAML = """\
# Mapping of the demo exports onto the canonical tables (see README: "Bring your own data").
# For each canonical table: the source file, how to read it, and which source column
# holds each canonical column. `values` translate source codes; `pii` lists the source
# columns with direct identifiers, which are replaced by salted hashes on ingest.
tables:
  customers:
    file: customers.csv          # ';'-separated, decimal comma, latin-1 (detected)
    date_format: "%d.%m.%Y"
    columns:
      customer_id: KundeID
      first_seen: Oprettet
      is_member: Medlem
      enrolled_at: Indmeldt
      tier: Niveau
      store: Butik
      marketing_consent: Samtykke
    pii:
      name_hash: Navn
      email_hash: Email
      phone_hash: Telefon
    values:
      is_member: {J: true, N: false}
      marketing_consent: {Ja: true, Nej: false}
      tier: {Bronze: bronze, Sølv: silver, Guld: gold}
  transactions:
    file: transactions.csv
    date_format: "%d.%m.%Y %H:%M:%S"
    columns:
      transaction_id: Bonnr
      customer_id: KundeID
      ts: Tidspunkt
      store: Butik
      channel: Kanal
      gross_amount: Brutto
      discount: Rabat
      net_amount: Netto
      is_return: Retur
    values:
      channel: {Butik: store, Online: online}
      is_return: {J: true, N: false}
  points_ledger:
    file: points_ledger.parquet
  tier_history:
    file: tier_history.parquet
  campaigns:
    file: campaigns.xlsx
    columns:
      campaign_id: Campagne ID
      name: Naam
      type: Soort
      start: Startdatum
      end: Einddatum
      cost: Kosten
    values:
      type: {dubbele punten: double_points, kortingsbon: coupon, e-mail: email, evenement: event, partner: partner, overig: other}
  campaign_contacts:
    file: campaign_contacts.parquet
  program_costs:
    file: program_costs.csv       # UTF-8 with BOM, ';', decimal comma
    columns:
      month: Monat
      category: Kategorie
      amount: Betrag
    values:
      category: {Plattform: platform, Marketing: marketing, Personal: staff, Prämien: rewards, Sonstiges: other}
  surveys:
    file: surveys.csv             # plain comma-separated UTF-8
"""


def write_raw(data: SynthData, out_dir: str | Path, fmt: str = "export") -> Path:
    """Write the synthetic program as source exports plus ``mapping.yml`` and ``truth.json``.

    Parameters
    ----------
    fmt
        ``"export"``: mixed real-world formats (latin-1 ``;`` CSV with decimal commas,
        Parquet, Excel).  ``"parquet"``: canonical Parquet files only (fast, for
        benchmark-scale data); the mapping is then the identity.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = data.tables
    if fmt == "parquet":
        for name, df in t.items():
            df2 = df.merge(data.pii, on="customer_id", how="left") if name == "customers" else df
            if name == "customers":
                df2 = df2.drop(columns=["email_hash", "name_hash", "phone_hash"])
            df2.to_parquet(out / f"{name}.parquet", index=False)
        mapping = "tables:\n" + "".join(
            f"  {n}:\n    file: {n}.parquet\n"
            + (
                "    pii:\n      name_hash: name\n      email_hash: email\n      phone_hash: phone\n"
                if n == "customers"
                else ""
            )
            for n in t
        )
        (out / "mapping.yml").write_text(mapping, encoding="utf-8")
    else:
        c = t["customers"].merge(data.pii, on="customer_id", how="left")
        cust = pd.DataFrame(
            {
                "KundeID": c["customer_id"],
                "Navn": c["name"],
                "Email": c["email"],
                "Telefon": c["phone"],
                "Oprettet": _ddmmyyyy(c["first_seen"]),
                "Medlem": c["is_member"].map(_YN_DA),
                "Indmeldt": _ddmmyyyy(c["enrolled_at"]),
                "Niveau": c["tier"].map(_TIER_DA).fillna(""),
                "Butik": c["store"],
                "Samtykke": c["marketing_consent"].map({True: "Ja", False: "Nej"}),
            }
        )
        cust.to_csv(out / "customers.csv", sep=";", index=False, encoding="latin-1")
        x = t["transactions"]
        tx = pd.DataFrame(
            {
                "Bonnr": x["transaction_id"],
                "KundeID": x["customer_id"].fillna(""),
                "Tidspunkt": _ddmmyyyy(x["ts"], with_time=True),
                "Butik": x["store"],
                "Kanal": x["channel"].map({"store": "Butik", "online": "Online"}),
                "Brutto": _dec(x["gross_amount"]),
                "Rabat": _dec(x["discount"]),
                "Netto": _dec(x["net_amount"]),
                "Retur": x["is_return"].map(_YN_DA),
            }
        )
        tx.to_csv(out / "transactions.csv", sep=";", index=False, encoding="latin-1")
        t["points_ledger"].to_parquet(out / "points_ledger.parquet", index=False)
        t["tier_history"].to_parquet(out / "tier_history.parquet", index=False)
        cp = t["campaigns"]
        pd.DataFrame(
            {
                "Campagne ID": cp["campaign_id"],
                "Naam": cp["name"],
                "Soort": cp["type"].map(_CTYPE_NL),
                "Startdatum": cp["start"],
                "Einddatum": cp["end"],
                "Kosten": cp["cost"],
            }
        ).to_excel(out / "campaigns.xlsx", index=False, sheet_name="Campagnes")
        t["campaign_contacts"].to_parquet(out / "campaign_contacts.parquet", index=False)
        pc = t["program_costs"]
        pd.DataFrame(
            {
                "Monat": pc["month"].dt.strftime("%Y-%m"),
                "Kategorie": pc["category"].map(_COST_DE),
                "Betrag": _dec(pc["amount"]),
            }
        ).to_csv(out / "program_costs.csv", sep=";", index=False, encoding="utf-8-sig")
        s = t["surveys"]
        s.assign(date=s["date"].dt.strftime("%Y-%m-%d")).to_csv(
            out / "surveys.csv", index=False, encoding="utf-8"
        )
        (out / "mapping.yml").write_text(MAPPING_YAML, encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(data.truth, indent=2, default=str), encoding="utf-8")
    (out / safety.DEMO_MARKER).write_text(
        "Synthetic exports written by loyalty_roi.synth; the generator may overwrite this folder.\n",
        encoding="utf-8",
    )
    return out


def params_from_config(cfg) -> SynthParams:
    """Synthetic-program parameters from the ``demo`` section of the workbook config."""
    d = cfg.demo
    return SynthParams(
        n_customers=d.customers,
        months=d.months,
        end_month=d.resolved_end_month(),
        seed=d.seed,
        enrollment=d.enrollment,
    )


def ensure_demo_data(cfg, force: bool = False) -> Path:
    """Generate the demo exports into ``cfg.data.raw_dir`` unless they exist with the same parameters."""
    out = cfg.data.raw_path
    if not safety.demo_folder_ok(out):
        raise ConfigError(
            f"data.source is 'demo' but data.raw_dir ({out}) holds files the demo generator did "
            "not write; generating there would overwrite them — fix: set 'data.source: files' to "
            "use those exports, or point data.raw_dir at an empty folder for the demo"
        )
    params = params_from_config(cfg)
    truth_file = out / "truth.json"
    if truth_file.exists() and not force:
        old = json.loads(truth_file.read_text(encoding="utf-8")).get("params", {})
        if all(
            old.get(k) == v
            for k, v in (
                ("n_customers", params.n_customers),
                ("months", params.months),
                ("end_month", params.end_month),
                ("seed", params.seed),
                ("enrollment", params.enrollment),
            )
        ):
            return out
    write_raw(generate(params), out)
    return out


def scale_for_transactions(target: int, months: int = 24) -> int:
    """Number of customers that yields roughly ``target`` transactions over ``months``."""
    per_customer = 16.0 * months / 24  # measured on the default parameters
    return max(100, math.ceil(target / per_customer))


def load_truth(cfg) -> dict | None:
    """The planted truth of the demo data, or None for real data."""
    f = cfg.data.raw_path / "truth.json"
    if cfg.data.source != "demo" or not f.exists():
        return None
    return json.loads(f.read_text(encoding="utf-8"))
