"""PostgreSQL as a source: one canonical table read from a table or a SELECT.

Values arrive typed and go through the same checks as a file's; messages never
show the URL or its secrets.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import numpy as np
import pandas as pd

from .errors import DataError, Issue
from .mapping import TableMapping
from .sources import SourceFrame, _duplicate_header_issue


def database_label(tm: TableMapping) -> str:
    """How a database source is named in messages and the manifest (never the URL)."""
    return (
        f"database table {tm.source_table}" if tm.source_table else f"database query ({tm.table})"
    )


def _without_secrets(text: str, url: str) -> str:
    """An error message with the URL, its password and its user removed."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    for secret in (url, parts.password, parts.netloc):
        if secret:
            text = text.replace(secret, "***")
    return text


def read_database(url: str, tm: TableMapping) -> SourceFrame:
    """Read one canonical table from PostgreSQL (psycopg 3): a whole table or a SELECT.

    Values arrive typed (numbers, dates, booleans) and go through the same checks as
    a file's; "lines" are row numbers of the result.  Errors never show the URL.
    """
    import psycopg
    from psycopg import sql

    label = database_label(tm)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.read_only = True
            with conn.cursor() as cur:
                if tm.source_table:
                    ident = sql.Identifier(*tm.source_table.split("."))
                    cur.execute(sql.SQL("SELECT * FROM {}").format(ident))
                else:
                    cur.execute(tm.query)
                names = [d.name for d in cur.description or []]
                rows = cur.fetchall()
    except psycopg.Error as exc:
        reason = _without_secrets(str(exc).strip().splitlines()[0] if str(exc) else "", url)
        raise DataError(
            Issue(
                label,
                None,
                [],
                f"the {tm.table} table could not be read from the database: {reason}",
                "check that the server is reachable, the URL in the environment variable is right, "
                f"and the {'table' if tm.source_table else 'query'} in the mapping exists",
            )
        ) from None
    dup = _duplicate_header_issue(label, names, 0)
    if dup:
        raise DataError(dup)
    df = pd.DataFrame.from_records(rows, columns=names)
    for c in df.columns:  # NUMERIC arrives as Decimal: the checks work on floats
        if df[c].map(lambda v: isinstance(v, Decimal)).any():
            df[c] = df[c].map(lambda v: float(v) if isinstance(v, Decimal) else v)
    return SourceFrame(df, np.arange(1, len(df) + 1), label, {"format": "database"})


def fingerprint(df: pd.DataFrame) -> str:
    """sha256 of a frame's content (for inputs that are not files)."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()
