"""The sharded generator behind ``make bench-large``: one consistent program, written in pieces."""

import pandas as pd

from loyalty_roi import engine
from loyalty_roi.synth.large import write_sharded


def test_shards_make_one_program_with_unique_keys_and_valid_references(tmp_path):
    out = write_sharded(tmp_path, 40_000, shard_customers=400, progress=lambda _: None)
    t = {f.stem: pd.read_parquet(f) for f in out.glob("*.parquet")}
    cust, tx = t["customers"], t["transactions"]
    assert cust["customer_id"].str[:4].nunique() > 1  # several shards
    assert cust["customer_id"].is_unique and tx["transaction_id"].is_unique
    known = set(cust["customer_id"])
    for name in ("transactions", "points_ledger", "tier_history", "campaign_contacts", "surveys"):
        ids = t[name]["customer_id"].dropna()
        assert set(ids) <= known, name
    assert tx["customer_id"].isna().any()  # anonymous sales stay anonymous (not "S000None")
    assert t["campaigns"]["campaign_id"].is_unique  # one plan shared by every shard
    assert set(t["campaign_contacts"]["campaign_id"]) <= set(t["campaigns"]["campaign_id"])
    assert not t["program_costs"].duplicated(["month", "category"]).any()
    assert 25_000 < len(tx) < 60_000
    panel = engine.customer_month_panel(engine.connect(out))  # the engine reads it as one program
    assert panel["customer_id"].nunique() == len(cust)
