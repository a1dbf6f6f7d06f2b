"""The processed-data folder: canonical Parquet tables, quarantine and quality report.

Ingest writes the canonical tables here and notebooks read them with
:func:`load_processed`; what notebooks keep for each other lives in the same
folder under the names of :mod:`loyalty_roi.artefacts`.  Every write is atomic
(temporary file + rename).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from . import artefacts, safety, sanitize
from .errors import DataError, Issue
from .schema import REQUIRED_TABLES, TABLES


def _atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    safety.atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_processed(out, results, quality, issues, missing, inputs, run_date) -> None:
    """Canonical Parquet, quarantine CSVs and the quality report, each written atomically."""
    tables = {k: r.frame for k, r in results.items()}
    files = {k: r.path for k, r in results.items() if r.path is not None}  # read in blocks
    # results derived from the previous tables (segments, CLV, verdict, liability) are stale now
    safety.check_writable(artefacts.folder(out))
    shutil.rmtree(artefacts.folder(out), ignore_errors=True)
    for name in TABLES:
        target = out / f"{name}.parquet"
        if name in files:
            safety.atomic_write(target, lambda tmp, f=files[name]: shutil.move(f, tmp))
        elif name in tables:
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
