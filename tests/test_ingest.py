"""Ingest: exact round trip, pseudonyms, raw files untouched, quarantine and the quality report."""

import json

import pandas as pd
import pytest

from loyalty_roi import artefacts, ingest, processed, schema, synth
from loyalty_roi.errors import DataError

from .conftest import RUN_DATE, SALT


def _hashes(raw_dir):
    return {p.name: ingest.sha256_file(p) for p in sorted(raw_dir.iterdir())}


def run(raw, out=None, **kw):
    return ingest.ingest(raw, raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE, **kw)


def test_round_trip_returns_the_generator_frames_exactly(small_synth, small_raw, tmp_path):
    res = run(small_raw, tmp_path / "processed")
    assert res.issues == [] and res.missing_tables == []
    for name, expected in small_synth.tables.items():
        got = pd.read_parquet(tmp_path / "processed" / f"{name}.parquet")
        cols = [c for c in expected.columns if not c.endswith("_hash")]
        pd.testing.assert_frame_equal(got[cols], expected[cols], check_exact=True, obj=name)
        schema.validate(got, name)
    # pseudonyms are the salted hashes of the raw values
    cust = pd.read_parquet(tmp_path / "processed" / "customers.parquet")
    pii = small_synth.pii
    for col, hcol in (("email", "email_hash"), ("name", "name_hash"), ("phone", "phone_hash")):
        pd.testing.assert_series_equal(
            cust[hcol], ingest.pseudonymise(pii[col], SALT, hcol), check_names=False
        )
    assert cust["email_hash"].is_unique


def test_pseudonyms_are_stable_normalised_and_salted():
    s = pd.Series(["Søren.Hansen@Example.dk ", "søren.hansen@example.dk", None])
    h = ingest.pseudonymise(s, "a", "email_hash")
    assert h[0] == h[1] and pd.isna(h[2]) and len(h[0]) == 16
    assert ingest.pseudonymise(s, "b", "email_hash")[0] != h[0]
    phones = ingest.pseudonymise(pd.Series(["+45 2000 0000", "+4520000000"]), "a", "phone_hash")
    assert phones[0] == phones[1]


def test_no_raw_identifier_reaches_any_output_file(small_synth, small_raw, tmp_path):
    out = tmp_path / "processed"
    # make one row bad so the quarantine file is written too
    lines = (small_raw / "customers.csv").read_text(encoding="latin-1").splitlines()
    parts = lines[5].split(";")
    parts[5] = "X"  # unknown member code → quarantined
    lines[5] = ";".join(parts)
    (small_raw / "customers.csv").write_text("\n".join(lines) + "\n", encoding="latin-1")
    run(small_raw, out)
    assert (out / "quarantine" / "customers.csv").exists()
    needles = (
        set(small_synth.pii["email"]) | set(small_synth.pii["phone"]) | set(small_synth.pii["name"])
    )
    for f in out.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            text = blob.decode("utf-8", errors="ignore") + blob.decode("latin-1")
            if f.suffix == ".parquet":
                text += pd.read_parquet(f).astype(str).to_csv()
            hits = [n for n in needles if n in text]
            assert not hits, f"{f.name} contains raw personal data: {hits[:3]}"


def test_raw_files_are_byte_identical_after_ingest(small_raw, tmp_path):
    before = _hashes(small_raw)
    run(small_raw, tmp_path / "processed")
    assert _hashes(small_raw) == before


def test_outputs_are_written_atomically_and_stale_tables_removed(small_raw, tmp_path):
    out = tmp_path / "processed"
    run(small_raw, out)
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    # drop the optional surveys table from the mapping: the old parquet must not linger
    m = (small_raw / "mapping.yml").read_text(encoding="utf-8")
    (small_raw / "mapping.yml").write_text(m.split("  surveys:")[0], encoding="utf-8")
    res = run(small_raw, out)
    assert "surveys" in res.missing_tables and not (out / "surveys.parquet").exists()
    assert "Not available — provide the `surveys` table" in ingest.not_available("surveys")


def test_quality_report_counts_rows_and_is_saved(small_synth, small_raw, tmp_path):
    out = tmp_path / "processed"
    res = run(small_raw, out)
    q = res.quality.set_index("table")
    n_tx = len(small_synth.tables["transactions"])
    assert q.loc["transactions", "rows_read"] == n_tx == q.loc["transactions", "rows_kept"]
    assert q.loc["transactions", "returns"] == small_synth.tables["transactions"]["is_return"].sum()
    assert (
        q.loc["transactions", "anonymous_sales"]
        == small_synth.tables["transactions"]["customer_id"].isna().sum()
    )
    assert q.loc["transactions", "date_min"] == "2025-11-01"
    saved = json.loads((out / "quality_report.json").read_text(encoding="utf-8"))
    assert {t["table"] for t in saved["tables"]} == set(small_synth.tables)
    assert set(saved["inputs"]) >= {"customers.csv", "transactions.csv", "campaigns.xlsx"}
    assert (out / "quality_report.csv").exists()


def test_repairs_are_counted_not_hidden(small_raw, tmp_path):
    p = small_raw / "transactions.csv"
    lines = p.read_text(encoding="latin-1").splitlines()
    parts = lines[3].split(";")
    parts[7] = ""  # empty net amount → computed from gross − discount
    lines[3] = ";".join(parts)
    p.write_text("\n".join(lines) + "\n", encoding="latin-1")
    res = run(small_raw)
    q = res.quality.set_index("table")
    assert (
        q.loc["transactions", "rows_repaired"] == 1 and q.loc["transactions", "rows_rejected"] == 0
    )


def test_semicolon_decimal_comma_latin1_with_own_headers(tmp_path):
    """A hand-made Danish export with its own headers ingests through a mapping."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "kunder.csv").write_bytes(
        "Kundenr;Oprettet;Medlem;Indmeldt;Niveau;Butik;Samtykke;E-mail\n"
        "K1;01.02.2025;J;03.02.2025;Sølv;Århus;Ja;a@b.dk\n"
        "K2;15.03.2025;N;;;Ålborg;Nej;\n".encode("latin-1")
    )
    (raw / "bonner.csv").write_bytes(
        "Bon;Kunde;Tid;Butik;Kanal;Beløb;Rabat;Retur\n"
        "B1;K1;01.04.2025 10:00:00;Århus;Butik;1.234,50;34,50;N\n"
        "B2;;02.04.2025 11:30:00;Ålborg;Butik;12,00;0,00;N\n"
        "B3;K1;05.04.2025 09:15:00;Århus;Butik;-100,00;0,00;J\n".encode("latin-1")
    )
    (raw / "map.yml").write_text(
        "tables:\n"
        "  customers:\n    file: kunder.csv\n    columns: {customer_id: Kundenr, first_seen: Oprettet, is_member: Medlem,"
        " enrolled_at: Indmeldt, tier: Niveau, store: Butik, marketing_consent: Samtykke}\n"
        "    pii: {email_hash: E-mail}\n"
        "    values: {is_member: {J: true, N: false}, tier: {Sølv: silver, Guld: gold, Bronze: bronze}}\n"
        "  transactions:\n    file: bonner.csv\n    columns: {transaction_id: Bon, customer_id: Kunde, ts: Tid,"
        " store: Butik, channel: Kanal, gross_amount: Beløb, discount: Rabat, is_return: Retur}\n"
        "    values: {channel: {Butik: store, Online: online}}\n",
        encoding="utf-8",
    )
    res = ingest.ingest(raw, raw / "map.yml", None, salt=SALT, run_date=RUN_DATE)
    c, t = res.tables["customers"], res.tables["transactions"]
    assert c["tier"].tolist()[0] == "silver" and pd.isna(c["tier"].tolist()[1])
    assert c["store"].tolist() == ["Århus", "Ålborg"]
    assert c["marketing_consent"].tolist() == [True, False]  # Ja/Nej from the built-in vocabulary
    assert c["enrolled_at"].tolist()[0] == pd.Timestamp("2025-02-03")
    assert t["gross_amount"].tolist() == [1234.5, 12.0, -100.0]
    assert t["net_amount"].tolist() == [1200.0, 12.0, -100.0]  # computed: gross − discount
    assert t["is_return"].tolist() == [False, False, True]
    assert t["ts"].tolist()[1] == pd.Timestamp("2025-04-02 11:30:00")
    assert pd.isna(t["customer_id"].tolist()[1])
    q = res.quality.set_index("table").loc["transactions"]
    # a column the export does not have is an assumption, not a repair of every row
    assert q["rows_repaired"] == 0
    assert "net amount not in the export: computed as gross − discount" in q["assumptions"]


def test_missing_optional_tables_are_reported_not_zero(small_raw):
    m = (small_raw / "mapping.yml").read_text(encoding="utf-8")
    (small_raw / "mapping.yml").write_text(m.split("  points_ledger:")[0], encoding="utf-8")
    res = run(small_raw)
    assert set(res.missing_tables) == set(schema.OPTIONAL_TABLES)
    assert set(res.tables) == {"customers", "transactions"}


def test_demo_data_is_generated_once_per_parameter_set(tmp_path):
    from loyalty_roi import config

    cfg = config.load_config(
        overrides={
            "data.raw_dir": str(tmp_path / "demo"),
            "demo.customers": 300,
            "demo.months": 6,
            "demo.end_month": "2026-10",
        }
    )
    out = synth.ensure_demo_data(cfg)
    stamp = (out / "transactions.csv").stat().st_mtime_ns
    synth.ensure_demo_data(cfg)
    assert (out / "transactions.csv").stat().st_mtime_ns == stamp
    cfg2 = config.load_config(
        overrides={
            "data.raw_dir": str(tmp_path / "demo"),
            "demo.customers": 300,
            "demo.months": 6,
            "demo.end_month": "2026-10",
            "demo.seed": 5,
        }
    )
    synth.ensure_demo_data(cfg2)
    assert json.loads((out / "truth.json").read_text())["params"]["seed"] == 5


def test_load_processed_requires_the_required_tables(tmp_path):
    with pytest.raises(DataError, match="run notebook 01"):
        processed.load_processed(tmp_path)


def test_a_new_ingest_clears_results_derived_from_the_old_tables(small_raw, tmp_path):
    out = tmp_path / "processed"
    run(small_raw, out)
    stale = artefacts.path("points_liability", out)
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    run(small_raw, out)
    assert not stale.exists()


def test_zero_value_receipts_are_kept_as_orders_and_stated(tmp_path):
    """A free or fully discounted purchase is a real order: kept, counted, and said so."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "c.csv").write_text(
        "customer_id,first_seen,is_member,store,marketing_consent\nK1,2025-01-02,no,A,yes\n",
        encoding="utf-8",
    )
    (raw / "t.csv").write_text(
        "transaction_id,customer_id,ts,store,channel,gross_amount,discount,is_return\n"
        "B1,K1,2025-03-01 10:00,A,store,20.00,0.00,no\n"
        "B2,K1,2025-03-05 10:00,A,store,0.00,0.00,no\n"
        "B3,K1,2025-03-06 10:00,A,store,15.00,15.00,no\n"
        "B4,K1,2025-03-07 10:00,A,store,-5.00,0.00,no\n",
        encoding="utf-8",
    )
    (raw / "m.yml").write_text(
        "tables:\n  customers: {file: c.csv}\n  transactions: {file: t.csv}\n", encoding="utf-8"
    )
    res = ingest.ingest(
        raw, raw / "m.yml", None, salt=SALT, run_date=RUN_DATE, max_reject_share=0.5
    )
    t = res.tables["transactions"]
    assert t["transaction_id"].tolist() == ["B1", "B2", "B3"]  # B4: a sale cannot be negative
    q = res.quality.set_index("table").loc["transactions"]
    assert "2 zero-value receipts kept" in " ".join(q["assumptions"])  # B2 free, B3 discounted
    assert q["reject_reasons"] == {
        "gross_amount: sale with a negative amount": 1,
        "net_amount: negative net amount on a sale": 1,
    }


def test_the_largest_export_is_parsed_first_and_everything_is_listed_in_mapping_order(
    small_raw, monkeypatch
):
    from loyalty_roi.ingest import run as ingest_run
    from loyalty_roi.sources import load_mapping

    seen = []
    parse = ingest_run.parse_table
    monkeypatch.setattr(
        ingest_run,
        "parse_table",
        lambda src, tm, *a, **k: seen.append(tm.table) or parse(src, tm, *a, **k),
    )
    res = run(small_raw)
    maps = load_mapping(small_raw / "mapping.yml")
    size = {t: (small_raw / tm.file).stat().st_size for t, tm in maps.items() if tm.file}
    assert seen[0] == max(size, key=size.get)  # its parse meets no other table in memory
    assert seen != list(maps)  # the test means something only if the orders differ
    assert list(res.tables) == list(maps) and list(res.quality["table"]) == list(maps)
    assert list(res.inputs) == [maps[t].file for t in maps]
