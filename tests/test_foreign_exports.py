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
    return kpis.monthly_kpis(kpis.prepare(eng))


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
    got = kpis.monthly_kpis(kpis.prepare(engine.connect(tmp_path / "out")))
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
