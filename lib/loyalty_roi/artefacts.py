"""The artefact catalogue: every result a notebook keeps for another, by name, in one place.

A monthly run builds each shared artefact once and the other notebooks read it:
the CLV summary and store totals are computed by the
engine in the first notebook that needs them (:func:`shared`) and read back by
the next ones; per-customer results (segments, CLV, the target list), the KPI
scorecard, the P&L and the report summary are saved by the notebook that makes
them (:func:`save`, :func:`load`).

Everything lives under ``<processed>/derived/``, which ingest empties: a new
ingest never meets an artefact of the previous data.  Every write is atomic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import memory, safety

FOLDER = "derived"


@dataclass(frozen=True)
class Artefact:
    """One catalogued artefact: its file kind, the notebook that makes it, what it holds."""

    kind: str  # "parquet" or "json"
    made_by: str  # the notebook (or module) that writes it
    content: str
    per_month: bool = False  # one file per analysis month (built for that month's end)


CATALOGUE: dict[str, Artefact] = {
    # shared engine results: built once per month by the first notebook that needs them
    "clv_summary": Artefact(
        "parquet", "02–03", "frequency, recency, T and spend per customer (CLV input)", True
    ),
    "store_totals": Artefact(
        "parquet", "03–04", "receipts and revenue per store, channel, month", True
    ),
    # results kept for later notebooks and the report
    "customer_segments": Artefact("parquet", "02", "RFM scores, segment and cluster per customer"),
    "customer_clv": Artefact("parquet", "02", "expected purchases, P(alive) and CLV per customer"),
    "target_list": Artefact("parquet", "02", "campaign target list (consenting customers only)"),
    "scorecard_values": Artefact("parquet", "03", "the month's KPI scorecard as numbers"),
    "kpi_monthly": Artefact("parquet", "03", "every KPI per month"),
    "program_pnl": Artefact("parquet", "04", "the program P&L per month"),
    "report_summary": Artefact("json", "04", "the verdict, lift, ROI and the what-if inputs"),
    "verdict_unavailable": Artefact("json", "04", "why there is no verdict this month"),
    "points_liability": Artefact("json", "04", "the points liability (one figure everywhere)"),
}


def folder(processed_dir: str | Path) -> Path:
    """The folder that holds the artefacts of a processed-data folder."""
    return Path(processed_dir) / FOLDER


def path(name: str, processed_dir: str | Path, month: str | None = None) -> Path:
    """Where artefact ``name`` (of ``month``, for per-month artefacts) lives."""
    if name not in CATALOGUE:
        raise KeyError(f"'{name}' is not in the artefact catalogue: add it to artefacts.CATALOGUE")
    a = CATALOGUE[name]
    stem = f"{name}_{month}" if a.per_month else name
    if a.per_month and not month:
        raise ValueError(f"artefact '{name}' is kept per month: pass the month")
    return folder(processed_dir) / f"{stem}.{a.kind}"


def save(obj: Any, name: str, processed_dir: str | Path, month: str | None = None) -> Path:
    """Write an artefact atomically (a DataFrame as Parquet, a dict as JSON)."""
    f = path(name, processed_dir, month)
    if CATALOGUE[name].kind == "json":
        return safety.atomic_write_text(json.dumps(obj, indent=2, default=str), f)
    safety.atomic_write(f, lambda tmp: obj.to_parquet(tmp, index=False))
    return f


def load(name: str, processed_dir: str | Path, month: str | None = None) -> Any:
    """An artefact written earlier, or None when not made."""
    f = path(name, processed_dir, month)
    if not f.exists():
        return None
    if CATALOGUE[name].kind == "json":
        return json.loads(f.read_text(encoding="utf-8"))
    return memory.read_parquet(f)


def _build(name: str, eng, month: str) -> pd.DataFrame:
    from . import engine

    if name == "clv_summary":
        from . import clv, months

        return clv.summary_from_engine(eng, months.end(month))
    if name == "store_totals":
        return engine.store_month_totals(eng)
    raise KeyError(f"'{name}' is not built by the engine")


def shared(name: str, eng, processed_dir: str | Path, month: str) -> pd.DataFrame:
    """A shared engine result for ``month``: read if an earlier notebook built it, else built and kept."""
    f = path(name, processed_dir, month)
    if f.exists():
        return memory.read_parquet(f)
    df = _build(name, eng, month)
    save(df, name, processed_dir, month)
    return df
