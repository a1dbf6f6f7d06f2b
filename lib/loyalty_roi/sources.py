"""Source exports: reading one file into a frame with physical line numbers.

:func:`read_source` reads CSV (encoding, BOM and delimiter detected), Parquet
and Excel as a :class:`~loyalty_roi.mapping.TableMapping` describes it, refuses
duplicate headers, and keeps the physical line number of every record (quoted
fields may span lines).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import memory
from .errors import DataError, Issue
from .mapping import TableMapping, load_mapping, resolve_file  # noqa: F401 - re-exported

DELIMITERS = [";", ",", "\t", "|"]
# a 2-byte UTF-8 sequence for Latin letters (Ã + continuation byte) inside a non-UTF-8 file
_UTF8_MULTIBYTE = re.compile(rb"[\xc3\xc5][\x80-\xbf]")


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(data: bytes, name: str, encoding: str) -> tuple[str, str]:
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"unknown encoding '{encoding}'",
                    "use 'encoding: auto', or a name such as utf-8, cp1252, latin-1",
                )
            ) from None
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
        try:
            return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = data[: exc.start + 3].count(b"\n") + 1
            raise DataError(
                Issue(
                    name,
                    None,
                    [line],
                    f"mixed encodings: the file starts with a UTF-8 byte-order mark but line {line} "
                    "is not UTF-8 (latin-1/cp1252?)",
                    "re-export the whole file in one encoding (UTF-8 preferred), or remove the BOM "
                    "and set 'encoding: cp1252' in the mapping",
                )
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    "not valid UTF-16 after its byte-order mark",
                    "re-export the file as UTF-8",
                )
            ) from None
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


def _duplicate_header_issue(name: str, header: list, line: int = 1) -> Issue | None:
    seen: dict[str, int] = {}
    dups = []
    for h in header:
        key = str(h).strip()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            dups.append(key)
    if not dups:
        return None
    return Issue(
        name,
        dups[0],
        [line],
        f"duplicate column name(s) in the header: {', '.join(repr(d) for d in dups)}",
        "rename the columns so each name appears once (the workbook will not guess which one is meant)",
    )


def record_starts(text: str, delim: str) -> list[int]:
    """Physical line on which each CSV record (header included) starts; blank lines skipped."""
    starts = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    prev_end = 0
    for row in reader:
        start = prev_end + 1
        prev_end = reader.line_num
        if not any(c.strip() for c in row):
            continue
        starts.append(start)
    return starts


def physical_lines(text: str, delim: str, n_records: int) -> np.ndarray:
    """The physical line on which each data record starts (header = line 1).

    Blank lines are skipped like the CSV parser does; quoted fields that contain
    line breaks make a record span several lines, so later records are not shifted.
    """
    nonblank = [i for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if len(nonblank) == n_records + 1:  # one record per line: the fast, common case
        return np.array(nonblank[1:])
    out = np.array(record_starts(text, delim)[1 : n_records + 1])
    if len(out) != n_records:  # the two parsers disagree: fall back to record order + 1
        return np.arange(2, n_records + 2)
    return out


def source_format(path: Path, tm: TableMapping) -> str:
    """``csv``, ``parquet`` or ``excel``: declared in the mapping, else from the file's suffix."""
    if tm.format != "auto":
        return tm.format
    return {
        ".csv": "csv",
        ".txt": "csv",
        ".tsv": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".xlsx": "excel",
        ".xls": "excel",
        ".xlsm": "excel",
    }.get(path.suffix.lower(), "csv")


def check_file(path: Path, tm: TableMapping) -> None:
    """A :class:`DataError` unless ``path`` is a non-empty regular file."""
    name = path.name
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
    if not path.is_file():
        raise DataError(
            Issue(
                name,
                None,
                [],
                "is a folder or a special file, not an export file",
                f"name the {tm.table} export file itself in 'file' (e.g. {tm.table}.csv)",
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


def csv_header(text: str, name: str, tm: TableMapping) -> tuple[str, list[str]]:
    """The delimiter and header of a CSV text (its first non-blank line), checked."""
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
    header = next(csv.reader([first], delimiter=delim))
    dup = _duplicate_header_issue(name, header)
    if dup is not None:
        raise DataError(dup)
    return delim, header


def parse_csv_text(
    text: str, delim: str, name: str, tm: TableMapping, line_offset: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """A CSV text (header first) as text columns, with the physical line of each record.

    ``line_offset`` is added to the lines: the lines of the file before this
    text when a large export is read in blocks (the header then repeated on top).
    """
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
        rec = int(m.group(1)) if m else None
        line = None
        if rec is not None:  # pandas counts records; report the physical line
            starts = record_starts(text, delim)
            line = int(starts[rec - 1]) if 1 <= rec <= len(starts) else rec
            line += line_offset
        raise DataError(
            Issue(
                name,
                None,
                [line] if line else [],
                "wrong number of fields (a row has more values than the header)",
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
    return df, physical_lines(text, delim, len(df)) + line_offset


def no_rows_issue(name: str, tm: TableMapping) -> DataError:
    """The error for an export with a header and no data rows."""
    return DataError(
        Issue(
            name,
            None,
            [],
            "the file has a header but no data rows",
            f"re-export the {tm.table} table with its rows, or remove it from the mapping",
        )
    )


def read_source(path: Path, tm: TableMapping) -> SourceFrame:
    """Read one source file; raise :class:`DataError` for file-level problems."""
    name = path.name
    fmt = source_format(path, tm)
    check_file(path, tm)
    meta: dict[str, Any] = {"format": fmt}
    if fmt == "parquet":
        try:
            df = memory.read_parquet(path)  # one copy of a 10M-row export, not two
        except Exception as exc:  # pyarrow raises several types
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"not a readable Parquet file ({type(exc).__name__})",
                    "re-export the file as Parquet, or as CSV and change 'file'",
                )
            ) from None
        lines = np.arange(1, len(df) + 1)
        meta["row_numbering"] = "row"
    elif fmt == "excel":
        try:
            head = pd.read_excel(path, sheet_name=tm.sheet, header=None, nrows=1, dtype=object)
            df = pd.read_excel(
                path, sheet_name=tm.sheet, dtype=object, keep_default_na=False, na_values=[""]
            )
        except Exception as exc:
            raise DataError(
                Issue(
                    name,
                    None,
                    [],
                    f"not a readable Excel file or sheet ({type(exc).__name__}: {str(exc)[:80]})",
                    "save it as .xlsx and name an existing sheet, or export CSV and change 'file'",
                )
            ) from None
        dup = _duplicate_header_issue(name, [h for h in head.iloc[0].tolist() if pd.notna(h)])
        if dup is not None:
            raise DataError(dup)
        df.columns = [str(c).strip() for c in df.columns]
        lines = np.arange(2, len(df) + 2)
        meta["row_numbering"] = "line"
    else:
        data = path.read_bytes()
        text, enc = _decode(data, name, tm.encoding)
        meta["encoding"] = enc
        delim, _ = csv_header(text, name, tm)
        meta["delimiter"] = delim
        df, lines = parse_csv_text(text, delim, name, tm)
        meta["row_numbering"] = "line"
    if len(df) == 0:
        raise no_rows_issue(name, tm)
    return SourceFrame(df=df.reset_index(drop=True), lines=lines, file=name, meta=meta)
