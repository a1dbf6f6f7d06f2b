"""Large exports in blocks: a 132M-row export ingested without holding it in memory.

An export with more rows than ``block_rows`` (Parquet: from its metadata; CSV:
estimated from its size) is read and parsed block by block with the same
:func:`~loyalty_roi.ingest.parse.parse_table` rules as a whole file; each
block's kept rows are appended to one Parquet file, its quarantined rows and
issues are gathered with their source lines.  Rules that span blocks:

- **number style and date formats** are fixed by the first block whose values
  decide them; later blocks are read in that style, so a value in the other
  style is quarantined as in a whole file;
- **references** (orphans) are checked per block against the parent tables,
  which are parsed before (only tables no other table refers to are read in
  blocks);
- **repeated keys** are checked per block, then across blocks in DuckDB over
  the written file: the first row in file order is kept, as in a whole file.
  One difference: a row repeating the key of a row quarantined in an *earlier
  block* is kept (a whole file would quarantine it as a duplicate).

Line-item exports (mapping ``aggregate``), Excel files, UTF-16 files and
database tables are read whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .. import memory
from ..errors import DataError, Issue
from ..schema import TABLES
from ..sources import (
    _UTF8_MULTIBYTE,
    SourceFrame,
    _decode,
    check_file,
    csv_header,
    no_rows_issue,
    parse_csv_text,
    source_format,
)
from . import rules
from .parse import TableResult, parse_table
from .quality import frame_facts, merge_facts

BLOCK_ROWS = 2_000_000  # rows per block: about 1.5 GiB while a block of receipts is parsed
_REFERENCED = {t.split(".")[0] for spec in TABLES.values() for t in spec.references.values()}


def streamable(path: Path, tm, block_rows: int = BLOCK_ROWS) -> bool:
    """Whether this export is read in blocks: a large CSV or Parquet file no table refers to."""
    if tm.file is None or tm.aggregate is not None or tm.table in _REFERENCED:
        return False
    if not path.is_file() or path.stat().st_size == 0:
        return False  # read_source names the problem
    fmt = source_format(path, tm)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows > block_rows
        except Exception:  # read_source names the problem
            return False
    if fmt != "csv":
        return False
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 cannot be cut at a newline byte
    per_line = len(head) / max(1, head.count(b"\n"))
    return path.stat().st_size / per_line > block_rows


def iter_blocks(path: Path, tm, block_rows: int = BLOCK_ROWS) -> Iterator[SourceFrame]:
    """The export as source frames of about ``block_rows`` rows, with physical line numbers."""
    check_file(path, tm)
    blocks = _parquet_blocks if source_format(path, tm) == "parquet" else _csv_blocks
    n = 0
    for src in blocks(path, tm, block_rows):
        n += len(src.df)
        if len(src.df):
            yield src
    if n == 0:
        raise no_rows_issue(path.name, tm)


def _parquet_blocks(path: Path, tm, block_rows: int) -> Iterator[SourceFrame]:
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=block_rows)
        offset = 0
        for batch in batches:
            df = batch.to_pandas(split_blocks=True)
            lines = np.arange(offset + 1, offset + len(df) + 1)
            offset += len(df)
            yield SourceFrame(df, lines, path.name, {"format": "parquet", "row_numbering": "row"})
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises several types
        raise DataError(
            Issue(
                path.name,
                None,
                [],
                f"not a readable Parquet file ({type(exc).__name__})",
                "re-export the file as Parquet, or as CSV and change 'file'",
            )
        ) from None


def _record_chunks(f, size: int) -> Iterator[bytes]:
    """The file's bytes in chunks of about ``size``, each ending where a record ends.

    A chunk ends after a newline with an even number of quote characters before
    it, so a quoted field with line breaks is never cut.
    """
    carry = b""
    while True:
        buf = f.read(size)
        if not buf:
            if carry:
                yield carry
            return
        data = carry + buf
        cut = data.rfind(b"\n") + 1
        while cut > 0 and data.count(b'"', 0, cut) % 2:
            cut = data.rfind(b"\n", 0, cut - 1) + 1
        if cut == 0:  # no record ends in what was read: read on
            carry = data
            continue
        yield data[:cut]
        carry = data[cut:]


def _csv_blocks(path: Path, tm, block_rows: int) -> Iterator[SourceFrame]:
    name = path.name
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        f.seek(0)
        size = max(1 << 16, int(len(head) / max(1, head.count(b"\n")) * block_rows))
        enc = delim = header = None
        offset = 0  # physical lines before the chunk
        for chunk in _record_chunks(f, size):
            if enc is None:
                text, enc = _decode(chunk, name, tm.encoding)
                delim, _ = csv_header(text, name, tm)
                header = next(ln for ln in text.splitlines() if ln.strip())
                df, lines = parse_csv_text(text, delim, name, tm)
                enc = "utf-8" if enc == "utf-8-sig" else enc
            else:
                text = header + "\n" + _decode_more(chunk, enc, name, offset)
                df, lines = parse_csv_text(text, delim, name, tm, line_offset=offset - 1)
            offset += chunk.count(b"\n")
            meta = {"format": "csv", "encoding": enc, "delimiter": delim, "row_numbering": "line"}
            yield SourceFrame(df, lines, name, meta)


def _decode_more(chunk: bytes, enc: str, name: str, offset: int) -> str:
    """A later chunk in the encoding the first one was read in; a mix is an error."""
    bad = None
    try:
        text = chunk.decode(enc)
        if enc in ("cp1252", "latin-1") and (m := _UTF8_MULTIBYTE.search(chunk)):
            bad = m.start()
    except UnicodeDecodeError as exc:
        bad = exc.start
    if bad is None:
        return text
    line = offset + chunk.count(b"\n", 0, bad) + 1
    raise DataError(
        Issue(
            name,
            None,
            [line],
            f"mixed encodings: the file starts in {enc} but line {line} is not",
            "re-export the whole file in one encoding (UTF-8 preferred)",
        )
    )


def parse_blocks(
    path: Path,
    tm,
    parse_args: tuple,
    staging: Path,
    check: Callable[[TableResult], None],
    block_rows: int = BLOCK_ROWS,
) -> TableResult:
    """Parse an export block by block into ``staging``; the result's rows stay in that file.

    ``parse_args`` are :func:`parse_table`'s arguments after the mapping (salt,
    run date, future tolerance, earliest date); ``check(block)`` applies the
    rules that need other tables (orphans, the contract) to each parsed block.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    staging.mkdir(parents=True, exist_ok=True)
    target = staging / f".{tm.table}.blocks.parquet"
    writer = schema = merged = facts = None
    formats: dict = {}
    lines: list[np.ndarray] = []
    try:
        for src in iter_blocks(path, tm, block_rows):
            res = parse_table(src, tm, *parse_args, formats=formats)
            formats = {
                "decimal": formats.get("decimal") or res.stats["formats"]["decimal"],
                "dates": {**res.stats["formats"]["dates"], **formats.get("dates", {})},
            }
            check(res)
            table = pa.Table.from_pandas(res.frame, preserve_index=False)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(target, schema)
            writer.write_table(table.cast(schema))
            facts = merge_facts(facts, frame_facts(res.frame, tm.table))
            lines.append(res.lines.astype(np.int64))
            res.frame = table = None
            merged = _merge(merged, res)
            memory.release_arrow_memory()
    finally:
        if writer is not None:
            writer.close()
    merged.path, merged.facts, merged.lines = target, facts, np.concatenate(lines)
    _repeated_keys(merged)
    merged.lines = np.empty(0, dtype=np.int64)  # only the repeated keys needed them
    return merged


_NUMBER = re.compile(r"\d[\d,]*")


def _merge_note(a: str, b: str) -> str:
    """One note for two blocks: the same words, the counts (first number) added."""
    na, nb = _NUMBER.search(a), _NUMBER.search(b)
    if a == b or not na or not nb or _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return a
    total = int(na.group().replace(",", "")) + int(nb.group().replace(",", ""))
    return a[: na.start()] + f"{total:,}" + a[na.end() :]


def _issue_key(i: Issue) -> tuple:
    return (i.file, i.column, _NUMBER.sub("#", i.rule), i.fix)


def _add_issue(res: TableResult, issue: Issue) -> None:
    """Add ``issue`` to ``res``: to the issue of the same rule if there is one, counts added."""
    for i in res.issues:
        if _issue_key(i) == _issue_key(issue):
            i.rows = list(i.rows) + list(issue.rows)
            i.rule = _merge_note(i.rule, issue.rule)
            return
    res.issues.append(issue)


def _merge(merged: TableResult | None, res: TableResult) -> TableResult:
    """Counts, notes, issues and quarantined rows of the blocks so far plus one more."""
    if merged is None:
        res.issues = list(res.issues)
        return res
    s, b = merged.stats, res.stats
    for k in ("rows_read", "rows_kept", "rows_repaired", "rows_rejected", "orphans"):
        if k in b:
            s[k] = s.get(k, 0) + b[k]
    for k, v in b["repair_reasons"].items():
        s["repair_reasons"][k] = s["repair_reasons"].get(k, 0) + v
    for k, v in b["notes"].items():
        s["notes"][k] = _merge_note(s["notes"][k], v) if k in s["notes"] else v
    s["assumptions"] = list(s["notes"].values())
    for i in res.issues:
        _add_issue(merged, i)
    if len(res.rejected):
        merged.rejected = pd.concat(
            [merged.rejected.astype(object), res.rejected.astype(object)], ignore_index=True
        )
    return merged


def _repeated_keys(res: TableResult) -> None:
    """Quarantine rows whose key repeats a row of an earlier block (DuckDB over the file)."""
    spec = TABLES[res.table]
    key = list(spec.key)
    if not key or not memory.keys_repeat(res.path, key):
        return
    import duckdb

    names = ", ".join(f'"{k}"' for k in key)
    where = " AND ".join(f'"{k}" IS NOT NULL' for k in key)
    con = duckdb.connect(config=memory.duckdb_settings())
    try:
        src = f"read_parquet('{res.path}', file_row_number = true)"
        rows = con.execute(
            f"WITH d AS (SELECT {names} FROM {src} WHERE {where} GROUP BY ALL "
            f"HAVING count(*) > 1) SELECT t.* FROM {src} t SEMI JOIN d USING ({names}) "
            "ORDER BY file_row_number"
        ).df()
    finally:
        con.close()
    share = len(rows) / max(1, res.stats["rows_read"])
    keyname = ", ".join(res.stats["columns"].get(k, k) for k in key)
    if spec.name == "transactions" and share >= rules.LINE_ITEM_SHARE:
        raise rules.line_items_error(res.file, keyname, share)
    rowno = rows.pop("file_row_number").to_numpy()
    dup = rows.duplicated(subset=key, keep="first").to_numpy()
    exact = rows.duplicated(keep="first").to_numpy()
    drop = rowno[dup]
    if not len(drop):
        return
    reasons = []
    for kind, mask in ((rules.EXACT_DUPLICATE, dup & exact), (rules.KEY_DUPLICATE, dup & ~exact)):
        if mask.any():
            lines = [int(x) for x in res.lines[rowno[mask]]]
            _add_issue(res, Issue(res.file, keyname, lines, *kind))
        reasons += [f"{keyname}: {kind[0]}"] * int(mask.sum())
    order = np.concatenate([np.flatnonzero(dup & exact), np.flatnonzero(dup & ~exact)])
    quarantined = rows.iloc[order].astype(object)
    quarantined.insert(0, "_line", res.lines[rowno[order]])
    quarantined.insert(1, "_reasons", reasons)
    res.rejected = pd.concat([res.rejected.astype(object), quarantined], ignore_index=True)
    res.stats["rows_kept"] -= len(drop)
    res.stats["rows_rejected"] += len(drop)
    res.facts = _without_rows(res.path, drop, res.table)


def _without_rows(path: Path, drop: np.ndarray, table: str) -> dict:
    """Rewrite the Parquet file without the rows numbered ``drop``; the facts of what is left."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    tmp = path.with_name(path.name + ".tmp")
    facts, start = None, 0
    with pq.ParquetWriter(tmp, pf.schema_arrow) as writer:
        for i in range(pf.num_row_groups):
            t = pf.read_row_group(i)
            keep = ~np.isin(np.arange(start, start + len(t)), drop)
            start += len(t)
            t = t.filter(keep)
            writer.write_table(t)
            facts = merge_facts(facts, frame_facts(t.to_pandas(), table))
    tmp.replace(path)
    return facts
