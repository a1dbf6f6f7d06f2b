"""`loyalty-roi report` end to end: the report set, privacy, escaping, safe publishing, backfill.

One demo program (3,000 customers) is exported as raw files, then names in the
raw exports are replaced by HTML (`<script>alert(1)</script>` as a store and a
campaign name) and the report runs on those files like a customer's export.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from loyalty_roi import artefacts
from loyalty_roi.paths import NOTEBOOKS_DIR, PROJ_ROOT

from .conftest import demo_exports
from .helpers import ARTIFACTS

pytestmark = pytest.mark.slow
EVIL = "<script>alert(1)</script>"
MONTH = "2026-10"


def cli(*args, wait=True):
    cmd = [sys.executable, "-m", "loyalty_roi.cli", *map(str, args)]
    if not wait:
        return subprocess.Popen(
            cmd, cwd=PROJ_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    return subprocess.run(cmd, capture_output=True, text=True, cwd=PROJ_ROOT, timeout=1800)


def tree(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` except the failure records in ``_failed/``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "_failed" not in p.relative_to(folder).parts
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    demo = {"customers": 3000, "months": 24, "end_month": MONTH, "seed": 11}
    cfg = demo_exports(d, demo, currency="DKK")
    # a store and a campaign called <script>…: must render as text in every HTML page
    for name in ("transactions.csv", "customers.csv"):
        f = d / "raw" / name
        f.write_bytes(f.read_bytes().replace(b";Aarhus C;", f";{EVIL};".encode()))
    wb = load_workbook(d / "raw" / "campaigns.xlsx")
    wb.active.cell(row=2, column=2).value = EVIL
    wb.save(d / "raw" / "campaigns.xlsx")
    raw = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (d / "raw").iterdir()}
    return d, cfg, raw


@pytest.fixture(scope="module")
def report_dir(workspace):
    d, cfg, _ = workspace
    res = cli("report", "--config", cfg, "--out", d / "reports")  # no --month: latest in the data
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert f"latest complete month in the data: {MONTH}" in res.stdout + res.stderr
    return d / "reports" / MONTH


def test_report_set_is_complete(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    for stem in (
        "01_ingest_data",
        "02_segment_customers",
        "03_calculate_kpis",
        "04_analyse_roi_scenarios",
    ):
        assert f"{stem}.ipynb" in names and f"{stem}.html" in names
    assert {
        "index.html",
        "manifest.json",
        "run.log",
        "loyalty_report.xlsx",
        "scorecard.csv",
        "kpi_monthly.csv",
        "program_pnl.csv",
        "data_quality.csv",
        "target_list.csv",
        "summary.csv",
    } <= names
    # a printable copy for e-mail (make test installs Chromium; without it the run says so)
    assert (report_dir / "index.pdf").read_bytes()[:4] == b"%PDF"
    assert len(list((report_dir / "figures").glob("*.png"))) >= 15
    assert not list(report_dir.parent.glob(".staging-*"))  # nothing half-built left behind
    log = (report_dir / "run.log").read_text(encoding="utf-8")
    assert "04_analyse_roi_scenarios.ipynb done in" in log and "Executing Cell" in log


def test_raw_files_are_never_modified(workspace, report_dir):
    d, _, raw = workspace
    assert {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (d / "raw").iterdir()
    } == raw


def test_html_is_self_contained_without_code(report_dir):
    for f in report_dir.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "cdnjs" not in text and "<script src" not in text, f.name
    nb04 = (report_dir / "04_analyse_roi_scenarios.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in nb04
    assert "incrementality.matched_did" not in nb04  # code cells are not shown
    # each page has its own browser title (nbconvert's default was "Notebook" on every page)
    assert "<title>04 · Analyse ROI and scenarios — Loyalty report</title>" in nb04
    titles = {f.read_text(encoding="utf-8").split("<title>")[1].split("</title>")[0]
              for f in report_dir.glob("0*.html")}  # fmt: skip
    assert len(titles) == 4 and "Notebook" not in titles


def test_index_has_the_verdict_kpis_liability_and_links(report_dir):
    text = (report_dir / "index.html").read_text(encoding="utf-8")
    verdict = text.split("class='verdict-text'>")[1].split("</p>")[0]
    # the verdict, qualified when the lift is fragile ("Provisional — …")
    assert verdict.startswith(("The program returns DKK", "Provisional —"))
    assert "The program returns DKK" in verdict
    assert "<h2>KPIs</h2>" in text and "Points liability" in text
    assert "@page{size:A4;" in text  # DKK: printed on A4, not Chromium's US Letter default
    assert "<h2>What changed this month</h2>" in text
    assert "This is the first published report" in text  # no earlier month in this output folder
    assert "data:image/png;base64" in text
    for stem in ("01_ingest_data", "04_analyse_roi_scenarios"):
        assert f"href='{stem}.html'" in text


def test_manifest_and_workbook(report_dir):
    m = json.loads((report_dir / "manifest.json").read_text())
    assert m["parameters"]["month"] == MONTH and len(m["config"]["sha256"]) == 64
    assert "transactions.csv" in m["inputs_sha256"] and m["versions"]["pandas"]
    assert [n["notebook"] for n in m["notebooks"]][0] == "01_ingest_data.ipynb"
    for n in m["notebooks"]:
        assert n["status"] == "ok" and 0 < n["cells_seconds"] < n["seconds"]
        assert n["startup_seconds"] == pytest.approx(n["seconds"] - n["cells_seconds"], abs=0.02)
    assert m["html_conversion_seconds"] > 0
    # the mapping the run read is recorded and hashed (a changed mapping is a changed report)
    assert m["mapping"]["path"].endswith("mapping.yml") and len(m["mapping"]["sha256"]) == 64
    wb = load_workbook(report_dir / "loyalty_report.xlsx")
    assert {"scorecard", "kpi_monthly", "program_pnl", "data_quality"} <= set(wb.sheetnames)
    ws = wb["program_pnl"]
    header = [c.value for c in ws[1]]
    col = header.index("incremental_revenue") + 1
    assert '"DKK"' in ws.cell(row=2, column=col).number_format
    summary = {r[0].value: r for r in wb["summary"].iter_rows(min_row=2)}
    if summary["Corrected lift"][1].value is not None:  # a change, formatted as a signed percent
        assert summary["Corrected lift"][1].number_format == "+0.0%;-0.0%;0.0%"


def test_workbook_cells_are_numbers_formatted_by_unit(report_dir):
    """XLSX for stakeholders: numeric cells, formats from the KPI units, dates, frozen header."""
    import datetime as dt

    from loyalty_roi.kpis import CATALOGUE

    wb = load_workbook(report_dir / "loyalty_report.xlsx")
    assert wb.sheetnames[0] == "README"
    readme = {r[0]: r[1] for r in wb["README"].iter_rows(min_row=2, values_only=True)}
    assert set(wb.sheetnames[1:]) <= set(readme)
    units = {k.key: k.unit for k in CATALOGUE}
    km = wb["kpi_monthly"]
    header = [c.value for c in km[1]]
    assert km.freeze_panes == "A2" and km.auto_filter.ref
    assert isinstance(km.cell(row=2, column=1).value, dt.datetime)  # months are dates
    assert km.cell(row=2, column=1).number_format == "mmm yyyy"
    expected = {"money": '"DKK"', "share": "%", "count": "#,##0"}
    for key, col in ((k, header.index(k) + 1) for k in units if k in header):
        cell = km.cell(row=km.max_row, column=col)
        if cell.value is None:
            continue
        assert isinstance(cell.value, (int, float)), (key, cell.value)
        if units[key] in expected:
            assert expected[units[key]] in cell.number_format, (key, cell.number_format)
    sc = wb["scorecard"]
    h = [c.value for c in sc[1]]
    rows = list(sc.iter_rows(min_row=2))
    for r in rows:  # the value column is numeric, formatted by each row's unit
        v, unit = r[h.index("value")], r[h.index("unit")].value
        if v.value is not None and unit in expected:
            assert isinstance(v.value, (int, float)) and expected[unit] in v.number_format
    dq = wb["data_quality"]
    for r in dq.iter_rows(min_row=2, values_only=True):
        assert not any(isinstance(x, str) and x.startswith("{'") for x in r)  # no dict repr


def _texts(path: Path):
    """Every text a report file holds (members of XLSX archives unpacked)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                yield f"{path.name}:{name}", z.read(name).decode("utf-8", "ignore")
    else:
        yield path.name, path.read_bytes().decode("utf-8", "ignore")


def test_no_email_name_or_phone_of_the_input_in_any_report_file(workspace, report_dir):
    d, _, _ = workspace
    raw = pd.read_csv(d / "raw" / "customers.csv", sep=";", encoding="latin-1", dtype=str)
    needles = set()
    for col in ("Navn", "Email", "Telefon"):
        needles |= set(raw[col].dropna())
    needles |= {re.sub(r"\D", "", p) for p in raw["Telefon"].dropna()}  # digits only, too
    assert len(needles) > 3 * 2000
    pattern = re.compile("|".join(map(re.escape, sorted(needles, key=len, reverse=True))))
    # the scan finds PII where it is (a check that cannot fail would prove nothing)
    assert pattern.search((d / "raw" / "customers.csv").read_bytes().decode("latin-1"))
    files = [p for p in report_dir.rglob("*") if p.is_file()]
    assert len(files) > 30
    for f in files:
        for where, text in _texts(f):
            hit = pattern.search(text)
            assert hit is None, f"{where} contains input PII: {hit.group(0)!r}"


def test_html_special_characters_in_names_render_as_text(report_dir):
    pages = list(report_dir.glob("*.html"))
    shown = 0
    for f in pages:
        text = f.read_text(encoding="utf-8")
        assert EVIL not in text and "<script>alert" not in text, f.name
        shown += text.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert shown > 0  # the names are in the report, as text


def test_target_list_has_only_customers_with_marketing_consent(workspace, report_dir):
    d, _, _ = workspace
    targets = pd.read_csv(report_dir / "target_list.csv", dtype={"customer_id": str})
    customers = pd.read_parquet(d / "processed" / "customers.parquet")
    consent = customers.set_index("customer_id")["marketing_consent"]
    assert len(targets) > 100
    assert consent.reindex(targets["customer_id"]).eq(True).all()
    segs = pd.read_parquet(artefacts.path("customer_segments", d / "processed"))
    targeted = segs[segs["segment"].astype(str).isin(targets["segment"].unique())]
    assert (~consent.reindex(targeted["customer_id"]).eq(True)).sum() > 50  # the filter mattered
    assert set(targets.columns) == {
        "customer_id",
        "segment",
        "action",
        "monetary",
        "recency_days",
        "is_member",
    }


def test_index_opens_offline_in_chromium_with_verdict_table_and_figure(report_dir):
    from playwright.sync_api import sync_playwright

    from .helpers import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it")
    ARTIFACTS.mkdir(exist_ok=True)
    requests, dialogs = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
            ctx.route(
                re.compile(r"^(?!file:|data:).*"),
                lambda route: (requests.append(route.request.url), route.abort()),
            )
            page = ctx.new_page()
            page.on("dialog", lambda dlg: (dialogs.append(dlg.message), dlg.dismiss()))
            page.goto((report_dir / "index.html").as_uri())
            assert page.locator(".verdict-text").is_visible()
            assert "The program returns DKK" in page.locator(".verdict-text").inner_text()
            assert page.locator("table.tbl").first.is_visible()
            assert page.locator("table.tbl tr").count() > 2
            img = page.locator("img").first
            assert img.is_visible()
            assert img.evaluate("i => i.complete && i.naturalWidth > 100")
            # the KPI rows carry a trend line each, and "what changed" leads with sentences
            assert page.locator("table.kpis svg.spark").count() >= 5
            assert page.locator("section.changes li").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "report_index.png"), full_page=True)
            for f in sorted(report_dir.glob("0*.html")):
                page.goto(f.as_uri())
                assert page.locator("img").count() > 0, f.name
                assert page.locator("img").first.evaluate("i => i.complete && i.naturalWidth > 0")
                if f.name.startswith("04_"):  # kept for review with the index screenshot
                    page.screenshot(path=str(ARTIFACTS / "report_04.png"), full_page=True)
        finally:
            browser.close()
    assert requests == []  # nothing needs the network
    assert dialogs == []  # no injected script ran


def test_failure_in_notebook_03_keeps_the_previous_report_byte_identical(
    workspace, report_dir, tmp_path
):
    _, cfg, _ = workspace
    out = tmp_path / "reports"
    shutil.copytree(report_dir, out / MONTH)
    before = tree(out / MONTH)
    nbs = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, nbs)
    nb = nbformat.read(nbs / "03_calculate_kpis.ipynb", as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell('raise ValueError("planted failure")'))
    nbformat.write(nb, nbs / "03_calculate_kpis.ipynb")
    res = cli("report", "--month", MONTH, "--config", cfg, "--out", out, "--notebooks", nbs)
    assert res.returncode == 1
    reason = [ln for ln in re.split(r"[\r\n]", res.stderr) if ln.startswith("error:")]
    assert len(reason) == 1 and "Traceback" not in res.stderr
    hit = re.search(
        r"03_calculate_kpis\.ipynb failed at cell In \[(\d+)\]: ValueError: planted failure",
        reason[0],
    )
    assert hit, reason[0]
    assert tree(out / MONTH) == before
    (failed,) = (out / MONTH / "_failed").iterdir()
    assert {p.name for p in failed.iterdir()} == {"03_calculate_kpis.ipynb", "error.txt", "run.log"}
    assert "planted failure" in (failed / "error.txt").read_text()
    executed = nbformat.read(failed / "03_calculate_kpis.ipynb", as_version=4)
    (cell,) = [c for c in executed.cells if c.get("execution_count") == int(hit.group(1))]
    assert cell.source.startswith("raise ValueError")
    assert any(o.get("ename") == "ValueError" for o in cell.get("outputs", []))
    assert not list(out.glob(".staging-*")) and not list((out / ".locks").glob("*.lock"))


def test_kill_9_mid_run_then_backfill_publishes_whole_reports_only(workspace, report_dir, tmp_path):
    _, cfg, _ = workspace
    out = tmp_path / "reports"
    shutil.copytree(report_dir, out / MONTH)
    before = tree(out / MONTH)
    proc = cli("report", "--month", MONTH, "--config", cfg, "--out", out, wait=False)
    seen: list[str] = []
    end = time.time() + 600
    while time.time() < end and "02_segment_customers.ipynb …" not in "".join(seen):
        for log in out.glob(".staging-*/run.log"):
            seen = [log.read_text(encoding="utf-8", errors="ignore")]
        assert tree(out / MONTH) == before
        time.sleep(0.5)
    assert "02_segment_customers.ipynb …" in "".join(seen), "the run never reached notebook 02"
    time.sleep(3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree(out / MONTH) == before  # the killed run left the last good report as it was
    assert list(out.glob(".staging-*")) and (out / ".locks" / f"{MONTH}.lock").exists()

    stop, broken = threading.Event(), []

    def watch():  # whenever the month folder is visible, it is a whole report
        while not stop.is_set():
            names = {p.name for p in (out / MONTH).iterdir()} if (out / MONTH).exists() else set()
            if not {"index.html", "manifest.json", "04_analyse_roi_scenarios.html"} <= names:
                broken.append(sorted(names))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        res = cli("reports", "--from", "2026-09", "--to", MONTH, "--config", cfg, "--out", out)
    finally:
        stop.set()
        watcher.join()
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert broken == []
    assert "killed run" in res.stdout + res.stderr  # stale lock / staging detected
    assert not list(out.glob(".staging-*")) and not list((out / ".locks").glob("*.lock"))
    for month in ("2026-09", MONTH):
        m = json.loads((out / month / "manifest.json").read_text())
        assert m["parameters"]["month"] == month and (out / month / "index.html").exists()
    assert tree(out / MONTH) != before  # the new report replaced the old one
    log = (out / MONTH / "run.log").read_text(encoding="utf-8")
    assert log.count("01_ingest_data.ipynb …") == 1  # ingested once for both months
    assert log.count("02_segment_customers.ipynb …") == 2


def test_index_notebook_csv_and_xlsx_agree_on_lift_roi_and_liability(report_dir):
    """One source per number: the headline figures are the same computation everywhere."""
    import re

    from loyalty_roi.present import fmt

    s = pd.read_csv(report_dir / "summary.csv").set_index("figure")
    lift, roi_v, liab = (
        float(s.loc[k, "value"]) for k in ("Corrected lift", "ROI", "Points liability")
    )
    wb = load_workbook(report_dir / "loyalty_report.xlsx")
    x = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert x["Corrected lift"] == pytest.approx(lift) and x["ROI"] == pytest.approx(roi_v)
    assert x["Points liability"] == pytest.approx(liab)
    index = re.sub(r"<[^>]+>", " ", (report_dir / "index.html").read_text(encoding="utf-8"))
    assert fmt(lift, "change") in index and fmt(liab, "money", "DKK") in index
    assert fmt(roi_v, "change") in index
    nb04 = re.sub(
        r"<[^>]+>", " ", (report_dir / "04_analyse_roi_scenarios.html").read_text("utf-8")
    )
    assert f"{lift:+.1%}" in nb04  # the lift table
    assert f"DKK {liab:,.0f}" in nb04  # the liability sentence and the roll-forward's last month
    assert f"ROI {roi_v:+.0%}" in nb04  # the verdict


def test_a_long_sheet_is_cut_in_the_xlsx_and_complete_in_the_csv(tmp_path, monkeypatch):
    from loyalty_roi import report as rep

    monkeypatch.setattr(rep, "XLSX_MAX_ROWS", 100)
    derived = artefacts.folder(tmp_path / "processed")
    derived.mkdir(parents=True)
    targets = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(250)], "action": "win back"})
    targets.to_parquet(derived / "target_list.parquet")
    rep.export_tables(tmp_path / "processed", tmp_path / "out", "EUR")
    assert len(pd.read_csv(tmp_path / "out" / "target_list.csv")) == 250
    wb = load_workbook(tmp_path / "out" / "loyalty_report.xlsx")
    assert wb["target_list"].max_row == 101  # header + the first 100
    notes = {r[0]: r[1] for r in wb["README"].iter_rows(min_row=2, values_only=True)}
    assert "First 100 of 250 rows; every row is in target_list.csv." in notes["target_list"]


def test_demo_pages_have_no_empty_section_or_table(report_dir):
    """The demo's pages, checked like the data shapes': a table of headers only is empty."""
    from .report_shapes import empty_sections

    assert empty_sections("<h2>S</h2><table><tr><th>Lift</th></tr></table><h2>T</h2><p>x</p>") == [
        "S"
    ]
    for page in sorted(report_dir.glob("*.html")):
        assert not empty_sections(page.read_text(encoding="utf-8")), page.name


def test_a_parameter_set_with_p_changes_the_analysis_and_the_manifest_records_it(
    workspace, report_dir
):
    d, cfg, _ = workspace
    res = cli("report", "--config", cfg, "--out", d / "reports_p", "-p", "pre_months=9")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    report = d / "reports_p" / MONTH
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["overrides"] == {"pre_months": 9}
    nb = nbformat.read(report / "04_analyse_roi_scenarios.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "pre_months = 9" in injected[0].source
    # a 9-month pre-period is a different comparison: a different lift than the default 6
    lift = {
        name: pd.read_csv(r / "summary.csv").set_index("figure").loc["Corrected lift", "value"]
        for name, r in (("default", report_dir), ("pre9", report))
    }
    assert float(lift["pre9"]) != pytest.approx(float(lift["default"]), abs=1e-6)
    default = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    assert default["parameters"]["overrides"] == {}
