"""Memory bounds of a run: DuckDB's limit and spill folder, and handing memory back.

A large month must spill instead of being killed, and the resident size should
follow what is really in use: DuckDB and Arrow both keep freed buffers for
reuse, which at 10M transactions is gigabytes.  Also here: the key check that
counts duplicates in DuckDB instead of pandas (a tenth of the memory).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd

# a result this large (Arrow bytes) makes the engine hand DuckDB's cached buffers back
RELEASE_AFTER_BYTES = 64 * 2**20
RELEASE_AFTER_SECONDS = 1.0  # releasing takes about 0.1 s: only after queries that took long


def duckdb_settings(options=None) -> dict[str, object]:
    """DuckDB's memory limit, spill folder and threads from the config's ``engine`` section.

    Without ``memory_limit`` the limit is ``memory_share`` of this machine's RAM,
    so a large month spills to disk instead of being killed.
    """
    import tempfile

    limit = getattr(options, "memory_limit", None)
    if not limit:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        share = getattr(options, "memory_share", 0.05)
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


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file as pandas (as ``pd.read_parquet``), in one copy, not two.

    Each Arrow column is freed as pandas takes it and the pool's freed pages
    are handed back: reading the 10M panel (a 1.1 GiB frame) the process peaks
    at 1.9 GiB instead of 2.4 and stays at 1.4 GiB instead of 2.4.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns)
    df = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    release_arrow_memory()
    return df


KEY_CHECK_MEMORY = "256MiB"


def keys_repeat(frame: pd.DataFrame | Path, key: list[str]) -> bool:
    """Whether any complete key occurs twice, counted in DuckDB (in a frame or a Parquet file).

    At 10M receipts: 0.7 s and 0.25 GiB; pandas' ``duplicated`` takes 5 s and
    1.6 GiB, so it runs only to name the rows when a key does repeat.
    """
    import duckdb

    # a small limit: DuckDB's distinct then partitions and spills (10M keys: +0.25 GiB, not
    # +0.6 GiB, and no slower), while the whole parsed export is in memory beside it
    con = duckdb.connect(config={**duckdb_settings(), "memory_limit": KEY_CHECK_MEMORY})
    if isinstance(frame, pd.DataFrame):
        keys = pd.DataFrame({f"k{i}": frame[c] for i, c in enumerate(key)}, copy=False)
        con.register("keys", keys)
    else:
        cols = ", ".join(f'"{c}" AS k{i}' for i, c in enumerate(key))
        con.execute(f"CREATE VIEW keys AS SELECT {cols} FROM read_parquet('{frame}')")
    names = ", ".join(f"k{i}" for i in range(len(key)))
    where = " AND ".join(f"k{i} IS NOT NULL" for i in range(len(key)))
    try:
        n, distinct = con.execute(
            f"SELECT (SELECT count(*) FROM keys WHERE {where}), "
            f"(SELECT count(*) FROM (SELECT DISTINCT {names} FROM keys WHERE {where}))"
        ).fetchone()
    except duckdb.Error:  # a column DuckDB cannot scan: let pandas decide
        n, distinct = 0, 1
    finally:
        con.close()
    return n != distinct


@contextmanager
def _duckdb_result_file(eng, sql: str):
    """A temporary Parquet file holding the result of ``sql``, written by DuckDB within its limit."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="loyalty-roi-result-") as d:
        f = Path(d) / "result.parquet"
        eng.session.execute(f"COPY ({sql}) TO '{f}' (FORMAT parquet)")
        yield f


def duckdb_result_via_parquet(eng, sql: str):
    """The result of ``sql`` as an Arrow table, written to a temporary Parquet file and read back.

    Arrow tables DuckDB hands over directly live in DuckDB's allocator, which
    keeps their memory after they are freed (1 GiB after the 10M panel, for
    the rest of the notebook).  Through a file, DuckDB streams the result within
    its memory limit and the table lives in Arrow's pool, which is handed back.
    Row order is kept (DuckDB preserves insertion order when it writes).
    """
    import pyarrow.parquet as pq

    with _duckdb_result_file(eng, sql) as f:
        return pq.read_table(f)


# DuckDB's working memory while it streams a result: its hash aggregate partitions
# and spills within this bound instead of filling the whole limit (10M receipts:
# the process peaks at 0.66 GiB instead of 1.1, in the same 2.1 s; 100M: the same 20 s)
STREAM_MEMORY_BYTES = 256 * 2**20


@contextmanager
def working_memory(eng, limit_bytes: int):
    """DuckDB's memory limit lowered to ``limit_bytes`` (never raised) for the block, then restored."""
    configured = _bytes(eng.memory_limit) if eng.memory_limit else None
    if eng.backend != "duckdb" or configured is None or configured <= limit_bytes:
        yield
        return
    eng.session.execute(f"SET memory_limit='{limit_bytes // 2**20}MiB'")
    try:
        yield
    finally:
        eng.session.execute(f"SET memory_limit='{eng.memory_limit}'")


def _bytes(size: str) -> int | None:
    """``'1228MiB'``, ``'2GB'``, ``'512 KiB'`` as bytes; None when DuckDB's form is not recognised."""
    import re

    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?)B?\s*", size, flags=re.IGNORECASE)
    if not m:
        return None
    base = 1024 if m.group(3) else 1000
    return int(float(m.group(1)) * base ** " KMGT".index(m.group(2).upper() or " "))


def batches(eng, expr, rows: int = 1_000_000):
    """The result of Ibis ``expr`` as Arrow record batches of up to ``rows`` rows.

    For results too large to hold whole beside what they are turned into (the
    sparse customer-months at 100M receipts: 59M rows).  DuckDB streams the
    result batch by batch, working within :data:`STREAM_MEMORY_BYTES`; its
    cached buffers and Arrow's freed pages are handed back at the end.  Other
    backends collect the result as Arrow first.
    """
    if eng.backend != "duckdb":
        query = eng.session.sql(eng.sql(expr))
        yield from query.toArrow().to_batches(rows)
        return
    started, nbytes, sql = time.perf_counter(), 0, eng.sql(expr)
    for bound in (STREAM_MEMORY_BYTES, None):
        try:
            with working_memory(eng, bound) if bound else nullcontext():
                reader = eng.session.sql(sql).to_arrow_reader(rows)
                try:
                    for batch in reader:
                        nbytes += batch.nbytes
                        yield batch
                finally:  # the connection answers nothing else while a result is open
                    reader.close()
            break
        except Exception as exc:
            # a query that cannot run within the bound (a part that cannot spill, more
            # customers than ever tried) runs once more within the configured limit;
            # the result is complete before its first row comes, so nothing was sent yet
            if bound and not nbytes and type(exc).__name__ == "OutOfMemoryException":
                continue
            _out_of_memory(eng, exc)
    # as after collect: only a large result or a long query leaves much cached
    if nbytes > RELEASE_AFTER_BYTES or time.perf_counter() - started > RELEASE_AFTER_SECONDS:
        eng.release_cache()
        release_arrow_memory()


def _out_of_memory(eng, exc: Exception) -> None:
    """Re-raise ``exc``, as a :class:`ConfigError` naming the setting to raise when the engine ran out of memory."""
    if type(exc).__name__ != "OutOfMemoryException":
        raise exc
    from .errors import ConfigError

    raise ConfigError(
        f"the engine ran out of its memory limit ({eng.memory_limit}) on this data — fix: "
        f"raise engine.memory_share, or set engine.memory_limit above {eng.memory_limit}, "
        "in the config (it spills to disk within that limit, but not every step can)"
    ) from None


def collect(eng, expr, large: bool = False) -> pd.DataFrame:
    """The result of Ibis ``expr`` on engine ``eng`` as pandas, with the memory it took handed back.

    A ``large`` result (millions of rows) comes from DuckDB through a Parquet
    file (:func:`duckdb_result_via_parquet`).  After a large result or a long
    query, DuckDB's cached buffers and Arrow's freed pages are handed back.
    """
    from ibis.formats.pyarrow import PyArrowData

    started = time.perf_counter()
    try:
        if large and eng.backend == "duckdb":
            table = duckdb_result_via_parquet(eng, eng.sql(expr))
        else:
            query = eng.session.sql(eng.sql(expr))
            table = query.toArrow() if eng.backend == "pyspark" else query.to_arrow_table()
    except Exception as exc:
        _out_of_memory(eng, exc)
    big = table.nbytes > RELEASE_AFTER_BYTES
    # a long query worked through a lot of memory even when its result is small
    if big or time.perf_counter() - started > RELEASE_AFTER_SECONDS:
        eng.release_cache()
    table = PyArrowData.convert_table(table, expr.schema())  # the only reference left:
    df = table.to_pandas(self_destruct=True, split_blocks=True)  # freed as pandas takes it
    del table
    if big:
        release_arrow_memory()
    return df
