"""A full report on hostile exports in a read-only raw folder: nothing written, leaked or evaluated.

The raw folder of a small demo program is rewritten like a careless or hostile
export: store and campaign names that are spreadsheet formulas
(``=HYPERLINK(…)``, ``+cmd``, ``@SUM``, ``-2+3``), a campaign name with ``$``
(matplotlib mathtext) and one with an e-mail address and a phone number, and
customer ids that are e-mail addresses.  The report then runs with the raw
folder bind-mounted read-only (``unshare -m``; as a non-root user, ``chmod``
is enough), and every output file — HTML, CSV, XLSX cells, PNG metadata,
run.log, manifest, processed data and quarantine — is scanned.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from loyalty_roi.paths import PROJ_ROOT

from .conftest import demo_exports

pytestmark = pytest.mark.slow
MONTH = "2026-10"
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd"]
DOLLAR = "Save $5 or $\\frac{10}"
CONTACT = "Call Jens +45 20 30 40 50 or jens.hansen@shop.dk"
EMAIL_RE = re.compile(rb"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+\.[A-Za-z]{2,}")


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _hostile_exports(raw: Path) -> dict:
    """Rewrite the demo exports; return the personal strings that must never come out."""
    cust = pd.read_csv(
        raw / "customers.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False
    )
    tx = pd.read_csv(
        raw / "transactions.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False
    )
    stores = sorted(set(cust["Butik"]) - {"Web shop"})
    rename_store = dict(zip(stores[:3], FORMULAS, strict=False))
    ids = cust["KundeID"].head(300).tolist()
    email_ids = {i: f"member.{i.lower()}@example.org" for i in ids}
    for df in (cust, tx):
        df["Butik"] = df["Butik"].replace(rename_store)
        df["KundeID"] = df["KundeID"].replace(email_ids)
    cust.to_csv(raw / "customers.csv", sep=";", index=False, encoding="latin-1")
    tx.to_csv(raw / "transactions.csv", sep=";", index=False, encoding="latin-1")
    sv = pd.read_csv(raw / "surveys.csv", dtype=str, keep_default_na=False)
    sv["customer_id"] = sv["customer_id"].replace(email_ids)
    sv.to_csv(raw / "surveys.csv", index=False)
    kp = pd.read_csv(raw / "kuponger.csv", sep=";", dtype=str, keep_default_na=False)
    kp["Kundnummer"] = kp["Kundnummer"].replace(email_ids)
    kp.to_csv(raw / "kuponger.csv", sep=";", index=False)
    for p in raw.glob("*.parquet"):
        df = pd.read_parquet(p)
        if "customer_id" in df:
            df["customer_id"] = df["customer_id"].replace(email_ids)
            df.to_parquet(p, index=False)
    wb = load_workbook(raw / "campaigns.xlsx")
    ws = wb.active
    for row, name in zip(range(2, 6), [FORMULAS[0], DOLLAR, CONTACT, "-2+3"], strict=True):
        cell = ws.cell(row=row, column=2)
        cell.value = name
        cell.data_type = "s"  # text that looks like a formula, as a careless export writes it
    wb.save(raw / "campaigns.xlsx")
    return {
        "emails": list(email_ids.values())[:50]
        + cust["Email"].head(50).tolist()
        + ["jens.hansen@shop.dk"],
        "names": cust["Navn"].head(50).tolist(),
        "phones": ["20 30 40 50", "+4520304050"] + cust["Telefon"].head(50).tolist(),
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    demo = {"customers": 1500, "months": 24, "end_month": MONTH, "seed": 5}
    cfg = demo_exports(d, demo, currency="DKK")
    secrets = _hostile_exports(d / "raw")
    before = digest(d / "raw")
    cmd = [
        sys.executable,
        "-m",
        "loyalty_roi.cli",
        "report",
        "--config",
        str(cfg),
        "--out",
        str(d / "reports"),
    ]
    raw = str(d / "raw")
    if os.geteuid() == 0:  # root ignores file modes: mount the folder read-only in a namespace
        ro = f'mount --bind {raw} {raw} && mount -o remount,bind,ro {raw} && exec "$@"'
        cmd = ["unshare", "-m", "sh", "-c", ro, "sh", *cmd]
        probe = subprocess.run(
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                f"mount --bind {raw} {raw} && mount -o remount,bind,ro {raw} && ! touch {raw}/.w",
            ],
            capture_output=True,
        )
        if probe.returncode != 0:
            pytest.skip(f"cannot mount read-only here: {probe.stderr.decode()[:200]}")
    else:
        for p in [d / "raw", *(d / "raw").iterdir()]:
            p.chmod(0o555 if p.is_dir() else 0o444)
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJ_ROOT, timeout=1800)
    return d, res, before, secrets


def test_report_succeeds_on_a_read_only_raw_folder(hostile):
    d, res, before, _ = hostile
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert (d / "reports" / MONTH / "index.html").exists()
    assert digest(d / "raw") == before, "raw files must be byte-identical"


def _output_files(d: Path) -> list[Path]:
    return [p for p in [*(d / "reports").rglob("*"), *(d / "processed").rglob("*")] if p.is_file()]


def _blob(p: Path) -> bytes:
    data = p.read_bytes()
    if p.suffix == ".xlsx":
        with zipfile.ZipFile(p) as z:
            data = b"".join(z.read(n) for n in z.namelist())
    return data


def test_no_personal_data_in_any_output(hostile):
    d, res, _, secrets = hostile
    assert res.returncode == 0
    files = _output_files(d)
    assert len(files) > 30
    for p in files:
        blob = _blob(p)
        if p.suffix == ".parquet":  # compressed bytes: scan the decoded table
            blob = pd.read_parquet(p).to_csv().encode()
        if p.suffix != ".png":  # binary image data matches e-mail patterns by chance
            found = EMAIL_RE.findall(blob)
            assert not found, f"{p}: e-mail address {found[:2]}"
        for s in secrets["emails"] + secrets["names"] + secrets["phones"]:
            assert s.encode() not in blob, f"{p}: {s!r}"
    stdout = (res.stdout + res.stderr).encode()
    assert not EMAIL_RE.findall(stdout)


def test_the_scan_finds_personal_data_where_it_is(hostile):
    """Positive control: the same scan does find the secrets in the raw exports."""
    d, _, _, secrets = hostile
    raw = b"".join(_blob(p) for p in (d / "raw").iterdir() if p.is_file())
    assert EMAIL_RE.findall(raw) and any(s.encode() in raw for s in secrets["names"])


def test_no_formula_reaches_a_spreadsheet_or_csv(hostile):
    d, res, _, _ = hostile
    assert res.returncode == 0
    report = d / "reports" / MONTH
    wb = load_workbook(report / "loyalty_report.xlsx")
    n_text = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    n_text += 1
                    assert not c.value.startswith(("=", "+", "@", "-", "|")), c.value
    assert n_text > 10
    csvs = list(report.glob("*.csv")) + list((d / "processed" / "quarantine").glob("*.csv"))
    hits = 0
    for p in csvs:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        for col in df.columns:
            for v in df[col]:
                if v.startswith(("=", "+", "@")):
                    raise AssertionError(f"{p.name}: live formula {v!r}")
                if v.startswith("-") and not re.fullmatch(r"-[\d.]+(e-?\d+)?", v):
                    raise AssertionError(f"{p.name}: {v!r}")
                hits += v.startswith("'=") or v.startswith("'+") or v.startswith("'@")
    assert hits > 0, "the hostile store names must appear, made inert"


def test_dollar_names_do_not_break_charts(hostile):
    d, res, _, _ = hostile
    assert res.returncode == 0
    html = (d / "reports" / MONTH / "04_analyse_roi_scenarios.html").read_text(encoding="utf-8")
    assert "Save $5 or $\\frac{10}" in html  # shown literally in the campaign table


def test_the_warning_on_email_ids_is_shown(hostile):
    d, res, _, _ = hostile
    q = json.loads((d / "processed" / "quality_report.json").read_text(encoding="utf-8"))
    notes = [n for t in q["tables"] for n in t["assumptions"]]
    assert any(n.startswith("WARNING") and "customer_id" in n for n in notes)
    html = (d / "reports" / MONTH / "01_ingest_data.html").read_text(encoding="utf-8")
    assert "pseudonymised" in html
