"""From simulated months to canonical tables: points, returns, anonymous sales, ids, truth."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import phases
from .params import (
    ENROLLMENT_MECHANISMS,
    FIRST,
    LAST,
    STORES,
    TIER_MULT,
    TIER_NAMES,
    WEB,
    SynthParams,
)
from .simulate import NAT, Calendar, Population, Purchases


@dataclass
class Ledger:
    """Points movements before transaction ids are known."""

    earn: pd.DataFrame  # cust, ts, type, points, tx_row, camp
    other: list[pd.DataFrame]  # adjust / redeem / expire rows
    credited: np.ndarray  # points put into each month's bucket (earn + adjust)
    expired_total: int


def points(
    p: SynthParams,
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    tx: pd.DataFrame,
    campaigns: list[dict],
) -> Ledger:
    """Earn on members' receipts, goodwill adjustments, voucher redemptions, FIFO expiry."""
    N, M = p.n_customers, p.months
    mem_tx = tx[tx["tier"] >= 0]
    dbl = np.isin(
        mem_tx["camp"].to_numpy(), [c["number"] for c in campaigns if c["type"] == "double_points"]
    )
    earn_pts = np.floor(
        mem_tx["gross_c"].sub(mem_tx["disc_c"]).to_numpy()
        / 100
        * p.points_per_unit
        * TIER_MULT[mem_tx["tier"].to_numpy()]
        * np.where(dbl, 2, 1)
    ).astype(np.int64)
    earn = pd.DataFrame(
        {
            "cust": mem_tx["cust"].to_numpy(),
            "ts": mem_tx["ts"].to_numpy(),
            "type": "earn",
            "points": earn_pts,
            "tx_row": mem_tx.index.to_numpy(),
            "camp": np.where(dbl, mem_tx["camp"].to_numpy(), -1),
        }
    )
    earn = earn[earn["points"] > 0]
    earned = np.zeros((N, M), dtype=np.int64)
    np.add.at(
        earned,
        (earn["cust"].to_numpy(), tx.loc[earn["tx_row"], "month"].to_numpy()),
        earn["points"].to_numpy(),
    )
    buckets = np.zeros((N, M), dtype=np.int64)
    credited = np.zeros(M, dtype=np.int64)
    expired_total = 0
    other = []
    for t in range(M):
        month_end = np.datetime64(cal.mstarts[t] + pd.offsets.MonthEnd(0), "s") + np.timedelta64(
            23 * 3600, "s"
        )  # after closing time
        mem_now = pop.member_since <= t
        adj_who = np.flatnonzero(mem_now & (rng.random(N) < 0.004))
        adj_pts = rng.choice([50, 100, 150], adj_who.size)
        buckets[:, t] = earned[:, t]
        buckets[adj_who, t] += adj_pts
        credited[t] = buckets[:, t].sum()
        other.append(
            pd.DataFrame(
                {
                    "cust": adj_who,
                    "ts": month_end - np.timedelta64(3600, "s"),
                    "type": "adjust",
                    "points": adj_pts,
                }
            )
        )
        bal = buckets[:, : t + 1].sum(1)
        who = mem_now & pop.alive(t) & (bal >= p.voucher_points) & (rng.random(N) < pop.redeem_p)
        red = np.where(who, (bal // p.voucher_points) * p.voucher_points, 0)
        cum = np.cumsum(buckets[:, : t + 1], axis=1)
        take = np.clip(red[:, None] - (cum - buckets[:, : t + 1]), 0, buckets[:, : t + 1])
        buckets[:, : t + 1] -= take
        r_who = np.flatnonzero(red > 0)
        other.append(
            pd.DataFrame({"cust": r_who, "ts": month_end, "type": "redeem", "points": -red[r_who]})
        )
        k = t - (p.expiry_months - 1)
        if k >= 0:
            exp = buckets[:, k].copy()
            buckets[:, k] = 0
            expired_total += int(exp.sum())
            e_who = np.flatnonzero(exp > 0)
            other.append(
                pd.DataFrame(
                    {
                        "cust": e_who,
                        "ts": month_end + np.timedelta64(1800, "s"),
                        "type": "expire",
                        "points": -exp[e_who],
                    }
                )
            )
    return Ledger(earn=earn, other=other, credited=credited, expired_total=expired_total)


def _anonymous_sales(
    p: SynthParams, rng: np.random.Generator, cal: Calendar, n_identified: int
) -> list[pd.DataFrame]:
    M = p.months
    n_anon = rng.poisson(n_identified * p.anonymous_share / M, M)
    anon = []
    for t in range(M):
        day = rng.integers(0, cal.days_in[t], n_anon[t])
        secs = rng.integers(8 * 3600, 21 * 3600, n_anon[t])
        g = np.maximum(100, np.round(np.exp(rng.normal(np.log(30), 0.5, n_anon[t])) * 100))
        anon.append(
            pd.DataFrame(
                {
                    "cust": -1,
                    "ts": cal.times(t, day, secs),
                    "gross_c": g.astype(np.int64),
                    "disc_c": 0,
                    "camp": -1,
                    "tier": -1,
                    "month": t,
                }
            )
        )
    return anon


def _returns(p: SynthParams, rng: np.random.Generator, cal: Calendar, sales: pd.DataFrame):
    """Returns of a random share of sales, 1–30 days later, 30 % of them partial."""
    ret = sales[rng.random(len(sales)) < p.return_rate].copy()
    ret["ts"] = ret["ts"].to_numpy() + rng.integers(86400, 30 * 86400, len(ret)).astype(
        "timedelta64[s]"
    )
    partial = rng.random(len(ret)) < 0.3
    for col in ("gross_c", "disc_c"):
        ret[col] = -np.where(partial, np.round(ret[col] * 0.5), ret[col]).astype(np.int64)
    ret["is_return"] = True
    return ret[ret["ts"] <= cal.window_end]


def transactions(
    p: SynthParams,
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    tx: pd.DataFrame,
    cid: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All receipts with ids, stores and channels; also the sorted frame (for ledger ids)."""
    sales = pd.concat([tx, *_anonymous_sales(p, rng, cal, len(tx))], ignore_index=True)
    sales["is_return"] = False
    ret = _returns(p, rng, cal, sales)
    sales["src_row"] = np.arange(len(sales))
    ret["src_row"] = -1
    allx = pd.concat([sales, ret], ignore_index=True).sort_values(
        ["ts", "cust"], kind="stable", ignore_index=True
    )
    allx["transaction_id"] = [f"T{i:08d}" for i in range(1, len(allx) + 1)]
    c = allx["cust"].to_numpy()
    known = np.maximum(c, 0)
    store_idx = pop.home[known]
    wander = rng.random(len(allx)) < 0.25
    store_idx = np.where(wander, rng.integers(0, len(STORES), len(allx)), store_idx)
    is_online = np.where(c >= 0, pop.online[known], rng.random(len(allx)) < 0.15)
    frame = pd.DataFrame(
        {
            "transaction_id": allx["transaction_id"],
            "customer_id": np.where(c >= 0, cid[known], None),
            "ts": allx["ts"].to_numpy(),
            "store": np.where(is_online, WEB, STORES[store_idx]),
            "channel": np.where(is_online, "online", "store"),
            "gross_amount": allx["gross_c"].to_numpy() / 100,
            "discount": allx["disc_c"].to_numpy() / 100,
            "net_amount": (allx["gross_c"] - allx["disc_c"]).to_numpy() / 100,
            "is_return": allx["is_return"].to_numpy(),
        }
    )
    return frame, allx


def points_ledger(ledger: Ledger, allx: pd.DataFrame, cid: np.ndarray) -> pd.DataFrame:
    """The canonical ledger: earn rows carry their receipt's id and double-points campaign."""
    earn = ledger.earn
    pos = pd.Series(allx.index.to_numpy(), index=allx["src_row"].to_numpy())
    pos = pos[pos.index >= 0]
    earn["transaction_id"] = allx["transaction_id"].to_numpy()[pos.loc[earn["tx_row"]].to_numpy()]
    earn["campaign_id"] = np.where(
        earn["camp"] > 0, [f"CMP{c:03d}" for c in earn["camp"].clip(lower=0)], None
    )
    rows = pd.concat([earn.drop(columns=["tx_row", "camp"]), *ledger.other], ignore_index=True)
    rows = rows.sort_values(["ts", "cust", "type"], kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "customer_id": cid[rows["cust"].to_numpy()],
            "date": pd.to_datetime(rows["ts"]).dt.normalize(),
            "type": rows["type"],
            "points": rows["points"],
            "transaction_id": rows["transaction_id"],
            "campaign_id": rows["campaign_id"],
        }
    )


def coupon_redemptions(
    receipts: pd.DataFrame, campaigns: list[dict], cid: np.ndarray
) -> pd.DataFrame:
    """One row per coupon used: the discounted sales of coupon campaigns (returns excluded)."""
    coupon = {c["number"]: c for c in campaigns if c["type"] == "coupon"}
    r = receipts[
        (receipts["disc_c"] > 0) & ~receipts["is_return"] & receipts["camp"].isin(list(coupon))
    ]
    return pd.DataFrame(
        {
            "customer_id": cid[r["cust"].to_numpy()],
            "date": pd.to_datetime(r["ts"]).dt.normalize(),
            "coupon_id": [f"CPN{n:03d}" for n in r["camp"]],
            "campaign_id": [coupon[n]["campaign_id"] for n in r["camp"]],
            "discount": r["disc_c"].to_numpy() / 100,
            "transaction_id": r["transaction_id"].to_numpy(),
        }
    )


def customers(p: SynthParams, cal: Calendar, pop: Population, cid: np.ndarray) -> pd.DataFrame:
    """The customers table of the synthetic program."""
    first_seen = pop.first_seen.copy()
    first_seen[np.isnat(first_seen)] = np.datetime64(cal.window_start, "s")  # defensive
    is_member = pop.member_since <= p.months
    return pd.DataFrame(
        {
            "customer_id": cid,
            "first_seen": pd.to_datetime(first_seen).normalize(),
            "is_member": is_member,
            "enrolled_at": pd.to_datetime(np.where(is_member, pop.enrolled_at, NAT)).normalize(),
            "tier": np.where(is_member, TIER_NAMES[pop.tier_idx], None),
            "store": np.where(pop.online, WEB, STORES[pop.home]),
            "marketing_consent": pop.consent,
        }
    )


def tier_history(rows: list[pd.DataFrame], cid: np.ndarray) -> pd.DataFrame:
    """The tier changes the monthly loop recorded, with customer ids."""
    th = pd.concat(rows, ignore_index=True)
    return pd.DataFrame(
        {
            "customer_id": cid[th["customer_id"].to_numpy().astype(int)],
            "date": pd.to_datetime(th["date"]).dt.normalize(),
            "from_tier": th["from_tier"],
            "to_tier": th["to_tier"],
        }
    ).sort_values(["date", "customer_id"], kind="stable", ignore_index=True)


def campaign_tables(
    p: SynthParams, cal: Calendar, campaigns: list[dict], contacts_rows: list, cid: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Campaigns (cost = fixed + per contact), their contacts, and monthly program costs."""
    cols = ["campaign_id", "name", "type", "start", "end"]
    camp_df = pd.DataFrame([{k: c[k] for k in cols} for c in campaigns], columns=cols)
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
    scale = p.n_customers / 20_000
    cost_rows = []
    for t, ms in enumerate(cal.mstarts):
        mk = sum(cc for cc, c in zip(camp_df["cost"], campaigns, strict=True) if c["month"] == t)
        for cat, amt in (
            ("platform", 4500 * scale),
            ("staff", 3000 * scale),
            ("marketing", 1000 * scale + mk),
        ):
            cost_rows.append({"month": ms, "category": cat, "amount": round(amt, 2)})
    return camp_df, contacts, pd.DataFrame(cost_rows)


def surveys(
    p: SynthParams, rng: np.random.Generator, cal: Calendar, pop: Population, cid: np.ndarray
) -> pd.DataFrame:
    """NPS (members score 0.8 higher) and, for 60 %, CSAT, from a random share of active buyers."""
    N = p.n_customers
    rows = []
    for t in range(p.months):
        alive = np.flatnonzero(pop.alive(t) & (rng.random(N) < p.survey_rate))
        mem = pop.member_since[alive] <= t
        score = np.clip(np.round(rng.normal(7.2 + 0.8 * mem, 2.0)), 0, 10).astype(np.int64)
        csat = np.where(
            rng.random(alive.size) < 0.6,
            np.clip(np.round(score / 2.2 + rng.normal(0.6, 0.5, alive.size), 1), 1, 5),
            np.nan,
        )
        day = rng.integers(0, cal.days_in[t], alive.size)
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": cid[alive],
                    "date": (np.datetime64(cal.mstarts[t], "D") + day.astype("timedelta64[D]")),
                    "nps": score,
                    "csat": csat,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sort_values(
        ["date", "customer_id"], ignore_index=True
    )


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


def personal_data(rng: np.random.Generator, cid: np.ndarray) -> pd.DataFrame:
    """Names, e-mails and phone numbers: raw personal data that must never leave ``data/raw``."""
    N = len(cid)
    fn = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), N)]
    ln = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), N)]
    emails = [
        f"{_ascii(a)}.{_ascii(b)}.{i + 1}@example.{'dk' if i % 3 else 'nl'}"
        for i, (a, b) in enumerate(zip(fn, ln, strict=True))
    ]
    phones = [f"+45 {20000000 + (i * 7919) % 79999999:08d}" for i in range(N)]
    return pd.DataFrame(
        {"customer_id": cid, "name": fn + " " + ln, "email": emails, "phone": phones}
    )


def truth(
    p: SynthParams,
    cal: Calendar,
    pop: Population,
    purchases: Purchases,
    ledger: Ledger,
    tables: dict[str, pd.DataFrame],
) -> dict:
    """What was planted, for the estimator tests and the notebooks' "truth" cells."""
    M = p.months
    h, is_member = pop.h, pop.member_since <= M
    in_window = (pop.member_since >= 0) & (pop.member_since < M)
    pl = tables["points_ledger"]
    matured = ledger.credited[: max(0, M - p.expiry_months + 1)].sum()
    return {
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items()},
        "window": {"start": str(cal.mstarts[0].date()), "end": str(cal.window_end.date())},
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
            "members_enrolled_in_window": int(in_window.sum()),
            "spending_dynamics": phases.truth(p, pop.phases),
        },
        "self_selection": {
            "mean_heaviness_members": float(h[is_member].mean()),
            "mean_heaviness_non_members": float(h[~is_member].mean()),
            # heavier buyers enroll sooner after they are first seen
            "corr_heaviness_months_to_enrollment": float(
                np.corrcoef(h[in_window], (pop.member_since - pop.acq)[in_window])[0, 1]
            )
            if in_window.sum() > 2
            else None,
        },
        "campaigns": purchases.truth_campaigns,
        "points": {
            "issued": int(pl.loc[pl["type"] == "earn", "points"].sum()),
            "redeemed": int(-pl.loc[pl["type"] == "redeem", "points"].sum()),
            "expired": int(-pl.loc[pl["type"] == "expire", "points"].sum()),
            "outstanding": int(pl["points"].sum()),
            "never_redeem_share": p.never_redeem_share,
            "expiry_months": p.expiry_months,
            # points credited in the months whose buckets have reached expiry (earn + adjust),
            # against what expired from exactly those buckets
            "earn_share_matured_cohorts_expired": float(ledger.expired_total / max(1, matured)),
        },
        "counts": {k: int(len(v)) for k, v in tables.items()},
        "members": int(is_member.sum()),
        "churn_hazard": p.churn_hazard,
    }
