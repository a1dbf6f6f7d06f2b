"""The monthly report set: HTML without code, figures, tables, manifest and the index page.

Everything here works on a staging folder that the CLI moves into
``reports/YYYY-MM/`` only when the whole run succeeded.  All HTML is
self-contained (figures embedded, no CDN scripts) and every piece of text
that comes from data is escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd

from . import sanitize
from .paths import PROJ_ROOT

TEMPLATES = Path(__file__).parent / "templates"
XLSX_MAX_ROWS = 50_000  # rows per XLSX sheet; the CSV next to it has them all
PACKAGES = (
    "pandas",
    "numpy",
    "duckdb",
    "ibis-framework",
    "pymc-marketing",
    "papermill",
    "nbconvert",
    "matplotlib",
    "seaborn",
    "pandera",
    "loyalty-roi",
)


def notebook_to_html(nb_path: Path, html_path: Path) -> None:
    """Export an executed notebook to self-contained HTML without code cells."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = nbformat.read(nb_path, as_version=4)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": page_title(nb)}})
    html_path.write_text(body, encoding="utf-8")


def page_title(nb) -> str:
    """The browser title of a notebook's page: its first heading (nbconvert's default is "Notebook")."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return f"{line[2:].strip()} — Loyalty report"
    return "Loyalty report"


def extract_figures(nb_path: Path, fig_dir: Path) -> list[Path]:
    """Write every PNG output of a notebook as ``<notebook>_<nn>.png``."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(nb_path, as_version=4)
    out, n = [], 0
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            png = o.get("data", {}).get("image/png")
            if png:
                n += 1
                f = fig_dir / f"{nb_path.stem}_{n:02d}.png"
                f.write_bytes(base64.b64decode(png))
                out.append(f)
    return out


# Excel number formats per unit (units from the KPI catalogue or declared per table below)
def _xlsx_format(unit: str, currency: str) -> str | None:
    return {
        "money": f'#,##0.00 "{currency}"',
        "share": "0.0%",
        "change": "+0.0%;-0.0%;0.0%",
        "count": "#,##0",
        "points": "#,##0",
        "orders": "0.00",
        "nps": "0.0",
        "score": "0.00",
        "number": "#,##0.00",
        "month": "mmm yyyy",
        "date": "yyyy-mm-dd",
    }.get(unit)


# column units of the exported tables that are not KPIs; a KPI column takes its catalogue unit
TABLE_UNITS = {
    "program_pnl": {"month": "month", "_default": "money"},
    "customer_segments": {"customers": "count", "revenue": "money"},
    "kpi_monthly": {"month": "month"},
    "scorecard": {"previous": "row", "value": "row", "baseline": "row", "target_value": "row",
                  "expected_now": "row", "mom": "number", "yoy": "number"},
    "data_quality": {"_default": "count"},
    "summary": {"value": "row"},
}  # fmt: skip

SHEET_NOTES = {
    "README": "What each sheet holds. Numbers are numeric cells in the units shown; months are dates.",
    "summary": "The month's headline figures (the same as on index.html): lift, ROI, P(ROI > 0), "
    "confidence, points liability; a figure without a value says why in 'note'.",
    "scorecard": "The month's KPIs: value, previous month, MoM/YoY change (pp for rates, % otherwise), "
    "target, baseline, the value the linear path to the target expects now, and status.",
    "kpi_monthly": "Every KPI of the catalogue for every month (one column per KPI).",
    "program_pnl": "The program P&L by month: incremental margin, rewards and running costs.",
    "customer_segments": "Customers and revenue per RFM segment (aggregates only).",
    "target_list": "Campaign target list: consenting customers only, by the export's customer id (no "
    "name, e-mail or phone), with the action.",
    "data_quality": "Rows read, kept, repaired and rejected per table, with reasons and assumptions.",
}


def _as_text(v) -> str:
    if isinstance(v, dict):
        return "; ".join(
            f"{k} ({n:,})" if isinstance(n, int) else f"{k}: {n}" for k, n in v.items()
        )
    if isinstance(v, (list, tuple)):
        return "; ".join(map(str, v))
    return v


def export_tables(
    processed: Path, out_dir: Path, currency: str, month: str | None = None
) -> dict[str, pd.DataFrame]:
    """The main tables as CSV (raw numbers, ISO dates) plus one XLSX workbook for people.

    XLSX cells are numeric with number formats from the units (the KPI catalogue's
    for KPI columns, :data:`TABLE_UNITS` otherwise), months are dates, the header row
    is frozen with an autofilter, and a README sheet says what each sheet holds.
    """
    import ast

    from .kpis import CATALOGUE

    kpi_units = {k.key: k.unit for k in CATALOGUE}
    from . import artefacts

    tables: dict[str, pd.DataFrame] = {}
    if month is not None:
        from .frontpage import headline

        tables["summary"] = headline(processed, month)
    # target_list is the one customer-level table: ids of consenting customers only, no contact data
    for name, src in (
        ("scorecard", "scorecard_values"),
        ("kpi_monthly", "kpi_monthly"),
        ("program_pnl", "program_pnl"),
        ("customer_segments", "customer_segments"),
        ("target_list", "target_list"),
    ):
        df = artefacts.load(src, processed)
        if df is not None:
            if name == "customer_segments":  # aggregate only: no customer-level rows in a report
                df = (
                    df.groupby("segment", observed=True)
                    .agg(customers=("customer_id", "size"), revenue=("monetary", "sum"))
                    .reset_index()
                )
            tables[name] = df
    q = processed / "quality_report.csv"
    if q.exists():
        dq = pd.read_csv(q)
        for c in dq.columns:  # dicts and lists were stored as Python text: show them as text
            if dq[c].dtype == object or pd.api.types.is_string_dtype(dq[c]):
                dq[c] = dq[c].map(
                    lambda v: (
                        _as_text(ast.literal_eval(v))
                        if isinstance(v, str) and v[:1] in "{[" and v[-1:] in "}]"
                        else v
                    )
                )
        tables["data_quality"] = dq
    out_dir.mkdir(parents=True, exist_ok=True)
    # no cell from data may be evaluated as a formula by a spreadsheet (OWASP CSV injection)
    tables = {name: sanitize.inert_frame(df) for name, df in tables.items()}
    for name, df in tables.items():
        df.to_csv(out_dir / f"{name}.csv", index=False)
    notes = dict(SHEET_NOTES)
    for name, df in tables.items():  # a sheet of hundreds of thousands of rows helps nobody
        if len(df) > XLSX_MAX_ROWS:
            notes[name] = (
                f"{notes.get(name, '')} First {XLSX_MAX_ROWS:,} of {len(df):,} rows; every row "
                f"is in {name}.csv."
            ).strip()
    readme = pd.DataFrame(
        [{"sheet": k, "content": v} for k, v in notes.items() if k == "README" or k in tables]
    )
    with pd.ExcelWriter(out_dir / "loyalty_report.xlsx", engine="openpyxl") as xl:
        readme.to_excel(xl, sheet_name="README", index=False)
        _layout(xl.sheets["README"], readme, {}, currency)
        for name, df in tables.items():
            df = df.head(XLSX_MAX_ROWS)
            df.to_excel(xl, sheet_name=name[:31], index=False)
            units = {**{c: u for c, u in kpi_units.items() if c in df.columns},
                     **TABLE_UNITS.get(name, {})}  # fmt: skip
            _layout(xl.sheets[name[:31]], df, units, currency)
    return tables


def _layout(ws, df: pd.DataFrame, units: dict, currency: str) -> None:
    """Number formats by unit, text cells as text, frozen header, filter, widths."""
    sanitize.force_text_cells(ws)
    n = len(df)
    row_units = df["unit"].tolist() if "unit" in df.columns else None
    for j, col in enumerate(df.columns, start=1):
        letter = ws.cell(row=1, column=j).column_letter
        s = df[col]
        width = max([len(str(col))] + [len(str(v)) for v in s.head(200)]) + 2
        ws.column_dimensions[letter].width = max(10, min(48, width))
        unit = (
            units.get(col)
            or ("month" if pd.api.types.is_datetime64_any_dtype(s) else None)
            or units.get("_default")
        )
        if (
            unit is None
            or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s))
            or pd.api.types.is_bool_dtype(s)
        ):
            continue
        for i in range(n):
            u = row_units[i] if unit == "row" and row_units else unit
            fmt = _xlsx_format(u, currency)
            if fmt:
                ws.cell(row=i + 2, column=j).number_format = fmt
    ws.freeze_panes = "A2"
    if n:
        ws.auto_filter.ref = ws.dimensions


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJ_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def file_fingerprint(path: Path) -> dict:
    """Path and SHA-256 of a file the run read (the mapping): which one, and whether it changed."""
    path = Path(path)
    return {
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None,
    }


def write_manifest(
    out_dir: Path,
    params: dict,
    config_path: Path,
    processed: Path,
    timings: list[dict],
    started: dt.datetime,
    extra: dict | None = None,
) -> Path:
    """``manifest.json``: parameters, config hash, input fingerprints, versions, commit, timings."""
    q = processed / "quality_report.json"
    inputs = json.loads(q.read_text(encoding="utf-8")).get("inputs", {}) if q.exists() else {}
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    manifest = {
        "parameters": params,
        "config": {
            "path": str(config_path),
            "sha256": hashlib.sha256(config_path.read_bytes()).hexdigest(),
        },
        "inputs_sha256": inputs,
        "versions": {"python": platform.python_version(), **versions},
        "lock_sha256": hashlib.sha256((PROJ_ROOT / "uv.lock").read_bytes()).hexdigest()
        if (PROJ_ROOT / "uv.lock").exists()
        else None,
        "git_commit": _git_commit(),
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "notebooks": timings,
        **(extra or {}),
    }
    f = out_dir / "manifest.json"
    f.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return f
