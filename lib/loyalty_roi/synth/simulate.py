"""The customers and their months: who exists, who buys, who signs up, who gets which tier.

Each step is one function over a shared random generator; ``generate`` calls them
in a fixed order so that a seed always gives the same program.  To add a sign-up
mechanism, add it to :data:`~.params.ENROLLMENT_MECHANISMS` and to
:func:`enroll_prob`; nothing else depends on how members sign up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import phases
from .params import CAMPAIGN_PLAN, ENROLLMENT_MECHANISMS, STORES, TIER_NAMES, SynthParams

NAT = np.datetime64("NaT")


@dataclass(frozen=True)
class Calendar:
    """The data window: month starts, days per month and the seasonal demand index."""

    mstarts: pd.DatetimeIndex
    window_end: pd.Timestamp
    days_in: np.ndarray
    season: np.ndarray

    @property
    def window_start(self) -> pd.Timestamp:
        """The first month of the simulated window."""
        return self.mstarts[0]

    def month_start(self, t: int) -> np.datetime64:
        """The first moment of month ``t`` of the window."""
        return np.datetime64(self.mstarts[t], "s")

    def times(self, t: int, day: np.ndarray, secs: np.ndarray) -> np.ndarray:
        """Timestamps in month ``t`` from day offsets and seconds after midnight."""
        return self.month_start(t) + day.astype("timedelta64[D]") + secs.astype("timedelta64[s]")


def calendar(p: SynthParams) -> Calendar:
    """Month starts, the window's end, days per month and the seasonal factor."""
    end = pd.Period(p.end_month, freq="M")
    mstarts = pd.period_range(end=end, periods=p.months, freq="M").to_timestamp()
    moy = mstarts.month.to_numpy()
    s = 1 + 0.12 * np.sin(2 * np.pi * (moy - 4) / 12) + np.where(moy == 12, 0.25, 0.0)
    trend = 1 + 0.004 * np.arange(len(mstarts))
    return Calendar(
        mstarts=mstarts,
        window_end=mstarts[-1]
        + pd.offsets.MonthEnd(1)
        + pd.Timedelta(hours=23, minutes=59, seconds=59),
        days_in=mstarts.days_in_month.to_numpy(),
        season=s * trend,
    )


@dataclass
class Population:
    """Per-customer latent traits and the state the monthly simulation updates."""

    h: np.ndarray  # heaviness (lognormal, mean 1): the self-selection driver
    lam: np.ndarray  # base orders per month
    aov: np.ndarray  # base order value
    existing: np.ndarray  # already a customer before the window
    acq: np.ndarray  # month index of acquisition (0 for existing customers)
    death: np.ndarray  # alive (buying) for acq <= t < death
    online: np.ndarray
    home: np.ndarray  # home store index
    pre_member: np.ndarray  # enrolled before the window
    pe: np.ndarray  # monthly sign-up hazard ("independent", "while_buying")
    redeem_p: np.ndarray  # chance to redeem in a month with enough points
    first_seen: np.ndarray
    enrolled_at: np.ndarray
    member_since: np.ndarray  # month index of enrollment; -1 before the window, M+1 never
    tier_idx: np.ndarray = field(default=None)  # current tier (0 bronze … 2 gold)
    consent: np.ndarray = field(default=None)  # marketing consent
    phases: phases.Phases = field(default=None)  # spending phases and seasonal segment

    def alive(self, t: int) -> np.ndarray:
        """Who is a buying customer in month ``t``."""
        return (self.acq <= t) & (t < self.death)


def population(p: SynthParams, rng: np.random.Generator, cal: Calendar) -> Population:
    """Draw every customer's traits, pre-window membership and pre-window history."""
    N, M = p.n_customers, p.months
    sig = p.heaviness_sigma
    h = np.exp(rng.normal(-(sig**2) / 2, sig, N))
    lam = p.base_orders_per_month * h
    aov = np.exp(rng.normal(np.log(p.base_order_value), 0.35, N)) * h**0.15
    existing = rng.random(N) < p.share_existing
    acq = np.where(existing, 0, rng.integers(1, M, N))
    death = acq + rng.geometric(p.churn_hazard, N)
    online = rng.random(N) < 0.25
    home = rng.integers(0, len(STORES), N)
    member_since = np.full(N, M + 1)
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
    first_seen = np.full(N, NAT, dtype="datetime64[s]")
    pre_days = rng.integers(30, 1100, N)
    first_seen[existing] = (
        cal.window_start - pd.to_timedelta(pre_days[existing], unit="D")
    ).to_numpy()
    enrolled_at = np.full(N, NAT, dtype="datetime64[s]")
    fs_ts = first_seen[pre_member].astype("datetime64[s]")
    span = (np.datetime64(cal.window_start, "s") - fs_ts).astype(np.int64)
    enrolled_at[pre_member] = fs_ts + (rng.random(pre_member.sum()) * span).astype(np.int64)
    ph = phases.draw(p, rng, h)
    return Population(
        phases=ph,
        h=h,
        lam=lam,
        aov=aov,
        existing=existing,
        acq=acq,
        death=death,
        online=online,
        home=home,
        pre_member=pre_member,
        pe=pe,
        redeem_p=redeem_p,
        first_seen=first_seen,
        enrolled_at=enrolled_at,
        member_since=member_since,
    )


def plan_campaigns(p: SynthParams, rng: np.random.Generator, cal: Calendar) -> list[dict]:
    """Campaign dates from :data:`~.params.CAMPAIGN_PLAN`; effects are applied month by month."""
    campaigns = []
    for k, (back, ctype, name, days, lift, audience, disc) in enumerate(CAMPAIGN_PLAN):
        t = p.months - 1 - back
        if t < 1:
            continue
        ms = cal.mstarts[t]
        if ctype == "double_points":  # first Friday on or after the 8th
            start = ms + pd.Timedelta(days=7)
            start = start + pd.Timedelta(days=(4 - start.weekday()) % 7)
        else:
            span = max(3, cal.days_in[t] - days - 1)
            start = ms + pd.Timedelta(days=int(rng.integers(2, span)))
        campaigns.append(
            dict(
                campaign_id=f"CMP{k + 1:03d}",
                number=k + 1,
                name=name,
                type=ctype,
                start=start,
                end=start + pd.Timedelta(days=days - 1),
                month=t,
                days=days,
                lift=lift,
                audience=audience,
                discount=disc,
            )
        )
    return campaigns


def enroll_prob(
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


@dataclass
class Purchases:
    """Identified customers' receipts and what the monthly loop recorded on the way."""

    tx: pd.DataFrame  # cust, ts, gross_c, disc_c (cents), camp (number or -1), tier, month
    spend: np.ndarray  # customers × months net spend
    tier_rows: list[pd.DataFrame]
    contacts_rows: list[pd.DataFrame]
    truth_campaigns: dict


def initial_tiers(p: SynthParams, pop: Population) -> pd.DataFrame:
    """Tiers of pre-window members from expected annual spend; their first tier-history row."""
    pop.tier_idx = np.zeros(p.n_customers, dtype=np.int64)
    exp_annual = pop.lam * pop.aov * 12 * (1 + p.true_revenue_lift)
    lo, hi = p.tier_thresholds
    pm = pop.pre_member
    pop.tier_idx[pm] = np.where(exp_annual[pm] >= hi, 2, np.where(exp_annual[pm] >= lo, 1, 0))
    return pd.DataFrame(
        {
            "customer_id": np.flatnonzero(pm),
            "date": pop.enrolled_at[pm],
            "from_tier": None,
            "to_tier": TIER_NAMES[pop.tier_idx[pm]],
        }
    )


def _campaign_orders(
    p: SynthParams,
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    c: dict,
    t: int,
    rate: np.ndarray,
    alive: np.ndarray,
    orders: dict[str, np.ndarray],
    out: Purchases,
) -> None:
    """Contact campaign ``c``'s audience (holdouts drawn at random) and add the extra orders."""
    N = p.n_customers
    known = pop.acq < t
    if c["audience"] == "members":
        elig = known & (pop.member_since < t)
    elif c["audience"] == "gold":
        elig = known & (pop.member_since < t) & (pop.tier_idx == 2)
    else:
        elig = known & pop.consent
    ids = np.flatnonzero(elig & pop.consent)
    hold = rng.random(ids.size) < p.holdout_share
    out.contacts_rows.append(
        pd.DataFrame({"campaign_id": c["campaign_id"], "customer_id": ids, "is_holdout": hold})
    )
    treated = ids[~hold & alive[ids]]
    extra = rng.poisson(rate[treated] * c["days"] / cal.days_in[t] * c["lift"])
    ecust = np.repeat(treated, extra)
    cday = (c["start"] - cal.mstarts[t]).days
    orders["cust"] = np.concatenate([orders["cust"], ecust])
    orders["day"] = np.concatenate([orders["day"], cday + rng.integers(0, c["days"], ecust.size)])
    orders["secs"] = np.concatenate([orders["secs"], rng.integers(8 * 3600, 21 * 3600, ecust.size)])
    orders["camp"] = np.concatenate([orders["camp"], np.full(ecust.size, -1)])
    # orders of treated customers inside the window carry the campaign
    in_win = (orders["day"] >= cday) & (orders["day"] < cday + c["days"])
    is_treated = np.zeros(N, bool)
    is_treated[treated] = True
    orders["camp"][in_win & is_treated[orders["cust"]]] = c["number"]
    out.truth_campaigns[c["campaign_id"]] = dict(
        name=c["name"],
        type=c["type"],
        order_lift=c["lift"],
        discount=c["discount"],
        net_revenue_lift=(1 + c["lift"]) * (1 - c["discount"]) - 1,
        contacts=int(ids.size),
        holdouts=int(hold.sum()),
    )


def _tier_review(p: SynthParams, cal: Calendar, pop: Population, t: int, spend: np.ndarray):
    """Monthly tier review on annualised trailing spend, effective the next month."""
    lo, hi = p.tier_thresholds
    k = min(12, t + 1)
    annual = spend[:, t + 1 - k : t + 1].sum(1) * 12 / k
    new_tier = np.where(annual >= hi, 2, np.where(annual >= lo, 1, 0))
    changed = (pop.member_since <= t) & (new_tier != pop.tier_idx) & (t + 1 >= 3)
    rows = pd.DataFrame(
        {
            "customer_id": np.flatnonzero(changed),
            "date": np.datetime64(cal.mstarts[t + 1], "s"),
            "from_tier": TIER_NAMES[pop.tier_idx[changed]],
            "to_tier": TIER_NAMES[new_tier[changed]],
        }
    )
    pop.tier_idx[changed] = new_tier[changed]
    return rows


def simulate_months(
    p: SynthParams,
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    campaigns: list[dict],
) -> Purchases:
    """Month by month: orders (with the planted lift), campaigns, sign-ups and tier reviews."""
    N, M = p.n_customers, p.months
    out = Purchases(
        tx=None,
        spend=np.zeros((N, M)),
        tier_rows=[initial_tiers(p, pop)],
        contacts_rows=[],
        truth_campaigns={},
    )
    # marketing consent is given once, independently of membership, so campaign
    # audiences (and their extra orders) do not differ between members and non-members
    pop.consent = rng.random(N) < 0.7
    chunks = []
    moys = cal.mstarts.month.to_numpy()
    for t in range(M):
        alive = pop.alive(t)
        ramp = p.ramp(t - pop.member_since)  # 0 before and in the enrollment month
        pop.phases.step(rng)
        rate = (
            pop.lam * cal.season[t] * (1 + p.frequency_lift * ramp) * pop.phases.rate_mult(moys[t])
        )
        n = rng.poisson(rate * alive)
        acquired = (pop.acq == t) & (t > 0)
        n[acquired] = np.maximum(n[acquired], 1)  # acquired by a purchase
        cust = np.repeat(np.arange(N), n)
        orders = {
            "cust": cust,
            "day": rng.integers(0, cal.days_in[t], cust.size),
            "secs": rng.integers(8 * 3600, 21 * 3600, cust.size),
            "camp": np.full(cust.size, -1),
        }
        for c in (c for c in campaigns if c["month"] == t):
            _campaign_orders(p, rng, cal, pop, c, t, rate, alive, orders, out)
        cust, day, secs, camp_id = orders["cust"], orders["day"], orders["secs"], orders["camp"]
        ts = cal.times(t, day, secs)
        value_mult = (1 + p.spend_lift * ramp[cust]) * pop.phases.value_mult()[cust]
        noise = np.exp(rng.normal(-0.045, 0.3, cust.size))
        gross_c = np.maximum(100, np.round(pop.aov[cust] * value_mult * noise * 100)).astype(
            np.int64
        )
        disc_rate = np.zeros(cust.size)
        for c in (c for c in campaigns if c["month"] == t and c["discount"] > 0):
            disc_rate[camp_id == c["number"]] = c["discount"]
        disc_c = np.round(gross_c * disc_rate).astype(np.int64)
        # sign-up: decided on this month's purchases, effective from the next month
        at_risk = (pop.member_since > M) & (pop.acq <= t)
        purchases = np.bincount(cust, minlength=N)
        if p.enrollment in phases.PHASE_MECHANISMS:  # at the till, on this month's baskets
            none = phases.till_no_signup(p, pop.phases, moys[t], cust, gross_c / 100, pop.aov)
            prob = 1 - none
        else:
            prob = enroll_prob(p, t, pop.pe, alive, purchases)
        enroll = at_risk & (rng.random(N) < prob)
        pop.member_since[enroll] = t
        order = np.lexsort((secs, day, cust))
        cust, day, secs, ts, gross_c, disc_c, camp_id = (
            a[order] for a in (cust, day, secs, ts, gross_c, disc_c, camp_id)
        )
        first_idx = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
        first_ts = np.full(N, NAT, dtype="datetime64[s]")
        first_ts[cust[first_idx]] = ts[first_idx]
        # enrolled at the first purchase of the month, or online on a random day without one
        online_day = cal.times(t, rng.integers(0, cal.days_in[t], N), np.full(N, 12 * 3600))
        pop.enrolled_at[enroll] = np.where(
            np.isnat(first_ts[enroll]), online_day[enroll], first_ts[enroll]
        )
        pop.first_seen[acquired] = first_ts[acquired]
        out.spend[:, t] = np.bincount(cust, weights=(gross_c - disc_c) / 100, minlength=N)
        chunks.append(
            pd.DataFrame(
                {
                    "cust": cust,
                    "ts": ts,
                    "gross_c": gross_c,
                    "disc_c": disc_c,
                    "camp": camp_id,
                    "tier": np.where(pop.member_since[cust] <= t, pop.tier_idx[cust], -1),
                    "month": t,
                }
            )
        )
        # enrollment tier row, then the tier review for the next month
        pop.tier_idx[enroll] = 0
        out.tier_rows.append(
            pd.DataFrame(
                {
                    "customer_id": np.flatnonzero(enroll),
                    "date": pop.enrolled_at[enroll],
                    "from_tier": None,
                    "to_tier": "bronze",
                }
            )
        )
        if t + 1 < M:
            out.tier_rows.append(_tier_review(p, cal, pop, t, out.spend))
    out.tx = pd.concat(chunks, ignore_index=True)
    return out
