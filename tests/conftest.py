"""Shared fixtures: a small synthetic program written as raw exports."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from loyalty_roi import synth

RUN_DATE = dt.date(2026, 11, 22)
END_MONTH = "2026-10"
SALT = "test-salt"


def demo_exports(d, demo: dict, **config) -> tuple:
    """Generate a demo program's raw exports in ``d/raw``; return the config path for them as files.

    The returned config reads ``d/raw`` as a customer's exports (``source: files``),
    with processed data in ``d/processed``; ``config`` adds top-level keys.
    """
    import json

    from loyalty_roi.config import load_config

    data = {
        "raw_dir": str(d / "raw"),
        "mapping": str(d / "raw" / "mapping.yml"),
        "processed_dir": str(d / "processed"),
    }
    (d / "demo.yml").write_text(json.dumps({"data": {"source": "demo", **data}, "demo": demo}))
    synth.ensure_demo_data(load_config(d / "demo.yml"))
    cfg = d / "files.yml"
    cfg.write_text(json.dumps({"data": {"source": "files", **data}, "demo": demo, **config}))
    return cfg


@pytest.fixture(scope="session")
def small_synth():
    """A small program: 400 customers over 12 months (fast, same every run)."""
    return synth.generate(n_customers=400, months=12, end_month=END_MONTH, seed=3)


@pytest.fixture(scope="session")
def small_raw_master(small_synth, tmp_path_factory):
    d = tmp_path_factory.mktemp("raw_master")
    synth.write_raw(small_synth, d)
    return d


@pytest.fixture
def small_raw(small_raw_master, tmp_path):
    """A private copy of the small raw exports that a test may modify."""
    d = tmp_path / "raw"
    shutil.copytree(small_raw_master, d)
    return d


@pytest.fixture(scope="session")
def small_processed(small_raw_master, tmp_path_factory):
    """The small program ingested into canonical Parquet."""
    from loyalty_roi import ingest

    out = tmp_path_factory.mktemp("processed")
    ingest.ingest(
        small_raw_master, small_raw_master / "mapping.yml", out, salt=SALT, run_date=RUN_DATE
    )
    return out


def tiny_tables():
    """Hand-made tables whose KPIs and panel can be checked by hand.

    Customers A (member since 2026-02-10, silver from March), B (non-member),
    C (member since 2026-01-05, bronze), D (first seen March, no purchase).
    Transactions, Jan–Mar 2026 (net amounts):
      Jan: A 100, B 50, C 30, anonymous 20
      Feb: A 60 + 40, C 10, B return −50 of January's sale
      Mar: A 80, B 70
    """
    import pandas as pd

    from loyalty_roi.schema import coerce_canonical

    ts = pd.Timestamp
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "first_seen": [ts("2026-01-03"), ts("2026-01-04"), ts("2026-01-05"), ts("2026-03-01")],
            "is_member": [True, False, True, False],
            "enrolled_at": [ts("2026-02-10"), None, ts("2026-01-05"), None],
            "tier": ["silver", None, "bronze", None],
            "store": ["S1", "S1", "S2", "S2"],
            "marketing_consent": [True, True, False, True],
        }
    )
    tx = pd.DataFrame(
        {
            "transaction_id": [f"T{i}" for i in range(1, 10)],
            "customer_id": ["A", "B", "C", None, "A", "A", "C", "A", "B"],
            "ts": [
                ts("2026-01-03 10:00"),
                ts("2026-01-04 11:00"),
                ts("2026-01-05 12:00"),
                ts("2026-01-06 09:00"),
                ts("2026-02-10 10:00"),
                ts("2026-02-20 10:00"),
                ts("2026-02-21 10:00"),
                ts("2026-03-05 10:00"),
                ts("2026-03-06 10:00"),
            ],
            "store": ["S1", "S1", "S2", "S1", "S1", "S1", "S2", "S1", "S1"],
            "channel": ["store"] * 9,
            "gross_amount": [100.0, 50.0, 30.0, 20.0, 60.0, 40.0, 10.0, 90.0, 70.0],
            "discount": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 0.0],
            "net_amount": [100.0, 50.0, 30.0, 20.0, 60.0, 40.0, 10.0, 80.0, 70.0],
            "is_return": [False] * 9,
        }
    )
    ret = pd.DataFrame(
        {
            "transaction_id": ["T10"],
            "customer_id": ["B"],
            "ts": [ts("2026-02-15 10:00")],
            "store": ["S1"],
            "channel": ["store"],
            "gross_amount": [-50.0],
            "discount": [0.0],
            "net_amount": [-50.0],
            "is_return": [True],
        }
    )
    tx = pd.concat([tx, ret], ignore_index=True)
    points = pd.DataFrame(
        {
            "customer_id": ["C", "A", "A", "C", "A", "A"],
            "date": [
                ts("2026-01-05"),
                ts("2026-02-10"),
                ts("2026-02-20"),
                ts("2026-02-21"),
                ts("2026-03-05"),
                ts("2026-03-31"),
            ],
            "type": ["earn", "earn", "earn", "earn", "earn", "redeem"],
            "points": [30, 60, 40, 10, 80, -100],
            "transaction_id": ["T3", "T5", "T6", "T7", "T8", None],
            "campaign_id": [None] * 6,
        }
    )
    tiers = pd.DataFrame(
        {
            "customer_id": ["C", "A", "A"],
            "date": [ts("2026-01-05"), ts("2026-02-10"), ts("2026-03-01")],
            "from_tier": [None, None, "bronze"],
            "to_tier": ["bronze", "bronze", "silver"],
        }
    )
    surveys = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "A"],
            "date": [ts("2026-03-02"), ts("2026-03-03"), ts("2026-03-04"), ts("2026-02-01")],
            "nps": [10, 5, 8, 9],
            "csat": [5.0, 2.0, None, 4.0],
        }
    )
    tables = {
        "customers": customers,
        "transactions": tx,
        "points_ledger": points,
        "tier_history": tiers,
        "surveys": surveys,
    }
    return {k: coerce_canonical(v, k) for k, v in tables.items()}


@pytest.fixture
def tiny_processed(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    for name, df in tiny_tables().items():
        df.to_parquet(d / f"{name}.parquet", index=False)
    return d
