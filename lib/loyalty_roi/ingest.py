"""Ingest source exports into the canonical tables.

Reads CSV (delimiter, decimal comma, encoding and BOM detected), Parquet and
Excel; a YAML mapping turns source column names and value codes into the
canonical schema (:mod:`loyalty_roi.schema`); every row is validated (types,
keys, ranges, dates, orphans, duplicates).  Bad rows go to a quarantine file
with their reason — nothing is dropped silently — and a table whose share of
bad rows exceeds ``max_reject_share`` stops the run with a :class:`DataError`
naming file, column, lines, rule and fix.  Direct identifiers (e-mail, name,
phone) are replaced by salted hashes; raw values never reach
``data/processed/``.  Outputs are written atomically (temp file + rename) and
raw files are only ever opened for reading.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute
import yaml

from .errors import DataError, Issue
from .schema import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES, coerce_canonical, pa, validate

DELIMITERS = [";", ",", "\t", "|"]
# a 2-byte UTF-8 sequence for Latin letters (Ã + continuation byte) inside a non-UTF-8 file
_UTF8_MULTIBYTE = re.compile(rb"[\xc3\xc5][\x80-\xbf]")
DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m",
    "%Y%m%d",
    "%m/%d/%Y",
]
TRUE_WORDS = {
    "1",
    "true",
    "t",
    "yes",
    "y",
    "ja",
    "j",
    "x",
    "waar",
    "sand",
    "wahr",
    "oui",
    "si",
    "sí",
}
FALSE_WORDS = {
    "0",
    "false",
    "f",
    "no",
    "n",
    "nee",
    "nein",
    "nej",
    "nei",
    "onwaar",
    "falsk",
    "falsch",
    "non",
}
PII_FIX = "direct identifiers are hashed on ingest; nothing to do"


# ---------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------
@dataclass
class TableMapping:
    """How one canonical table is read from one source file."""

    table: str
    file: str
    format: str = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    decimal: str = "auto"
    date_format: str | None = None
    sheet: str | int = 0
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source
    pii: dict[str, str] = field(default_factory=dict)  # canonical hash column -> source
    values: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_mapping(path: str | Path) -> dict[str, TableMapping]:
    """Read a mapping YAML (see ``data/raw/demo/mapping.yml`` and the README)."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise DataError(
            Issue(
                name,
                None,
                [],
                f"mapping file {path} does not exist",
                "create it (see README 'Bring your own data') or set data.mapping in the config",
            )
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DataError(
            Issue(
                name,
                None,
                [line + 1] if line is not None else [],
                f"not valid YAML: {exc}",
                "fix the YAML syntax (indentation, colons, quotes)",
            )
        ) from None
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        raise DataError(
            Issue(
                name,
                None,
                [],
                "the mapping has no 'tables:' section",
                "start the file with 'tables:' and one entry per canonical table",
            )
        )
    out = {}
    allowed_keys = set(TableMapping.__dataclass_fields__) - {"table"}
    for tname, spec in tables.items():
        if tname not in TABLES:
            raise DataError(
                Issue(
                    name, None, [], f"unknown table '{tname}'", f"use one of: {', '.join(TABLES)}"
                )
            )
        spec = dict(spec or {})
        unknown = set(spec) - allowed_keys
        if unknown:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"table '{tname}': unknown keys {sorted(unknown)}",
                    f"allowed keys are {sorted(allowed_keys)}",
                )
            )
        if "file" not in spec:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"table '{tname}' has no 'file'",
                    "name the source file, relative to the raw data folder",
                )
            )
        bad_cols = set(spec.get("columns") or {}) - set(TABLES[tname].names)
        if bad_cols:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"table '{tname}': {sorted(bad_cols)} are not canonical columns",
                    f"map onto: {', '.join(TABLES[tname].names)}",
                )
            )
        spec["columns"] = {k: str(v) for k, v in (spec.get("columns") or {}).items()}
        spec["values"] = {
            k: {str(a): b for a, b in (v or {}).items()}
            for k, v in (spec.get("values") or {}).items()
        }
        out[tname] = TableMapping(table=tname, **spec)
    return out


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(data: bytes, name: str, encoding: str) -> tuple[str, str]:
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DataError(
                Issue(
                    name,
                    None,
                    [line],
                    f"bytes are not valid {encoding}",
                    "set 'encoding: auto' in the mapping or re-export in the declared encoding",
                )
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    # not UTF-8 as a whole: is it a mix of UTF-8 and 8-bit lines?
    def line_of(pos: int) -> int:
        return data.count(b"\n", 0, pos) + 1

    utf8_seq = [m.start() for m in _UTF8_MULTIBYTE.finditer(data)][:3]
    if utf8_seq:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = line_of(exc.start)
        utf8_lines = sorted({line_of(pos) for pos in utf8_seq})
        raise DataError(
            Issue(
                name,
                None,
                utf8_lines + [bad_line],
                f"mixed encodings: line(s) {utf8_lines} are UTF-8, line {bad_line} is latin-1/cp1252",
                "re-export the whole file in one encoding (UTF-8 preferred)",
            )
        )
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ";"


@dataclass
class SourceFrame:
    """A source file read into a frame, with the line number of each row."""

    df: pd.DataFrame
    lines: np.ndarray
    file: str
    meta: dict


def read_source(path: Path, tm: TableMapping) -> SourceFrame:
    """Read one source file; raise :class:`DataError` for file-level problems."""
    name = path.name
    fmt = (
        tm.format
        if tm.format != "auto"
        else {
            ".csv": "csv",
            ".txt": "csv",
            ".tsv": "csv",
            ".parquet": "parquet",
            ".pq": "parquet",
            ".xlsx": "excel",
            ".xls": "excel",
            ".xlsm": "excel",
        }.get(path.suffix.lower(), "csv")
    )
    if not path.exists():
        raise DataError(
            Issue(
                name,
                None,
                [],
                f"file not found in {path.parent}",
                f"put the {tm.table} export there or correct 'file' in the mapping",
            )
        )
    if path.stat().st_size == 0:
        raise DataError(
            Issue(
                name,
                None,
                [],
                "the file is empty (0 bytes)",
                f"re-export the {tm.table} table; the export probably failed",
            )
        )
    meta: dict[str, Any] = {"format": fmt}
    if fmt == "parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"not a readable Parquet file ({exc})",
                    "re-export the file as Parquet, or as CSV and change 'file'",
                )
            ) from None
        lines = np.arange(1, len(df) + 1)
        meta["row_numbering"] = "row"
    elif fmt == "excel":
        try:
            df = pd.read_excel(path, sheet_name=tm.sheet, dtype=object)
        except Exception as exc:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"not a readable Excel file ({exc})",
                    "save it as .xlsx, or export CSV and change 'file'",
                )
            ) from None
        lines = np.arange(2, len(df) + 2)
        meta["row_numbering"] = "line"
    else:
        data = path.read_bytes()
        text, enc = _decode(data, name, tm.encoding)
        meta["encoding"] = enc
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if not first:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    "the file has no header line (only blank lines)",
                    f"re-export the {tm.table} table with a header row",
                )
            )
        delim = _sniff_delimiter(first) if tm.delimiter == "auto" else tm.delimiter
        if tm.delimiter != "auto" and first.count(delim) == 0:
            found = _sniff_delimiter(first)
            if first.count(found) > 0:
                raise DataError(
                    Issue(
                        name,
                        None,
                        [1],
                        f"the header has no '{delim}' but {first.count(found)}× '{found}': wrong delimiter",
                        f"set 'delimiter: \"{found}\"' (or 'auto') in the mapping for {tm.table}",
                    )
                )
        meta["delimiter"] = delim
        try:
            df = pd.read_csv(
                io.StringIO(text),
                sep=delim,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=True,
            )
        except pd.errors.ParserError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise DataError(
                Issue(
                    name,
                    None,
                    [int(m.group(1))] if m else [],
                    f"wrong number of fields ({exc})",
                    f"check quoting and that '{delim}' is the delimiter; values containing "
                    f"'{delim}' must be quoted",
                )
            ) from None
        except pd.errors.EmptyDataError:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    "the file has no header line",
                    f"re-export the {tm.table} table with a header row",
                )
            ) from None
        df.columns = [str(c).strip() for c in df.columns]
        # line numbers: header is line 1; blank lines are skipped by the parser
        nonblank = [i for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
        lines = (
            np.array(nonblank[1 : len(df) + 1])
            if len(nonblank) > len(df)
            else np.arange(2, len(df) + 2)
        )
        meta["row_numbering"] = "line"
    if len(df) == 0:
        raise DataError(
            Issue(
                name,
                None,
                [],
                "the file has a header but no data rows",
                f"re-export the {tm.table} table with its rows, or remove it from the mapping",
            )
        )
    return SourceFrame(df=df.reset_index(drop=True), lines=lines, file=name, meta=meta)


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------
def _as_text(s: pd.Series) -> pd.Series:
    """Source values as stripped strings; missing → ''."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return s.astype(object).where(s.notna(), "").astype(str)


def _parse_float(s: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Returns (values, missing, bad)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.astype("float64")
        return v, v.isna(), pd.Series(False, index=s.index)
    t = _as_text(s)
    missing = t == ""
    if decimal == "auto":
        comma = t.str.match(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$").sum()
        dot = t.str.match(r"^-?\d{1,3}(,\d{3})*\.\d+$|^-?\d+\.\d+$").sum()
        decimal = "," if comma > dot else "."
    if decimal == ",":
        t2 = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        t2 = t.str.replace(",", "", regex=False)
    v = pd.to_numeric(t2.where(~missing), errors="coerce").astype("float64")
    bad = v.isna() & ~missing
    return v, missing, bad


def _strptime(vals: pd.Series, fmt: str) -> pd.Series:
    """Parse strings with one strptime format (pyarrow's C++ parser); failures → NaT."""
    arr = pyarrow.array(vals.to_numpy(dtype=object), type=pyarrow.string())
    parsed = pyarrow.compute.strptime(arr, format=fmt, unit="us", error_is_null=True)
    out = pd.Series(parsed.to_numpy(zero_copy_only=False), index=vals.index).astype(
        "datetime64[us]"
    )
    # pyarrow rolls impossible dates over (31.02. → 03.03.): rows that do not format back
    # to their text are re-checked with pandas' strict parser (also handles unpadded days)
    back = pyarrow.compute.strftime(parsed, format=fmt).to_numpy(zero_copy_only=False)
    differs = out.notna().to_numpy() & (back != vals.to_numpy(dtype=object))
    if differs.any():
        out[differs] = pd.to_datetime(vals[differs], format=fmt, errors="coerce").astype(
            "datetime64[us]"
        )
    return out


def _parse_date(s: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        v = v.astype("datetime64[us]")
        return v, v.isna(), pd.Series(False, index=s.index)
    if s.dtype == object and s.map(lambda x: isinstance(x, (dt.date, pd.Timestamp))).any():
        s = s.map(
            lambda x: (
                x.isoformat(sep=" ")
                if isinstance(x, dt.datetime)
                else (x.isoformat() if isinstance(x, dt.date) else x)
            )
        )
    t = _as_text(s)
    missing = t == ""
    vals = t[~missing]
    if fmt is None:
        sample = vals.drop_duplicates().head(500)
        best, best_ok = None, -1
        for f in DATE_FORMATS:
            ok = _strptime(sample, f).notna().sum()
            if ok > best_ok:
                best, best_ok = f, ok
            if ok == len(sample):
                break
        fmt = best
    v = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if len(vals):
        v.loc[~missing] = _strptime(vals, fmt)
    bad = v.isna() & ~missing
    return v, missing, bad


def _parse_bool(s: pd.Series, codes: dict | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(bool), pd.Series(False, index=s.index), pd.Series(False, index=s.index)
    t = _as_text(s)
    missing = t == ""
    if codes:
        m = {str(k).strip(): bool(v) for k, v in codes.items()}
        v = t.map(m)
    else:
        low = t.str.lower()
        v = pd.Series(
            np.where(low.isin(TRUE_WORDS), True, np.where(low.isin(FALSE_WORDS), False, None)),
            index=s.index,
            dtype=object,
        )
    bad = v.isna() & ~missing
    return v, missing, bad


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


class _Rejector:
    """Collects row-level problems per (column, rule) with source line numbers."""

    def __init__(self, n: int, lines: np.ndarray, file: str):
        self.reasons: list[list[str]] = [[] for _ in range(n)]
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
        return np.array([bool(r) for r in self.reasons], dtype=bool)

    def issues(self) -> list[Issue]:
        return [
            Issue(self.file, col, rows, rule, fix) for (col, rule, fix), rows in self.groups.items()
        ]


def pseudonymise(values: pd.Series, salt: str, kind: str) -> pd.Series:
    """Salted SHA-256 pseudonym (16 hex chars) of e-mail / name / phone; missing stays missing.

    Values are normalised first (e-mail lower-cased, phone digits only, names
    case-folded with single spaces) so the same person gets the same pseudonym.
    """
    t = _as_text(values)
    if kind == "email_hash":
        t = t.str.lower()
    elif kind == "phone_hash":
        t = t.str.replace(r"\D", "", regex=True)
    else:
        t = t.str.casefold().str.replace(r"\s+", " ", regex=True)
    out = [hashlib.sha256(f"{salt}|{v}".encode()).hexdigest()[:16] if v else None for v in t]
    return pd.Series(out, index=values.index, dtype="str")


def parse_table(
    src: SourceFrame, tm: TableMapping, salt: str, run_date: dt.date, future_tolerance_days: int = 1
) -> TableResult:
    """Turn a source frame into the canonical table, quarantining bad rows."""
    spec = TABLES[tm.table]
    df, file = src.df, src.file
    # resolve source column names
    cols = dict(tm.columns)
    for c in spec.names:
        if c not in cols and c in df.columns:
            cols[c] = c
    missing_src = [(c, s) for c, s in {**cols, **tm.pii}.items() if s not in df.columns]
    if missing_src:
        issues = []
        for canon, srccol in missing_src:
            close = difflib.get_close_matches(srccol, list(df.columns), n=1)
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
                    f"the mapping names column '{srccol}' (for {canon}) "
                    f"but the file has no such column",
                    f"correct the mapping — {hint}",
                )
            )
        raise DataError(issues)
    absent = [c.name for c in spec.columns if c.required and c.name not in cols]
    if absent:
        one_col = len(df.columns) == 1
        fix = (
            "the whole header was read as one column — check the delimiter"
            if one_col
            else f"add the column to the export, or map it in the mapping file (file has: "
            f"{', '.join(map(str, df.columns[:12]))})"
        )
        raise DataError([Issue(file, c, [1], "required column is missing", fix) for c in absent])

    rej = _Rejector(len(df), src.lines, file)
    out: dict[str, pd.Series] = {}
    repaired = np.zeros(len(df), dtype=bool)
    for col in spec.columns:
        if col.name not in cols:
            continue
        s = df[cols[col.name]]
        srcname = cols[col.name]
        codes = tm.values.get(col.name)
        if col.kind in ("str",):
            t = _as_text(s)
            if codes:
                mapped = t.map({str(k).strip(): v for k, v in codes.items()})
                unknown = mapped.isna() & (t != "")
                rej.add(
                    unknown,
                    srcname,
                    f"value not in the mapping's codes ({', '.join(map(str, codes))})",
                    "add the code under 'values' in the mapping, or correct the value",
                )
                t = mapped.where(~unknown, "").fillna("").astype(str)
            missing = t == ""
            v = t.where(~missing)
            bad = pd.Series(False, index=s.index)
        elif col.kind == "bool":
            v, missing, bad = _parse_bool(s, codes)
            if codes:
                rej.add(
                    bad,
                    srcname,
                    f"value not in the mapping's codes ({', '.join(map(str, codes))})",
                    "add the code under 'values' in the mapping, or correct the value",
                )
            else:
                rej.add(bad, srcname, "not a yes/no value", "use true/false, yes/no, ja/nej, 1/0")
        elif col.kind in ("float", "int"):
            v, missing, bad = _parse_float(s, tm.decimal)
            rej.add(
                bad,
                srcname,
                "not a number",
                "use digits with ',' or '.' as decimal separator, no currency signs",
            )
            if col.kind == "int":
                frac = v.notna() & (v != np.round(v))
                rej.add(frac, srcname, "not a whole number", "points and scores must be integers")
        elif col.kind in ("date", "datetime"):
            fmt = tm.date_format
            v, missing, bad = _parse_date(s, fmt)
            rej.add(
                bad,
                srcname,
                f"unparseable date (expected {fmt or 'a date such as 31.12.2025'})",
                "use one date format in the whole column and set 'date_format' in the mapping",
            )
            limit = pd.Timestamp(run_date) + pd.Timedelta(days=future_tolerance_days + 1)
            rej.add(
                v > limit,
                srcname,
                f"date in the future (after {run_date})",
                "check the export's clock/time zone and the date format (day/month swapped?)",
            )
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
        if col.allowed and not codes:
            tv = v.astype(object)
            bad_allowed = tv.notna() & ~tv.isin(col.allowed)
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
    for hcol, srccol in tm.pii.items():
        out[hcol] = pseudonymise(df[srccol], salt, hcol)
    frame = pd.DataFrame(out, index=df.index)

    # table rules
    if tm.table == "transactions":
        disc_missing = (
            frame["discount"].isna() if "discount" in frame else pd.Series(True, index=frame.index)
        )
        if "discount" not in frame:
            frame["discount"] = 0.0
        repaired |= disc_missing.to_numpy()
        frame["discount"] = frame["discount"].fillna(0.0)
        if "net_amount" not in frame:
            frame["net_amount"] = np.nan
        net_missing = frame["net_amount"].isna() & frame["gross_amount"].notna()
        repaired |= net_missing.to_numpy()
        frame.loc[net_missing, "net_amount"] = frame["gross_amount"] - frame["discount"]
        ret = frame["is_return"].fillna(False).astype(bool)
        g, n = frame["gross_amount"], frame["net_amount"]
        c_amt = cols.get("gross_amount")
        rej.add(
            ~ret & (g <= 0),
            c_amt,
            "sale with zero or negative amount",
            "mark returns with the return flag, or correct the amount",
        )
        rej.add(
            ret & (g > 0),
            c_amt,
            "return with a positive amount",
            "returns must carry negative amounts (refund), or clear the return flag",
        )
        rej.add(
            ~ret & (n < 0),
            cols.get("net_amount", "net_amount"),
            "negative net amount on a sale",
            "discount cannot exceed the gross amount",
        )
        rej.add(
            (g - frame["discount"] - n).abs() > 0.011,
            cols.get("net_amount", "net_amount"),
            "net amount ≠ gross amount − discount",
            "correct the amounts (or leave net empty to compute it)",
        )
    if tm.table == "customers":
        mem = frame["is_member"].fillna(False).astype(bool)
        rej.add(
            mem & frame["enrolled_at"].isna(),
            cols.get("enrolled_at"),
            "member without an enrollment date",
            "fill the enrollment date (or mark as non-member)",
        )
        fix_tier = ~mem & frame["tier"].notna()
        repaired |= fix_tier.to_numpy()
        frame.loc[fix_tier, "tier"] = np.nan
    if tm.table == "points_ledger":
        ty, pts = frame["type"], frame["points"]
        rej.add(
            (ty == "earn") & (pts <= 0),
            cols.get("points"),
            "earned points must be positive",
            "book reversals as type 'adjust'",
        )
        rej.add(
            ty.isin(["redeem", "expire"]) & (pts >= 0),
            cols.get("points"),
            "redeemed/expired points must be negative",
            "use signed points: redeem and expire < 0",
        )
    if tm.table == "campaigns":
        rej.add(
            frame["end"] < frame["start"],
            cols.get("end"),
            "campaign ends before it starts",
            "swap or correct the dates",
        )
    # duplicates on the key (keep the first occurrence)
    if spec.key:
        key = list(spec.key)
        dup = frame.duplicated(subset=key, keep="first") & frame[key].notna().all(axis=1)
        if dup.any():
            exact = frame.duplicated(keep="first")
            keyname = ", ".join(cols.get(k, k) for k in key)
            rej.add(
                dup & exact,
                keyname,
                "exact duplicate row",
                "remove the repeated row from the export",
            )
            rej.add(
                dup & ~exact,
                keyname,
                "duplicate key with different values",
                "ids must be unique: fix the source or de-duplicate the export",
            )
    bad_mask = rej.mask
    kept = coerce_canonical(frame.loc[~bad_mask], tm.table)
    pii_src = set(tm.pii.values())
    rejected = df.loc[bad_mask, [c for c in df.columns if c not in pii_src]].copy()
    rejected.insert(0, "_line", src.lines[bad_mask])
    rejected.insert(
        1, "_reasons", ["; ".join(r) for r, b in zip(rej.reasons, bad_mask, strict=True) if b]
    )
    stats = {
        "rows_read": int(len(df)),
        "rows_kept": int((~bad_mask).sum()),
        "rows_repaired": int((repaired & ~bad_mask).sum()),
        "rows_rejected": int(bad_mask.sum()),
    }
    return TableResult(tm.table, file, kept, rejected, rej.issues(), stats, src.lines[~bad_mask])


# ---------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------
@dataclass
class IngestResult:
    """Everything one ingest run produced."""

    tables: dict[str, pd.DataFrame]
    quality: pd.DataFrame
    issues: list[Issue]
    missing_tables: list[str]
    inputs: dict[str, str]  # file name -> sha256
    out_dir: Path | None = None

    def summary(self) -> str:
        lines = [
            f"{len(self.tables)} tables ingested; not provided: {', '.join(self.missing_tables) or 'none'}"
        ]
        for r in self.quality.itertuples():
            lines.append(
                f"  {r.table:18s} read {r.rows_read:>9,}  kept {r.rows_kept:>9,}  "
                f"repaired {r.rows_repaired:>6,}  rejected {r.rows_rejected:>6,}"
            )
        return "\n".join(lines)


def _orphans(res: TableResult, col: str, valid: pd.Series, target: str) -> None:
    """Quarantine rows of ``res`` whose ``col`` is not among ``valid``."""
    f = res.frame
    vals = f[col].to_numpy(dtype=object)
    known = pd.Index(valid.to_numpy(dtype=object))
    orphan = f[col].notna().to_numpy() & (known.get_indexer(vals) < 0)
    if not orphan.any():
        return
    lines = [int(x) for x in res.lines[orphan]]
    res.issues.append(
        Issue(
            res.file,
            col,
            lines,
            f"{orphan.sum()} rows reference a {col} that is not in {target}",
            f"add the missing ids to the {target} export, or check the id format",
        )
    )
    rows = f.loc[orphan].astype(object)
    rows.insert(0, "_line", lines)
    rows.insert(1, "_reasons", f"{col}: not found in {target}")
    res.rejected = pd.concat([res.rejected.astype(object), rows], ignore_index=True)
    res.frame = f.loc[~orphan].reset_index(drop=True)
    res.lines = res.lines[~orphan]
    res.stats["rows_kept"] -= int(orphan.sum())
    res.stats["rows_rejected"] += int(orphan.sum())
    res.stats["orphans"] = res.stats.get("orphans", 0) + int(orphan.sum())


def _quality_row(res: TableResult) -> dict:
    f = res.frame
    spec = TABLES[res.table]
    dates = [c.name for c in spec.columns if c.kind in ("date", "datetime")]
    row = {"table": res.table, "file": res.file, **res.stats}
    row.setdefault("orphans", 0)
    if dates and len(f):
        d = f[dates[0]]
        row["date_min"], row["date_max"] = str(d.min().date()), str(d.max().date())
    else:
        row["date_min"] = row["date_max"] = None
    if res.table == "transactions":
        row["returns"] = int(f["is_return"].sum())
        row["non_positive_amounts"] = int((f["net_amount"] <= 0).sum())
        row["anonymous_sales"] = int(f["customer_id"].isna().sum())
    reasons: dict[str, int] = defaultdict(int)
    for r in res.rejected.get("_reasons", pd.Series(dtype=str)):
        for part in str(r).split("; "):
            reasons[part] += 1
    row["reject_reasons"] = dict(reasons)
    row["missing_values"] = {c: int(n) for c, n in f.isna().sum().items() if n}
    return row


def _atomic_write(path: Path, write) -> None:
    """Write ``path`` via a temp file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def _atomic_write_text(text: str, path: Path) -> None:
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def ingest(
    raw_dir: str | Path,
    mapping: str | Path,
    out_dir: str | Path | None,
    salt: str,
    run_date: dt.date | None = None,
    max_reject_share: float = 0.05,
    future_tolerance_days: int = 1,
) -> IngestResult:
    """Ingest every mapped source file into canonical tables.

    Parameters
    ----------
    raw_dir
        Folder with the source exports (opened read-only).
    mapping
        Mapping YAML; its ``file`` entries are relative to ``raw_dir``.
    out_dir
        Where canonical Parquet, quarantine files and the quality report are
        written atomically; ``None`` to only return the frames.
    salt
        Secret salt for the pseudonyms.
    run_date
        Dates after it (plus the tolerance) are rejected as future dates.

    Raises
    ------
    DataError
        File-level problems, or a table with more than ``max_reject_share`` bad rows.
    """
    raw_dir = Path(raw_dir)
    run_date = run_date or dt.date.today()
    maps = load_mapping(mapping)
    missing_req = [t for t in REQUIRED_TABLES if t not in maps]
    if missing_req:
        raise DataError(
            [
                Issue(
                    Path(mapping).name,
                    None,
                    [],
                    f"required table '{t}' is not in the mapping",
                    f"add a '{t}:' entry with its source file",
                )
                for t in missing_req
            ]
        )
    results: dict[str, TableResult] = {}
    inputs: dict[str, str] = {}
    for tname, tm in maps.items():
        path = raw_dir / tm.file
        src = read_source(path, tm)
        inputs[tm.file] = sha256_file(path)
        results[tname] = parse_table(src, tm, salt, run_date, future_tolerance_days)
    # orphan references (after every table has been parsed)
    for tname, res in results.items():
        for col, target in TABLES[tname].references.items():
            ttable, tcol = target.split(".")
            if ttable in results:
                _orphans(
                    res, col, results[ttable].frame[tcol], f"{ttable} ({results[ttable].file})"
                )
    # stop when too much is rejected
    fatal = []
    for res in results.values():
        share = res.stats["rows_rejected"] / max(1, res.stats["rows_read"])
        if share > max_reject_share:
            fatal.extend(res.issues)
    if fatal:
        raise DataError(fatal)
    # contract check of what is kept
    for res in results.values():
        try:
            validate(res.frame, res.table)
        except (
            pa.errors.SchemaErrors
        ) as exc:  # a bug, not a data problem: parse_table should have caught it
            raise AssertionError(
                f"{res.table}: canonical frame violates the contract:\n{exc}"
            ) from None
    quality = pd.DataFrame([_quality_row(r) for r in results.values()])
    issues = [i for r in results.values() for i in r.issues]
    tables = {k: r.frame for k, r in results.items()}
    missing = [t for t in OPTIONAL_TABLES if t not in tables]
    result = IngestResult(tables, quality, issues, missing, inputs)
    if out_dir is not None:
        out = Path(out_dir)
        # results derived from the previous tables (segments, CLV, verdict, liability) are stale now
        shutil.rmtree(out / "derived", ignore_errors=True)
        for name in TABLES:
            target = out / f"{name}.parquet"
            if name in tables:
                _atomic_write_parquet(tables[name], target)
            elif target.exists():
                target.unlink()  # a table no longer provided must not linger from an earlier run
        qdir = out / "quarantine"
        for name in TABLES:
            qf = qdir / f"{name}.csv"
            if name in results and len(results[name].rejected):
                qdir.mkdir(parents=True, exist_ok=True)
                _atomic_write_text(results[name].rejected.to_csv(index=False), qf)
            elif qf.exists():
                qf.unlink()
        _atomic_write_text(quality.to_csv(index=False), out / "quality_report.csv")
        payload = {
            "run_date": str(run_date),
            "inputs": inputs,
            "missing_tables": missing,
            "tables": json.loads(quality.to_json(orient="records")),
            "issues": [i.describe() for i in issues],
        }
        _atomic_write_text(
            json.dumps(payload, indent=2, ensure_ascii=False), out / "quality_report.json"
        )
        result.out_dir = out
    return result


def load_processed(processed_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the canonical tables written by :func:`ingest`; absent optional tables are left out."""
    d = Path(processed_dir)
    tables = {}
    for name in TABLES:
        f = d / f"{name}.parquet"
        if f.exists():
            tables[name] = pd.read_parquet(f)
    missing_req = [t for t in REQUIRED_TABLES if t not in tables]
    if missing_req:
        raise DataError(
            [
                Issue(
                    str(d),
                    None,
                    [],
                    f"processed table '{t}' is missing",
                    "run notebook 01 (make report) to ingest the data first",
                )
                for t in missing_req
            ]
        )
    return tables


def not_available(table: str) -> str:
    """The standard message for an optional table that was not provided."""
    return (
        f"Not available — provide the `{table}` table ({TABLES[table].description.rstrip('.')}) "
        f"and map it in the mapping file."
    )


def ingest_from_config(cfg, run_date: dt.date | None = None) -> IngestResult:
    """Run the ingest described by a :class:`~loyalty_roi.config.WorkbookConfig`.

    For ``data.source: demo`` the synthetic exports are generated first (only
    when missing or generated with other parameters).
    """
    if cfg.data.source == "demo":
        from .synth import ensure_demo_data

        ensure_demo_data(cfg)
    elif not cfg.data.raw_path.is_dir():
        raise DataError(
            Issue(
                str(cfg.data.raw_path),
                None,
                [],
                "the raw data folder does not exist",
                "set data.raw_dir in the config to the folder with your exports",
            )
        )
    return ingest(
        cfg.data.raw_path,
        cfg.data.mapping_path,
        cfg.data.processed_path,
        salt=cfg.salt(),
        run_date=run_date,
        max_reject_share=cfg.data.max_reject_share,
        future_tolerance_days=cfg.data.future_tolerance_days,
    )


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


def monthly_coverage(transactions: pd.DataFrame) -> pd.DataFrame:
    """Receipts, returns, identified share and net revenue per calendar month.

    A gap or a sudden drop here usually means a missing export, not a business change.
    """
    t = transactions
    month = t["ts"].dt.to_period("M").dt.to_timestamp()
    g = t.assign(month=month, identified=t["customer_id"].notna()).groupby("month")
    out = g.agg(
        receipts=("transaction_id", "size"),
        returns=("is_return", "sum"),
        identified_share=("identified", "mean"),
        net_revenue=("net_amount", "sum"),
    )
    return out.reset_index()


def quality_table(result: IngestResult) -> pd.DataFrame:
    """The quality report for display: one row per table, reasons and missing values as text."""
    q = result.quality.copy()

    def fmt(d):
        return "; ".join(f"{k} ({v:,})" for k, v in d.items()) if isinstance(d, dict) and d else "—"

    q["reject_reasons"] = q["reject_reasons"].map(fmt)
    q["missing_values"] = q["missing_values"].map(fmt)
    return q.set_index("table")


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


def save_derived(df: pd.DataFrame, name: str, processed_dir: str | Path) -> Path:
    """Write a derived per-customer table (segments, CLV) next to the canonical tables, atomically."""
    path = Path(processed_dir) / "derived" / f"{name}.parquet"
    _atomic_write_parquet(df, path)
    return path


def load_derived(name: str, processed_dir: str | Path) -> pd.DataFrame | None:
    """A derived table written by an earlier notebook, or None when it has not been made."""
    path = Path(processed_dir) / "derived" / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None
