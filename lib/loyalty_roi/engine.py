"""Transaction-scale engine: Ibis expressions on DuckDB (default) or PySpark.

Everything that touches individual transactions is written once as Ibis
expressions over the processed Parquet and returned as pandas frames:

:func:`customer_month_panel` (customer × month: orders, revenue, discounts,
returns, points, activity, membership, tier; small views of it in
:mod:`loyalty_roi.panel_views`), :func:`rfm_summary`, :func:`cohort_matrix`,
:func:`store_month_totals`.  Months are the integer index of :mod:`months`,
so the same expressions give identical results on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from . import dense_panel, months
from .backends import contract_table, spark_pandas_notice_silenced, spark_session
from .engine_totals import (  # noqa: F401 - part of the engine's interface
    _finish,
    campaign_window_activity,
    campaign_window_activity_expr,
    data_months,
    purchase_days,
    store_month_totals,
    store_month_totals_expr,
    tx_identified,
)
from .memory import collect, duckdb_settings, release_duckdb_cache
from .schema import TABLES

DIALECTS = {"duckdb": "duckdb", "pyspark": "pyspark"}


@dataclass
class Engine:
    """A backend session with the canonical Parquet tables registered as views.

    Expressions are built on unbound tables with the contract's schema
    (:func:`contract_table`), compiled to the backend's SQL dialect and
    collected as Arrow, so one expression runs unchanged on every backend.
    """

    session: object  # duckdb connection or SparkSession
    backend: str
    tables: dict[str, ir.Table] = field(default_factory=dict)
    memory_limit: str | None = None  # DuckDB's, as configured

    def has(self, name: str) -> bool:
        """Whether the processed data has table ``name``."""
        return name in self.tables

    def close(self) -> None:
        """Release the backend's memory once a notebook's engine work is done.

        A DuckDB connection is closed; a Spark session is left to its run (it is
        shared, and stopping it would end the other notebooks' work).
        """
        if self.backend == "duckdb":
            self.session.close()

    def table(self, name: str) -> ir.Table:
        """The Ibis table of a canonical table."""
        return self.tables[name]

    def read(self, name: str) -> pd.DataFrame:
        """A whole (small) canonical table as pandas."""
        return self.execute(self.tables[name])

    def sql(self, expr: ir.Expr) -> str:
        """The SQL ``expr`` compiles to on this backend."""
        return ibis.to_sql(expr, dialect=DIALECTS[self.backend])

    def execute(self, expr: ir.Table, large: bool = False) -> pd.DataFrame:
        """Run ``expr`` and return pandas, collected through Arrow on every backend.

        ``large``: a result of millions of rows (see :func:`.memory.collect`).
        """
        return collect(self, expr, large)

    def release_cache(self) -> None:
        """Hand the buffers DuckDB keeps after a large query back to the system (see :mod:`.memory`)."""
        if self.backend == "duckdb" and self.memory_limit:
            release_duckdb_cache(self.session, self.memory_limit)


def connect(processed_dir: str | Path, backend: str = "duckdb", spark=None, options=None) -> Engine:
    """Register the processed Parquet tables on ``backend`` (``duckdb`` or ``pyspark``).

    ``options`` is the config's ``engine`` section (memory limit and spill folder
    for DuckDB; master, Spark Connect URL and settings for Spark).
    """
    d = Path(processed_dir)
    limit = None
    if backend == "duckdb":
        import duckdb

        settings = duckdb_settings(options)
        limit = settings["memory_limit"]
        session = duckdb.connect(config=settings)
    elif backend == "pyspark":
        session = spark or spark_session(options=options)
        with spark_pandas_notice_silenced():
            _ = (
                ibis.pyspark
            )  # loading the backend registers ibis.options.pyspark, read by its SQL compiler
    else:
        raise ValueError(f"unknown backend '{backend}' — use duckdb or pyspark")
    eng = Engine(session=session, backend=backend, memory_limit=limit)
    for name in TABLES:
        f = d / f"{name}.parquet"
        if not f.exists():
            continue
        view = f"lr_{name}"
        if backend == "duckdb":
            path = str(f).replace("'", "''")
            session.execute(
                f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet('{path}')"
            )
        else:
            session.read.parquet(str(f.resolve())).createOrReplaceTempView(view)
        eng.tables[name] = contract_table(name)
    return eng


MONEY_DECIMALS = 6  # summed amounts are rounded to the micro-unit: the same from run to run

# the customer × month panel's columns, in order (the contract its consumers and tests read)
PANEL_COLUMNS = (
    "customer_id",
    "mi",
    "orders",
    "revenue",
    "gross_sales",
    "discounts",
    "returns",
    "return_amount",
    "points_earned",
    "points_redeemed",
    "points_expired",
    "point_events",
    "active",
    "engaged",
    "is_member",
    "months_since_enrollment",
    "tier",
)


def customer_months(eng: Engine, numbered: bool = False) -> ir.Table:
    """Per customer, the month index first seen (``first_mi``) and enrolled (``enroll_mi``, null: not a member).

    A member without an enrollment date counts as enrolled before first seen.
    ``numbered``: with ``key``, the customer's number in id order (0, 1, …; int32),
    as :func:`customer_keys` numbers them.
    """
    cust = eng.table("customers")
    first_mi = months.index_expr(cust.first_seen)
    c = cust.select(
        customer_id=cust.customer_id,
        first_mi=first_mi,
        enroll_mi=cust.is_member.ifelse(
            months.index_expr(cust.enrolled_at).fill_null(first_mi), ibis.null("int64")
        ),
    )
    if numbered:
        c = c.mutate(key=(ibis.row_number().over(order_by=c.customer_id)).cast("int32"))
    return c


def customer_keys(eng: Engine, column: str) -> pd.Series:
    """A customers column indexed by the customers' numbers (0, 1, … in id order: ``customer_months(numbered=True)``)."""
    cust = eng.table("customers").select("customer_id", column)
    df = eng.execute(cust.order_by("customer_id"))
    return pd.Series(df[column].to_numpy(), index=pd.RangeIndex(len(df)), name=column)


def customer_month_panel_expr(eng: Engine, start_mi: int, end_mi: int) -> ir.Table:
    """Ibis expression of the dense customer × month panel (see :func:`customer_month_panel`)."""
    tx = tx_identified(eng)
    tx = tx.filter((tx.mi >= start_mi) & (tx.mi <= end_mi))
    sales = tx.is_return.ifelse(0, 1)
    agg = tx.group_by(["customer_id", "mi"]).aggregate(
        orders=sales.sum().cast("int64"),
        revenue=tx.net_amount.sum(),
        gross_sales=tx.is_return.ifelse(0.0, tx.gross_amount).sum(),
        discounts=tx.is_return.ifelse(0.0, tx.discount).sum(),
        returns=tx.is_return.ifelse(1, 0).sum().cast("int64"),
        return_amount=tx.is_return.ifelse(tx.net_amount, 0.0).sum(),
    )
    c = customer_months(eng)
    month_grid = ibis.range(start_mi, end_mi + 1).unnest().name("mi").as_table()
    grid = c.cross_join(month_grid)
    grid = grid.filter(grid.mi >= grid.first_mi)
    p = grid.left_join(agg, ["customer_id", "mi"]).drop("customer_id_right", "mi_right")
    p = p.mutate(
        orders=p.orders.fill_null(0),
        revenue=p.revenue.fill_null(0.0),
        gross_sales=p.gross_sales.fill_null(0.0),
        discounts=p.discounts.fill_null(0.0),
        returns=p.returns.fill_null(0),
        return_amount=p.return_amount.fill_null(0.0),
        is_member=(p.enroll_mi.notnull() & (p.enroll_mi <= p.mi)),
        months_since_enrollment=p.mi - p.enroll_mi,
    )
    if eng.has("points_ledger"):
        pl = eng.table("points_ledger")
        pl = pl.mutate(mi=months.index_expr(pl.date))
        pts = pl.group_by(["customer_id", "mi"]).aggregate(
            points_earned=(pl.type == "earn").ifelse(pl.points, 0).sum().cast("int64"),
            points_redeemed=(pl.type == "redeem").ifelse(-pl.points, 0).sum().cast("int64"),
            points_expired=(pl.type == "expire").ifelse(-pl.points, 0).sum().cast("int64"),
            point_events=pl.count().cast("int64"),
        )
        p = p.left_join(pts, ["customer_id", "mi"]).drop("customer_id_right", "mi_right")
        p = p.mutate(
            points_earned=p.points_earned.fill_null(0),
            points_redeemed=p.points_redeemed.fill_null(0),
            points_expired=p.points_expired.fill_null(0),
            point_events=p.point_events.fill_null(0),
        )
    else:
        p = p.mutate(
            points_earned=ibis.literal(0, "int64"),
            points_redeemed=ibis.literal(0, "int64"),
            points_expired=ibis.literal(0, "int64"),
            point_events=ibis.literal(0, "int64"),
        )
    p = p.mutate(active=p.orders > 0, engaged=(p.orders > 0) | (p.point_events > 0))
    if eng.has("tier_history"):
        # tier as of each month: the last change up to that month, carried forward — one
        # change per (customer, month), then a running group number, never a range join
        th = eng.table("tier_history")
        first = c.select(f_customer=c.customer_id, f_mi=c.first_mi)
        th = th.inner_join(first, th.customer_id == first.f_customer)
        # a change before the customer's first panel month holds from that month on
        th = th.mutate(
            th_mi=ibis.greatest(months.index_expr(th.date), th.f_mi, ibis.literal(start_mi))
        )
        last = th.group_by([th.customer_id, th.th_mi]).aggregate(th_tier=th.to_tier.argmax(th.date))
        p = p.left_join(last, [p.customer_id == last.customer_id, p.mi == last.th_mi]).drop(
            "customer_id_right", "th_mi"
        )
        w = ibis.window(group_by=p.customer_id, order_by=p.mi, preceding=None, following=0)
        p = p.mutate(tier_run=p.th_tier.notnull().cast("int64").sum().over(w))
        p = p.mutate(tier=p.th_tier.max().over(ibis.window(group_by=[p.customer_id, p.tier_run])))
        p = p.mutate(tier=p.is_member.ifelse(p.tier, ibis.null("string")))
    else:
        p = p.mutate(tier=ibis.null("string"))
    # counts as 32-bit integers: a backend's SUM of integers may be a 128-bit decimal
    # (DuckDB HUGEINT), which costs 1.3 GiB per column at 10M rows to convert to pandas
    counts = (
        "orders",
        "returns",
        "points_earned",
        "points_redeemed",
        "points_expired",
        "point_events",
    )
    p = p.mutate(**{c: p[c].cast("int32") for c in counts})
    return p.select(*PANEL_COLUMNS).order_by(["customer_id", "mi"])


def customer_month_panel(
    eng: Engine,
    start: str | None = None,
    end: str | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Customer × month panel, dense from each customer's first month (or ``start``) to ``end``.

    Columns: ``customer_id, mi, month, orders`` (receipts that are not returns),
    ``revenue`` (net, returns deducted), ``gross_sales, discounts, returns``
    (count), ``return_amount``, ``points_earned/redeemed/expired, point_events``,
    ``active`` (≥ 1 order), ``engaged`` (order or points event), ``is_member``
    (enrolled by that month), ``months_since_enrollment``, ``tier`` (as of the
    month, members only).  ``columns``: only these (the points and tier sums
    are then not computed).

    Its definition is the one query :func:`customer_month_panel_expr`; the rows
    are laid out from the engine's sums per customer-month with activity
    (:mod:`.dense_panel`: at 10M receipts 11 s instead of the query's 35 s).
    The report never builds it (customers × months rows: 225M at 100M receipts):
    :mod:`.panel_views` and :class:`.lift_panel.LiftPanel` read the months with
    activity; it is the definition they are tested against.
    """
    lo, hi = data_months(eng)
    start_mi = months.index(start) if start else lo
    end_mi = months.index(end) if end else hi
    wanted = set(PANEL_COLUMNS if columns is None else columns) | {"customer_id", "mi"}
    df = dense_panel.build(eng, customer_months(eng, numbered=True), start_mi, end_mi, wanted)
    return _finish(df[[c for c in PANEL_COLUMNS if c in wanted]], None)  # in id and month order


def rfm_summary_expr(eng: Engine, as_of_mi: int) -> ir.Table:
    """Ibis expression of :func:`rfm_summary` as of the end of month index ``as_of_mi``."""
    end = pd.Timestamp(months.from_index(pd.Series([as_of_mi + 1])).iloc[0])
    end_epoch = end.timestamp()
    tx = eng.table("transactions")
    # a bound on the timestamp, not on a month index computed per row: same rows, and
    # the scan can skip row groups by their min/max
    tx = tx.filter(tx.customer_id.notnull() & (tx.ts < ibis.literal(end.to_pydatetime())))
    sales = tx.filter(~tx.is_return)
    s = sales.group_by("customer_id").aggregate(
        first_ts=sales.ts.min(),
        last_ts=sales.ts.max(),
        frequency=sales.count().cast("int64"),
        purchase_days=sales.ts.date().nunique().cast("int64"),
    )
    # to the micro-unit: a parallel sum differs in its last bits from run to run, and the
    # RFM quantile cuts must not split customers whose spend is the same (lift_panel._money)
    money = tx.group_by("customer_id").aggregate(monetary=tx.net_amount.sum().round(MONEY_DECIMALS))
    r = s.inner_join(money, "customer_id")
    return r.select(
        "customer_id",
        "frequency",
        "purchase_days",
        "monetary",
        first_purchase=r.first_ts,
        last_purchase=r.last_ts,
        recency_days=(ibis.literal(end_epoch) - r.last_ts.epoch_seconds().cast("float64"))
        / 86400.0,
        tenure_days=(ibis.literal(end_epoch) - r.first_ts.epoch_seconds().cast("float64"))
        / 86400.0,
        aov=r.monetary / r.frequency.cast("float64"),
    )


def rfm_summary(eng: Engine, as_of: str | None = None) -> pd.DataFrame:
    """Recency, frequency and monetary value per identified customer as of a month's end.

    Columns: ``customer_id, frequency`` (orders), ``purchase_days`` (distinct days
    with an order), ``monetary`` (net revenue, returns deducted),
    ``first_purchase, last_purchase``, ``recency_days`` and ``tenure_days``
    (days from the last / first purchase to the end of the ``as_of`` month),
    ``aov`` (monetary / frequency).  Customers without an order are absent.
    """
    as_of_mi = months.index(as_of) if as_of else data_months(eng)[1]
    return eng.execute(rfm_summary_expr(eng, as_of_mi).order_by("customer_id"))


def cohort_matrix_expr(eng: Engine, kind: str, start_mi: int, end_mi: int) -> ir.Table:
    """Ibis expression of :func:`cohort_matrix` (long form) for months ``start_mi``…``end_mi``."""
    tx = tx_identified(eng)
    tx = tx.filter(~tx.is_return & (tx.mi <= end_mi))
    active = tx.select("customer_id", "mi").distinct()
    if kind == "acquisition":
        cohorts = active.group_by("customer_id").aggregate(cohort_mi=active.mi.min())
    elif kind == "enrollment":
        cust = eng.table("customers")
        cust = cust.filter(cust.is_member & cust.enrolled_at.notnull())
        cohorts = cust.select(
            customer_id=cust.customer_id, cohort_mi=months.index_expr(cust.enrolled_at)
        )
        # enrollments before the data window have no month-0 activity to compare with
        cohorts = cohorts.filter((cohorts.cohort_mi >= start_mi) & (cohorts.cohort_mi <= end_mi))
    else:
        raise ValueError("kind is 'acquisition' or 'enrollment'")
    size = cohorts.group_by("cohort_mi").aggregate(cohort_size=cohorts.count().cast("int64"))
    j = active.inner_join(cohorts, "customer_id")
    j = j.filter(j.mi >= j.cohort_mi).mutate(offset=(j.mi - j.cohort_mi).cast("int64"))
    counts = j.group_by(["cohort_mi", "offset"]).aggregate(active=j.count().cast("int64"))
    m = counts.inner_join(size, "cohort_mi")
    return m.select(
        "cohort_mi",
        "offset",
        "active",
        "cohort_size",
        rate=m.active.cast("float64") / m.cohort_size.cast("float64"),
    )


def cohort_matrix(eng: Engine, kind: str = "acquisition", end: str | None = None) -> pd.DataFrame:
    """Cohort activity in long form: ``cohort_mi, cohort, offset, active, cohort_size, rate``.

    ``kind='acquisition'``: cohort = month of the first purchase, so offset 0 has
    rate 1 by definition.  ``kind='enrollment'``: cohort = enrollment month of
    members, for enrollments inside the data window.  ``rate`` = customers of the cohort with an order ``offset`` months
    later / cohort size.  Pivot with :func:`cohort_pivot`.
    """
    lo, hi = data_months(eng)
    end_mi = months.index(end) if end else hi
    df = eng.execute(cohort_matrix_expr(eng, kind, lo, end_mi))
    df = df.sort_values(["cohort_mi", "offset"], kind="stable").reset_index(drop=True)
    df.insert(1, "cohort", months.from_index(df["cohort_mi"]))
    return df


def cohort_pivot(long: pd.DataFrame) -> pd.DataFrame:
    """Cohort × months-since matrix of retention rates (cohort labels ``YYYY-MM``)."""
    piv = long.pivot(index="cohort", columns="offset", values="rate")
    piv.index = piv.index.strftime("%Y-%m")
    return piv


def engine_from_config(cfg, spark=None) -> Engine:
    """Connect to the processed tables with the backend and its settings from the config."""
    return connect(cfg.data.processed_path, cfg.engine.backend, spark=spark, options=cfg.engine)
