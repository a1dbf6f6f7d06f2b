"""The report's front page: ``index.html`` (and ``index.pdf``) for decision makers.

A headline tile row (:func:`headline`, the same figures as ``summary.csv`` and
the XLSX summary sheet), the verdict, "what changed this month" (from
:mod:`loyalty_roi.narrative`), the KPI rows with a 13-month trend line, MoM and
YoY coloured by whether the move is good news, and the target status.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from .scorecard import STATUS_COLORS

# KPIs shown on the front page besides those with a target (in catalogue order)
FRONT_KPIS = (
    "active_customers",
    "net_revenue",
    "enrollment_rate",
    "revenue_share_members",
    "retention_rate",
    "redemption_rate",
)
STATUS_CLASS = {
    "on track": "ok",
    "at risk": "risk",
    "off track": "off",
}  # colours: kpis.STATUS_COLORS
TREND_MONTHS = 13
# changes smaller than this (relative, or in rate points) are float noise, not news: a members-only
# program's 100.0 % revenue share moved by 1e-16 and was shown in red with a jagged trend line
NOISE = 1e-9
# the currencies of the countries that print on US Letter; every other one gets A4 (ISO 216)
LETTER_CURRENCIES = {"USD", "CAD", "MXN", "CLP", "PHP"}


def paper_size(currency: str) -> str:
    """The printed page of the index PDF: A4, or Letter where the currency's country uses it."""
    return "Letter" if str(currency).upper() in LETTER_CURRENCIES else "A4"


def month_summary(processed: Path, month: str) -> tuple[dict | None, str | None]:
    """Notebook 04's saved summary for ``month``, and why there is no verdict.

    The summary is None when it is another month's or absent; the reason is
    the one saved when no verdict could be made.
    """
    from . import artefacts

    s = artefacts.load("report_summary", processed)
    if s is not None and s.get("month") not in (None, month):
        s = None  # saved by another month's run (a backfill): not this month's verdict
    why = (artefacts.load("verdict_unavailable", processed) or {}).get("reason")
    if why:  # the sentences around it already say "not available"
        why = re.sub(r"^Not available[:—\s-]*", "", why)
    return s, why


def headline(processed: Path, month: str) -> pd.DataFrame:
    """The month's headline figures — one source for the index tiles, summary.csv and the XLSX.

    Columns ``figure, value, unit, note``; a figure that is not available has no
    value and says why in ``note``.
    """
    from . import artefacts, points

    s, why = month_summary(processed, month)
    missing = why or "the corrected lift could not be estimated (see notebook 04)"
    rows = []

    def add(figure, value, unit, note=""):
        rows.append({"figure": figure, "value": value, "unit": unit, "note": note})

    known = s if s is not None else (artefacts.load("verdict_unavailable", processed) or {})
    credible = s is not None and s.get("confidence") != "not credible"
    if credible:
        lo, hi = s.get("lift_ci", [None, None])
        q = " (fragile)" if s.get("confidence") == "fragile" else ""
        add(
            "Corrected lift",
            s["drivers"]["lift"],
            "change",
            f"95% interval {lo:+.1%} to {hi:+.1%}{q}"
            + (
                f"; the estimates range {s['lift_bracket'][0]:+.1%} to {s['lift_bracket'][1]:+.1%}"
                if s.get("lift_bracket")
                else ""
            ),
        )
        add("ROI", s.get("roi"), "change", s.get("verdict", ""))
        add("P(ROI > 0)", s.get("p_roi_positive"), "share", "share of Monte Carlo draws" + q)
        add("Confidence", None, "text", s.get("confidence") or "")
    elif s is not None:  # not credible: no lift or ROI stated as a finding
        why = "; ".join(s.get("confidence_reasons", []))
        add("Corrected lift", None, "change", f"not credible: {why}")
        add("ROI", None, "change", "not stated: the lift failed its checks (see the verdict)")
        add("P(ROI > 0)", None, "share", "not stated: the lift failed its checks")
        add("Confidence", None, "text", "not credible")
    else:
        for f, u in (("Corrected lift", "change"), ("ROI", "change"), ("P(ROI > 0)", "share")):
            add(f, None, u, f"not available: {missing}")
        add("Confidence", None, "text", "not available")
    if known.get("break_even_lift") is not None:
        be = known["break_even_lift"]
        add(
            "Break-even lift",
            be if np.isfinite(be) else None,
            "change",
            "the lift on members' revenue at which the program pays for itself"
            if np.isfinite(be)
            else "no lift on members' revenue covers the program's cost",
        )
    if known.get("cost_per_month") is not None:
        add("Program cost per month", known["cost_per_month"], "money", "rewards and running costs")
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


def previous_headline(folders: list[Path], month: str) -> tuple[str, pd.DataFrame] | None:
    """The month and ``summary.csv`` of the latest report before ``month`` in ``folders``."""
    found = {}
    for folder in folders:
        for f in folder.glob("*/summary.csv"):
            m = f.parent.name
            if re.fullmatch(r"\d{4}-\d{2}", m) and m < month:
                found[m] = f
    if not found:
        return None
    m = max(found)
    df = pd.read_csv(found[m], keep_default_na=False, na_values=[""])
    df["note"] = df["note"].fillna("").astype(str)
    return m, df


def sparkline(values: list[float], width: int = 110, height: int = 26) -> str:
    """An inline SVG trend line with the last point marked; gaps (missing months) break the line."""
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    ok = np.isfinite(v)
    if ok.sum() < 2:
        return "<span class='muted'>too few months</span>"
    lo, hi = np.nanmin(v), np.nanmax(v)
    span = hi - lo
    if span <= NOISE * max(abs(lo), abs(hi), 1e-12):  # equal up to float noise: a flat line
        v, lo, span = np.where(ok, 0.0, np.nan), -1.0, 2.0
    xs = np.linspace(2, width - 4, len(v))
    ys = height - 3 - (v - lo) / span * (height - 6)
    segs, cur = [], []
    for x, y, good in zip(xs, ys, ok, strict=True):
        if good:
            cur.append(f"{x:.1f},{y:.1f}")
        elif cur:
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    lines = "".join(
        f"<polyline fill='none' stroke='#4a6fa5' stroke-width='1.5' points='{' '.join(p)}'/>"
        for p in segs
    )
    last = np.flatnonzero(ok)[-1]
    return (
        f"<svg class='spark' width='{width}' height='{height}' role='img' "
        f"aria-label='trend over {len(v)} months'>{lines}"
        f"<circle cx='{xs[last]:.1f}' cy='{ys[last]:.1f}' r='2.5' fill='#222'/></svg>"
    )


def kpi_section(processed: Path, card: pd.DataFrame | None, currency: str) -> str:
    """The KPI rows: KPI, trend, value, MoM and YoY (green good news, red bad), target, status."""
    from .scorecard import scorecard_display

    if card is None:
        return (
            "<h2>KPIs</h2><p>Not available — the KPI notebook (03) did not run this month; run "
            "the full report to get the scorecard.</p>"
        )
    from . import artefacts

    monthly = artefacts.load("kpi_monthly", processed)
    monthly = monthly.set_index("month").sort_index() if monthly is not None else None
    show = card[card["target"].notna() | card["key"].isin(FRONT_KPIS)]
    show = show[show["value"].notna() | show["target"].notna()]
    disp = scorecard_display(show, currency).set_index(show.index)
    e = html.escape
    rows, notes = [], []
    for i, r in show.iterrows():
        d = disp.loc[i]
        if monthly is not None and r["key"] in monthly:
            trend = sparkline(monthly[r["key"]].tail(TREND_MONTHS).tolist())
        else:
            trend = "<span class='muted'>—</span>"
        cells = [
            f"<td>{e(r['kpi'])}</td>",
            f"<td>{trend}</td>",
            f"<td class='num'>{e(d['value'])}</td>",
        ]
        for col, shown in (("mom", d["MoM"]), ("yoy", d["YoY"])):
            v, better = r[col], r["higher_is_better"]
            cls = ""
            if pd.notna(v) and abs(v) > NOISE and better is not None and pd.notna(better):
                cls = "good" if (v > 0) == bool(better) else "bad"
            cells.append(f"<td class='num {cls}'>{e(shown)}</td>")
        status = str(r["status"])
        cells.append(f"<td>{e(d['target'])}</td>")
        if ":" in status:  # "infeasible: …", "no baseline: …" — the reason goes under the table
            notes.append(f"{r['kpi']}: {status.split(':', 1)[1].strip()}.")
            status = status.split(":", 1)[0] + f" ({len(notes)})"
        cells.append(f"<td class='{STATUS_CLASS.get(status, '')}'>{e(status)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("KPI", f"Last {TREND_MONTHS} months", "Value", "MoM", "YoY", "Target", "Status")
    )
    return (
        "<h2>KPIs</h2><p class='subtitle'>MoM and YoY in percentage points for rates, percent "
        "otherwise; green is good news, red a worsening. All KPIs are in the KPI notebook.</p>"
        f"<table class='tbl kpis'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + "".join(f"<p class='footnote'>({i}) {e(n)}</p>" for i, n in enumerate(notes, 1))
    )


def index_page(
    out_dir: Path,
    month: str,
    processed: Path,
    notebooks: list[str],
    figures: list[Path],
    currency: str,
    published: list[Path] | None = None,
) -> Path:
    """``index.html``: the executive summary with links to every section.

    ``published`` are the folders that hold earlier months' reports (``reports/``
    and, in a backfill, the run's staging folder): "what changed" compares with
    the latest report before ``month`` found there.
    """
    e = html.escape
    parts = [
        f"<h1>Loyalty program report — {e(month)}</h1>"
        f"<p class='subtitle'>Monthly report for {e(month)}, generated "
        f"{dt.date.today():%Y-%m-%d}; amounts in {e(currency)}.</p>"
    ]
    from . import narrative
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
    plan = ""
    from . import artefacts

    known = s if s is not None else (artefacts.load("verdict_unavailable", processed) or {})
    if known.get("test_plan"):
        plan = f"<p class='test-plan'>{e(known['test_plan'])}</p>"
    if s is not None and s.get("confidence") == "not credible":
        parts.append(
            "<section class='verdict'><h2>Verdict</h2>"
            f"<p class='verdict-text'>{e(s.get('verdict', ''))}</p>{plan}</section>"
        )
    elif s is not None:
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
            "<section class='verdict'><h2>Verdict</h2><p class='verdict-text'>"
            + (
                e(known["known"])
                if known.get("known")
                else "Not available — the corrected lift could not be estimated"
                + (f": {e(why)}" if why else " (see notebook 04)")
            )
            + f"</p>{plan}</section>"
        )
    from . import artefacts

    card = artefacts.load("scorecard_values", processed)
    before = previous_headline(published, month) if published is not None else None
    parts.append(
        "<section class='changes'><h2>What changed this month</h2><ul>"
        + "".join(
            f"<li>{e(t)}</li>"
            for t in narrative.what_changed(
                card, tiles, before[1] if before else None, before[0] if before else None, currency
            )
        )
        + "</ul></section>"
    )
    parts.append(kpi_section(processed, card, currency))
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
        + "".join(f".{STATUS_CLASS[k]}{{background:{c}}}" for k, c in STATUS_COLORS.items())
        + ".good{color:#1b7a2f}.bad{color:#b3261e}.spark{vertical-align:middle}"
        ".tbl td.num{text-align:right}.footnote{font-size:.85em;color:#556;margin:.2em 0}"
        ".changes li{margin:.2em 0}"
        f"@page{{size:{paper_size(currency)};margin:14mm}}"
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
