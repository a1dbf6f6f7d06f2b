"""Memory bounds of a run: DuckDB's limit and spill folder, and handing memory back.

A large month must spill instead of being killed, and the resident size should
follow what is really in use: DuckDB and Arrow both keep freed buffers for
reuse, which at 10M transactions is gigabytes.  Also here: the key check that
counts duplicates in DuckDB instead of pandas (a tenth of the memory).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def duckdb_settings(options=None) -> dict[str, object]:
    """DuckDB's memory limit, spill folder and threads from the config's ``engine`` section.

    Without ``memory_limit`` the limit is ``memory_share`` of this machine's RAM,
    so a large month spills to disk instead of being killed.
    """
    import tempfile

    limit = getattr(options, "memory_limit", None)
    if not limit:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        share = getattr(options, "memory_share", 0.125)
        limit = f"{max(1024, int(ram * share / 2**20))}MiB"
    spill = getattr(options, "spill_dir", None) or str(
        Path(tempfile.gettempdir()) / "loyalty-roi-duckdb"
    )
    out = {"memory_limit": limit.replace(" ", ""), "temp_directory": spill}
    if getattr(options, "threads", None):
        out["threads"] = int(options.threads)
    return out


def release_duckdb_cache(session, memory_limit: str) -> None:
    """Hand the memory a DuckDB connection keeps cached after a large query back to the system.

    DuckDB holds on to the buffers of a finished query up to its memory limit
    (1.6 GiB after the panel of a 10M-transaction month); lowering the limit
    for a moment evicts them, and ``memory_limit`` is then restored.  Nothing
    is recomputed: the engine's views read Parquet.
    """
    import duckdb

    try:
        session.execute("SET memory_limit='64MiB'")
    except duckdb.Error:  # pragma: no cover - a limit DuckDB cannot meet right now
        pass
    finally:
        session.execute(f"SET memory_limit='{memory_limit}'")


def release_arrow_memory() -> None:
    """Hand the memory Arrow's allocator keeps after large frames are freed back to the system.

    Arrow's default pool (mimalloc) keeps freed pages for reuse: after reading a
    10M-row export it holds about 0.7 GiB that no table uses.  Called after each
    large step, it keeps the resident size near what is really in use.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def keys_repeat(frame: pd.DataFrame, key: list[str]) -> bool:
    """Whether any complete key occurs twice, counted in DuckDB.

    At 10M receipts: 0.8 s and 0.5 GiB; pandas' ``duplicated`` takes 5 s and
    1.6 GiB, so it runs only to name the rows when a key does repeat.
    """
    import duckdb

    keys = pd.DataFrame({f"k{i}": frame[c] for i, c in enumerate(key)}, copy=False)
    names = ", ".join(keys.columns)
    where = " AND ".join(f"{c} IS NOT NULL" for c in keys.columns)
    con = duckdb.connect(config=duckdb_settings())
    try:
        con.register("keys", keys)
        n, distinct = con.execute(
            f"SELECT (SELECT count(*) FROM keys WHERE {where}), "
            f"(SELECT count(*) FROM (SELECT DISTINCT {names} FROM keys WHERE {where}))"
        ).fetchone()
    except duckdb.Error:  # a column DuckDB cannot scan: let pandas decide
        n, distinct = 0, 1
    con.close()
    return n != distinct
