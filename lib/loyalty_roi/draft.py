"""``loyalty-roi draft-mapping DIR``: a commented mapping drafted from a folder of exports.

Each file (each sheet of a workbook) is read the way ingest reads it; its
canonical table is guessed from the file name and headers, and each canonical
column from header words in English, Danish, Swedish, Norwegian, Dutch and
German, checked against the values (dates look like dates, amounts like
numbers, yes/no columns have two values).  Every guess carries a confidence;
what could not be placed is marked ``TODO`` with what to fill in.  Value codes
(J/N, Butik/Online, Sølv/Guld, campaign types) are drafted from the distinct
values.  The draft is a starting point to read, then ``validate``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .draft_words import CODE_WORDS, FILE_WORDS, PII_WORDS, TIME_WORDS, WORDS
from .errors import DataError
from .mapping import TableMapping
from .parsing import FALSE_WORDS, TRUE_WORDS, as_text, detect_date_format
from .schema import TABLES
from .sources import read_source


def norm(text) -> str:
    """Lower case, accents folded (ø→o, ä→a, ß→ss), letters and digits only."""
    t = str(text).lower().replace("ß", "ss").replace("ø", "o").replace("æ", "ae")
    t = unicodedata.normalize("NFKD", t)
    return re.sub(r"[^a-z0-9]", "", "".join(ch for ch in t if not unicodedata.combining(ch)))


@dataclass
class Guess:
    """The drafter's guess for one canonical column: source column, confidence and why."""

    source: str | None
    confidence: str  # high / medium / low / none
    why: str
    values: dict[str, str] = field(default_factory=dict)
    expr: str | None = None


def _header_score(header: str, words: list[str]) -> int:
    h = norm(header)
    if not h:
        return 0
    if h in words:
        return 3
    if any(w and len(w) >= 3 and (h.startswith(w) or h.endswith(w)) for w in words):
        return 2
    if any(w and len(w) >= 4 and w in h for w in words):
        return 1
    return 0


def _kind_ok(s: pd.Series, kind: str) -> bool:
    """Whether the (sampled) values look like the canonical kind."""
    t = as_text(s)
    t = t[t != ""].head(500)
    if pd.api.types.is_datetime64_any_dtype(s):
        return kind in ("date", "datetime")
    if not len(t):
        return True
    if kind in ("date", "datetime"):
        try:
            detect_date_format(t)
            return True
        except Exception:
            return False
    if kind in ("float", "int"):
        return t.str.fullmatch(r"[+-]?[\d.,' \u00a0]+").mean() > 0.95
    if kind == "bool":
        return t.nunique() <= 3
    return True


def _codes(s: pd.Series, target: str) -> dict[str, str]:
    """Source code → canonical value for the distinct values of a coded column."""
    t = as_text(s)
    vals = sorted(v for v in t.unique() if v)[:30]
    out = {}
    if target == "bool":
        for v in vals:
            low = v.lower()
            if low in TRUE_WORDS or low in FALSE_WORDS:
                continue  # read without codes
            if low[:1] in ("j", "y", "s"):
                out[v] = "true"
            elif low[:1] == "n":
                out[v] = "false"
        return out
    words = CODE_WORDS[target]
    for v in vals:
        nv = norm(v)
        for canon, ws in words.items():
            if nv == canon or nv in ws or any(len(w) >= 4 and w in nv for w in ws):
                if v != canon:
                    out[v] = canon
                break
    return out


def _table_of(name: str, headers: list[str]) -> tuple[str | None, int]:
    best, score = None, 0
    stem = norm(name)
    for t, cols in WORDS.items():
        s = sum(max((_header_score(h, ws) for h in headers), default=0) for ws in cols.values())
        s += 6 if any(w in stem for w in FILE_WORDS[t]) else 0
        if s > score:
            best, score = t, s
    return best, score


def guess_columns(table: str, df: pd.DataFrame) -> dict[str, Guess]:
    """The best source column for each canonical column of ``table``, with a confidence."""
    spec = TABLES[table]
    used: set[str] = set()
    out: dict[str, Guess] = {}
    headers = [str(c) for c in df.columns]
    for col in spec.columns:
        if col.pii:
            continue
        words = WORDS[table].get(col.name, [])
        ranked = sorted(
            ((_header_score(h, words), h) for h in headers if h not in used),
            key=lambda x: -x[0],
        )
        pick = next(((sc, h) for sc, h in ranked if sc and _kind_ok(df[h], col.kind)), None)
        if pick is None:
            out[col.name] = Guess(None, "none", "no column with a matching name and values")
            continue
        sc, h = pick
        used.add(h)
        conf = {3: "high", 2: "medium", 1: "low"}[sc]
        g = Guess(h, conf, f"header '{h}'" + (" and its values" if col.kind != "str" else ""))
        if col.kind == "bool":
            g.values = _codes(df[h], "bool")
        elif col.allowed:
            target = {"type": "campaign_type" if table == "campaigns" else "type"}.get(
                col.name, "tier" if col.name in ("tier", "from_tier", "to_tier") else col.name
            )
            if target in CODE_WORDS:
                g.values = _codes(df[h], target)
        out[col.name] = g
    return out


def _yaml_value(v) -> str:
    s = str(v)
    return f"'{s}'" if re.search(r"[:#{}\[\],&*?|<>=!%@`'\"]|^\s|\s$", s) or s == "" else s


def _read(path: Path) -> list[tuple[str, str | int, pd.DataFrame]]:
    """(file, sheet, frame) for every table-like thing in a file."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        sheets = pd.ExcelFile(path).sheet_names
        out = []
        for sh in sheets:
            tm = TableMapping(table="customers", file=path.name, sheet=sh)
            out.append((path.name, sh, read_source(path, tm).df))
        return out
    tm = TableMapping(table="customers", file=path.name)
    return [(path.name, 0, read_source(path, tm).df)]


def draft_mapping(folder: str | Path) -> str:
    """A commented mapping YAML for the exports in ``folder``."""
    folder = Path(folder)
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in (".csv", ".txt", ".tsv", ".parquet", ".xlsx", ".xlsm")
    )
    lines = [
        f"# Draft mapping for the exports in {folder.name}/ — written by `loyalty-roi draft-mapping`.",
        "# Confidence per column: high (header word), medium (part of a header), low (weak match).",
        "# Read it, fix every TODO, then run `loyalty-roi validate` (docs/your-data.md: Bring your own data).",
        "tables:",
    ]
    taken: dict[str, tuple[int, list[str]]] = {}
    skipped = []
    for path in files:
        try:
            parts = _read(path)
        except DataError as exc:
            skipped.append(f"{path.name}: {exc.issues[0].rule}")
            continue
        for name, sheet, df in parts:
            label = f"{Path(name).stem} {sheet}" if sheet else Path(name).stem
            table, score = _table_of(label, list(map(str, df.columns)))
            if table is None or score < 4:
                skipped.append(f"{name}{f' [{sheet}]' if sheet else ''}: no table recognised")
                continue
            if table in taken and taken[table][0] >= score:
                skipped.append(f"{name}: also looks like {table}; the better match was kept")
                continue
            taken[table] = (score, _table_block(table, name, sheet, df))
    for table in TABLES:
        if table in taken:
            lines.extend(taken[table][1])
    missing = [t for t in ("customers", "transactions") if t not in taken]
    for t in missing:
        lines.append(f"  # TODO: no export looks like the required '{t}' table — add its file here")
    for s in skipped:
        lines.append(f"# not used: {s}")
    return "\n".join(lines) + "\n"


def _table_block(table: str, name: str, sheet, df: pd.DataFrame) -> list[str]:
    spec = TABLES[table]
    guesses = guess_columns(table, df)
    out = [f"  {table}:", f"    file: {_yaml_value(name)}"]
    if sheet:
        out.append(f"    sheet: {_yaml_value(sheet)}")
    key = spec.key[0] if len(spec.key) == 1 else None
    if key and guesses.get(key) and guesses[key].source and table == "transactions":
        ids = as_text(df[guesses[key].source])
        shared = ids.duplicated(keep=False).mean()
        if shared >= 0.05:
            out.append(
                f"    aggregate: {{by: {_yaml_value(guesses[key].source)}}}   "
                f"# {shared:.0%} of rows share a receipt id: line items summed per receipt"
            )
    if table == "transactions":
        _line_item_arithmetic(guesses, df)
    out.append("    columns:")
    values = {}
    for col in spec.columns:
        if col.pii:
            continue
        g = guesses[col.name]
        if g.expr:
            out.append(f'      {col.name}: {{expr: "{g.expr}"}}   # {g.confidence}: {g.why}')
            continue
        if g.source:
            out.append(f"      {col.name}: {_yaml_value(g.source)}   # {g.confidence}: {g.why}")
            if g.values:
                values[col.name] = g.values
            continue
        out.extend(_fallback(table, col, guesses, df))
    if values:
        out.append("    values:")
        for col, codes in values.items():
            body = ", ".join(f"{_yaml_value(k)}: {v}" for k, v in codes.items())
            out.append(f"      {col}: {{{body}}}")
    pii = {}
    for h in map(str, df.columns):
        for hashcol, words in PII_WORDS.items():
            if hashcol in spec.names and hashcol not in pii and _header_score(h, words) >= 2:
                pii[hashcol] = h
    if pii:
        out.append("    pii:   # direct identifiers: replaced by salted hashes on ingest")
        out.extend(f"      {k}: {_yaml_value(v)}" for k, v in pii.items())
    return out


def _sql_name(h: str) -> str:
    return h if re.fullmatch(r"[a-z_][a-z0-9_]*", h) else '"' + h.replace('"', '""') + '"'


def _line_item_arithmetic(guesses: dict[str, Guess], df: pd.DataFrame) -> None:
    """Date and time in two columns; discounts in several; amounts as paid without gross."""
    headers = list(map(str, df.columns))
    ts = guesses["ts"]
    times = [h for h in headers if _header_score(h, TIME_WORDS) >= 2 and h != ts.source]
    dates = [
        h
        for h in headers
        if _header_score(h, WORDS["transactions"]["ts"]) >= 2
        and as_text(df[h]).str.fullmatch(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}").mean() > 0.9
    ]
    t_only = [
        h for h in times if as_text(df[h]).str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?").mean() > 0.9
    ]
    ts_is_time = (
        ts.source and as_text(df[ts.source]).str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?").mean() > 0.9
    )
    if ts_is_time:
        t_only.append(ts.source)
        dates = [d for d in dates if d != ts.source]
    if t_only and dates:
        d, t = dates[0], t_only[0]
        guesses["ts"] = Guess(
            None,
            "medium",
            f"date in '{d}', time of day in '{t}'",
            expr=f"{_sql_name(d)} || ' ' || {_sql_name(t)}",
        )
    discs = [h for h in headers if _header_score(h, WORDS["transactions"]["discount"]) >= 2]
    if len(discs) > 1:
        guesses["discount"] = Guess(
            None,
            "medium",
            f"{len(discs)} discount columns added up",
            expr=" + ".join(map(_sql_name, discs)),
        )
    net = guesses["net_amount"].source
    if guesses["gross_amount"].source is None and net and discs:
        guesses["gross_amount"] = Guess(
            None,
            "medium",
            f"'{net}' is the amount paid: gross = paid + discounts",
            expr=" + ".join(map(_sql_name, [net, *discs])),
        )


def _fallback(table: str, col, guesses: dict[str, Guess], df: pd.DataFrame) -> list[str]:
    """What to write for a canonical column no source column matched."""
    n = col.name
    if table == "customers" and n == "is_member" and guesses["enrolled_at"].source:
        return [
            "      is_member: {value: true}   # TODO check: no member flag but enrollment dates — "
            "does this file list members only?"
        ]
    if table == "transactions" and n == "channel":
        return [
            "      channel: {value: store}   # TODO check: no channel column — all sales in stores?"
        ]
    if table == "transactions" and n in ("discount", "net_amount", "is_return"):
        return [
            f"      # {n}: not found — "
            + {
                "discount": "taken as 0",
                "net_amount": "computed as gross − discount",
                "is_return": "rows with a negative amount count as returns",
            }[n]
        ]
    if col.nullable or not col.required:
        return [f"      # {n}: not found — left empty (optional)"]
    return [
        f"      # TODO {n}: no column found — name the source column, or give "
        "{value: ...} / {expr: ...} (see docs/your-data.md)"
    ]
