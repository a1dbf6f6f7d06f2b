"""Rules across tables: references to parent tables (orphans), customers built from receipts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Issue
from .parse import TableResult


class KeySet:
    """A parent table's ids, prepared once for many lookups.

    An export read in blocks checks every block against the same parent (132M
    receipts: 66 blocks against 6.25M customer ids); taking the parent's distinct
    ids and turning them into an Arrow array once, not per block, saves ~3 s a block.
    A block whose distinct values are all known is found so without hashing the
    parent's ids (~0.3 instead of ~1–2 s).
    """

    def __init__(self, among: pd.Series):
        self.strings = pd.api.types.is_string_dtype(among)
        self.unique = among.dropna().unique()
        self._arrow = None

    def contains(self, values: pd.Series) -> np.ndarray:
        """``values.isin(ids)``; for text ids an Arrow hash lookup (no Python objects)."""
        if not (self.strings and pd.api.types.is_string_dtype(values)):
            return values.isin(self.unique).to_numpy()
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._arrow is None:
            self._arrow = pa.array(self.unique, type=pa.large_string(), from_pandas=True)
        a = pa.array(values, type=pa.large_string(), from_pandas=True)
        distinct = pc.unique(a).drop_null()
        if len(distinct) < len(self._arrow):
            # the usual case: every distinct value is known.  Hashing the few distinct
            # values and probing the ids is 3–6× faster than hashing the ids (a block of
            # 2M receipts holds ~130k customers; the parent 6.25M)
            found = pc.sum(pc.is_in(self._arrow, value_set=distinct)).as_py() or 0
            if found == len(distinct):  # the ids are distinct: each value was found
                return pc.is_valid(a).to_numpy(zero_copy_only=False)
        found = pc.fill_null(pc.is_in(a, value_set=self._arrow), False)
        return found.to_numpy(zero_copy_only=False)


def _orphans(
    res: TableResult,
    col: str,
    parent: TableResult,
    pcol: str,
    target: str,
    known: KeySet | None = None,
) -> None:
    """Quarantine rows of ``res`` whose ``col`` is not among the parent's kept ``pcol`` values.

    Rows whose parent exists but was itself quarantined are reported as such,
    naming the parent's rule, so the fix points at the cause.  ``known``: the
    parent's ``pcol`` as a :class:`KeySet` made once (blocks of one export).
    """
    f = res.frame
    vals = f[col]
    known = known if known is not None else KeySet(parent.frame[pcol])
    orphan = vals.notna().to_numpy() & ~known.contains(vals)
    if not orphan.any():
        return
    quarantined = np.zeros(len(f), dtype=bool)
    if parent.rejected_keys is not None and len(parent.rejected_keys):
        quarantined = orphan & KeySet(parent.rejected_keys).contains(vals)
    absent = orphan & ~quarantined
    reasons = np.where(quarantined, f"{col}: its {target} row was quarantined", "")
    reasons = np.where(absent, f"{col}: not found in {target}", reasons)
    if absent.any():
        res.issues.append(
            Issue(
                res.file,
                col,
                [int(x) for x in res.lines[absent]],
                f"{absent.sum()} rows reference a {col} that is not in {target}",
                f"add the missing ids to the {target} export, or check the id format",
            )
        )
    if quarantined.any():
        rules = sorted({i.rule for i in parent.issues})[:3]
        res.issues.append(
            Issue(
                res.file,
                col,
                [int(x) for x in res.lines[quarantined]],
                f"{quarantined.sum()} rows belong to a {col} whose {target} row was quarantined "
                f"({'; '.join(rules)})",
                f"fix the quarantined rows of {parent.file} (see its quarantine file); these rows "
                "then come in with them",
            )
        )
    lines = [int(x) for x in res.lines[orphan]]
    rows = f.loc[orphan].astype(object)
    rows.insert(0, "_line", lines)
    rows.insert(1, "_reasons", reasons[orphan])
    res.rejected = pd.concat([res.rejected.astype(object), rows], ignore_index=True)
    res.frame = f.loc[~orphan].reset_index(drop=True)
    res.lines = res.lines[~orphan]
    res.stats["rows_kept"] -= int(orphan.sum())
    res.stats["rows_rejected"] += int(orphan.sum())
    res.stats["orphans"] = res.stats.get("orphans", 0) + int(orphan.sum())


def customers_from_transactions(tx: pd.DataFrame | Path):
    """A customers source built from the receipts: first purchase date and most frequent store.

    ``tx`` is the kept transactions, as a frame or as the Parquet file of an export
    ingested in blocks; a tie between stores goes to the first name in sort order.
    """
    import duckdb

    from ..memory import duckdb_settings
    from ..sources import SourceFrame

    con = duckdb.connect(config=duckdb_settings())
    try:
        if isinstance(tx, pd.DataFrame):
            con.register("tx", tx[["customer_id", "ts", "store"]])
        else:
            con.execute(f"CREATE VIEW tx AS SELECT * FROM read_parquet('{tx}')")
        df = con.execute(
            """
            WITH t AS (SELECT customer_id, ts, store FROM tx WHERE customer_id IS NOT NULL),
            f AS (SELECT customer_id, date_trunc('day', min(ts)) AS first_seen FROM t GROUP BY 1),
            s AS (SELECT customer_id, store, count(*) AS n FROM t
                  WHERE store IS NOT NULL GROUP BY 1, 2),
            b AS (SELECT customer_id, store FROM s
                  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, store) = 1)
            SELECT f.customer_id, f.first_seen, b.store
            FROM f LEFT JOIN b USING (customer_id) ORDER BY f.customer_id
            """
        ).df()
    finally:
        con.close()
    df["first_seen"] = df["first_seen"].astype("datetime64[us]")
    label = "customers derived from transactions"
    return SourceFrame(df, np.arange(1, len(df) + 1), label, {"format": "built from transactions"})
