"""Points economics: flows, redemption curves by earn cohort, breakage and liability.

* :func:`monthly_flows` — points issued, redeemed, expired and adjusted per month;
* :func:`roll_forward` — opening + issued − redeemed − expired + adjusted = closing,
  reconciled exactly against the ledger's running balance;
* :func:`redemption_by_cohort` — the points of each earn month, followed FIFO
  (redemptions and expiries consume the oldest points first) to see what share
  was redeemed by each age;
* :func:`ultimate_redemption` — projection of every earn cohort's redemption
  curve to its ultimate value (additive development by age); breakage = 1 −
  ultimate redemption;
* :func:`liability` — outstanding points × cost per point × expected redemption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .months import floor as month_floor


def ledger_by_month(eng) -> pd.DataFrame:
    """The points ledger summed per customer, month, type, sign and campaign, by the engine.

    Everything notebook 04 computes from the ledger works by month: the flows and
    roll-forward, the FIFO cohorts (a customer's month of earning is its cohort;
    redemptions, then expiries consume the oldest points), the liability, the
    points issued in the P&L and the campaigns' bonus points.  So the engine sums
    the events of each customer-month, keeping positive and negative amounts of a
    type apart (a positive adjustment joins the cohort, a negative one consumes),
    and the customer is its number (:func:`engine.customer_months` ``numbered``):
    at 100M receipts 64M ledger rows with text ids become 33M rows of numbers.
    Same columns as the ledger (``date`` the month start); every function here
    gives the same result on it as on the ledger (tests/test_points_roi.py).
    """
    import ibis

    from . import engine

    pl = eng.table("points_ledger")
    keys = engine.customer_months(eng, numbered=True).select("customer_id", "key")
    g = pl.group_by(
        customer_id=pl.customer_id,
        date=pl.date.truncate("M"),
        type=pl.type,
        positive=pl.points > 0,
        campaign_id=pl.campaign_id,
    ).aggregate(points=pl.points.sum().cast("int64"))
    g = g.left_join(keys, "customer_id")
    out = g.select(
        customer_id=g.key.fill_null(ibis.literal(-1, "int32")),  # not in customers: one queue
        date=g.date,
        type=g.type,
        points=g.points,
        campaign_id=g.campaign_id,
    )
    return eng.execute(out.order_by(["customer_id", "date", "type", "points"]), large=True)


def monthly_flows(ledger: pd.DataFrame) -> pd.DataFrame:
    """Points issued, redeemed, expired and adjusted per month (redeemed/expired as positive numbers)."""
    g = ledger.assign(month=month_floor(ledger["date"])).pivot_table(
        index="month", columns="type", values="points", aggfunc="sum", fill_value=0
    )
    out = pd.DataFrame(index=g.index)
    out["issued"] = g.get("earn", 0)
    out["redeemed"] = -g.get("redeem", 0)
    out["expired"] = -g.get("expire", 0)
    out["adjusted"] = g.get("adjust", 0)
    return out.astype("int64")


def roll_forward(
    ledger: pd.DataFrame, cost_per_point: float, expected_redemption: float
) -> pd.DataFrame:
    """Monthly liability roll-forward in points and money.

    ``closing = opening + issued − redeemed − expired + adjusted`` per month,
    checked against the ledger's own running balance (``reconciles``); the
    money liability is ``closing × cost_per_point × expected_redemption``.
    Pass :func:`liability`'s ``expected_redemption_of_outstanding`` (the share of
    today's outstanding points expected to be redeemed, by earn cohort) so the
    last month's money liability *is* the reported liability — one figure
    everywhere; earlier months are then valued at today's rate.
    """
    f = monthly_flows(ledger)
    movement = f["issued"] - f["redeemed"] - f["expired"] + f["adjusted"]
    f["closing"] = movement.cumsum()
    f["opening"] = f["closing"] - movement
    balance = (
        ledger.assign(month=month_floor(ledger["date"])).groupby("month")["points"].sum().cumsum()
    )
    f["ledger_balance"] = balance.reindex(f.index).ffill().astype("int64")
    f["reconciles"] = f["closing"] == f["ledger_balance"]
    f["liability"] = f["closing"] * cost_per_point * expected_redemption
    return f[
        [
            "opening",
            "issued",
            "redeemed",
            "expired",
            "adjusted",
            "closing",
            "ledger_balance",
            "reconciles",
            "liability",
        ]
    ]


def redemption_by_cohort(ledger: pd.DataFrame) -> pd.DataFrame:
    """Cumulative share of each earn cohort's points redeemed / expired by age (months), FIFO.

    Returns long form: ``cohort, age, issued, redeemed_cum, expired_cum,
    redeemed_share, expired_share``.  Ages run to the last month of data.
    """
    led = ledger.assign(month=month_floor(ledger["date"]))
    months = pd.period_range(led["month"].min(), led["month"].max(), freq="M").to_timestamp()
    mi = {m: i for i, m in enumerate(months)}
    M = len(months)
    cust = pd.Index(led["customer_id"].unique())
    ci = cust.get_indexer(led["customer_id"])
    ti = led["month"].map(mi).to_numpy()
    ty, pts = led["type"], led["points"].to_numpy()
    # each event's role in the queue as a small integer (not 6M Python strings): 0 joins the
    # month's cohort (earned, positive adjustment), 1 redeemed, 2 expired, 3 negative adjustment
    kind = np.full(len(led), -1, dtype=np.int8)
    kind[((ty == "earn") | ((ty == "adjust") & (pts > 0))).to_numpy()] = 0
    kind[(ty == "redeem").to_numpy()] = 1
    kind[(ty == "expire").to_numpy()] = 2
    kind[((ty == "adjust") & (pts < 0)).to_numpy()] = 3
    del led, ty
    red_by = np.zeros((M, M))  # [cohort, month] redeemed from cohort in month
    exp_by = np.zeros((M, M))
    issued = np.zeros(M)
    # customers in chunks: each customer's queue is its own, the cohort sums add up over
    # chunks, and the arrays stay chunk × months (at 6M members × 36 months whole: 16 GiB)
    order = np.argsort(ci, kind="stable")
    ci, ti, kind, pts = ci[order], ti[order], kind[order], pts[order]
    bounds = np.searchsorted(ci, np.arange(0, len(cust) + FIFO_CHUNK, FIFO_CHUNK))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if lo == hi:
            continue
        _fifo_chunk(
            ci[lo:hi] - ci[lo], ti[lo:hi], kind[lo:hi], pts[lo:hi], M, red_by, exp_by, issued
        )
    rows = []
    for c in range(M):
        if issued[c] <= 0:
            continue
        rc = np.cumsum(red_by[c, c:])
        xc = np.cumsum(exp_by[c, c:])
        for age in range(M - c):
            rows.append(
                {
                    "cohort": months[c],
                    "age": age,
                    "issued": issued[c],
                    "redeemed_cum": rc[age],
                    "expired_cum": xc[age],
                }
            )
    out = pd.DataFrame(rows)
    out["redeemed_share"] = out["redeemed_cum"] / out["issued"]
    out["expired_share"] = out["expired_cum"] / out["issued"]
    return out


FIFO_CHUNK = (
    250_000  # customers per chunk of the FIFO queues: 36 months × 8 bytes × 9 arrays ≈ 0.6 GiB
)


def _fifo_chunk(ci, ti, kind, pts, M, red_by, exp_by, issued) -> None:
    """Add one chunk of customers' FIFO consumption to the cohort × month sums (in place)."""
    N = int(ci.max()) + 1

    def mat(sel, sign=1):
        a = np.zeros((N, M))
        np.add.at(a, (ci[sel], ti[sel]), sign * pts[sel])
        return a

    earned = mat(kind == 0)  # positive adjustments join the month's cohort
    redeemed = mat(kind == 1, -1)
    expired = mat(kind == 2, -1)
    neg_adj = mat(kind == 3, -1)
    # queue positions: cohort c occupies [E(c−1), E(c)); each month redemptions, then expiries
    # (then negative adjustments) consume the oldest positions first
    e_cum = np.cumsum(earned, axis=1)
    e_lo = e_cum - earned
    used = redeemed + expired + neg_adj
    cons_before = np.cumsum(used, axis=1) - used
    r_hi = cons_before + redeemed
    x_hi = r_hi + expired
    for t in range(M):
        lo_r, hi_r = cons_before[:, t : t + 1], r_hi[:, t : t + 1]
        red_by[:, t] += np.clip(np.minimum(hi_r, e_cum) - np.maximum(lo_r, e_lo), 0, None).sum(0)
        lo_x, hi_x = r_hi[:, t : t + 1], x_hi[:, t : t + 1]
        exp_by[:, t] += np.clip(np.minimum(hi_x, e_cum) - np.maximum(lo_x, e_lo), 0, None).sum(0)
    issued += earned.sum(0)


def ultimate_redemption(curves: pd.DataFrame, expiry_months: int | None = None) -> pd.DataFrame:
    """Project each cohort's redemption curve to its ultimate share (additive development).

    The expected *increment* of the cumulative redeemed share at each age is the
    issued-weighted mean over the cohorts observed at that age; a cohort's
    ultimate share = its observed share + the expected increments for the ages
    it has not reached yet (up to ``expiry_months``, after which nothing more is
    redeemed).  Unlike a multiplicative chain ladder this also works for young
    cohorts that have redeemed nothing yet (FIFO redeems older points first).
    Returns per cohort: ``issued, age, redeemed_to_date, expired_to_date,
    ultimate_share, breakage = 1 − ultimate_share``.
    """
    wide = curves.pivot(index="cohort", columns="age", values="redeemed_share")
    issued = curves.groupby("cohort")["issued"].first()
    max_age = int(
        wide.columns.max() if expiry_months is None else min(wide.columns.max(), expiry_months)
    )
    increments = {}
    for a in range(1, max_age + 1):
        both = wide[[a - 1, a]].dropna()
        w = issued.reindex(both.index)
        increments[a] = float(((both[a] - both[a - 1]) * w).sum() / w.sum()) if len(both) else 0.0
    rows = []
    for c, row in wide.iterrows():
        last = int(row.last_valid_index())
        share = row[last] + sum(increments.get(a, 0.0) for a in range(last + 1, max_age + 1))
        sub = curves[curves["cohort"] == c]
        rows.append(
            {
                "cohort": c,
                "issued": issued[c],
                "age": last,
                "redeemed_to_date": float(sub["redeemed_cum"].max()),
                "expired_to_date": float(sub["expired_cum"].max()),
                "ultimate_share": min(1.0, share),
            }
        )
    out = pd.DataFrame(rows).set_index("cohort")
    out["breakage"] = 1 - out["ultimate_share"]
    return out


def expected_redemption_rate(ultimate: pd.DataFrame) -> float:
    """Issued-weighted ultimate redemption share over all cohorts."""
    return float((ultimate["ultimate_share"] * ultimate["issued"]).sum() / ultimate["issued"].sum())


def liability(ledger: pd.DataFrame, ultimate: pd.DataFrame, cost_per_point: float) -> dict:
    """Outstanding points and what they are expected to cost.

    ``expected_redemption_of_outstanding`` = (Σ ultimate × issued − redeemed to
    date) / outstanding: the share of today's outstanding points expected to
    be redeemed; ``liability = outstanding × cost_per_point × that share``.
    """
    outstanding = int(ledger["points"].sum())
    to_redeem = float(
        (ultimate["ultimate_share"] * ultimate["issued"] - ultimate["redeemed_to_date"])
        .clip(lower=0)
        .sum()
    )
    share = min(1.0, to_redeem / outstanding) if outstanding > 0 else 0.0
    return {
        "outstanding_points": outstanding,
        "expected_redemption_of_outstanding": share,
        "liability": outstanding * cost_per_point * share,
        "cost_per_point": cost_per_point,
        "overall_breakage": 1 - expected_redemption_rate(ultimate),
    }


def liability_sentence(liab: dict, currency: str) -> str:
    """The liability in words."""
    return (
        f"{liab['outstanding_points']:,} points are outstanding; {liab['expected_redemption_of_outstanding']:.0%} "
        f"of them are expected to be redeemed, a liability of {currency} {liab['liability']:,.0f} at "
        f"{currency} {liab['cost_per_point']:.3f} per point. Over all earn cohorts, "
        f"{liab['overall_breakage']:.0%} of issued points are expected never to be redeemed (breakage)."
    )


def save_liability(liab: dict, processed_dir) -> None:
    """Keep the liability computed in notebook 04 for the report's index page."""
    from . import artefacts

    artefacts.save(liab, "points_liability", processed_dir)


def load_liability(processed_dir) -> dict | None:
    """The liability saved by :func:`save_liability`, or None."""
    from . import artefacts

    return artefacts.load("points_liability", processed_dir)
