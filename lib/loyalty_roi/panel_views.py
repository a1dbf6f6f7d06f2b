"""Small views of the customer × month panel, computed in the engine.

The dense panel has a row per customer and month from the customer's first
month (11.6M rows at 10M transactions, 180M at 100M).  What notebooks 02 and 03
need from it is computed here on the backend, so they never hold the panel:

* :func:`engagement_share` — each customer's share of engaged months (a
  clustering feature, notebook 02), from the months with activity;
* :func:`tier_counts` — members per tier and month; :func:`member_tiers` — the
  members' tier in the last months (tier migration), notebook 02;
* :func:`kpi_month_counts` — the monthly counts and sums every panel KPI is
  computed from (notebook 03), from the sparse months with activity only.

Notebook 04's matched DiD reads customers × months arrays filled from the
months with activity (:class:`.lift_panel.LiftPanel`).
"""

from __future__ import annotations

import ibis
import pandas as pd

from . import dense_panel, engine, months


def panel_customers(eng: engine.Engine, end: str | None, numbered: bool = False):
    """The panel's months and customers: ``start_mi, end_mi`` and ``customer_id, row_mi, enroll_mi``.

    ``row_mi``: a customer's first panel month (first seen, or the data's first
    month); customers first seen after ``end`` have no panel rows and are left out.
    ``numbered``: with ``key``, the customer's number (:func:`engine.customer_months`).
    """
    start_mi, hi = engine.data_months(eng)
    end_mi = months.index(end) if end else hi
    c = engine.customer_months(eng, numbered)
    return start_mi, end_mi, dense_panel.panel_customers_of(c, start_mi, end_mi)


def _ledger_months(eng: engine.Engine, c, start_mi: int, end_mi: int):
    """The points ledger's rows inside the panel: with ``mi`` and the customer's ``row_mi, enroll_mi``."""
    pl = eng.table("points_ledger")
    pl = pl.mutate(mi=months.index_expr(pl.date))
    pl = pl.filter((pl.mi >= start_mi) & (pl.mi <= end_mi)).inner_join(c, "customer_id")
    return pl.filter(pl.mi >= pl.row_mi)


def _engaged_months(eng: engine.Engine, a, c, start_mi: int, end_mi: int):
    """The panel's engaged customer-months (an order or a points event), once each, with ``member``.

    ``a``: the months with a receipt (:func:`active_months`); ``c``: :func:`panel_customers`.
    """
    keys = a.filter(a.orders > 0).select("customer_id", "mi", "member")
    if eng.has("points_ledger"):
        pl = _ledger_months(eng, c, start_mi, end_mi)
        on_ledger = pl.select(
            "customer_id", "mi", member=pl.enroll_mi.notnull() & (pl.enroll_mi <= pl.mi)
        )
        keys = keys.union(on_ledger, distinct=True)  # membership is one per customer-month
    return keys


def engagement_share(eng: engine.Engine, end: str | None = None) -> pd.Series:
    """Per customer, the share of panel months with an order or a points event.

    Equal to ``customer_month_panel(eng, end=end).groupby("customer_id")["engaged"].mean()``,
    counted from the months with activity: engaged months ÷ (``end`` − first panel month + 1).
    """
    start_mi, end_mi, c = panel_customers(eng, end)
    keys = _engaged_months(eng, active_months(eng, c, start_mi, end_mi), c, start_mi, end_mi)
    n = keys.group_by("customer_id").aggregate(engaged=keys.count())
    j = c.left_join(n, "customer_id")
    share = j.engaged.fill_null(0).cast("float64") / (end_mi - j.row_mi + 1)
    agg = j.select(customer_id=j.customer_id, engagement=share)
    return eng.execute(agg).set_index("customer_id")["engagement"]


def _tier_spells(eng: engine.Engine, end: str | None):
    """Each member's spells in a tier, as in the panel: ``customer_id, tier, start, stop`` (month indices).

    The panel's tier in a month is the last tier change up to that month (a change
    before the customer's first panel month counts from that month; one without a
    tier changes nothing), shown in the months the customer is a member.  So each
    change starts a spell that the next one ends (``stop`` exclusive, ``end`` + 1
    for the last), from the later of the change and enrollment: the engine's
    work grows with tier changes, not customers × months (225M at 100M receipts).
    """
    start_mi, end_mi, c = panel_customers(eng, end)
    m = c.filter(c.enroll_mi.notnull())
    th = eng.table("tier_history")
    th = th.filter(th.to_tier.notnull()).inner_join(m, "customer_id")
    th = th.mutate(th_mi=ibis.greatest(months.index_expr(th.date), th.row_mi))
    th = th.filter(th.th_mi <= end_mi)
    last = th.group_by([th.customer_id, th.th_mi]).aggregate(
        tier=th.to_tier.argmax(th.date), enroll_mi=th.enroll_mi.max()
    )
    w = ibis.window(group_by=last.customer_id, order_by=last.th_mi)
    s = last.mutate(stop=last.th_mi.lead().over(w).fill_null(end_mi + 1))
    s = s.mutate(start=ibis.greatest(s.th_mi, s.enroll_mi))
    return (
        start_mi,
        end_mi,
        s.filter(s.start < s.stop).select("customer_id", "tier", "start", "stop"),
    )


def member_tiers(
    eng: engine.Engine, end: str | None = None, last: int | None = None
) -> pd.DataFrame:
    """The panel's rows of members with a tier: ``customer_id, mi, month, is_member, tier``.

    What :func:`segments.tier_migration` reads, without the months of non-members;
    ``last=2``: only the month ``end`` and the one before (at 100M receipts all
    member-months are 40M rows with text ids).
    """
    start_mi, end_mi, s = _tier_spells(eng, end)
    lo = start_mi if last is None else end_mi - last + 1
    grid = ibis.range(lo, end_mi + 1).unnest().name("mi").as_table()
    r = s.cross_join(grid)
    r = r.filter((r.mi >= r.start) & (r.mi < r.stop))
    r = r.select("customer_id", "mi", is_member=ibis.literal(True), tier=r.tier)
    df = eng.execute(r.order_by(["customer_id", "mi"]))
    df.insert(2, "month", months.from_index(df["mi"]))
    return df


def tier_counts(eng: engine.Engine, end: str | None = None) -> pd.DataFrame:
    """Members per tier and month: :func:`segments.tier_distribution` of the panel, from the tier spells.

    Each spell is +1 in its first month and −1 after its last; the running sum
    over the months gives the members in each tier.
    """
    from .segments import TIER_ORDER

    _, end_mi, s = _tier_spells(eng, end)
    one = ibis.literal(1, "int64")
    steps = s.select(at=s.start, tier=s.tier, d=one).union(
        s.select(at=s.stop, tier=s.tier, d=-one), distinct=False
    )
    df = eng.execute(steps.group_by(["at", "tier"]).aggregate(d=steps.d.sum().cast("int64")))
    if df.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"), dtype="int64")
    d = df.pivot(index="at", columns="tier", values="d")
    d = d.reindex(pd.RangeIndex(int(df["at"].min()), end_mi + 1)).fillna(0).cumsum()
    d = d.astype("int64").loc[(d > 0).any(axis=1), (d > 0).any(axis=0)]
    d.index = pd.DatetimeIndex(months.from_index(d.index.to_series()), name="month")
    d.columns.name = "tier"
    return d.reindex(columns=[t for t in TIER_ORDER if t in d.columns])


def active_months(eng: engine.Engine, c, start_mi: int, end_mi: int):
    """The panel's customer-months with a receipt: ``orders`` (not returns), ``revenue`` (net), ``member``."""
    tx = engine.tx_identified(eng)
    tx = tx.filter((tx.mi >= start_mi) & (tx.mi <= end_mi))
    agg = tx.group_by(["customer_id", "mi"]).aggregate(
        orders=tx.is_return.ifelse(0, 1).sum().cast("int64"), revenue=tx.net_amount.sum()
    )
    a = agg.inner_join(c, "customer_id")
    a = a.filter(a.mi >= a.row_mi)  # the panel starts at the customer's first month
    return a.mutate(member=a.enroll_mi.notnull() & (a.enroll_mi <= a.mi))


def _window_events(a, end_mi: int, rolling: int, window: int):
    """Month-by-month changes of the windowed customer counts, from each active month and the next.

    Per customer, active months ``m₁ < m₂ < …`` (``orders`` > 0).  An active month
    ``a`` with next active month ``n`` (∞ for the last) is the customer's latest
    activity for the months ``a … n − 1``, so, counted without double counting:

    * ``one``  — ≥ 1 order in the ``rolling`` months ending with the month: ``[a, min(n, a + rolling))``;
    * ``two``  — ≥ 2 orders there: the second latest order is ``s₂`` (``a`` itself when
      it has 2 orders, else the previous active month), so ``[a, min(n, s₂ + rolling))``;
    * ``prev`` — active in the ``window`` months before the current window: a shifted
      ``one`` with ``window``: ``[a + window, min(n, a + window) + window)``;
    * ``lost`` — active in the previous window, not in the current one: ``a`` is the
      latest activity up to ``m − window`` and ``n > m``: ``[a + window, min(a + 2·window, n))``.

    Each interval is +1 at its start and −1 at its stop; a running sum over the
    months gives the counts.  Returns one row per month with a change.
    """
    b = a.filter(a.orders > 0).select("customer_id", "mi", "orders")
    w = ibis.window(group_by=b.customer_id, order_by=b.mi)
    b = b.mutate(prev_mi=b.mi.lag().over(w), next_mi=b.mi.lead().over(w))
    never = end_mi + 2 * (rolling + window) + 2  # a month past every interval
    n = b.next_mi.fill_null(never)
    s2 = (b.orders >= 2).ifelse(b.mi, b.prev_mi).fill_null(-never)  # -never: no second order yet
    b = b.mutate(
        stop1=ibis.least(n, b.mi + rolling),
        stop2=ibis.least(n, s2 + rolling),
        stop_prev=ibis.least(n, b.mi + window) + window,
        stop_lost=ibis.least(n, b.mi + 2 * window),
    )
    b = b.mutate(v2=(b.stop2 > b.mi).cast("int64"), vl=(b.stop_lost > b.mi + window).cast("int64"))
    e = b.cross_join(ibis.range(0, 6).unnest().name("kind").as_table())
    k = e.kind
    at = ibis.cases(
        (k == 0, e.mi),
        (k == 1, e.stop1),
        (k == 2, e.stop2),
        (k == 3, e.mi + window),
        (k == 4, e.stop_prev),
        else_=e.stop_lost,
    )
    zero = ibis.literal(0, "int64")
    e = e.select(
        at=at,
        one=ibis.cases((k == 0, 1), (k == 1, -1), else_=zero),
        two=ibis.cases((k == 0, e.v2), (k == 2, -e.v2), else_=zero),
        prev=ibis.cases((k == 3, 1), (k == 4, -1), else_=zero),
        lost=ibis.cases((k == 3, e.vl), (k == 5, -e.vl), else_=zero),
    )
    e = e.filter(e.at <= end_mi)
    return e.group_by("at").aggregate(
        buyers_one=e.one.sum(), buyers_two=e.two.sum(), prev=e.prev.sum(), lost=e.lost.sum()
    )


def kpi_month_counts(
    eng: engine.Engine, end: str | None = None, rolling_months: int = 12, retention_window: int = 3
) -> pd.DataFrame:
    """Per month of the panel, what the panel KPIs are computed from, without building the panel.

    Equal, month for month, to the sums over :func:`engine.customer_month_panel`
    rows (``end`` as there): ``customers`` (panel rows), ``members``,
    ``active`` (≥ 1 order), ``orders``, ``member_revenue``, ``non_member_revenue``,
    ``active_members``, ``active_non_members``, ``engaged_members`` (an order or a
    points event); ``buyers_one`` / ``buyers_two`` (≥ 1 / ≥ 2 orders in the
    ``rolling_months`` ending with the month); ``prev`` (active in the previous
    ``retention_window``) and ``both`` (in the previous and the current window);
    with a points ledger, ``points_earned/redeemed/expired``.  Indexed by month start.
    Only months with activity are read: the engine's work grows with receipts,
    not with customers × months.
    """
    start_mi, end_mi, c = panel_customers(eng, end)
    m = c.filter(c.enroll_mi.notnull())
    starts = eng.execute(c.group_by(at=c.row_mi).aggregate(customers=c.count()))
    joins = eng.execute(
        m.group_by(at=ibis.greatest(m.row_mi, m.enroll_mi)).aggregate(members=m.count())
    )
    if starts.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    mi = pd.RangeIndex(int(starts["at"].min()), end_mi + 1, name="mi")

    def by_month(df: pd.DataFrame, key: str = "at") -> pd.DataFrame:
        return df.set_index(key).reindex(mi, fill_value=0)

    a = active_months(eng, c, start_mi, end_mi)
    sums = a.group_by("mi").aggregate(
        active=(a.orders > 0).cast("int64").sum(),
        orders=a.orders.sum(),
        member_revenue=a.member.ifelse(a.revenue, 0.0).sum(),
        non_member_revenue=a.member.ifelse(0.0, a.revenue).sum(),
        active_members=((a.orders > 0) & a.member).cast("int64").sum(),
        active_non_members=((a.orders > 0) & ~a.member).cast("int64").sum(),
    )
    out = by_month(eng.execute(sums), "mi")
    steps = by_month(eng.execute(_window_events(a, end_mi, rolling_months, retention_window)))
    running = steps.cumsum()
    out["customers"] = by_month(starts)["customers"].cumsum()
    out["members"] = by_month(joins)["members"].cumsum()
    out["buyers_one"], out["buyers_two"] = running["buyers_one"], running["buyers_two"]
    out["prev"], out["both"] = running["prev"], running["prev"] - running["lost"]
    if eng.has("points_ledger"):
        pl = _ledger_months(eng, c, start_mi, end_mi)
        pts = pl.group_by("mi").aggregate(
            points_earned=(pl.type == "earn").ifelse(pl.points, 0).sum(),
            points_redeemed=(pl.type == "redeem").ifelse(-pl.points, 0).sum(),
            points_expired=(pl.type == "expire").ifelse(-pl.points, 0).sum(),
        )
        out = out.join(by_month(eng.execute(pts), "mi"))
    engaged = _engaged_months(eng, a, c, start_mi, end_mi)
    engaged = engaged.filter(engaged.member)
    em = engaged.group_by("mi").aggregate(engaged_members=engaged.count())
    out["engaged_members"] = by_month(eng.execute(em), "mi")["engaged_members"]
    out.index = pd.DatetimeIndex(months.from_index(out.index.to_series()), name="month")
    return out
