import pandas as pd
import pytest

from loyalty_roi import schema


def test_every_synthetic_table_satisfies_the_contract(small_synth):
    for name, df in small_synth.tables.items():
        schema.validate(df, name)


def test_contract_rejects_broken_frames(small_synth):
    tx = small_synth.tables["transactions"].copy()
    tx.loc[0, "net_amount"] = tx.loc[0, "gross_amount"] + 5  # net ≠ gross − discount
    with pytest.raises(schema.pa.errors.SchemaErrors, match="net_amount = gross_amount - discount"):
        schema.validate(tx, "transactions")
    cust = small_synth.tables["customers"].copy()
    cust = pd.concat([cust, cust.head(1)], ignore_index=True)  # duplicate key
    with pytest.raises(schema.pa.errors.SchemaErrors):
        schema.validate(cust, "customers")
    pts = small_synth.tables["points_ledger"].copy()
    pts.loc[0, "type"] = "gift"
    with pytest.raises(schema.pa.errors.SchemaErrors):
        schema.validate(pts, "points_ledger")


def test_a_large_frame_is_checked_block_by_block_and_a_break_in_any_block_is_found(
    small_synth, monkeypatch
):
    monkeypatch.setattr(schema, "CONTRACT_BLOCK", 1000)
    tx = small_synth.tables["transactions"].copy()
    assert len(tx) > 3000
    schema.validate(tx, "transactions")  # every block passes
    last = len(tx) - 1  # in the last block
    tx.loc[last, "net_amount"] = tx.loc[last, "gross_amount"] + 5
    with pytest.raises(schema.pa.errors.SchemaErrors, match="net_amount = gross_amount - discount"):
        schema.validate(tx, "transactions")
    tx = small_synth.tables["transactions"]
    twice = pd.concat([tx, tx.tail(1)], ignore_index=True)  # a repeated key spans the blocks
    with pytest.raises(schema.pa.errors.SchemaErrors):
        schema.validate(twice, "transactions")


def test_required_and_optional_tables():
    assert schema.REQUIRED_TABLES == ("customers", "transactions")
    assert set(schema.OPTIONAL_TABLES) == {
        "points_ledger",
        "tier_history",
        "campaigns",
        "campaign_contacts",
        "coupon_redemptions",
        "program_costs",
        "surveys",
    }


def test_empty_frame_has_canonical_columns_and_dtypes():
    e = schema.empty_frame("transactions")
    assert list(e.columns) == schema.TABLES["transactions"].names
    assert str(e["ts"].dtype) == "datetime64[us]" and str(e["net_amount"].dtype) == "float64"
    schema.validate(e, "transactions")
