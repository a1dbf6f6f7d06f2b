"""The mapping file: which export holds which canonical table, and how to read it.

A mapping (YAML) names, per canonical table, the source file (inside the raw
folder — paths that leave it, symlinks included, are refused), its format, and
the column and code translations.  Every problem of the file is reported at
once, each naming the table and key.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError, Issue
from .parsing import bool_word
from .schema import TABLES


@dataclass
class TableMapping:
    """How one canonical table is read from one source file."""

    table: str
    file: str | None = None
    query: str | None = None  # source: database — a SELECT returning the table
    source_table: str | None = None  # source: database — schema.table read whole
    derive_from: str | None = None  # "transactions": customers built from the receipts
    format: str = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    decimal: str = "auto"
    thousands: str | None = None
    date_format: str | None = None
    sheet: str | int = 0
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source
    # canonical -> {"value": v} | {"expr": sql} | {"column": source, "default": v}
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    aggregate: dict[str, Any] | None = None  # {"by": key column, "sum": [canonical columns]}
    pii: dict[str, str] = field(default_factory=dict)  # canonical hash column -> source
    values: dict[str, dict[str, Any]] = field(default_factory=dict)


_CHOICES = {
    "format": ("auto", "csv", "parquet", "excel"),
    "decimal": ("auto", ",", "."),
    "thousands": (None, "", ".", ",", " ", "'", "\u00a0"),
}


def _mapping_problems(tname: str, spec: dict) -> list[str]:
    """Everything wrong with one table entry of a mapping, in words."""
    problems = []
    allowed_keys = set(TableMapping.__dataclass_fields__) - {"table", "derived"}
    unknown = set(spec) - allowed_keys
    if unknown:
        problems.append(
            f"table '{tname}': unknown keys {sorted(map(str, unknown))} "
            f"(allowed: {', '.join(sorted(allowed_keys))})"
        )
    where = [k for k in ("file", "query", "source_table", "derive_from") if spec.get(k) is not None]
    if spec.get("derive_from") is not None and (
        tname != "customers" or spec["derive_from"] != "transactions"
    ):
        problems.append(
            f"table '{tname}': derive_from is only for 'customers: {{derive_from: transactions}}'"
        )
    elif len(where) != 1 or not isinstance(spec[where[0]], str) or not spec[where[0]].strip():
        problems.append(
            f"table '{tname}' needs exactly one of 'file' (a source file, relative to the raw "
            "data folder), 'query' or 'source_table' (a database table or SELECT), or for "
            "customers 'derive_from: transactions'"
        )
    elif spec.get("source_table") is not None and not re.fullmatch(
        r"[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?", spec["source_table"]
    ):
        problems.append(
            f"table '{tname}': source_table {spec['source_table']!r} is not a table name "
            "(schema.table) — use 'query' for anything else"
        )
    for key, choices in _CHOICES.items():
        if key in spec and spec[key] not in choices:
            shown = ", ".join(repr(c) for c in choices if c)
            problems.append(f"table '{tname}': {key} {spec[key]!r} is not one of {shown}")
    for key in ("columns", "pii", "values"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            problems.append(f"table '{tname}': '{key}' must be a mapping (name: value per line)")
    if problems:
        return problems
    table = TABLES[tname]
    bad_cols = set(spec.get("columns") or {}) - set(table.names)
    if bad_cols:
        problems.append(
            f"table '{tname}': {sorted(map(str, bad_cols))} are not canonical columns "
            f"(map onto: {', '.join(table.names)})"
        )
    pii_cols = {c.name for c in table.columns if c.pii}
    bad_pii = set(spec.get("pii") or {}) - pii_cols
    if bad_pii:
        problems.append(
            f"table '{tname}': pii {sorted(map(str, bad_pii))} are not hash columns "
            f"(use: {', '.join(sorted(pii_cols)) or 'none in this table'})"
        )
    for col, rule in (spec.get("columns") or {}).items():
        if isinstance(rule, dict) and col in table.names:
            problems.extend(_rule_problems(tname, table.column(col), rule))
    problems.extend(_aggregate_problems(tname, spec.get("aggregate")))
    for col, codes in (spec.get("values") or {}).items():
        if col not in table.names:
            problems.append(f"table '{tname}': values for '{col}', which is not a canonical column")
            continue
        if not isinstance(codes, dict):
            problems.append(f"table '{tname}': values.{col} must map source codes to values")
            continue
        c = table.column(col)
        for code, target in codes.items():
            if c.kind == "bool" and bool_word(target) is None:
                problems.append(
                    f"table '{tname}': values.{col}.{code} → {target!r} is not yes/no "
                    "(write true or false)"
                )
            elif c.allowed and str(target) not in c.allowed:
                problems.append(
                    f"table '{tname}': values.{col}.{code} → {target!r} is not allowed "
                    f"(use one of {', '.join(c.allowed)})"
                )
    return problems


_RULE_HELP = (
    "write a source column name, or {value: <constant>}, {expr: <SQL expression>}, "
    "or {column: <source column>, default: <value for empty cells>}"
)


def _rule_problems(tname: str, col, rule: dict) -> list[str]:
    """Problems of one column rule: a constant, an expression or a column with a default."""
    where = f"table '{tname}': columns.{col.name}"
    keys = set(rule)
    if keys not in ({"value"}, {"expr"}, {"column", "default"}, {"column"}):
        return [f"{where} {dict(rule)!r} is not a column rule — {_RULE_HELP}"]
    if "expr" in rule:
        import duckdb

        expr = rule["expr"]
        if not isinstance(expr, str) or not expr.strip():
            return [f"{where}: expr must be a non-empty SQL expression"]
        try:
            duckdb.SQLExpression(expr)
        except duckdb.Error as exc:
            return [
                f"{where}: expr {expr!r} is not one SQL expression ({str(exc).splitlines()[0]})"
            ]
        return []
    if "column" in rule and not isinstance(rule["column"], str):
        return [f"{where}: column must be the name of a source column"]
    value = rule.get("value", rule.get("default"))
    if value is None:
        return [] if "column" in rule else [f"{where}: value must not be empty"]
    if col.kind == "bool" and bool_word(value) is None:
        return [f"{where}: {value!r} is not yes/no (write true or false)"]
    if col.allowed and str(value) not in col.allowed:
        return [f"{where}: {value!r} is not allowed (use one of {', '.join(col.allowed)})"]
    if col.kind in ("float", "int") and not isinstance(value, (int, float)):
        return [f"{where}: {value!r} is not a number"]
    return []


def _aggregate_problems(tname: str, agg) -> list[str]:
    if agg is None:
        return []
    table = TABLES[tname]
    if len(table.key) != 1:
        return [f"table '{tname}': aggregate needs a table with a one-column key"]
    if not isinstance(agg, dict) or set(agg) - {"by", "sum"}:
        return [
            f"table '{tname}': aggregate must be {{by: <{table.key[0]} column>, "
            "sum: [canonical columns to add up]}"
        ]
    nums = [c.name for c in table.columns if c.kind in ("float", "int")]
    bad = [c for c in agg.get("sum") or [] if c not in nums]
    if bad:
        return [f"table '{tname}': aggregate.sum {bad} — only numeric columns: {', '.join(nums)}"]
    return []


def load_mapping(path: str | Path) -> dict[str, TableMapping]:
    """Read a mapping YAML (see ``data/raw/demo/mapping.yml`` and docs/your-data.md).

    Every problem of the file is reported at once, each naming the table and key.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise DataError(
            Issue(
                name,
                None,
                [],
                f"mapping file {path} does not exist"
                + (" (it is a folder)" if path.is_dir() else ""),
                "create it (see docs/your-data.md) or set data.mapping in the config",
            )
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise DataError(
            Issue(
                name,
                None,
                [line + 1] if line is not None else [],
                f"not valid YAML: {exc}",
                "fix the YAML syntax (indentation, colons, quotes) and save as UTF-8",
            )
        ) from None
    tables = doc.get("tables") if isinstance(doc, dict) else None
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
    out, problems = {}, []
    for tname, spec in tables.items():
        if tname not in TABLES:
            close = difflib.get_close_matches(str(tname), list(TABLES), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(TABLES)}"
            problems.append(f"unknown table '{tname}' — {hint}")
            continue
        if not isinstance(spec, dict):
            problems.append(
                f"table '{tname}' must be a mapping with at least 'file: <name>' "
                f"(got {type(spec).__name__} {str(spec)[:40]!r})"
            )
            continue
        found = _mapping_problems(tname, spec)
        if found:
            problems.extend(found)
            continue
        spec = dict(spec)
        columns = spec.get("columns") or {}
        spec["columns"], spec["derived"] = {}, {}
        for k, v in columns.items():
            if not isinstance(v, dict):
                spec["columns"][k] = str(v)
            elif set(v) == {"column"}:  # {column: X} alone is a plain column
                spec["columns"][k] = str(v["column"])
            else:
                spec["derived"][k] = v
        if spec.get("aggregate") is not None:
            table = TABLES[tname]
            nums = [c.name for c in table.columns if c.kind == "float"]
            spec["aggregate"] = {
                "by": str(spec["aggregate"].get("by") or table.key[0]),
                "sum": list(spec["aggregate"].get("sum") or nums),
            }
        spec["pii"] = {k: str(v) for k, v in (spec.get("pii") or {}).items()}
        spec["values"] = {
            k: {str(a): b for a, b in (v or {}).items()}
            for k, v in (spec.get("values") or {}).items()
        }
        out[tname] = TableMapping(table=tname, **spec)
    if problems:
        raise DataError(
            [
                Issue(name, None, [], p, "correct the mapping (see docs/your-data.md)")
                for p in problems
            ]
        )
    return out


def resolve_file(raw_dir: Path, tm: TableMapping, mapping_name: str) -> Path:
    """The source file of ``tm``; it must lie inside ``raw_dir`` (symlinks resolved)."""
    root = raw_dir.resolve()
    target = (raw_dir / tm.file).resolve()
    if Path(tm.file).is_absolute() or (target != root and root not in target.parents):
        raise DataError(
            Issue(
                mapping_name,
                None,
                [],
                f"table '{tm.table}': file '{tm.file}' lies outside the raw data folder {raw_dir}",
                "put the export inside data.raw_dir and name it relative to that folder "
                "(no '..', no absolute path, no link that leads out)",
            )
        )
    return target
