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
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import safety, sanitize
from .errors import DataError, Issue
from .parsing import (
    AmbiguousDates,
    as_text,
    detect_number_style,
    parse_bool,
    parse_date,
    parse_number,
)
from .schema import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES, coerce_canonical, pa, validate
from .sources import (
    SourceFrame,
    TableMapping,
    load_mapping,
    read_source,
    resolve_file,
    sha256_file,
)


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
    t = as_text(values)
    if kind == "email_hash":
        t = t.str.lower()
    elif kind == "phone_hash":
        t = t.str.replace(r"\D", "", regex=True)
    else:
        t = t.str.casefold().str.replace(r"\s+", " ", regex=True)
    out = [sanitize.pseudonym(v, salt) if v else None for v in t]
    return pd.Series(out, index=values.index, dtype="str")


def _first_lines(src: SourceFrame, column: str, values: list[str], n: int = 3) -> list[int]:
    t = as_text(src.df[column])
    hit = np.flatnonzero(t.isin(values).to_numpy())[:n]
    return [int(src.lines[i]) for i in hit]


def _number_style(src: SourceFrame, tm: TableMapping, num_cols: dict[str, pd.Series]) -> str:
    """The file's decimal separator: declared, or decided from unambiguous values."""
    if tm.decimal != "auto":
        return tm.decimal
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
    return style.decimal or "."


def parse_table(
    src: SourceFrame,
    tm: TableMapping,
    salt: str,
    run_date: dt.date,
    future_tolerance_days: int = 1,
    earliest_date: dt.date = dt.date(1990, 1, 1),
) -> TableResult:
    """Turn a source frame into the canonical table, quarantining bad rows.

    Raises :class:`DataError` for problems of the whole file (missing or
    ambiguous columns); row problems go to the quarantine with their reason.
    """
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
    notes: dict[str, str] = {}
    out: dict[str, pd.Series] = {}
    repaired = np.zeros(len(df), dtype=bool)
    repair_reasons: dict[str, int] = {}
    num_cols = {
        cols[c.name]: df[cols[c.name]]
        for c in spec.columns
        if c.kind in ("float", "int") and c.name in cols
    }
    decimal = _number_style(src, tm, num_cols) if num_cols else "."
    if num_cols and tm.decimal == "auto":
        notes["numbers"] = f"decimal separator '{decimal}' decided from the file's values"
    early = pd.Timestamp(earliest_date)
    fatal: list[Issue] = []
    for col in spec.columns:
        if col.name not in cols:
            continue
        s = df[cols[col.name]]
        srcname = cols[col.name]
        codes = tm.values.get(col.name)
        if col.kind in ("str",):
            t = as_text(s)
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
            fmt = tm.date_format
            try:
                v, missing, bad, dnotes = parse_date(s, fmt)
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
                    v.notna() & (v != v.dt.to_period("M").dt.to_timestamp()),
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
        if col.allowed:
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
    if fatal:
        raise DataError(fatal)
    for hcol, srccol in tm.pii.items():
        out[hcol] = pseudonymise(df[srccol], salt, hcol)
    frame = pd.DataFrame(out, index=df.index)
    notes.update(_protect_personal_text(frame, spec, salt))

    # table rules
    if tm.table == "transactions":
        disc_missing = (
            frame["discount"].isna() if "discount" in frame else pd.Series(True, index=frame.index)
        )
        if "discount" not in frame:
            frame["discount"] = 0.0
        repaired |= disc_missing.to_numpy()
        if disc_missing.any():
            repair_reasons["discount empty or not mapped: taken as 0"] = int(disc_missing.sum())
        frame["discount"] = frame["discount"].fillna(0.0)
        if "net_amount" not in frame:
            frame["net_amount"] = np.nan
        net_missing = frame["net_amount"].isna() & frame["gross_amount"].notna()
        repaired |= net_missing.to_numpy()
        if net_missing.any():
            repair_reasons["net amount empty or not mapped: gross − discount"] = int(
                net_missing.sum()
            )
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
        if fix_tier.any():
            repair_reasons["tier of a non-member cleared"] = int(fix_tier.sum())
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
    rejected = _quarantine_rows(df.loc[bad_mask], cols, tm, salt)
    rejected.insert(0, "_line", src.lines[bad_mask])
    rejected.insert(
        1, "_reasons", ["; ".join(r) for r, b in zip(rej.reasons, bad_mask, strict=True) if b]
    )
    stats = {
        "rows_read": int(len(df)),
        "rows_kept": int((~bad_mask).sum()),
        "rows_repaired": int((repaired & ~bad_mask).sum()),
        "rows_rejected": int(bad_mask.sum()),
        "repair_reasons": repair_reasons,
        "assumptions": list(notes.values()),
    }
    rejected_keys = frame.loc[bad_mask, spec.key[0]] if len(spec.key) == 1 else None
    return TableResult(
        tm.table, file, kept, rejected, rej.issues(), stats, src.lines[~bad_mask], rejected_keys
    )


def _protect_personal_text(frame: pd.DataFrame, spec, salt: str) -> dict[str, str]:
    """Pseudonymise ids that are e-mails/phones, redact contact details in free text (in place)."""
    notes = {}
    for col in spec.columns:
        if col.kind != "str" or col.allowed or col.pii or col.name not in frame:
            continue
        if col.name.endswith("_id"):
            frame[col.name], n = sanitize.pseudonymise_personal_ids(frame[col.name], salt)
            if n:
                notes[f"{col.name} personal"] = (
                    f"WARNING: {n:,} {col.name} values are e-mail addresses or phone numbers; "
                    "they were pseudonymised (use a customer number as the id)"
                )
        else:
            frame[col.name], n = sanitize.redact_text(frame[col.name], salt)
            if n:
                notes[f"{col.name} personal"] = (
                    f"{n:,} {col.name} values contained an e-mail address or phone number; "
                    "those parts were replaced by pseudonyms"
                )
    return notes


def _quarantine_rows(rows: pd.DataFrame, cols: dict[str, str], tm, salt: str) -> pd.DataFrame:
    """Rejected source rows for the quarantine file: mapped columns only, personal values hidden."""
    mapped = list(dict.fromkeys(s for c, s in cols.items() if s in rows.columns))
    q = rows[mapped].astype(object).copy()
    for c in mapped:
        text = as_text(q[c])
        q[c], _ = sanitize.redact_text(text.where(text != "", None), salt)
    return q


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


def _orphans(res: TableResult, col: str, parent: TableResult, pcol: str, target: str) -> None:
    """Quarantine rows of ``res`` whose ``col`` is not among the parent's kept ``pcol`` values.

    Rows whose parent exists but was itself quarantined are reported as such,
    naming the parent's rule, so the fix points at the cause.
    """
    f = res.frame
    vals = f[col].to_numpy(dtype=object)
    known = pd.Index(parent.frame[pcol].to_numpy(dtype=object))
    orphan = f[col].notna().to_numpy() & (known.get_indexer(vals) < 0)
    if not orphan.any():
        return
    quarantined = np.zeros(len(f), dtype=bool)
    if parent.rejected_keys is not None and len(parent.rejected_keys):
        rk = pd.Index(parent.rejected_keys.dropna().to_numpy(dtype=object)).unique()
        quarantined = orphan & (rk.get_indexer(vals) >= 0)
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


def _quality_row(res: TableResult) -> dict:
    f = res.frame
    spec = TABLES[res.table]
    dates = [c.name for c in spec.columns if c.kind in ("date", "datetime")]
    row = {
        "table": res.table,
        "file": res.file,
        **{k: v for k, v in res.stats.items() if k not in ("repair_reasons", "assumptions")},
    }
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
    row["repair_reasons"] = res.stats.get("repair_reasons", {})
    row["assumptions"] = res.stats.get("assumptions", [])
    reasons: dict[str, int] = defaultdict(int)
    for r in res.rejected.get("_reasons", pd.Series(dtype=str)):
        for part in str(r).split("; "):
            reasons[part] += 1
    row["reject_reasons"] = dict(reasons)
    row["missing_values"] = {c: int(n) for c, n in f.isna().sum().items() if n}
    return row


def _atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    safety.atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def ingest(
    raw_dir: str | Path,
    mapping: str | Path,
    out_dir: str | Path | None,
    salt: str,
    run_date: dt.date | None = None,
    max_reject_share: float = 0.05,
    future_tolerance_days: int = 1,
    earliest_date: dt.date = dt.date(1990, 1, 1),
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
    safety.protect(raw_dir)  # nothing below may write inside the raw folder
    if out_dir is not None:
        safety.check_writable(out_dir)
    run_date = run_date or dt.date.today()
    mapping_name = Path(mapping).name
    maps = load_mapping(mapping)
    problems = [
        Issue(
            mapping_name,
            None,
            [],
            f"required table '{t}' is not in the mapping",
            f"add a '{t}:' entry with its source file",
        )
        for t in REQUIRED_TABLES
        if t not in maps
    ]
    results: dict[str, TableResult] = {}
    inputs: dict[str, str] = {}
    for tname, tm in maps.items():  # every table is read, so one run lists every problem
        try:
            path = resolve_file(raw_dir, tm, mapping_name)
            src = read_source(path, tm)
            inputs[tm.file] = sha256_file(path)
            results[tname] = parse_table(
                src, tm, salt, run_date, future_tolerance_days, earliest_date
            )
        except DataError as exc:
            problems.extend(exc.issues)
        except Exception as exc:  # never a traceback for an input: locate it and say so
            problems.append(
                Issue(
                    str(tm.file),
                    None,
                    [],
                    f"the {tname} export could not be read ({type(exc).__name__})",
                    "check that it is a complete export in the format the mapping declares; "
                    "if it is, report this as a bug with the file's header",
                )
            )
    if problems:
        raise DataError(problems)
    # orphan references (after every table has been parsed)
    for tname, res in results.items():
        for col, target in TABLES[tname].references.items():
            ttable, tcol = target.split(".")
            if ttable in results:
                parent = results[ttable]
                _orphans(res, col, parent, tcol, f"{ttable} ({parent.file})")
    # stop when too much is rejected, or nothing usable is left
    fatal = []
    for res in results.values():
        share = res.stats["rows_rejected"] / max(1, res.stats["rows_read"])
        if share > max_reject_share:
            fatal.extend(res.issues)
    for tname in REQUIRED_TABLES:
        res = results[tname]
        if res.stats["rows_kept"] == 0 and not any(i in fatal for i in res.issues):
            fatal.append(
                Issue(
                    res.file,
                    None,
                    [],
                    f"no {tname} row passed the checks ({res.stats['rows_rejected']:,} quarantined)",
                    "fix the quarantined rows (see the reasons above); the report needs data",
                )
            )
            fatal.extend(i for i in res.issues if i not in fatal)
    tx = results["transactions"].frame
    if len(tx) and not (~tx["is_return"].astype(bool)).any():
        fatal.append(
            Issue(
                results["transactions"].file,
                None,
                [],
                "every kept transaction is a return: there are no sales to report on",
                "check the return flag's value codes in the mapping",
            )
        )
    if fatal:
        raise DataError(fatal)
    # contract check of what is kept
    for res in results.values():
        try:
            validate(res.frame, res.table)
        except pa.errors.SchemaErrors as exc:  # a bug: parse_table should have caught it
            checks = sorted({str(c) for c in exc.failure_cases.get("check", [])})[:3]
            raise DataError(
                Issue(
                    res.file,
                    None,
                    [],
                    f"the {res.table} table passed the row checks but fails the contract "
                    f"({', '.join(checks)}) — this is a bug in the workbook",
                    "report it with this message; meanwhile remove the rows the check names",
                )
            ) from None
    quality = pd.DataFrame([_quality_row(r) for r in results.values()])
    issues = [i for r in results.values() for i in r.issues]
    tables = {k: r.frame for k, r in results.items()}
    missing = [t for t in OPTIONAL_TABLES if t not in tables]
    result = IngestResult(tables, quality, issues, missing, inputs)
    if out_dir is not None:
        _write_processed(Path(out_dir), results, quality, issues, missing, inputs, run_date)
        result.out_dir = Path(out_dir)
    return result


def _write_processed(out, results, quality, issues, missing, inputs, run_date) -> None:
    """Canonical Parquet, quarantine CSVs and the quality report, each written atomically."""
    tables = {k: r.frame for k, r in results.items()}
    # results derived from the previous tables (segments, CLV, verdict, liability) are stale now
    safety.check_writable(out / "derived")
    shutil.rmtree(out / "derived", ignore_errors=True)
    for name in TABLES:
        target = out / f"{name}.parquet"
        if name in tables:
            _atomic_write_parquet(tables[name], target)
        else:  # a table no longer provided must not linger from an earlier run
            safety.remove(target)
    qdir = out / "quarantine"
    for name in TABLES:
        qf = qdir / f"{name}.csv"
        if name in results and len(results[name].rejected):
            text = sanitize.inert_frame(results[name].rejected).to_csv(index=False)
            safety.atomic_write_text(text, qf)
        else:
            safety.remove(qf)
    safety.atomic_write_text(
        sanitize.inert_frame(quality).to_csv(index=False), out / "quality_report.csv"
    )
    payload = {
        "run_date": str(run_date),
        "inputs": inputs,
        "missing_tables": missing,
        "tables": json.loads(quality.to_json(orient="records")),
        "issues": [i.describe() for i in issues],
    }
    safety.atomic_write_text(
        json.dumps(payload, indent=2, ensure_ascii=False), out / "quality_report.json"
    )


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


def ingest_from_config(
    cfg, run_date: dt.date | None = None, out_dir: str | Path | None = "config"
) -> IngestResult:
    """Run the ingest described by a :class:`~loyalty_roi.config.WorkbookConfig`.

    For ``data.source: demo`` the synthetic exports are generated first (only
    when missing or generated with other parameters, and only into a folder
    the generator owns).  The processed-data lock is held throughout, so a
    validation and a report never write the same folder at once.

    Parameters
    ----------
    out_dir
        ``"config"`` (default): ``data.processed_dir``; ``None``: write nothing
        (``loyalty-roi validate``); or another folder.
    """
    from .runlock import processed_lock

    processed = cfg.data.processed_path
    target = processed if out_dir == "config" else out_dir
    lock = processed_lock(processed).acquire()  # LockedError (exit 3) when another run writes
    try:
        if cfg.data.source == "demo":  # only into an empty or generator-marked folder
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
            target,
            salt=cfg.salt(),
            run_date=run_date,
            max_reject_share=cfg.data.max_reject_share,
            future_tolerance_days=cfg.data.future_tolerance_days,
            earliest_date=cfg.data.earliest_date,
        )
    finally:
        lock.release()


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
    if "repair_reasons" in q:
        q["repair_reasons"] = q["repair_reasons"].map(fmt)
    if "assumptions" in q:
        q["assumptions"] = q["assumptions"].map(
            lambda a: "; ".join(a) if isinstance(a, (list, tuple)) and len(a) else "—"
        )
    return q.set_index("table")


def assumptions_markdown(result: IngestResult) -> str:
    """Every assumption, decision and repair of the ingest, as a Markdown list (warnings first)."""
    items = []
    for r in result.quality.itertuples():
        for note in getattr(r, "assumptions", None) or []:
            items.append((not note.startswith("WARNING"), f"`{r.table}`: {note}"))
        for reason, n in (getattr(r, "repair_reasons", None) or {}).items():
            items.append((True, f"`{r.table}`: {n:,} rows repaired — {reason}"))
    if not items:
        return "No assumption was needed: every value was read as written."
    return "\n".join(f"- {text}" for _, text in sorted(items, key=lambda x: x[0]))


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
