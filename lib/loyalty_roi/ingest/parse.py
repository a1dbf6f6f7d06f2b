"""One source frame → one canonical table: columns resolved, values parsed, rows checked.

Row problems go to the quarantine with their reason and source line; problems
of the whole file (missing or ambiguous columns) raise a :class:`DataError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, Issue
from ..memory import release_arrow_memory
from ..months import floor as month_floor
from ..parsing import (
    AmbiguousDates,
    as_text,
    detect_number_style,
    parse_bool,
    parse_date,
    parse_number,
    text_values,
)
from ..schema import TABLES, coerce_canonical
from ..sources import SourceFrame, TableMapping
from . import derive, privacy, rules


@dataclass
class TableResult:
    """One ingested table: kept canonical rows, rejected source rows and the counts."""

    table: str
    file: str
    frame: pd.DataFrame
    rejected: pd.DataFrame
    issues: list[Issue]
    stats: dict
    lines: np.ndarray  # source line of each kept row
    rejected_keys: pd.Series | None = None  # key values of quarantined rows (single-column keys)
    # a large export read in blocks: its kept rows are in this Parquet file, not in ``frame``,
    # and ``facts`` holds what the quality report says of them (quality.frame_facts)
    path: Path | None = None
    facts: dict | None = None


class _Rejector:
    """Collects row-level problems per (column, rule) with source line numbers."""

    def __init__(self, n: int, lines: np.ndarray, file: str):
        self.n = n
        self.reasons: dict[int, list[str]] = defaultdict(list)  # only rows with a problem
        self.lines = lines
        self.file = file
        self.groups: dict[tuple[str | None, str, str], list[int]] = defaultdict(list)

    def add(self, mask, column: str | None, rule: str, fix: str) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        for i in idx:
            self.reasons[i].append(f"{column}: {rule}" if column else rule)
        if len(idx):
            self.groups[(column, rule, fix)].extend(int(self.lines[i]) for i in idx)

    @property
    def mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        m[[i for i, r in self.reasons.items() if r]] = True
        return m

    def issues(self) -> list[Issue]:
        return [
            Issue(self.file, col, rows, rule, fix) for (col, rule, fix), rows in self.groups.items()
        ]


def _first_lines(src: SourceFrame, column: str, values: list[str], n: int = 3) -> list[int]:
    t = as_text(src.df[column])
    hit = np.flatnonzero(t.isin(values).to_numpy())[:n]
    return [int(src.lines[i]) for i in hit]


def _number_style(
    src: SourceFrame, tm: TableMapping, num_cols: dict[str, pd.Series]
) -> tuple[str, bool]:
    """The file's decimal separator, and whether it was declared or decided by the values.

    Undecided (no value tells the styles apart), it is '.'.
    """
    if tm.decimal != "auto":
        return tm.decimal, True
    style = detect_number_style(num_cols)
    if style.decimal is None and (style.ambiguous or style.comma_values):
        col = (style.ambiguous_columns or list(num_cols))[0]
        ex = (style.ambiguous or [])[:3]
        shown = ", ".join(f"'{e}'" for e in ex) or "values in both styles, equally often"
        raise DataError(
            Issue(
                src.file,
                col,
                _first_lines(src, col, ex) if ex else [],
                f"numbers such as {shown} can be read two ways (decimal comma or thousands "
                "separator) and nothing in the file decides which",
                f"set \"decimal: ','\" (with \"thousands: '.'\") or \"decimal: '.'\" for table "
                f"'{tm.table}' in the mapping",
            )
        )
    return style.decimal or ".", style.decimal is not None


def _resolve_columns(src: SourceFrame, tm: TableMapping, spec) -> dict[str, str]:
    """Canonical → source column: the mapping's names, else a column of the canonical name."""
    df, file = src.df, src.file
    cols = dict(tm.columns)
    for c in spec.names:
        if c not in cols and c not in tm.derived and c in df.columns:
            cols[c] = c
    needed = {**cols, **tm.pii}
    needed.update({c: r["column"] for c, r in tm.derived.items() if "column" in r})
    issues = []
    for canon, srccol in needed.items():
        if srccol in df.columns:
            continue
        close = difflib.get_close_matches(srccol, list(map(str, df.columns)), n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"the file has: {', '.join(map(str, df.columns[:12]))}"
        )
        issues.append(
            Issue(
                file,
                srccol,
                [1],
                f"the mapping names column '{srccol}' (for {canon}) but the file has no such column",
                f"correct the mapping — {hint}",
            )
        )
    if issues:
        raise DataError(issues)
    return cols


# what to write in the mapping when a required column is not in the export
_ABSENT_FIX = {
    "channel": "if every sale is in a store, add 'channel: {value: store}' under columns",
    "is_return": "map the return flag, or derive it, e.g. 'is_return: {expr: \"amount < 0\"}'",
    "gross_amount": "map the sales amount, or compute it, e.g. "
    "'gross_amount: {expr: \"sales_value + discount\"}'",
    "first_seen": "map the registration date, or use the first purchase date of the customer",
    "store": "map the home store, or give one, e.g. 'store: {value: Online}'",
    "marketing_consent": "map the consent flag, or state it, e.g. "
    "'marketing_consent: {value: false}'",
}


def _check_required(src: SourceFrame, tm: TableMapping, spec, cols: dict[str, str]) -> None:
    """Every required, non-nullable column must be mapped, derived or present."""
    absent = [c.name for c in spec.columns if c.required and not c.nullable and c.name not in cols]
    if tm.table == "transactions" and "is_return" in absent and "gross_amount" in cols:
        absent.remove("is_return")  # derived from the sign of the amount (rules.apply)
    if not absent:
        return
    header = ", ".join(map(str, src.df.columns[:12]))
    if len(src.df.columns) == 1:
        fixes = {c: "the whole header was read as one column — check the delimiter" for c in absent}
    else:
        fixes = {
            c: f"{_ABSENT_FIX.get(c, 'map it under columns in the mapping')} (file has: {header})"
            for c in absent
        }
    raise DataError(
        [Issue(src.file, c, [1], "required column is missing", fixes[c]) for c in absent]
    )


def _aggregate_lines(frame: pd.DataFrame, tm: TableMapping, rej: _Rejector, cols: dict):
    """Line items → one row per key; a receipt with a rejected line is rejected whole."""
    key = TABLES[tm.table].key[0]
    bad = pd.Series(rej.mask, index=frame.index)
    group_bad = bad.groupby(frame[key], sort=False, dropna=False).transform("any")
    rej.add(
        (group_bad & ~bad).to_numpy(),
        cols.get(key, key),
        "another line of the same receipt was rejected",
        "fix that line (see its reason); the receipt then comes in whole",
    )
    return derive.aggregate(frame, tm)


def parse_table(
    src: SourceFrame,
    tm: TableMapping,
    salt: str,
    run_date: dt.date,
    future_tolerance_days: int = 1,
    earliest_date: dt.date = dt.date(1990, 1, 1),
    formats: dict | None = None,
) -> TableResult:
    """Turn a source frame into the canonical table, quarantining bad rows.

    Raises :class:`DataError` for problems of the whole file (missing or
    ambiguous columns); row problems go to the quarantine with their reason.
    The source frame is consumed: ``src.df`` is released once the kept rows
    are taken, so a large export is never held twice.

    ``formats`` fixes what an earlier block of the same export decided
    (``{"decimal": ",", "dates": {source column: strptime format}}``); what this
    call decided is returned the same way in ``stats["formats"]``.
    """
    given = src
    formats = formats or {}
    fixed_dates = formats.get("dates", {})
    spec = TABLES[tm.table]
    file = src.file
    cols = _resolve_columns(src, tm, spec)
    num_cols = {
        cols[c.name]: src.df[cols[c.name]]
        for c in spec.columns
        if c.kind in ("float", "int") and c.name in cols
    }
    for rule in tm.derived.values():  # columns an expression reads count as evidence too
        for ref in derive.referenced_columns(rule.get("expr", ""), src.df.columns):
            num_cols.setdefault(ref, src.df[ref])
    notes: dict[str, str] = {}
    decided = {"decimal": formats.get("decimal"), "dates": dict(fixed_dates)}
    if decided["decimal"]:
        decimal = decided["decimal"]
    else:
        decimal, by_values = _number_style(src, tm, num_cols) if num_cols else (".", False)
        decided["decimal"] = decimal if by_values else None
        if num_cols and tm.decimal == "auto":
            notes["numbers"] = f"decimal separator '{decimal}' decided from the file's values"
    src, dcols, derived, dnotes = derive.derive_columns(src, tm, decimal)
    cols.update(dcols)
    notes.update(dnotes)
    df = src.df
    _check_required(src, tm, spec, cols)
    rej = _Rejector(len(df), src.lines, file)
    out: dict[str, pd.Series] = {}
    early = pd.Timestamp(earliest_date)
    fatal: list[Issue] = []
    for col in spec.columns:
        if col.name not in cols:
            continue
        s = df[cols[col.name]]
        srcname = cols[col.name]
        codes = None if col.name in derived else tm.values.get(col.name)
        if col.kind == "str":
            if codes:  # source codes mapped to canonical values
                t = as_text(s)
                mapped = t.map({str(k).strip(): v for k, v in codes.items()})
                unknown = mapped.isna() & (t != "")
                rej.add(
                    unknown,
                    srcname,
                    f"value not in the mapping's codes ({', '.join(map(str, codes))})",
                    "add the code under 'values' in the mapping, or correct the value",
                )
                s = mapped.where(~unknown, "").fillna("").astype(str)
            v, missing = text_values(s)
            bad = pd.Series(False, index=s.index)
        elif col.kind == "bool":
            v, missing, bad = parse_bool(s, codes)
            if codes:
                rej.add(
                    bad,
                    srcname,
                    f"value not in the mapping's codes ({', '.join(map(str, codes))})",
                    "add the code under 'values' in the mapping, or correct the value",
                )
            else:
                rej.add(
                    bad,
                    srcname,
                    "not a yes/no value",
                    "use true/false, yes/no, ja/nej, ja/nei, ja/nee, ja/nein, 1/0 — or map the "
                    "source codes under 'values' in the mapping",
                )
        elif col.kind in ("float", "int"):
            v, missing, bad, other = parse_number(s, decimal, tm.thousands)
            rej.add(
                other,
                srcname,
                f"number in the other decimal style (this file writes decimals with '{decimal}')",
                "write every number of the file in one style, or set decimal/thousands in the mapping",
            )
            rej.add(
                bad & ~other,
                srcname,
                "not a number",
                "use digits with ',' or '.' as decimal separator; no currency signs, inf or nan",
            )
            if col.kind == "int":
                frac = v.notna() & (v != np.round(v))
                rej.add(frac, srcname, "not a whole number", "points and scores must be integers")
        elif col.kind in ("date", "datetime"):
            fmt = fixed_dates.get(srcname, tm.date_format)
            try:
                v, missing, bad, dnotes = parse_date(s, fmt)
                if "format" in dnotes:
                    decided["dates"][srcname] = dnotes["format"]
            except AmbiguousDates as exc:
                fatal.append(
                    Issue(
                        file,
                        srcname,
                        _first_lines(src, srcname, exc.examples),
                        "day and month order cannot be told apart: every value reads both ways "
                        f"(e.g. {', '.join(repr(e) for e in exc.examples[:2])})",
                        f"set date_format: '{exc.formats[0]}' (day first) or '{exc.formats[1]}' "
                        f"(month first) for table '{tm.table}' in the mapping",
                    )
                )
                continue
            for k, note in dnotes.items():
                notes[f"{srcname} {k}"] = f"{srcname}: " + (
                    f"date format {note}" if k == "format" else note
                )
            rej.add(
                bad,
                srcname,
                f"unparseable date (expected {fmt or dnotes.get('format') or 'a date such as 31.12.2025'})",
                "use one date format in the whole column and set 'date_format' in the mapping",
            )
            limit = pd.Timestamp(run_date) + pd.Timedelta(days=future_tolerance_days + 1)
            rej.add(
                v > limit,
                srcname,
                f"date in the future (after {run_date})",
                "check the export's clock/time zone and the date format (day/month swapped?)",
            )
            rej.add(
                v < early,
                srcname,
                f"implausible date before {earliest_date} (a placeholder such as 1900-01-01?)",
                "leave the date empty when it is unknown, or correct it "
                "(data.earliest_date in the config sets this bound)",
            )
            if col.name == "month":
                rej.add(
                    v.notna() & (v != month_floor(v)),
                    srcname,
                    "not the first day of a month",
                    "write the month as YYYY-MM or as the first day of the month",
                )
            if col.kind == "date":
                v = v.dt.normalize()  # keys compare as the canonical table will store them
        else:  # pragma: no cover
            raise AssertionError(col.kind)
        repairable = tm.table == "transactions" and col.name in ("net_amount", "discount")
        if not col.nullable and not repairable:  # empty net/discount are repaired below
            rej.add(
                missing & ~bad,
                srcname,
                "required value is empty",
                "fill the value in the source, or exclude the row from the export",
            )
        if col.allowed:  # compared in the column's own dtype: no Python string per row
            bad_allowed = v.notna() & ~v.isin(list(col.allowed))
            rej.add(
                bad_allowed,
                srcname,
                f"value not allowed (allowed: {', '.join(col.allowed)})",
                "map source codes to these values under 'values' in the mapping",
            )
        if col.min_value is not None:
            rej.add(
                v.notna() & (pd.to_numeric(v, errors="coerce") < col.min_value),
                srcname,
                f"below the minimum {col.min_value:g}",
                "correct the value",
            )
        if col.max_value is not None:
            rej.add(
                v.notna() & (pd.to_numeric(v, errors="coerce") > col.max_value),
                srcname,
                f"above the maximum {col.max_value:g}",
                "correct the value",
            )
        out[col.name] = v
    if fatal:
        raise DataError(fatal)
    for col in spec.columns:  # nullable columns the export does not have: left empty
        if col.name not in cols and col.nullable and not col.pii:
            out[col.name] = pd.Series(None, index=df.index, dtype=object)
            notes[f"{col.name} absent"] = f"{col.name} not in the export: left empty"

    for hcol, srccol in tm.pii.items():
        out[hcol] = privacy.pseudonymise(df[srccol], salt, hcol)
    frame = pd.DataFrame(out, index=df.index, copy=False)
    del out  # the frame holds the parsed columns; no second copy at 10M rows
    notes.update(privacy.protect_personal_text(frame, spec, salt))

    line_items = tm.aggregate is not None
    if line_items:
        frame, keep_line = _aggregate_lines(frame, tm, rej, cols)
    repaired, repair_reasons = rules.apply(frame, tm, cols, rej, notes)
    if not line_items:
        rules.duplicates(frame, spec, cols, rej, file)
    bad_mask = rej.mask
    keep = ~bad_mask & keep_line if line_items else ~bad_mask
    if line_items:
        notes["line items"] = (
            f"{len(df):,} line items summed into {int(keep_line.sum()):,} rows, one per "
            f"{cols.get(spec.key[0], spec.key[0])} (mapping: aggregate)"
        )
    rejected_keys = frame.loc[bad_mask, spec.key[0]] if len(spec.key) == 1 else None
    rejected = privacy.quarantine_rows(df.loc[bad_mask], cols, tm, salt)
    rejected.insert(0, "_line", src.lines[bad_mask])
    rejected.insert(1, "_reasons", ["; ".join(rej.reasons[i]) for i in np.flatnonzero(bad_mask)])
    rows_read = len(df)
    # the export is consumed: without it, the kept rows are taken with one copy, not two
    given.df = src.df = df = None
    kept = coerce_canonical(_take_rows(frame, keep), tm.table)
    stats = {
        "rows_read": rows_read,
        "rows_kept": int(keep.sum()),
        "rows_repaired": int((repaired & ~bad_mask).sum()),
        "rows_rejected": int(bad_mask.sum()),
        "repair_reasons": repair_reasons,
        "assumptions": list(notes.values()),
        "notes": notes,  # the assumptions by key, for merging the blocks of a large export
        "formats": decided,
        "columns": cols,  # canonical → source column, to name columns in later messages
    }
    return TableResult(
        tm.table, file, kept, rejected, rej.issues(), stats, src.lines[keep], rejected_keys
    )


def _take_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep``, taken column by column and emptying ``frame``.

    ``frame.loc[keep]`` would hold two copies of a 10M-row table at once; this
    holds one plus a column.  Arrays, not Series, are taken: nine Series with
    nine equal 10M-row indexes would be aligned on their union (3 s, 1 GiB).
    The kept rows are numbered from 0, as when every row is kept.
    """
    if keep.all():
        return frame.reset_index(drop=True)
    out = {}
    for name in list(frame.columns):
        out[name] = frame.pop(name).array[keep]
        release_arrow_memory()  # the column just taken is handed back before the next
    return pd.DataFrame(out, copy=False)
