"""`loyalty-roi report` end to end on a mid-size demo: the report set, offline and complete."""

import json
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from loyalty_roi.config import PROJ_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    cfg = d / "cfg.yml"
    cfg.write_text(
        json.dumps(
            {
                "data": {
                    "source": "demo",
                    "raw_dir": str(d / "raw"),
                    "mapping": str(d / "raw" / "mapping.yml"),
                    "processed_dir": str(d / "processed"),
                },
                "demo": {"customers": 4000, "months": 24, "end_month": "2026-10", "seed": 11},
                "currency": "DKK",
            }
        )
    )
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_roi.cli",
            "report",
            "--month",
            "2026-10",
            "--config",
            str(cfg),
            "--out",
            str(d / "reports"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJ_ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return d / "reports" / "2026-10"


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
        "loyalty_report.xlsx",
        "scorecard.csv",
        "kpi_monthly.csv",
        "program_pnl.csv",
        "data_quality.csv",
    } <= names
    assert len(list((report_dir / "figures").glob("*.png"))) >= 15
    assert not list(report_dir.parent.glob(".staging-*"))  # nothing half-built left behind


def test_html_is_self_contained_without_code(report_dir):
    for f in report_dir.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "cdnjs" not in text and "<script src" not in text, f.name
    nb04 = (report_dir / "04_analyse_roi_scenarios.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in nb04
    assert "incrementality.matched_did" not in nb04  # code cells are not shown


def test_index_has_the_verdict_kpis_liability_and_links(report_dir):
    text = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "class='verdict-text'>The program returns DKK" in text
    assert "KPIs against targets" in text and "Points liability" in text
    assert "data:image/png;base64" in text
    for stem in ("01_ingest_data", "04_analyse_roi_scenarios"):
        assert f"href='{stem}.html'" in text


def test_manifest_and_workbook(report_dir):
    m = json.loads((report_dir / "manifest.json").read_text())
    assert m["parameters"]["month"] == "2026-10" and len(m["config"]["sha256"]) == 64
    assert "transactions.csv" in m["inputs_sha256"] and m["versions"]["pandas"]
    assert [n["notebook"] for n in m["notebooks"]][0] == "01_ingest_data.ipynb"
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in m["notebooks"])
    wb = load_workbook(report_dir / "loyalty_report.xlsx")
    assert {"scorecard", "kpi_monthly", "program_pnl", "data_quality"} <= set(wb.sheetnames)
    ws = wb["program_pnl"]
    header = [c.value for c in ws[1]]
    col = header.index("incremental_revenue") + 1
    assert '"DKK"' in ws.cell(row=2, column=col).number_format
