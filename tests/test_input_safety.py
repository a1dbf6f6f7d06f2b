"""Input safety: values read right or refused, raw folders read-only, no personal data or formula out.

Each test here failed on the main of 2026-11-22 (issue 10): quoted "no" read as
consent, ``1.299`` read as 1.299, literal ``NA`` ids turned anonymous, e-mail ids
and free text reached ``processed/``, quarantine files carried contact columns,
the demo generator overwrote real exports, and overlapping folders were accepted.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from loyalty_roi import ingest, parsing, safety, sanitize
from loyalty_roi.config import load_config
from loyalty_roi.errors import ConfigError, DataError
from loyalty_roi.paths import PROJ_ROOT

from .conftest import RUN_DATE, SALT

CU, TX = "customers.csv", "transactions.csv"


def run(raw: Path, out: Path | None = None, **kw):
    return ingest.ingest(raw, raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE, **kw)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def edit_csv(path: Path, fn, encoding="latin-1", sep=";"):
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
    fn(df)
    df.to_csv(path, sep=sep, index=False, encoding=encoding)


def edit_mapping(raw: Path, fn):
    p = raw / "mapping.yml"
    doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    fn(doc["tables"])
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def rename_customers(raw: Path, new: dict[str, str]) -> None:
    """Give customers other ids in every export that references them."""
    for name in (CU, TX):
        edit_csv(raw / name, lambda d: d.__setitem__("KundeID", d["KundeID"].replace(new)))
    for p in raw.glob("*.parquet"):
        df = pd.read_parquet(p)
        if "customer_id" in df:
            df["customer_id"] = df["customer_id"].replace(new)
            df.to_parquet(p, index=False)


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "loyalty_roi.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=PROJ_ROOT,
        timeout=600,
        env=env,
    )


# ---------------------------------------------------------------------------------------------
# values read right, or refused
# ---------------------------------------------------------------------------------------------
def test_quoted_no_and_false_codes_mean_no_consent(small_raw):
    edit_mapping(
        small_raw,
        lambda t: t["customers"]["values"].update(
            marketing_consent={"Ja": "yes", "Nej": "no"}, is_member={"J": "true", "N": "false"}
        ),
    )
    raw_csv = pd.read_csv(small_raw / CU, sep=";", encoding="latin-1", dtype=str)
    cust = run(small_raw).tables["customers"].set_index("customer_id")
    refused = raw_csv.loc[raw_csv["Samtykke"] == "Nej", "KundeID"]
    assert len(refused) > 50
    assert not cust.loc[refused, "marketing_consent"].any()
    members = raw_csv.loc[raw_csv["Medlem"] == "J", "KundeID"]
    assert cust.loc[members, "is_member"].all() and cust["is_member"].sum() == len(members)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["12,50", "1.299", "3"], [12.5, 1299.0, 3.0]),  # comma file: '.' groups thousands
        (["12.50", "4,500", "7"], [12.5, 4500.0, 7.0]),  # dot file: ',' groups thousands
        (["1 299,00", "2\u00a0450,5"], [1299.0, 2450.5]),  # space / no-break space groups
        (["1.234.567,89", "0,5"], [1234567.89, 0.5]),
        (["-12,50", "+3,00"], [-12.5, 3.0]),
    ],
)
def test_number_style_is_decided_by_unambiguous_values(values, expected):
    s = pd.Series(values, dtype=object)
    style = parsing.detect_number_style({"a": s})
    v, missing, bad, _ = parsing.parse_number(s, style.decimal)
    assert not bad.any() and not missing.any()
    assert v.tolist() == pytest.approx(expected)


@pytest.mark.parametrize("values", [["1.299", "2.450"], ["4,500", "12"], ["12,5", "12.5"]])
def test_values_that_read_two_ways_get_no_style(values):
    style = parsing.detect_number_style({"a": pd.Series(values, dtype=object)})
    assert style.decimal is None


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "NaN", "1e5", "12,50 kr", "€5", "1,2,3"])
def test_non_numbers_are_bad_in_either_style(text):
    for dec in (",", "."):
        _, _, bad, _ = parsing.parse_number(pd.Series([text], dtype=object), dec)
        assert bad.all(), (text, dec)


def test_infinite_numbers_in_parquet_are_bad():
    _, missing, bad, _ = parsing.parse_number(pd.Series([1.0, float("inf"), float("nan")]), ".")
    assert bad.tolist() == [False, True, False] and missing.tolist() == [False, False, True]


def test_declared_decimal_reads_whole_thousands(small_raw):
    p = small_raw / "program_costs.csv"
    edit_csv(p, lambda d: d.__setitem__("Betrag", "1.299"), encoding="utf-8-sig")
    with pytest.raises(DataError, match="can be read two ways"):
        run(small_raw)
    edit_mapping(small_raw, lambda t: t["program_costs"].update(decimal=",", thousands="."))
    costs = run(small_raw).tables["program_costs"]
    assert (costs["amount"] == 1299.0).all()


@pytest.mark.parametrize("ident", ["NA", "None", "null", "N/A", "nan"])
def test_literal_missing_words_stay_ids(small_raw, ident):
    tx = pd.read_csv(small_raw / TX, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    old = tx.loc[tx["KundeID"] != "", "KundeID"].iloc[0]  # a customer with sales
    rename_customers(small_raw, {old: ident})
    tables = run(small_raw).tables
    assert ident in set(tables["customers"]["customer_id"])
    n_sales = (
        pd.read_csv(small_raw / TX, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)[
            "KundeID"
        ]
        == ident
    ).sum()
    assert n_sales > 0
    assert (tables["transactions"]["customer_id"] == ident).sum() == n_sales


def test_declared_time_zone_format_keeps_wall_clock_time(small_raw):
    def to_iso(d):
        ts = pd.to_datetime(d["Tidspunkt"], format="%d.%m.%Y %H:%M:%S")
        d["Tidspunkt"] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S") + "+01:00"

    edit_csv(small_raw / TX, to_iso)
    edit_mapping(small_raw, lambda t: t["transactions"].update(date_format="%Y-%m-%dT%H:%M:%S%z"))
    res = run(small_raw)
    tx = res.tables["transactions"]
    src = pd.read_csv(small_raw / TX, sep=";", encoding="latin-1", dtype=str)
    first = tx.set_index("transaction_id").loc[src.loc[0, "Bonnr"], "ts"]
    assert first == pd.Timestamp(src.loc[0, "Tidspunkt"][:19])
    notes = res.quality.set_index("table").loc["transactions", "assumptions"]
    assert any("wall-clock" in n for n in notes)


def test_auto_date_detection_refuses_ambiguous_day_month():
    s = pd.Series(["11/01/2024", "03/02/2024", "12/12/2024"])
    with pytest.raises(parsing.AmbiguousDates):
        parsing.parse_date(s, None)
    v, _, bad, notes = parsing.parse_date(pd.Series(["11/01/2024", "13/02/2024"]), None)
    assert not bad.any() and v[0] == pd.Timestamp("2024-01-11") and notes["format"] == "%d/%m/%Y"


@pytest.mark.parametrize("word", ["x", "maybe", "2", "-", "ok", "on"])
def test_unknown_yes_no_words_are_bad_not_truthy(word):
    v, _, bad = parsing.parse_bool(pd.Series([word]), None)
    assert bad.all()


# ---------------------------------------------------------------------------------------------
# personal data never reaches processed data or quarantine files
# ---------------------------------------------------------------------------------------------
def test_email_ids_and_contact_details_in_text_are_pseudonymised(small_raw, tmp_path):
    cust = pd.read_csv(small_raw / CU, sep=";", encoding="latin-1", dtype=str)
    ids = cust["KundeID"].tolist()[:40]
    emails = {i: f"kunde.{i.lower()}@example.dk" for i in ids}
    rename_customers(small_raw, emails)
    from openpyxl import load_workbook as lw

    wb = lw(small_raw / "campaigns.xlsx")
    wb.active.cell(row=2, column=2).value = "Ring til Jens på +45 20 30 40 50 eller jens@shop.dk"
    wb.save(small_raw / "campaigns.xlsx")
    out = tmp_path / "processed"
    res = run(small_raw, out)
    for name, df in res.tables.items():
        for col in df.columns:
            text = " ".join(df[col].dropna().astype(str).tolist())
            assert "@example.dk" not in text and "jens@shop.dk" not in text, (name, col)
            assert "20 30 40 50" not in text, (name, col)
    tx, cu = res.tables["transactions"], res.tables["customers"]
    assert tx["customer_id"].str.startswith("id-").sum() > 0
    assert set(tx["customer_id"].dropna()) <= set(cu["customer_id"])  # references still match
    notes = res.quality.set_index("table").loc["customers", "assumptions"]
    assert any(n.startswith("WARNING") and "pseudonymised" in n for n in notes)
    blob = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"@example.dk" not in blob and b"jens@shop.dk" not in blob


def test_quarantine_holds_only_mapped_columns_without_contact_data(small_raw, tmp_path):
    def f(d):
        d["Noter"] = "ring på +45 88 77 66 55, skriv til privat@mail.dk"
        d.loc[3, "Medlem"] = "Vielleicht"
        d.loc[4, "Oprettet"] = "not a date"

    edit_csv(small_raw / CU, f)
    out = tmp_path / "processed"
    run(small_raw, out, max_reject_share=0.9)
    q = (out / "quarantine" / "customers.csv").read_text(encoding="utf-8")
    header = q.splitlines()[0].split(",")
    assert header[:2] == ["_line", "_reasons"]
    assert not {"Navn", "Email", "Telefon", "Noter"} & set(header)
    assert "@" not in q and "88 77 66 55" not in q
    raw_names = pd.read_csv(small_raw / CU, sep=";", encoding="latin-1")["Navn"].head(10)
    assert not any(n in q for n in raw_names)


def test_phone_and_email_detection_spares_dates_and_card_numbers():
    assert sanitize.is_personal("anne@example.dk")
    assert sanitize.is_personal("+45 20 30 40 50")
    assert sanitize.is_personal("0046 70 123 45 67")
    assert sanitize.is_personal("call 040-123 45 67")
    for text in (
        "2025-11-01",
        "01.11.2025",
        "C000123",
        "100234567890",
        "Summer sale 2025",
        "T00000001",
    ):
        assert not sanitize.is_personal(text), text


# ---------------------------------------------------------------------------------------------
# formulas never reach a spreadsheet
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "|calc"]
)
def test_formula_text_is_made_inert(text):
    assert sanitize.inert_text(text).startswith("'")
    assert sanitize.inert_text(12.5) == 12.5 and sanitize.inert_text("Aarhus") == "Aarhus"


def test_xlsx_cells_from_data_are_strings_not_formulas(tmp_path):
    df = sanitize.inert_frame(
        pd.DataFrame({"store": ['=HYPERLINK("x")', "@A1", "Odense"], "n": [-1.5, 2.0, 3.0]})
    )
    wb = Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append(list(row))
    ws.cell(row=5, column=1).value = "=1+1"  # written past inert_frame: the second lock catches it
    assert sanitize.force_text_cells(ws) >= 1
    wb.save(tmp_path / "x.xlsx")
    cells = [c for row in load_workbook(tmp_path / "x.xlsx").active.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert [c.value for c in cells if c.column == 2][1:4] == [
        -1.5,
        2.0,
        3.0,
    ]  # numbers stay numbers


def test_chart_labels_from_data_escape_mathtext():
    assert sanitize.mpl_text("Save $5 or $10") == r"Save \$5 or \$10"
    import matplotlib

    matplotlib.use("Agg")
    from loyalty_roi import plots

    lifts = pd.DataFrame(
        {
            "lift": [0.1],
            "lift_lo": [0.0],
            "lift_hi": [0.2],
            "name": ["Save $5 or $\\frac{"],
            "type": ["coupon"],
        }
    )
    fig = plots.plot_campaign_lifts(lifts)
    fig.canvas.draw()  # mathtext would raise ValueError on the unbalanced '$\frac{'


# ---------------------------------------------------------------------------------------------
# raw folders are read-only by construction
# ---------------------------------------------------------------------------------------------
def test_processed_inside_or_equal_to_raw_is_refused(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for processed in (raw, raw / "processed"):
        cfg = tmp_path / "c.yml"
        cfg.write_text(
            json.dumps(
                {
                    "data": {
                        "source": "files",
                        "raw_dir": str(raw),
                        "mapping": str(raw / "m.yml"),
                        "processed_dir": str(processed),
                    }
                }
            )
        )
        with pytest.raises(ConfigError, match="overlap"):
            load_config(cfg)


def test_no_write_inside_a_protected_raw_folder(small_raw, tmp_path):
    before = digest(small_raw)
    with pytest.raises(safety.ReadOnlyError):
        run(small_raw, small_raw)  # processed == raw, past the config check
    with pytest.raises(safety.ReadOnlyError):
        safety.atomic_write_text("x", small_raw / "sub" / "transactions.csv")
    with pytest.raises(safety.ReadOnlyError):
        safety.remove(small_raw / "surveys.csv")
    assert digest(small_raw) == before


def test_demo_generator_never_overwrites_real_exports(small_raw, tmp_path):
    (small_raw / "truth.json").unlink()  # a folder of real exports: no generator marker
    (small_raw / ".loyalty-roi-demo").unlink()
    before = digest(small_raw)
    cfg = tmp_path / "c.yml"
    cfg.write_text(
        json.dumps(
            {
                "data": {
                    "source": "demo",
                    "raw_dir": str(small_raw),
                    "mapping": str(small_raw / "mapping.yml"),
                    "processed_dir": str(tmp_path / "p"),
                },
                "demo": {"customers": 100, "months": 12, "end_month": "2026-10"},
            }
        )
    )
    with pytest.raises(ConfigError, match="did not write"):
        ingest.ingest_from_config(load_config(cfg))
    assert digest(small_raw) == before
    assert safety.demo_folder_ok(tmp_path / "empty-new")  # a new folder is fine


def test_ingest_succeeds_on_a_read_only_copy(small_raw, tmp_path):
    """chmod a-w stops every writer but root; as root, the write guard is what holds."""
    before = digest(small_raw)
    for p in [small_raw, *small_raw.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        res = run(small_raw, tmp_path / "processed")
    finally:
        for p in [small_raw, *small_raw.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert len(res.tables["transactions"]) > 1000
    assert digest(small_raw) == before


# ---------------------------------------------------------------------------------------------
# the command line: exit 2, every problem, no traceback, nothing written
# ---------------------------------------------------------------------------------------------
def files_config(tmp_path, raw, data_extra=None, **extra):
    cfg = tmp_path / "files.yml"
    doc = {
        "data": {
            "source": "files",
            "raw_dir": str(raw),
            "mapping": str(raw / "mapping.yml"),
            "processed_dir": str(tmp_path / "processed"),
        }
    }
    doc["data"].update(data_extra or {})
    for k, v in extra.items():
        doc[k] = v
    cfg.write_text(json.dumps(doc))
    return cfg


def test_validate_lists_every_problem_writes_nothing_and_exits_2(small_raw, tmp_path):
    edit_mapping(small_raw, lambda t: t["surveys"].setdefault("columns", {}).update(nps="NPS"))
    edit_mapping(small_raw, lambda t: t["customers"]["columns"].update(store="Filial"))
    cfg = files_config(tmp_path, small_raw)
    res = cli("validate", "--config", cfg)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert "'NPS'" in res.stderr and "'Filial'" in res.stderr  # both tables in one run
    assert not list((tmp_path / "processed").glob("*.parquet"))


def test_validate_without_problems_writes_nothing(small_raw, tmp_path):
    cfg = files_config(tmp_path, small_raw)
    res = cli("validate", "--config", cfg)
    assert res.returncode == 0, res.stderr
    assert "tables ingested" in res.stdout
    assert not list((tmp_path / "processed").glob("*.parquet"))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"currency": "XYZ"}, "ISO 4217"),
        ({"scenarios": {"base": {"lift_facter": 1.0}}}, "lift_facter"),
        ({"scenarios": {"sensitivty_share": 0.3}}, "did you mean 'sensitivity_share'"),
        ({"scenarios": {"bold": {"gross_margin": 1.4}}}, "less than 1"),
        (
            {
                "kpi": {
                    "targets": {
                        "retention_rat": {
                            "baseline_month": "2025-10",
                            "change": 0.1,
                            "by": "2026-10",
                        }
                    }
                }
            },
            "did you mean 'retention_rate'",
        ),
    ],
)
def test_config_mistakes_exit_2_before_anything_runs(small_raw, tmp_path, extra, needle):
    cfg = files_config(tmp_path, small_raw, **extra)
    for cmd in (["validate"], ["report", "--out", tmp_path / "reports"]):
        res = cli(*cmd, "--config", cfg)
        assert res.returncode == 2 and needle in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_report_folder_inside_raw_is_refused(small_raw, tmp_path):
    before = digest(small_raw)
    res = cli(
        "report", "--config", files_config(tmp_path, small_raw), "--out", small_raw / "reports"
    )
    assert res.returncode == 2 and "overlap" in res.stderr
    assert digest(small_raw) == before


def test_validate_waits_for_a_running_report(small_raw, tmp_path):
    from loyalty_roi.publish import processed_lock

    cfg = files_config(tmp_path, small_raw)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = processed_lock(tmp_path / "processed")
        lock.path.parent.mkdir(parents=True, exist_ok=True)
        lock.path.write_text(json.dumps({"pid": holder.pid, "started": "now"}))
        res = cli("validate", "--config", cfg)
        assert res.returncode == 3 and "already running" in res.stderr
    finally:
        holder.kill()


# ---------------------------------------------------------------------------------------------
# property tests: any cell, header or mapping gives a result or a located DataError
# ---------------------------------------------------------------------------------------------
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=';\n\r"\x00'),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(cell_text, min_size=3, max_size=3),
    cols=st.lists(st.integers(0, 8), min_size=3, max_size=3),
)
def test_any_cell_text_is_read_or_located(small_raw_master, tmp_path_factory, cells, cols):
    import shutil

    raw = tmp_path_factory.mktemp("fuzz") / "raw"
    shutil.copytree(small_raw_master, raw)
    lines = (raw / TX).read_text(encoding="latin-1").splitlines()
    for i, (cell, col) in enumerate(zip(cells, cols, strict=True)):
        parts = lines[2 + i].split(";")
        parts[col] = cell.encode("latin-1", "replace").decode("latin-1")
        lines[2 + i] = ";".join(parts)
    (raw / TX).write_text("\n".join(lines) + "\n", encoding="latin-1")
    before = digest(raw)
    try:
        res = run(raw)
        assert (
            res.tables["transactions"]["gross_amount"]
            .map(lambda x: x == x and abs(x) < float("inf"))
            .all()
        )
    except DataError as exc:
        assert all(i.file and i.rule and i.fix for i in exc.issues)
    assert digest(raw) == before


yaml_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=8))
yaml_doc = st.recursive(
    yaml_leaf,
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "tables",
                    "customers",
                    "transactions",
                    "file",
                    "columns",
                    "values",
                    "pii",
                    "decimal",
                    "format",
                    "x",
                ]
            ),
            c,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(doc=yaml_doc)
def test_any_mapping_yaml_is_loaded_or_located(tmp_path_factory, doc):
    p = tmp_path_factory.mktemp("map") / "mapping.yml"
    p.write_text(
        yaml.safe_dump({"tables": doc} if not isinstance(doc, dict) else doc), encoding="utf-8"
    )
    try:
        ingest.load_mapping(p)
    except DataError as exc:
        assert all(i.file == "mapping.yml" and i.rule for i in exc.issues)


@settings(max_examples=40, deadline=None)
@given(
    header=st.lists(
        st.text(alphabet="abcKunde ;,\t\"'", min_size=0, max_size=6), min_size=1, max_size=6
    )
)
def test_any_header_is_read_or_located(tmp_path_factory, header):
    from loyalty_roi.sources import TableMapping, read_source

    d = tmp_path_factory.mktemp("hdr")
    (d / "s.csv").write_text(";".join(header) + "\n1;2;3\n", encoding="utf-8")
    try:
        read_source(d / "s.csv", TableMapping(table="surveys", file="s.csv"))
    except DataError as exc:
        assert exc.issues[0].file == "s.csv"


@given(
    x=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)),
    dec=st.sampled_from([",", "."]),
)
def test_numbers_written_in_a_style_read_back(x, dec):
    text = f"{x:,.2f}"  # 1,234.50
    if dec == ",":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    v, _, bad, _ = parsing.parse_number(pd.Series([text], dtype=object), dec)
    assert not bad.any() and v[0] == pytest.approx(x)


def _keep_rows(raw: Path, fn) -> None:
    d = pd.read_csv(raw / TX, sep=";", dtype=str, keep_default_na=False, encoding="latin-1")
    d[fn(d)].to_csv(raw / TX, sep=";", index=False, encoding="latin-1")


@pytest.mark.parametrize(
    ("shape", "needle"),
    [
        ("single month", "single month"),
        ("all anonymous", "is linked to a customer"),
        ("month outside", "outside the data"),
    ],
)
def test_data_that_cannot_carry_a_report_exits_2_before_notebook_02(
    small_raw, tmp_path, shape, needle
):
    args = []
    if shape == "single month":
        _keep_rows(small_raw, lambda d: d["Tidspunkt"].str[3:10] == "10.2026")
    elif shape == "all anonymous":
        edit_csv(small_raw / TX, lambda d: d.__setitem__("KundeID", ""))
    else:
        args = ["--month", "2020-01"]
    cfg = files_config(tmp_path, small_raw, data_extra={"max_reject_share": 1.0})
    res = cli("report", "--config", cfg, "--out", tmp_path / "reports", *args)
    assert res.returncode == 2, res.stdout[-1500:] + res.stderr[-1500:]
    assert needle in res.stderr and "fix" in res.stderr and "Traceback" not in res.stderr
    assert "02_segment_customers" not in res.stdout + res.stderr
    assert not list((tmp_path / "reports").glob("20*"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="0123456789 +-./()@abT_x\u00e6", max_size=24),
            st.sampled_from(
                [
                    "+45 20 30 40 50",
                    "0046 70 123 45 67",
                    "T00000001",
                    "anne@x.dk",
                    "2025-11-01",
                    "4571 2345 6789 0123",
                    "id_0045123456",
                ]
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_vectorised_screen_never_misses_what_the_exact_check_finds(values):
    """personal_mask pre-screens with Arrow kernels: it must agree with is_personal value by value."""
    s = pd.Series(values, dtype="str")
    got = sanitize.personal_mask(s).tolist()
    assert got == [sanitize.is_personal(v) for v in values]


@pytest.mark.parametrize(
    "pair, says",
    [
        ("pre_month=9", "no notebook has a parameter called pre_month — fix: one of"),
        ("pre_months=nine", "expects int"),
        ("pre_months", "is not NAME=VALUE"),
        ("month=2026-01", "is set by the command itself — fix: use --month"),
    ],
)
def test_a_bad_p_override_is_one_line_exit_2_before_any_notebook(tmp_path, pair, says):
    res = cli("report", "--out", tmp_path / "reports", "-p", pair)
    assert res.returncode == 2, res.stdout + res.stderr
    assert says in res.stderr and "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_p_overrides_go_to_the_notebooks_that_declare_them_with_their_types():
    from loyalty_roi.reportrun import parse_overrides

    got = parse_overrides(["pre_months=9", "retention_change=0.1", "rfm_cuts=[0.25, 0.5, 0.75]"])
    assert got["04_analyse_roi_scenarios.ipynb"] == {"pre_months": 9, "retention_change": 0.1}
    assert got["02_segment_customers.ipynb"] == {"rfm_cuts": [0.25, 0.5, 0.75]}
    assert got["01_ingest_data.ipynb"] == {} and got["03_calculate_kpis.ipynb"] == {}
