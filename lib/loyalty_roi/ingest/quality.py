"""The quality report: counts, reasons, assumptions and coverage, for people and files."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from ..errors import Issue
from ..schema import TABLES
from .parse import TableResult

_NOT_COUNTS = ("repair_reasons", "assumptions", "notes", "formats", "columns")


def frame_facts(f: pd.DataFrame, table: str) -> dict:
    """What the quality report says of the kept rows: date range, counts, missing values."""
    spec = TABLES[table]
    dates = [c.name for c in spec.columns if c.kind in ("date", "datetime")]
    facts: dict = {"date_min": None, "date_max": None}
    if dates and len(f):
        d = f[dates[0]]
        facts["date_min"], facts["date_max"] = str(d.min().date()), str(d.max().date())
    if table == "transactions":
        facts["returns"] = int(f["is_return"].sum())
        facts["non_positive_amounts"] = int((f["net_amount"] <= 0).sum())
        facts["anonymous_sales"] = int(f["customer_id"].isna().sum())
    facts["missing_values"] = {c: int(n) for c, n in f.isna().sum().items() if n}
    return facts


def merge_facts(a: dict | None, b: dict) -> dict:
    """The facts of two blocks of one table, as if they had been one frame."""
    if a is None:
        return b
    out = dict(a)
    for k, v in b.items():
        if k == "date_min":
            out[k] = min(x for x in (a[k], v) if x is not None) if (a[k] or v) else None
        elif k == "date_max":
            out[k] = max(x for x in (a[k], v) if x is not None) if (a[k] or v) else None
        elif k == "missing_values":
            out[k] = {c: a[k].get(c, 0) + v.get(c, 0) for c in {**a[k], **v}}
        else:
            out[k] = a[k] + v
    return out


def _quality_row(res: TableResult) -> dict:
    facts = res.facts if res.facts is not None else frame_facts(res.frame, res.table)
    row = {
        "table": res.table,
        "file": res.file,
        **{k: v for k, v in res.stats.items() if k not in _NOT_COUNTS},
    }
    row.setdefault("orphans", 0)
    row.update({k: v for k, v in facts.items() if k != "missing_values"})
    row["repair_reasons"] = res.stats.get("repair_reasons", {})
    row["assumptions"] = res.stats.get("assumptions", [])
    reasons: dict[str, int] = defaultdict(int)
    for r in res.rejected.get("_reasons", pd.Series(dtype=str)):
        for part in str(r).split("; "):
            reasons[part] += 1
    row["reject_reasons"] = dict(reasons)
    row["missing_values"] = facts["missing_values"]
    return row


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """Issues as a table: file, column, rows affected, first lines, rule, fix."""
    return pd.DataFrame(
        [
            {
                "file": i.file,
                "column": i.column,
                "rows": len(i.rows),
                "first lines": ", ".join(map(str, i.rows[:5])),
                "rule": i.rule,
                "fix": i.fix,
            }
            for i in issues
        ],
        columns=["file", "column", "rows", "first lines", "rule", "fix"],
    )


def monthly_coverage(transactions: pd.DataFrame | Path) -> pd.DataFrame:
    """Receipts, returns, identified share and net revenue per calendar month.

    ``transactions`` is the kept table as a frame, or its Parquet file (a large
    export: counted in DuckDB without loading it).  A gap or a sudden drop here
    usually means a missing export, not a business change.
    """
    import duckdb

    from ..memory import duckdb_settings

    con = duckdb.connect(config=duckdb_settings())
    try:
        if isinstance(transactions, pd.DataFrame):
            cols = ["ts", "transaction_id", "is_return", "customer_id", "net_amount"]
            con.register("tx", transactions[cols])
        else:
            con.execute(f"CREATE VIEW tx AS SELECT * FROM read_parquet('{transactions}')")
        out = con.execute(
            "SELECT date_trunc('month', ts) AS month, count(*) AS receipts, "
            "sum(is_return::INT) AS returns, avg((customer_id IS NOT NULL)::DOUBLE) "
            "AS identified_share, sum(net_amount) AS net_revenue FROM tx GROUP BY 1 ORDER BY 1"
        ).df()
    finally:
        con.close()
    out["month"] = out["month"].astype("datetime64[us]")
    out["returns"] = out["returns"].astype("int64")
    return out


def quality_table(result) -> pd.DataFrame:
    """The quality report for display: one row per table, reasons and missing values as text."""
    q = result.quality.copy()

    def fmt(d):
        return "; ".join(f"{k} ({v:,})" for k, v in d.items()) if isinstance(d, dict) and d else "—"

    q["reject_reasons"] = q["reject_reasons"].map(fmt)
    q["missing_values"] = q["missing_values"].map(fmt)
    if "repair_reasons" in q:
        q["repair_reasons"] = q["repair_reasons"].map(fmt)
    if "assumptions" in q:
        q["assumptions"] = q["assumptions"].map(
            lambda a: "; ".join(a) if isinstance(a, (list, tuple)) and len(a) else "—"
        )
    return q.set_index("table")


def assumptions_markdown(result) -> str:
    """Every assumption, decision and repair of the ingest, as a Markdown list (warnings first)."""
    items = []
    for r in result.quality.itertuples():
        for note in getattr(r, "assumptions", None) or []:
            items.append((not note.startswith("WARNING"), f"`{r.table}`: {note}"))
        for reason, n in (getattr(r, "repair_reasons", None) or {}).items():
            items.append((True, f"`{r.table}`: {n:,} rows repaired — {reason}"))
    if not items:
        return "No assumption was needed: every value was read as written."
    return "\n".join(f"- {text}" for _, text in sorted(items, key=lambda x: x[0]))


def coverage_sentence(cov: pd.DataFrame, currency: str) -> str:
    """One sentence on what the transactions cover, with the weakest month named."""
    first, last = cov["month"].min(), cov["month"].max()
    weakest = cov.loc[cov["receipts"].idxmin()]
    median = cov["receipts"].median()
    drop = 1 - weakest["receipts"] / median
    s = (
        f"Transactions cover {first:%B %Y} to {last:%B %Y} ({len(cov)} months): "
        f"{cov['receipts'].sum():,} receipts, {currency} {cov['net_revenue'].sum():,.0f} net revenue, "
        f"{cov['identified_share'].mean():.0%} of receipts identified to a customer."
    )
    if drop > 0.4:
        s += (
            f" {weakest['month']:%B %Y} has {drop:.0%} fewer receipts than the median month — "
            f"check that its export is complete."
        )
    return s


def not_available(table: str) -> str:
    """The standard message for an optional table that was not provided."""
    return (
        f"Not available — provide the `{table}` table ({TABLES[table].description.rstrip('.')}) "
        f"and map it in the mapping file."
    )
