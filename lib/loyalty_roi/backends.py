"""The engine's backends: the tables' Ibis schemas, DuckDB's memory bounds, the Spark session.

DuckDB gets a memory limit and a spill folder from the config's ``engine``
section, so a large month spills to disk instead of being killed; Spark runs
locally, on a standalone cluster (``master``) or through Spark Connect, as the
config says.  :func:`loyalty_roi.engine.connect` uses both.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import ibis
import ibis.expr.types as ir

from .schema import TABLES

IBIS_TYPES = {
    "str": "string",
    "date": "timestamp",
    "datetime": "timestamp",
    "bool": "boolean",
    "float": "float64",
    "int": "int64",
}


def contract_table(name: str) -> ir.Table:
    """An unbound Ibis table with the canonical schema of ``name`` (see :mod:`loyalty_roi.schema`)."""
    spec = TABLES[name]
    return ibis.table({c.name: IBIS_TYPES[c.kind] for c in spec.columns}, name=f"lr_{name}")


@contextlib.contextmanager
def spark_pandas_notice_silenced():
    """PySpark 4.3 warns at import/registration time that it does not yet support pandas 3.

    The engine never uses PySpark's pandas conversions (results are collected
    with ``DataFrame.toArrow``), so exactly that notice is filtered here — and
    only around Spark start-up and connection.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def spark_session(app_name: str = "loyalty-roi", options=None):
    """The Spark session of the PySpark backend (UTC, quiet).

    ``options`` is the config's ``engine`` section: ``spark_connect`` (``sc://…``)
    connects to a Spark Connect server, otherwise ``master`` (``local[2]`` by
    default, ``spark://host:7077`` for a standalone cluster); ``spark_conf`` adds
    settings.  An existing session with the same master is reused (one per kernel).
    """
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    from pyspark.sql import SparkSession

    with spark_pandas_notice_silenced():
        return _build_spark(SparkSession, app_name, options)


def _build_spark(SparkSession, app_name: str, options=None):
    remote = getattr(options, "spark_connect", None)
    b = SparkSession.builder.appName(app_name)
    if remote:
        b = b.remote(remote)
    else:
        b = (
            b.master(getattr(options, "master", None) or "local[2]")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
    b = (
        b.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
    )
    for k, v in (getattr(options, "spark_conf", None) or {}).items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


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
