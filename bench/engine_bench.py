"""Engine benchmark: Ibis engine vs hand-written DuckDB SQL vs plain pandas.

For each scale (≈1M and ≈10M transactions from the synthetic generator) and
each task, every implementation runs in its own child process (so peak memory is its
own), several repetitions, median wall time reported.  Prints ratios and
writes ``bench/results/engine.json`` and ``engine.md``.

Tasks:

* ``panel`` — the dense customer × month panel (:func:`engine.customer_month_panel`,
  17 columns).  The report no longer builds it; it is the definition the
  report's sparse views are tested against;
* ``lift_arrays`` — the panel as notebook 04 builds it: the customers numbered
  in id order and their customer-months with a receipt, filled into customers ×
  months arrays of revenue and orders (:meth:`lift_panel.LiftPanel.from_engine`);
  the SQL and pandas versions compute the same rows and fill the same arrays;
* ``rfm`` — the RFM summary; ``cohort`` — the acquisition cohort matrix.

pandas reads only the columns a task uses (as the engine does).

Run: ``make bench`` (or ``.venv/bin/python bench/engine_bench.py --scales 1000000``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
TASKS = ("panel", "lift_arrays", "rfm", "cohort")
IMPLS = ("engine", "sql", "pandas")

SQL = {
    "panel": """
WITH tx AS (
  SELECT customer_id, CAST(year(ts) * 12 + month(ts) - 1 AS BIGINT) AS mi, ts, net_amount, gross_amount,
         discount, is_return
  FROM read_parquet('{d}/transactions.parquet') WHERE customer_id IS NOT NULL),
bounds AS (SELECT min(mi) AS lo, max(mi) AS hi FROM tx),
agg AS (
  SELECT customer_id, mi, sum(CASE WHEN is_return THEN 0 ELSE 1 END) AS orders, sum(net_amount) AS revenue,
         sum(CASE WHEN is_return THEN 0 ELSE gross_amount END) AS gross_sales,
         sum(CASE WHEN is_return THEN 0 ELSE discount END) AS discounts,
         sum(CASE WHEN is_return THEN 1 ELSE 0 END) AS returns,
         sum(CASE WHEN is_return THEN net_amount ELSE 0 END) AS return_amount
  FROM tx GROUP BY ALL),
pts AS (
  SELECT customer_id, CAST(year(date) * 12 + month(date) - 1 AS BIGINT) AS mi,
         sum(CASE WHEN type = 'earn' THEN points ELSE 0 END) AS points_earned,
         sum(CASE WHEN type = 'redeem' THEN -points ELSE 0 END) AS points_redeemed,
         sum(CASE WHEN type = 'expire' THEN -points ELSE 0 END) AS points_expired,
         count(*) AS point_events
  FROM read_parquet('{d}/points_ledger.parquet') GROUP BY ALL),
c AS (
  SELECT customer_id, CAST(year(first_seen) * 12 + month(first_seen) - 1 AS BIGINT) AS first_mi,
         CASE WHEN is_member THEN CAST(year(enrolled_at) * 12 + month(enrolled_at) - 1 AS BIGINT) END AS enroll_mi
  FROM read_parquet('{d}/customers.parquet')),
grid AS (
  SELECT c.customer_id, m.mi, c.enroll_mi FROM c, bounds,
         range(bounds.lo, bounds.hi + 1) AS m(mi) WHERE m.mi >= c.first_mi),
th AS (
  SELECT customer_id, CAST(year(date) * 12 + month(date) - 1 AS BIGINT) AS th_mi, date, to_tier
  FROM read_parquet('{d}/tier_history.parquet')),
tiers AS (
  SELECT g.customer_id, g.mi, arg_max(th.to_tier, th.date) AS tier
  FROM grid g JOIN th ON g.customer_id = th.customer_id AND th.th_mi <= g.mi GROUP BY ALL)
SELECT g.customer_id, g.mi, coalesce(a.orders, 0) AS orders, coalesce(a.revenue, 0) AS revenue,
       coalesce(a.gross_sales, 0) AS gross_sales, coalesce(a.discounts, 0) AS discounts,
       coalesce(a.returns, 0) AS returns, coalesce(a.return_amount, 0) AS return_amount,
       coalesce(p.points_earned, 0) AS points_earned, coalesce(p.points_redeemed, 0) AS points_redeemed,
       coalesce(p.points_expired, 0) AS points_expired, coalesce(p.point_events, 0) AS point_events,
       coalesce(a.orders, 0) > 0 AS active,
       coalesce(a.orders, 0) > 0 OR coalesce(p.point_events, 0) > 0 AS engaged,
       g.enroll_mi IS NOT NULL AND g.enroll_mi <= g.mi AS is_member, g.mi - g.enroll_mi AS months_since_enrollment,
       CASE WHEN g.enroll_mi IS NOT NULL AND g.enroll_mi <= g.mi THEN t.tier END AS tier
FROM grid g
LEFT JOIN agg a USING (customer_id, mi)
LEFT JOIN pts p USING (customer_id, mi)
LEFT JOIN tiers t USING (customer_id, mi)
ORDER BY g.customer_id, g.mi
""",
    "rfm": """
WITH tx AS (SELECT * FROM read_parquet('{d}/transactions.parquet') WHERE customer_id IS NOT NULL),
end_ts AS (SELECT date_trunc('month', max(ts)) + INTERVAL 1 MONTH AS e FROM tx),
s AS (SELECT customer_id, min(ts) AS first_purchase, max(ts) AS last_purchase, count(*) AS frequency,
             count(DISTINCT CAST(ts AS DATE)) AS purchase_days FROM tx WHERE NOT is_return GROUP BY ALL),
m AS (SELECT customer_id, sum(net_amount) AS monetary FROM tx GROUP BY ALL)
SELECT s.customer_id, frequency, purchase_days, monetary, first_purchase, last_purchase,
       epoch(e - last_purchase) / 86400.0 AS recency_days, epoch(e - first_purchase) / 86400.0 AS tenure_days,
       monetary / frequency AS aov
FROM s JOIN m USING (customer_id), end_ts ORDER BY s.customer_id
""",
    "cohort": """
WITH a AS (SELECT DISTINCT customer_id, CAST(year(ts) * 12 + month(ts) - 1 AS BIGINT) AS mi
           FROM read_parquet('{d}/transactions.parquet') WHERE customer_id IS NOT NULL AND NOT is_return),
c AS (SELECT customer_id, min(mi) AS cohort_mi FROM a GROUP BY ALL),
size AS (SELECT cohort_mi, count(*) AS cohort_size FROM c GROUP BY ALL),
j AS (SELECT c.cohort_mi, a.mi - c.cohort_mi AS "offset", count(*) AS active FROM a JOIN c USING (customer_id)
      GROUP BY ALL)
SELECT j.cohort_mi, j."offset", active, cohort_size, active / cohort_size AS rate
FROM j JOIN size USING (cohort_mi) ORDER BY j.cohort_mi, j."offset"
""",
}


TX = ["customer_id", "ts", "net_amount", "gross_amount", "discount", "is_return"]
PANDAS_COLUMNS = {  # what each pandas reference reads
    "panel": {
        "customers": ["customer_id", "first_seen", "is_member", "enrolled_at"],
        "transactions": TX,
        "points_ledger": ["customer_id", "date", "type", "points"],
        "tier_history": ["customer_id", "date", "to_tier"],
    },
    "rfm": {"transactions": ["customer_id", "ts", "net_amount", "is_return"]},
    "cohort": {"transactions": ["customer_id", "ts", "is_return"]},
}


def _fill_arrays(lo: int, hi: int, cust_row_mi, cust_enroll_mi, key, mi, revenue, orders):
    """LiftPanel arrays from the numbered customers and their customer-months with a receipt."""
    import numpy as np
    import pandas as pd

    from loyalty_roi.lift_panel import LiftPanel

    shape = (len(cust_row_mi), hi - lo + 1)
    rev = np.zeros(shape)
    ords = np.zeros(shape, dtype=np.float32)
    rev[key, mi - lo] = revenue
    ords[key, mi - lo] = orders
    first = np.asarray(cust_row_mi, dtype=np.int64) - lo
    enroll = np.asarray(cust_enroll_mi, dtype=float) - lo
    return LiftPanel(lo, pd.RangeIndex(shape[0]), rev, ords, first, enroll)


def lift_arrays_sql(d: str):
    """The lift arrays from hand-written DuckDB SQL (the same rows the engine sends)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"""CREATE VIEW tx AS
        SELECT customer_id, CAST(year(ts) * 12 + month(ts) - 1 AS BIGINT) AS mi, net_amount, is_return
        FROM read_parquet('{d}/transactions.parquet') WHERE customer_id IS NOT NULL""")
    lo, hi = con.execute("SELECT min(mi), max(mi) FROM tx").fetchone()
    con.execute(f"""CREATE TABLE c AS
        WITH m AS (
          SELECT customer_id,
                 greatest(CAST(year(first_seen) * 12 + month(first_seen) - 1 AS BIGINT), {lo}) AS row_mi,
                 CASE WHEN is_member THEN CAST(year(coalesce(enrolled_at, first_seen)) * 12
                      + month(coalesce(enrolled_at, first_seen)) - 1 AS BIGINT) END AS enroll_mi
          FROM read_parquet('{d}/customers.parquet') WHERE first_seen IS NOT NULL)
        SELECT CAST(row_number() OVER (ORDER BY customer_id) - 1 AS INTEGER) AS key, m.*
        FROM m WHERE row_mi <= {hi}""")
    cust = con.execute(
        "SELECT row_mi, coalesce(CAST(enroll_mi AS DOUBLE), 'NaN'::DOUBLE) AS enroll_mi FROM c ORDER BY key"
    ).fetchnumpy()
    # joined first and grouped by integers (faster than grouping by the text id, then joining)
    a = con.execute(
        """SELECT c.key, tx.mi, count(*) FILTER (WHERE NOT is_return) AS orders,
                  sum(net_amount) AS revenue
           FROM tx JOIN c USING (customer_id) WHERE tx.mi >= c.row_mi GROUP BY c.key, tx.mi"""
    ).fetchnumpy()
    return _fill_arrays(
        lo, hi, cust["row_mi"], cust["enroll_mi"], a["key"], a["mi"], a["revenue"], a["orders"]
    )


def lift_arrays_pandas(d: str):
    """The lift arrays the plain pandas way: group the receipts by customer and month."""
    import numpy as np
    import pandas as pd

    tx = pd.read_parquet(
        Path(d) / "transactions.parquet", columns=["customer_id", "ts", "net_amount", "is_return"]
    )
    tx = tx[tx["customer_id"].notna()]
    mi = tx["ts"].dt.year * 12 + tx["ts"].dt.month - 1
    lo, hi = int(mi.min()), int(mi.max())
    c = pd.read_parquet(
        Path(d) / "customers.parquet",
        columns=["customer_id", "first_seen", "is_member", "enrolled_at"],
    )
    c = c[c["first_seen"].notna()].sort_values("customer_id")
    first = c["first_seen"]
    c["row_mi"] = np.maximum(first.dt.year * 12 + first.dt.month - 1, lo)
    enrolled = c["enrolled_at"].fillna(first)
    c["enroll_mi"] = (enrolled.dt.year * 12 + enrolled.dt.month - 1).where(c["is_member"])
    c = c[c["row_mi"] <= hi].reset_index(drop=True)
    c["key"] = np.arange(len(c))
    a = (
        pd.DataFrame(
            {
                "customer_id": tx["customer_id"],
                "mi": mi,
                "orders": (~tx["is_return"]).astype("int64"),
                "revenue": tx["net_amount"],
            }
        )
        .groupby(["customer_id", "mi"], as_index=False, sort=False)
        .sum()
        .merge(c[["customer_id", "key", "row_mi"]], on="customer_id")
    )
    a = a[a["mi"] >= a["row_mi"]]
    return _fill_arrays(
        lo, hi, c["row_mi"], c["enroll_mi"], a["key"], a["mi"], a["revenue"], a["orders"]
    )


def ensure_data(n_tx: int) -> Path:
    """Synthetic canonical tables with about ``n_tx`` transactions (generated once, then reused)."""
    d = DATA / f"{n_tx // 1_000_000}M"
    if (d / "transactions.parquet").exists():
        return d
    sys.path.insert(0, str(ROOT / "lib"))
    from loyalty_roi import synth

    t = time.perf_counter()
    if n_tx > 20_000_000:  # streamed shard by shard: never the whole program in memory
        from loyalty_roi.synth.large import write_sharded

        write_sharded(d, n_tx)
        print(f"generated ≈{n_tx:,} transactions in {time.perf_counter() - t:.0f} s → {d}")
        return d
    data = synth.generate(n_customers=synth.scale_for_transactions(n_tx), seed=7)
    d.mkdir(parents=True, exist_ok=True)
    for name, df in data.tables.items():
        df.to_parquet(d / f"{name}.parquet", index=False)
    print(
        f"generated {len(data.tables['transactions']):,} transactions in {time.perf_counter() - t:.0f} s → {d}"
    )
    return d


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM).

    ``getrusage().ru_maxrss`` is carried across ``execve`` on Linux, so a child
    would report its parent's peak; VmHWM belongs to the new address space.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(impl: str, task: str, d: str, reps: int) -> None:
    """Run one implementation of one task ``reps`` times in this process; print JSON."""
    import pandas as pd

    from loyalty_roi import engine

    sys.path.insert(0, str(ROOT))
    from tests import reference  # the plain-pandas oracle of the tests

    times, rows, check = [], 0, 0.0
    for _ in range(reps):
        t = time.perf_counter()
        if impl == "engine":
            from loyalty_roi.lift_panel import LiftPanel

            eng = engine.connect(d)
            out = {
                "panel": engine.customer_month_panel,
                "lift_arrays": LiftPanel.from_engine,
                "rfm": engine.rfm_summary,
                "cohort": engine.cohort_matrix,
            }[task](eng)
        elif impl == "sql" and task == "lift_arrays":
            out = lift_arrays_sql(d)
        elif impl == "sql":
            import duckdb

            out = duckdb.connect().sql(SQL[task].format(d=d)).df()
        elif task == "lift_arrays":
            out = lift_arrays_pandas(d)
        else:
            tables = {
                n: pd.read_parquet(Path(d) / f"{n}.parquet", columns=cols)
                for n, cols in PANDAS_COLUMNS[task].items()
            }
            lo_hi = tables["transactions"]["ts"]
            lo = int(lo_hi.min().year * 12 + lo_hi.min().month - 1)
            hi = int(lo_hi.max().year * 12 + lo_hi.max().month - 1)
            if task == "panel":
                out = reference.customer_month_panel(tables, lo, hi)
            elif task == "rfm":
                out = reference.rfm_summary(tables, hi)
            else:
                out = reference.cohort_matrix(tables, "acquisition", lo, hi)
        times.append(time.perf_counter() - t)
        if task == "lift_arrays":
            rows, check = int(out.revenue.shape[0]), float(out.revenue.sum())
        else:
            rows = len(out)
            check = float(
                out[{"panel": "revenue", "rfm": "monetary", "cohort": "active"}[task]].sum()
            )
        del out
    peak_mb = peak_rss_mb()
    print(json.dumps({"times": times, "rows": rows, "check": check, "peak_mb": peak_mb}))


def run(scales: list[int], reps: int) -> dict:
    results = {}
    for n in scales:
        d = ensure_data(n)
        for task in TASKS:
            for impl in IMPLS:
                r = subprocess.run(
                    [sys.executable, __file__, "--child", impl, task, str(d), str(reps)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                res = json.loads(r.stdout.strip().splitlines()[-1])
                res["median_s"] = statistics.median(res["times"])
                results[f"{n}|{task}|{impl}"] = res
                print(
                    f"{n / 1e6:>4.0f}M {task:7s} {impl:7s} median {res['median_s']:7.2f} s  "
                    f"peak {res['peak_mb']:8.0f} MB  rows {res['rows']:>10,}  check {res['check']:.6g}",
                    flush=True,
                )
    return results


def summarise(results: dict, scales: list[int]) -> str:
    lines = [
        "| transactions | task | engine s | SQL s | pandas s | engine/SQL time | engine/pandas time | "
        "engine MB | pandas MB | engine/pandas memory | same result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in scales:
        for task in TASKS:
            e, s, p = (results[f"{n}|{task}|{i}"] for i in IMPLS)
            same = all(
                abs(x["check"] - e["check"]) <= 1e-6 * max(1.0, abs(e["check"]))
                and x["rows"] == e["rows"]
                for x in (s, p)
            )
            lines.append(
                f"| {n / 1e6:.0f}M | {task} | {e['median_s']:.2f} | {s['median_s']:.2f} | {p['median_s']:.2f} | "
                f"{e['median_s'] / s['median_s']:.2f}× | {e['median_s'] / p['median_s']:.2f}× | {e['peak_mb']:.0f} | "
                f"{p['peak_mb']:.0f} | {e['peak_mb'] / p['peak_mb']:.2f}× | {'yes' if same else 'NO'} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--scales", default="1000000,10000000", help="transactions per dataset, comma-separated"
    )
    ap.add_argument(
        "--reps", type=int, default=3, help="repetitions per implementation (median reported)"
    )
    ap.add_argument(
        "--child", nargs=4, metavar=("IMPL", "TASK", "DIR", "REPS"), help=argparse.SUPPRESS
    )
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.child[2], int(a.child[3]))
        return
    scales = [int(x) for x in a.scales.split(",")]
    results = run(scales, a.reps)
    table = summarise(results, scales)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "engine.md").write_text(table + "\n")
    print("\n" + table)
    print(
        "\ntargets at 10M: engine ≤ 1.2× the SQL reference's time; ≤ 0.5× pandas time and peak memory"
    )


if __name__ == "__main__":
    main()
