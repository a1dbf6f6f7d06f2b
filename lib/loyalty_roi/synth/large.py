"""A large program written shard by shard to Parquet, never held in memory whole.

``write_sharded`` generates ``n_transactions`` (100M for ``make bench-large``)
as independent shards of customers: each shard is one :func:`generate` run with
its own seed and a shared campaign plan (``plan_seed``), its customer and
receipt ids prefixed with the shard, appended to one Parquet file per table.
Memory stays at one shard's size whatever the total.

Campaigns are one plan for all shards: their contacts are the union, their cost
and the monthly program costs the sum over shards.  The planted truth is each
shard's (the shards are alike); the benchmark measures cost, not estimates.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .demo import scale_for_transactions
from .program import generate

ID_COLUMNS = ("customer_id", "transaction_id")
ONCE = ("campaigns", "program_costs")  # one plan for all shards: summed, written at the end


def _prefixed(df: pd.DataFrame, tag: str) -> pd.DataFrame:
    for c in ID_COLUMNS:
        if c in df.columns:
            s = df[c]
            df[c] = (tag + s.astype("str")).where(s.notna(), None)
    return df


def write_sharded(
    out_dir: str | Path,
    n_transactions: int,
    shard_customers: int = 150_000,
    seed: int = 7,
    progress=print,
) -> Path:
    """Write about ``n_transactions`` transactions as canonical Parquet tables in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = scale_for_transactions(n_transactions)
    shards = max(1, math.ceil(total / shard_customers))
    writers: dict[str, pq.ParquetWriter] = {}
    once: dict[str, list[pd.DataFrame]] = {t: [] for t in ONCE}
    n_tx = 0
    try:
        for k in range(shards):
            n = total // shards + (1 if k < total % shards else 0)
            data = generate(n_customers=n, seed=seed + k, plan_seed=seed)
            for name, df in data.tables.items():
                if name in ONCE:
                    once[name].append(df)
                    continue
                table = pa.Table.from_pandas(_prefixed(df, f"S{k:03d}"), preserve_index=False)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
                writers[name].write_table(table.cast(writers[name].schema))
            n_tx += len(data.tables["transactions"])
            progress(f"shard {k + 1}/{shards}: {n:,} customers, {n_tx:,} transactions so far")
            del data
    finally:
        for w in writers.values():
            w.close()
    camp = pd.concat(once["campaigns"])
    first = camp.drop_duplicates("campaign_id").drop(columns="cost")
    cost = camp.groupby("campaign_id", sort=False)["cost"].sum(min_count=1)
    first.merge(cost, on="campaign_id").to_parquet(out / "campaigns.parquet", index=False)
    costs = pd.concat(once["program_costs"])
    costs.groupby(["month", "category"], as_index=False)["amount"].sum().to_parquet(
        out / "program_costs.parquet", index=False
    )
    return out
