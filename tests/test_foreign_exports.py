"""Real-shaped exports in styles other than the demo's, ingested through a mapping file alone.

Each shape is the same synthetic program written the way another system would
(``loyalty_roi.synth.foreign``); the export is never edited.  The KPIs computed
from what was ingested must equal those of the generator's canonical tables —
on the KPIs the shape still carries (a shape without channels cannot split by
channel; one without enrollment dates cannot date enrollment).
"""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_roi import engine, ingest, kpis, synth
from loyalty_roi.errors import DataError
from loyalty_roi.synth import foreign

from .conftest import END_MONTH, RUN_DATE, SALT

# KPIs each shape must reproduce exactly: those that need only receipts, amounts and customers;
# a members-only export has no identified non-members, so only receipt-level KPIs carry over
CORE = ["net_revenue", "average_order_value", "active_customers", "purchase_frequency"]
SHAPE_KPIS = {"members_only": ["net_revenue", "average_order_value"]}


@pytest.fixture(scope="module")
def program():
    return synth.generate(n_customers=300, months=12, end_month=END_MONTH, seed=11)


@pytest.fixture(scope="module")
def truth_kpis(program, tmp_path_factory):
    d = tmp_path_factory.mktemp("canonical")
    synth.write_raw(program, d / "raw", fmt="parquet")
    return _kpis(d / "raw", d / "processed")


def _kpis(raw, out) -> pd.DataFrame:
    ingest.ingest(raw, raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE)
    eng = engine.connect(out)
    return kpis.monthly_kpis(kpis.gather_inputs(eng))


def _ingest(program, shape, tmp_path):
    raw = foreign.write_shape(program, tmp_path / "raw", shape)
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    res = ingest.ingest(raw, raw / "mapping.yml", tmp_path / "out", salt=SALT, run_date=RUN_DATE)
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before  # the export is untouched
    return res


@pytest.mark.parametrize("shape", foreign.SHAPES)
def test_shape_ingests_through_its_mapping_alone_with_the_true_kpis(
    program, truth_kpis, shape, tmp_path
):
    res = _ingest(program, shape, tmp_path)
    tx = res.tables["transactions"]
    truth_tx = program.tables["transactions"]
    assert len(tx) == len(truth_tx)  # every receipt, none lost or split
    assert tx["net_amount"].sum() == pytest.approx(truth_tx["net_amount"].sum(), abs=0.01)
    assert tx["is_return"].sum() == truth_tx["is_return"].sum()
    got = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(tmp_path / "out")))
    cols = SHAPE_KPIS.get(shape, CORE)
    pd.testing.assert_frame_equal(got[cols], truth_kpis[cols], check_exact=False, rtol=1e-9)


def test_line_items_are_summed_per_receipt_with_both_discounts(program, tmp_path):
    res = _ingest(program, "line_items", tmp_path)
    tx = res.tables["transactions"].set_index("transaction_id").sort_index()
    truth = program.tables["transactions"].set_index("transaction_id").sort_index()
    for col in ("gross_amount", "discount", "net_amount"):
        assert (tx[col] - truth[col]).abs().max() < 0.005, col
    q = res.quality.set_index("table").loc["transactions"]
    assert q["rows_read"] > 1.5 * q["rows_kept"]  # several lines per receipt
    notes = " ".join(q["assumptions"])
    assert "line items summed into" in notes
    assert "channel not in the export: every row set to 'store'" in notes
    assert "rows with a negative amount counted as returns" in notes
    assert "gross_amount computed as sales_value + retail_disc + coupon_disc" in notes


def test_without_aggregate_line_items_are_named_as_such_not_as_duplicates(program, tmp_path):
    raw = foreign.write_shape(program, tmp_path / "raw", "line_items")
    m = (raw / "mapping.yml").read_text(encoding="utf-8")
    (tmp_path / "map.yml").write_text(m.replace("    aggregate: {by: basket_id}", ""), "utf-8")
    (raw / "mapping.yml").unlink()
    (raw / "mapping.yml").write_text((tmp_path / "map.yml").read_text("utf-8"), "utf-8")
    with pytest.raises(DataError) as e:
        ingest.ingest(raw, raw / "mapping.yml", None, salt=SALT, run_date=RUN_DATE)
    text = str(e.value)
    assert "look like line items" in text and "aggregate: {by: basket_id}" in text
    assert "remove the repeated row" not in text


def test_members_without_enrollment_dates_are_kept_with_the_assumption(program, tmp_path):
    res = _ingest(program, "no_enrollment_dates", tmp_path)
    c = res.tables["customers"]
    assert c["is_member"].sum() == program.tables["customers"]["is_member"].sum()
    assert c["enrolled_at"].isna().all() and c["tier"].isna().all()
    notes = " ".join(res.quality.set_index("table").loc["customers", "assumptions"])
    assert "members have no enrollment date: taken as enrolled before they were first seen" in notes
    assert "tier not in the export: left empty" in notes
    # they count as members in every month they are in the data
    p = engine.customer_month_panel(engine.connect(tmp_path / "out"))
    ids = set(c.loc[c["is_member"], "customer_id"])
    assert p.loc[p["customer_id"].isin(ids), "is_member"].all()
    assert not p.loc[~p["customer_id"].isin(ids), "is_member"].any()


def test_members_only_export_knows_only_members(program, tmp_path):
    res = _ingest(program, "members_only", tmp_path)
    c = res.tables["customers"]
    assert c["is_member"].all()
    assert len(c) == program.tables["customers"]["is_member"].sum()
    anon = res.tables["transactions"]["customer_id"].isna().sum()
    assert anon > program.tables["transactions"]["customer_id"].isna().sum()


# --- the PostgreSQL source ---------------------------------------------------------------
PG_PASSWORD = "s3cret-Pw-9f2c"
PG_MAPPING = """\
# A point-of-sale database: customers read whole, receipts through a query.
tables:
  customers:
    source_table: pos.customer
    columns:
      customer_id: id
      first_seen: created
      is_member: member
      enrolled_at: member_since
      tier: tier
      store: home_store
      marketing_consent: consent
  transactions:
    query: >
      SELECT r.id, r.customer, r.sold_at, r.store, r.channel, r.total, r.discount, r.refund
      FROM pos.receipt r
    columns:
      transaction_id: id
      customer_id: customer
      ts: sold_at
      store: store
      channel: channel
      gross_amount: total
      discount: discount
      is_return: refund
"""


@pytest.fixture(scope="module")
def pg(program):
    import tempfile
    from pathlib import Path

    import psycopg

    from .pg_server import PgServer

    base = Path(tempfile.mkdtemp(prefix="loyalty-pg-"))
    base.chmod(0o755)  # the server may run as the postgres user (tests as root)
    server = PgServer(base / "srv", PG_PASSWORD).start()
    try:
        server.psql(
            f"CREATE ROLE shop LOGIN PASSWORD '{PG_PASSWORD}'; CREATE DATABASE shop OWNER shop;"
        )
        url = server.url("shop", PG_PASSWORD, "shop")
        c, x = program.tables["customers"], program.tables["transactions"]
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE SCHEMA pos;"
                "CREATE TABLE pos.customer (id text PRIMARY KEY, created date, member boolean, "
                "member_since date, tier text, home_store text, consent boolean);"
                "CREATE TABLE pos.receipt (id text PRIMARY KEY, customer text, sold_at timestamp, "
                "store text, channel text, total numeric(12,2), discount numeric(12,2), "
                "refund boolean)"
            )
            with cur.copy("COPY pos.customer FROM STDIN") as cp:
                for r in c.itertuples(index=False):
                    cp.write_row(
                        (
                            r.customer_id,
                            r.first_seen.date(),
                            r.is_member,
                            None if pd.isna(r.enrolled_at) else r.enrolled_at.date(),
                            None if pd.isna(r.tier) else r.tier,
                            r.store,
                            r.marketing_consent,
                        )
                    )
            with cur.copy("COPY pos.receipt FROM STDIN") as cp:
                for r in x.itertuples(index=False):
                    cp.write_row(
                        (
                            r.transaction_id,
                            None if pd.isna(r.customer_id) else r.customer_id,
                            r.ts.to_pydatetime(),
                            r.store,
                            r.channel,
                            f"{r.gross_amount:.2f}",
                            f"{r.discount:.2f}",
                            r.is_return,
                        )
                    )
        yield server, url
    finally:
        server.stop()
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_postgresql_source_gives_the_true_kpis_and_never_shows_the_url(
    program, truth_kpis, pg, tmp_path
):
    server, url = pg
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "mapping.yml").write_text(PG_MAPPING, encoding="utf-8")
    out = tmp_path / "out"
    res = ingest.ingest(
        raw, raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE, database_url=url
    )
    tx, truth_tx = res.tables["transactions"], program.tables["transactions"]
    assert len(tx) == len(truth_tx)
    assert tx["net_amount"].sum() == pytest.approx(truth_tx["net_amount"].sum(), abs=0.01)
    got = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(out)))
    pd.testing.assert_frame_equal(got[CORE], truth_kpis[CORE], check_exact=False, rtol=1e-9)
    assert set(res.inputs) == {"database table pos.customer", "database query (transactions)"}
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert PG_PASSWORD.encode() not in data and b"postgresql://" not in data, f


def test_postgresql_errors_are_located_without_the_password(pg, tmp_path):
    server, url = pg
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "mapping.yml").write_text(PG_MAPPING.replace("pos.customer", "pos.kunde"), "utf-8")
    with pytest.raises(DataError) as e:
        ingest.ingest(
            raw, raw / "mapping.yml", None, salt=SALT, run_date=RUN_DATE, database_url=url
        )
    assert "database table pos.kunde" in str(e.value) and "does not exist" in str(e.value)
    wrong = url.replace(PG_PASSWORD, "wrong-" + PG_PASSWORD)
    with pytest.raises(DataError) as e:
        ingest.ingest(
            raw, raw / "mapping.yml", None, salt=SALT, run_date=RUN_DATE, database_url=wrong
        )
    text = str(e.value)
    assert "password authentication failed" in text
    assert PG_PASSWORD not in text and "postgresql://" not in text


def test_database_source_from_the_config_reads_the_url_from_the_environment(
    program, pg, tmp_path, monkeypatch
):
    import json

    from loyalty_roi.config import load_config

    server, url = pg
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "mapping.yml").write_text(PG_MAPPING, encoding="utf-8")
    data = {
        "source": "database",
        "raw_dir": str(raw),
        "mapping": str(raw / "mapping.yml"),
        "processed_dir": str(tmp_path / "processed"),
        "database_url_env": "SHOP_DB_URL",
    }
    (tmp_path / "c.yml").write_text(json.dumps({"data": data}))
    cfg = load_config(tmp_path / "c.yml")
    monkeypatch.delenv("SHOP_DB_URL", raising=False)
    with pytest.raises(DataError, match="SHOP_DB_URL is not set"):
        ingest.ingest_from_config(cfg, run_date=RUN_DATE, out_dir=None)
    monkeypatch.setenv("SHOP_DB_URL", url)
    res = ingest.ingest_from_config(cfg, run_date=RUN_DATE, out_dir=None)
    assert (
        res.tables["customers"]["is_member"].sum() == program.tables["customers"]["is_member"].sum()
    )


# --- draft-mapping -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ("demo", *foreign.SHAPES))
def test_drafted_mapping_ingests_the_export_with_no_edit(program, truth_kpis, shape, tmp_path):
    from loyalty_roi.draft import draft_mapping

    raw = tmp_path / "raw"
    if shape == "demo":
        synth.write_raw(program, raw)
    else:
        foreign.write_shape(program, raw, shape)
    (raw / "mapping.yml").unlink()  # the shape's own mapping is not used
    text = draft_mapping(raw)
    assert "# TODO " not in text.replace("# TODO check", "")  # only checks, nothing to fill in
    (tmp_path / "draft.yml").write_text(text, encoding="utf-8")
    res = ingest.ingest(raw, tmp_path / "draft.yml", tmp_path / "out", salt=SALT, run_date=RUN_DATE)
    assert len(res.tables["transactions"]) == len(program.tables["transactions"])
    got = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(tmp_path / "out")))
    cols = SHAPE_KPIS.get(shape, CORE)
    pd.testing.assert_frame_equal(got[cols], truth_kpis[cols], check_exact=False, rtol=1e-9)


def test_draft_marks_what_it_cannot_place_and_states_confidence(tmp_path):
    from loyalty_roi.draft import draft_mapping

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "kunder.csv").write_text(
        "Kundenr;Oprettet;Medlem;Farve\nK1;01.02.2025;J;blå\nK2;13.03.2025;N;rød\n", "utf-8"
    )
    (raw / "bonner.csv").write_text(
        "Bon;Kundenr;Tidspunkt;Beløb\nB1;K1;14.04.2025 10:00;12,50\nB2;K2;15.04.2025 11:00;3,00\n",
        "utf-8",
    )
    text = draft_mapping(raw)
    assert "customer_id: Kundenr   # high" in text
    assert "gross_amount: Beløb   # high" in text
    assert "# TODO store: no column found" in text  # named, with what to write
    assert "# TODO marketing_consent: no column found" in text
    assert "channel: {value: store}   # TODO check" in text


def test_draft_mapping_command_never_writes_into_the_export_folder(program, tmp_path):
    import subprocess
    import sys

    raw = foreign.write_shape(program, tmp_path / "raw", "no_channel_returns")
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    cmd = [sys.executable, "-m", "loyalty_roi.cli", "draft-mapping", str(raw)]
    r = subprocess.run([*cmd, "--out", str(raw / "mapping.yml")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout
    assert "raw data folder" in r.stderr + r.stdout
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before
    r = subprocess.run([*cmd, "--out", str(tmp_path / "draft.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "transactions:" in (tmp_path / "draft.yml").read_text(encoding="utf-8")


def test_customers_can_be_derived_from_transactions_when_no_customer_file_exists(
    program, truth_kpis, tmp_path
):
    raw = foreign.write_shape(program, tmp_path / "raw", "no_channel_returns")
    (raw / "klanten.csv").unlink()
    m = (raw / "mapping.yml").read_text(encoding="utf-8")
    head, tx = m.split("  transactions:")
    (raw / "mapping.yml").write_text(
        "tables:\n  customers:\n    derive_from: transactions\n    columns:\n"
        "      is_member: {value: false}\n      marketing_consent: {value: false}\n"
        "  transactions:" + tx,
        encoding="utf-8",
    )
    res = ingest.ingest(raw, raw / "mapping.yml", tmp_path / "out", salt=SALT, run_date=RUN_DATE)
    c = res.tables["customers"].set_index("customer_id")
    truth_tx = program.tables["transactions"].dropna(subset=["customer_id"])
    assert set(c.index) == set(truth_tx["customer_id"])
    first = truth_tx.groupby("customer_id")["ts"].min().dt.normalize()
    assert (c["first_seen"] == first.reindex(c.index)).all()
    top = truth_tx.groupby("customer_id")["store"].agg(lambda s: s.value_counts().index[0])
    assert (c["store"] == top.reindex(c.index)).mean() > 0.95  # ties broken alphabetically
    notes = " ".join(res.quality.set_index("table").loc["customers", "assumptions"])
    assert "customers built from the identified receipts" in notes
    got = kpis.monthly_kpis(kpis.gather_inputs(engine.connect(tmp_path / "out")))
    pd.testing.assert_frame_equal(got[CORE], truth_kpis[CORE], check_exact=False, rtol=1e-9)
