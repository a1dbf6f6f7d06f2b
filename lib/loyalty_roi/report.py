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
import html
import json
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd

from . import sanitize
from .config import PROJ_ROOT

TEMPLATES = Path(__file__).parent / "templates"
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
    body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
    html_path.write_text(body, encoding="utf-8")


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


def month_summary(processed: Path, month: str) -> tuple[dict | None, str | None]:
    """Notebook 04's saved summary for ``month`` (None if it is another month's or absent),
    and the saved reason when no verdict could be made."""
    from .processed import load_derived_json

    s = load_derived_json("whatif_inputs", processed)
    if s is not None and s.get("month") not in (None, month):
        s = None  # saved by another month's run (a backfill): not this month's verdict
    why = (load_derived_json("verdict_unavailable", processed) or {}).get("reason")
    if why:  # the sentences around it already say "not available"
        why = re.sub(r"^Not available[:—\s-]*", "", why)
    return s, why


def headline(processed: Path, month: str) -> pd.DataFrame:
    """The month's headline figures — one source for the index tiles, summary.csv and the XLSX.

    Columns ``figure, value, unit, note``; a figure that is not available has no
    value and says why in ``note``.
    """
    from . import points

    s, why = month_summary(processed, month)
    missing = why or "the corrected lift could not be estimated (see notebook 04)"
    rows = []

    def add(figure, value, unit, note=""):
        rows.append({"figure": figure, "value": value, "unit": unit, "note": note})

    if s is not None:
        lo, hi = s.get("lift_ci", [None, None])
        add(
            "Corrected lift", s["drivers"]["lift"], "change", f"95% interval {lo:+.1%} to {hi:+.1%}"
        )
        add("ROI", s.get("roi"), "change", s.get("verdict", ""))
        add("P(ROI > 0)", s.get("p_roi_positive"), "share", "share of Monte Carlo draws")
        add("Confidence", None, "text", s.get("confidence") or "")
    else:
        for f, u in (("Corrected lift", "change"), ("ROI", "change"), ("P(ROI > 0)", "share")):
            add(f, None, u, f"not available: {missing}")
        add("Confidence", None, "text", "not available")
    liab = points.load_liability(processed)
    if liab is not None:
        add(
            "Points liability",
            liab["liability"],
            "money",
            f"{liab['outstanding_points']:,} outstanding points × cost per point × the "
            f"{liab['expected_redemption_of_outstanding']:.0%} expected to be redeemed",
        )
    else:
        add("Points liability", None, "money", "not available: provide the points ledger")
    return pd.DataFrame(rows)


# Excel number formats per unit (units from the KPI catalogue or declared per table below)
def _xlsx_format(unit: str, currency: str) -> str | None:
    return {
        "money": f'#,##0.00 "{currency}"',
        "share": "0.0%",
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
    "target_list": "Campaign target list: consenting customers only, by pseudonym, with the action.",
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
    derived = processed / "derived"
    tables: dict[str, pd.DataFrame] = {}
    if month is not None:
        tables["summary"] = headline(processed, month)
    # target_list is the one customer-level table: ids of consenting customers only, no contact data
    for name, src in (
        ("scorecard", "scorecard_values"),
        ("kpi_monthly", "kpi_monthly"),
        ("program_pnl", "program_pnl"),
        ("customer_segments", "customer_segments"),
        ("target_list", "target_list"),
    ):
        f = derived / f"{src}.parquet"
        if not f.exists() and name == "scorecard":
            f = derived / "scorecard.parquet"  # an older run: the display version
        if f.exists():
            df = pd.read_parquet(f)
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
    readme = pd.DataFrame(
        [{"sheet": k, "content": v} for k, v in SHEET_NOTES.items() if k == "README" or k in tables]
    )
    with pd.ExcelWriter(out_dir / "loyalty_report.xlsx", engine="openpyxl") as xl:
        readme.to_excel(xl, sheet_name="README", index=False)
        _layout(xl.sheets["README"], readme, {}, currency)
        for name, df in tables.items():
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


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, classes="tbl", border=0, na_rep="—")


def index_page(
    out_dir: Path,
    month: str,
    processed: Path,
    notebooks: list[str],
    figures: list[Path],
    currency: str,
) -> Path:
    """``index.html``: the executive summary with links to every section."""
    e = html.escape
    parts = [
        f"<h1>Loyalty program report — {e(month)}</h1>"
        f"<p class='subtitle'>Monthly report for {e(month)}, generated "
        f"{dt.date.today():%Y-%m-%d}; amounts in {e(currency)}.</p>"
    ]
    from .present import fmt

    tiles = headline(processed, month)
    parts.append(
        "<div class='tiles'>"
        + "".join(
            f"<div class='tile'><div class='tile-label'>{e(r.figure)}</div>"
            f"<div class='tile-value'>"
            f"{e(r.note if r.unit == 'text' and r.note else fmt(r.value, r.unit, currency))}</div>"
            + (
                "<div class='tile-note'>not available</div>"
                if r.value is None and r.unit != "text"
                else ""
            )
            + "</div>"
            for r in tiles.itertuples()
        )
        + "</div>"
    )
    s, why = month_summary(processed, month)
    if s is not None:
        lo, hi = s.get("lift_ci", [float("nan")] * 2)
        parts.append(
            "<section class='verdict'><h2>Verdict</h2>"
            f"<p class='verdict-text'>{e(s.get('verdict', ''))}</p>"
            f"<p>Corrected program lift {s['drivers']['lift']:+.1%} (95% interval {lo:+.1%} to {hi:+.1%})"
            + (
                f" vs the naive member/non-member comparison {s['naive_lift']:+.0%}.</p>"
                if s.get("naive_lift") is not None and s["naive_lift"] == s["naive_lift"]
                else f". {e(s.get('naive_reason') or 'No naive comparison on this data.')}</p>"
            )
            + (
                f"<p class='confidence'><strong>Confidence: {e(s['confidence'])}</strong> — "
                f"{e('; '.join(s.get('confidence_reasons', [])))}.</p>"
                if s.get("confidence")
                else ""
            )
            + "</section>"
        )
    else:
        parts.append(
            "<section class='verdict'><h2>Verdict</h2><p class='verdict-text'>Not available — the "
            "corrected lift could not be estimated"
            + (f": {e(why)}" if why else " (see notebook 04)")
            + "</p></section>"
        )
    sc = processed / "derived" / "scorecard.parquet"
    if sc.exists():
        card = pd.read_parquet(sc)
        tracked = card[card["target"] != "—"]
        parts.append(
            "<h2>KPIs against targets</h2>" + _table_html(tracked if len(tracked) else card.head(8))
        )
    from . import points

    liab = points.load_liability(processed)
    parts.append(
        "<h2>Points liability</h2><p>"
        + (
            e(points.liability_sentence(liab, currency))
            if liab is not None
            else "Not available — provide the points ledger (every earn, redemption and expiry) "
            "to value the outstanding points."
        )
        + "</p>"
    )
    if figures:
        f = figures[0]
        data = base64.b64encode(f.read_bytes()).decode()
        parts.append(
            f"<h2>Key figure</h2><img alt='{e(f.stem)}' src='data:image/png;base64,{data}' width='720'>"
        )
    parts.append(
        "<h2>Sections</h2><ul>"
        + "".join(
            f"<li><a href='{e(Path(nb).stem)}.html'>{e(Path(nb).stem.replace('_', ' '))}</a></li>"
            for nb in notebooks
        )
        + "</ul><p>Tables: <a href='loyalty_report.xlsx'>loyalty_report.xlsx</a> and CSV files; figures in "
        "<code>figures/</code>; run details in <a href='manifest.json'>manifest.json</a>.</p>"
    )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}"
        ".tbl{border-collapse:collapse;font-size:.9em}.tbl td,.tbl th{border-bottom:1px solid #ddd;"
        "padding:4px 8px;text-align:left;white-space:nowrap}.tbl td:last-child{white-space:normal}.verdict{background:#eef5f9;padding:.5em 1em;border-radius:6px}"
        ".tiles{display:flex;gap:.6em;flex-wrap:wrap;margin:1em 0}.tile{flex:1 1 150px;border:1px solid "
        "#ccd;border-radius:6px;padding:.5em .8em}.tile-label{font-size:.8em;color:#556}"
        ".tile-value{font-size:1.35em;font-weight:600}.tile-note{font-size:.75em;color:#777}"
        ".subtitle{color:#556}@media print{.tile{break-inside:avoid}}"
    )
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Loyalty report {e(month)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )
    f = out_dir / "index.html"
    f.write_text(page, encoding="utf-8")
    return f


def index_pdf(index_html: Path, timeout: int = 90) -> tuple[Path | None, str]:
    """Print ``index.html`` to ``index.pdf`` with headless Chromium when it is installed.

    Returns the PDF (or None) and one line saying what happened; never fails the run.
    """
    import shutil
    import tempfile

    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)), None)  # fmt: skip
    if exe is None:
        return None, (
            "index.pdf skipped: no Chromium on this machine (apt-get install chromium gives a "
            "printable copy of the index page)"
        )
    pdf = index_html.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
            f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", index_html.resolve().as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"index.pdf skipped: Chromium did not finish ({type(exc).__name__})"
    if not pdf.exists() or pdf.read_bytes()[:4] != b"%PDF":
        pdf.unlink(missing_ok=True)
        return None, "index.pdf skipped: Chromium wrote no PDF"
    return pdf, f"index.pdf written ({pdf.stat().st_size // 1024} KB)"
