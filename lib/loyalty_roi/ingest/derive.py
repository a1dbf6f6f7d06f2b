"""Columns the export does not hold as such: constants, defaults, expressions, line items.

The mapping may describe a canonical column instead of naming a source column:

* ``channel: {value: store}`` — a constant for a column the export lacks;
* ``channel: {column: Kanal, default: store}`` — a source column with empty cells filled;
* ``gross_amount: {expr: "sales_value + retail_disc"}`` — a DuckDB SQL expression over the
  export's columns (numbers are read in the file's decimal style first).  Expressions run in
  an in-memory DuckDB connection with file and network access disabled, through DuckDB's
  expression parser (one expression, never a statement); no Python ``eval`` of user text;
* ``aggregate: {by: basket_id, sum: [gross_amount, discount]}`` — one row per key from line
  items: the listed columns are summed, every other column takes its first non-empty value.

Each becomes an ordinary column of the source frame (so every later check, message and
line number works unchanged) plus an assumption sentence for the quality report.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError, Issue
from ..parsing import as_text, parse_number
from ..schema import TABLES
from ..sources import SourceFrame, TableMapping


def referenced_columns(expr: str, columns) -> list[str]:
    """Source columns named in an expression (bare identifiers or double-quoted)."""
    found = []
    for c in map(str, columns):
        quoted = f'"{c}"' in expr
        bare = re.search(rf"(?<![\w\"]){re.escape(c)}(?![\w\"])", expr) is not None
        if quoted or (bare and re.fullmatch(r"[A-Za-z_]\w*", c)):
            found.append(c)
    return found


def _expr_inputs(df: pd.DataFrame, refs: list[str], decimal: str, thousands) -> pd.DataFrame:
    """Referenced columns, as numbers when every non-empty value is one in the file's style."""
    frame = {}
    for c in refs:
        v, missing, bad, _ = parse_number(df[c], decimal, thousands)
        if not bad.any() and (~missing).any():
            frame[c] = v
        else:
            t = as_text(df[c])
            frame[c] = t.where(t != "")
    frame["__row"] = np.arange(len(df))  # an expression without columns still has every row
    return pd.DataFrame(frame, index=df.index)


def evaluate(expr: str, src: SourceFrame, tm: TableMapping, canon: str, decimal: str) -> pd.Series:
    """Evaluate one mapping expression over the source rows (DuckDB, no file access)."""
    import duckdb

    refs = referenced_columns(expr, src.df.columns)
    inputs = _expr_inputs(src.df, refs, decimal, tm.thousands)
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        rel = con.from_df(inputs)
        out = rel.select(duckdb.SQLExpression(expr).alias("v")).df()["v"]
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        raise DataError(
            Issue(
                src.file,
                canon,
                [],
                f"the mapping's expression for {canon} ({expr!r}) cannot be evaluated: {msg}",
                "use the export's column names (double-quote names with spaces or capitals) "
                f"and SQL operators; the file has: {', '.join(map(str, src.df.columns[:12]))}",
            )
        ) from None
    finally:
        con.close()
    out.index = src.df.index
    if pd.api.types.is_bool_dtype(out) and out.isna().any():
        out = out.map({True: "true", False: "false"}).fillna("")
    return out


def derive_columns(
    src: SourceFrame, tm: TableMapping, decimal: str
) -> tuple[SourceFrame, dict[str, str], set[str], dict[str, str]]:
    """Add the mapping's constant, default and expression columns to the source frame.

    Returns the extended source, canonical → source column for them, the set of
    canonical columns that are derived (their values are not source codes), and
    assumption sentences.
    """
    df = src.df
    added: dict[str, pd.Series] = {}
    cols: dict[str, str] = {}
    notes: dict[str, str] = {}
    for canon, rule in tm.derived.items():
        label = f"{canon} (mapping)"
        if "value" in rule:
            added[label] = pd.Series([rule["value"]] * len(df), index=df.index, dtype=object)
            notes[f"{canon} value"] = (
                f"{canon} not in the export: every row set to {rule['value']!r} (mapping)"
            )
        elif "expr" in rule:
            label = f"{canon} = {rule['expr']}"
            added[label] = evaluate(rule["expr"], src, tm, canon, decimal)
            notes[f"{canon} expr"] = f"{canon} computed as {rule['expr']} (mapping)"
        else:  # column with a default for empty cells
            s = df[rule["column"]]
            empty = as_text(s) == ""
            added[label] = s.astype(object).where(~empty, rule["default"])
            if empty.any():
                notes[f"{canon} default"] = (
                    f"{canon}: {int(empty.sum()):,} empty values in '{rule['column']}' set to "
                    f"{rule['default']!r} (mapping default)"
                )
        cols[canon] = label
    if not added:
        return src, cols, set(), notes
    extended = pd.concat([df, pd.DataFrame(added, index=df.index)], axis=1)
    return SourceFrame(extended, src.lines, src.file, src.meta), cols, set(cols), notes


def aggregate(frame: pd.DataFrame, tm: TableMapping) -> tuple[pd.DataFrame, np.ndarray]:
    """Line items → one row per key, broadcast back onto every line.

    Returns the frame with each line carrying its group's totals (sums of the
    ``sum`` columns, first non-empty value of the others) and a mask of the
    first line of each group, which is the one kept.
    """
    key = TABLES[tm.table].key[0]
    sums = [c for c in tm.aggregate["sum"] if c in frame]
    g = frame.groupby(key, sort=False, dropna=False)
    out = frame.copy()
    for c in frame.columns:
        if c == key:
            continue
        out[c] = g[c].transform("sum", min_count=1) if c in sums else g[c].transform("first")
    first = ~frame[key].duplicated(keep="first").to_numpy() & frame[key].notna().to_numpy()
    return out, first
