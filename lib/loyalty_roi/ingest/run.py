"""The ingest run: every mapped export read, parsed, cross-checked and written."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import safety
from ..database import database_label, fingerprint, read_database
from ..errors import DataError, Issue
from ..memory import read_parquet, release_arrow_memory
from ..processed import write_processed
from ..schema import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES, pa, validate
from ..sources import load_mapping, read_source, resolve_file, sha256_file
from .blocks import BLOCK_ROWS, parse_blocks, streamable
from .crossref import KeySet, _orphans, customers_from_transactions
from .parse import TableResult, parse_table
from .quality import _quality_row


class Tables(Mapping):
    """The kept tables by name; a table ingested in blocks is read from its file when asked for."""

    def __init__(self, results: dict[str, TableResult]):
        self._frames = {k: r.frame for k, r in results.items() if r.path is None}
        self._paths = {k: r.path for k, r in results.items() if r.path is not None}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self._paths:
            return read_parquet(self._paths[name])
        return self._frames[name]

    def __iter__(self):
        return iter([*self._frames, *self._paths])

    def __len__(self) -> int:
        return len(self._frames) + len(self._paths)

    def source(self, name: str) -> pd.DataFrame | Path:
        """The table as a frame, or the Parquet file of a table ingested in blocks."""
        return self._paths.get(name, self._frames.get(name))

    def moved(self, out_dir: Path) -> None:
        """The files now live in ``out_dir`` (written there by ``write_processed``)."""
        self._paths = {k: out_dir / f"{k}.parquet" for k in self._paths}


@dataclass
class IngestResult:
    """Everything one ingest run produced."""

    tables: Tables
    quality: pd.DataFrame
    issues: list[Issue]
    missing_tables: list[str]
    inputs: dict[str, str]  # file name -> sha256
    out_dir: Path | None = None

    def summary(self) -> str:
        """Rows read, kept, repaired and rejected per table, as text."""
        lines = [
            f"{len(self.tables)} tables ingested; not provided: {', '.join(self.missing_tables) or 'none'}"
        ]
        for r in self.quality.itertuples():
            lines.append(
                f"  {r.table:18s} read {r.rows_read:>9,}  kept {r.rows_kept:>9,}  "
                f"repaired {r.rows_repaired:>6,}  rejected {r.rows_rejected:>6,}"
            )
        return "\n".join(lines)


def _export_size(raw_dir: Path, tm) -> int:
    """Bytes of a table's export file (0 for database tables and files not found)."""
    if tm.file is None:
        return 0
    try:
        return (raw_dir / tm.file).stat().st_size
    except OSError:
        return 0


def _read_database(url: str | None, tm, mapping_name: str):
    if not url:
        raise DataError(
            Issue(
                mapping_name,
                None,
                [],
                f"table '{tm.table}' is mapped to the database but no database URL is set",
                "set data.source: database in the config and export the URL in the environment "
                "variable named by data.database_url_env (default LOYALTY_ROI_DATABASE_URL)",
            )
        )
    return read_database(url, tm)


def ingest(
    raw_dir: str | Path,
    mapping: str | Path,
    out_dir: str | Path | None,
    salt: str,
    run_date: dt.date | None = None,
    max_reject_share: float = 0.05,
    future_tolerance_days: int = 1,
    earliest_date: dt.date = dt.date(1990, 1, 1),
    database_url: str | None = None,
    block_rows: int = BLOCK_ROWS,
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
    database_url
        PostgreSQL URL for tables mapped with ``query`` or ``source_table``; it is
        only used to connect, never written or shown.
    block_rows
        An export with more rows is read in blocks of this size
        (:mod:`loyalty_roi.ingest.blocks`); its kept rows go to a file, not memory.

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
    staging = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="ingest-"))
    staged: list[Path] = []
    try:
        found, read = _read_all(
            maps,
            raw_dir,
            mapping_name,
            results,
            staging,
            staged,
            database_url,
            block_rows,
            (salt, run_date, future_tolerance_days, earliest_date),
        )
        result = _finish(maps, results, found, read, problems, out_dir, max_reject_share, run_date)
    except BaseException:
        for f in staged:
            f.unlink(missing_ok=True)
        if out_dir is None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir is None and staged:  # the block tables' files live as long as the result
        weakref.finalize(result, shutil.rmtree, staging, True)
    elif out_dir is None:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _read_all(
    maps, raw_dir, mapping_name, results, staging, staged, database_url, block_rows, parse_args
):
    """Read and parse every mapped table into ``results``; problems by table, inputs read."""
    listed = sorted(maps, key=lambda t: maps[t].derive_from is not None)
    stream = {
        t: tm.file is not None and streamable(raw_dir / tm.file, tm, block_rows)
        for t, tm in maps.items()
    }
    # customers derived from transactions are built after them; exports read in blocks
    # after the tables they refer to; the others largest first, so the largest parse (the
    # run's peak) meets no other table in memory
    order = sorted(
        maps.items(),
        key=lambda kv: (
            kv[1].derive_from is not None,
            stream[kv[0]],
            -_export_size(raw_dir, kv[1]),
        ),
    )
    found: dict[str, list[Issue]] = {t: [] for t in listed}
    read: dict[str, tuple[str, str]] = {}  # table -> (file, sha256)
    for tname, tm in order:  # every table is read, so one run lists every problem
        try:
            if stream[tname]:
                path = resolve_file(raw_dir, tm, mapping_name)
                staged.append(staging / f".{tname}.blocks.parquet")
                results[tname] = parse_blocks(
                    path, tm, parse_args, staging, _block_check(tname, results), block_rows
                )
                read[tname] = (tm.file, sha256_file(path))
                continue
            if tm.derive_from is not None:
                if "transactions" not in results:
                    continue  # its problems are already listed
                tx = results["transactions"]
                src = customers_from_transactions(tx.path or tx.frame)
            elif tm.file is None:
                src = _read_database(database_url, tm, mapping_name)
                read[tname] = (src.file, fingerprint(src.df))
            else:
                path = resolve_file(raw_dir, tm, mapping_name)
                src = read_source(path, tm)
                release_arrow_memory()  # what reading the file needed beyond the frame
                read[tname] = (tm.file, sha256_file(path))
            results[tname] = parse_table(src, tm, *parse_args)
            src = None  # the raw export is not needed past its parse: never two in memory
            release_arrow_memory()
            if tm.derive_from is not None:
                results[tname].stats["assumptions"].insert(
                    0,
                    "no customers export: customers built from the identified receipts — "
                    "first_seen = first purchase in the data, store = the store they bought in "
                    "most often",
                )
        except DataError as exc:
            found[tname].extend(exc.issues)
        except Exception as exc:  # never a traceback for an input: locate it and say so
            found[tname].append(
                Issue(
                    str(tm.file or database_label(tm)),
                    None,
                    [],
                    f"the {tname} export could not be read ({type(exc).__name__})",
                    "check that it is a complete export in the format the mapping declares; "
                    "if it is, report this as a bug with the file's header",
                )
            )
    return found, read


def _block_check(tname: str, results: dict[str, TableResult]):
    """The rules a block of ``tname`` needs from other tables: orphans, then the contract.

    Each parent's ids are prepared once for all the blocks (:class:`KeySet`).
    """
    known: dict[str, KeySet] = {}

    def check(block: TableResult) -> None:
        for col, target in TABLES[tname].references.items():
            ttable, tcol = target.split(".")
            if ttable in results:  # parsed before; a derived parent holds every id
                parent = results[ttable]
                if target not in known:
                    known[target] = KeySet(parent.frame[tcol])
                _orphans(block, col, parent, tcol, f"{ttable} ({parent.file})", known[target])
        _contract(block)

    return check


def _contract(res: TableResult) -> None:
    """The canonical contract of the kept rows; a failure is a bug, said as such."""
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


def _finish(maps, results, found, read, problems, out_dir, max_reject_share, run_date):
    """Cross-table rules, the stop rules, the contract; the quality report; the files."""
    listed = sorted(maps, key=lambda t: maps[t].derive_from is not None)
    problems += [i for t in listed for i in found[t]]
    if problems:
        raise DataError(problems)
    results = {t: results[t] for t in listed if t in results}
    inputs = dict(read[t] for t in listed if t in read)
    # orphan references (after every table has been parsed)
    for tname, res in results.items():
        if res.path is not None:
            continue  # checked block by block
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
    tx = results["transactions"]
    if tx.path is not None:
        sales = tx.stats["rows_kept"] - tx.facts["returns"]
    else:
        sales = int((~tx.frame["is_return"].astype(bool)).sum())
    if tx.stats["rows_kept"] and not sales:
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
    for res in results.values():  # the contract of what is kept (blocks: checked already)
        if res.path is None:
            _contract(res)
    quality = pd.DataFrame([_quality_row(r) for r in results.values()])
    issues = [i for r in results.values() for i in r.issues]
    tables = Tables(results)
    missing = [t for t in OPTIONAL_TABLES if t not in tables]
    result = IngestResult(tables, quality, issues, missing, inputs)
    if out_dir is not None:
        write_processed(Path(out_dir), results, quality, issues, missing, inputs, run_date)
        result.out_dir = Path(out_dir)
        tables.moved(Path(out_dir))
    return result


def database_url(cfg) -> str | None:
    """The database URL from the environment variable the config names (database sources only)."""
    import os

    if cfg.data.source != "database":
        return None
    url = os.environ.get(cfg.data.database_url_env, "").strip()
    if not url:
        raise DataError(
            Issue(
                cfg.data.database_url_env,
                None,
                [],
                f"data.source is 'database' but the environment variable "
                f"{cfg.data.database_url_env} is not set",
                f"export {cfg.data.database_url_env}=postgresql://user:password@host:5432/db "
                "before the run (keep the URL out of the config and out of git)",
            )
        )
    return url


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
    from ..publish import processed_lock

    processed = cfg.data.processed_path
    target = processed if out_dir == "config" else out_dir
    lock = processed_lock(processed).acquire()  # LockedError (exit 3) when another run writes
    try:
        if cfg.data.source == "demo":  # only into an empty or generator-marked folder
            from ..synth import ensure_demo_data

            ensure_demo_data(cfg)
        elif cfg.data.source == "files" and not cfg.data.raw_path.is_dir():
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
            database_url=database_url(cfg),
        )
    finally:
        lock.release()
