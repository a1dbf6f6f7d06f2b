"""The engine's backends: the tables' Ibis schemas and the Spark session.

Spark runs locally, on a standalone cluster (``master``) or through Spark
Connect, as the config says; DuckDB's memory limit and spill folder are in
:mod:`loyalty_roi.memory`.  :func:`loyalty_roi.engine.connect` uses both.
"""

from __future__ import annotations

import contextlib
import os
import warnings

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
