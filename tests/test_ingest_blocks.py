"""Large exports read in blocks give what the whole file gives (issue 14: 100M receipts).

At 100M receipts, reading the transactions export whole into pandas reached 19.3 GiB
before parsing began (2026-11-24).  An export with more than ``block_rows`` rows is
now read in blocks (:mod:`loyalty_roi.ingest.blocks`).  Here the small program is
ingested twice: whole, and in blocks of a few hundred rows.  Its exports carry
problems on both sides of block edges; both runs must agree on every kept row,
every quarantined line and reason, every issue, and the quality report.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from loyalty_roi import ingest
from loyalty_roi.errors import DataError
from loyalty_roi.ingest import blocks
from loyalty_roi.schema import TABLES

from .conftest import RUN_DATE, SALT

TX = "transactions.csv"


def run(raw, out, **kw):
    return ingest.ingest(raw, raw / "mapping.yml", out, salt=SALT, run_date=RUN_DATE, **kw)


def read_tx(raw):
    return pd.read_csv(raw / TX, sep=";", dtype=str, keep_default_na=False, encoding="latin-1")


def write_tx(raw, df, encoding="latin-1"):
    df.to_csv(raw / TX, sep=";", index=False, encoding=encoding)


def spoil(raw):
    """Problems in every block of 400 rows, several on the far side of an edge from their pair."""
    df = read_tx(raw)
    assert len(df) > 3000
    df.loc[1500, "Butik"] = "Göte\nborg"  # a quoted line break: records span two lines
    df.loc[2000, "Tidspunkt"] = "31.02.2026 10:00:00"  # no such day
    df.loc[2500, "KundeID"] = "C999999"  # not a customer
    df.loc[2700, ["Brutto", "Netto"]] = ["-5,00", "-5,00"]  # a sale with a negative amount
    df.loc[2900, "Netto"] = ""  # repaired: gross − discount
    exact = df.iloc[[10]]  # repeats row 10 exactly, eight blocks later
    other = df.iloc[[20]].assign(Brutto="1,00", Netto="1,00")  # row 20's receipt id, other values
    inner = df.iloc[[3105]]  # a repeat inside one block
    df = pd.concat([df.iloc[:3000], exact, df.iloc[3000:3100], other, inner, df.iloc[3100:]])
    write_tx(raw, df)


def issues(res):
    return sorted((i.file, i.column, i.rule, i.fix, tuple(sorted(i.rows))) for i in res.issues)


def quarantine(out, table):
    q = pd.read_csv(out / "quarantine" / f"{table}.csv", dtype=str, keep_default_na=False)
    return sorted(zip(q["_line"].astype(int), q["_reasons"], strict=True))


def assert_same(whole, parts, out_w, out_p):
    assert issues(whole) == issues(parts)
    for name in whole.tables:
        pd.testing.assert_frame_equal(parts.tables[name], whole.tables[name], obj=name)
        assert (out_w / f"{name}.parquet").exists() and (out_p / f"{name}.parquet").exists()
    qw, qp = whole.quality.set_index("table"), parts.quality.set_index("table")
    qw["assumptions"] = qw["assumptions"].map(sorted)
    qp["assumptions"] = qp["assumptions"].map(sorted)
    pd.testing.assert_frame_equal(qp, qw)
    for table in ("transactions", "points_ledger"):
        if (out_w / "quarantine" / f"{table}.csv").exists():
            assert quarantine(out_p, table) == quarantine(out_w, table)
    assert not list(out_p.glob(".*blocks*"))  # nothing staged is left behind


def test_blocks_equal_the_whole_file(small_raw, tmp_path):
    spoil(small_raw)
    out_w, out_p = tmp_path / "whole", tmp_path / "parts"
    whole = run(small_raw, out_w)
    parts = run(small_raw, out_p, block_rows=400)
    q = dict(quarantine(out_w, "transactions"))  # line → reasons
    assert len(q) >= 6  # every planted problem was caught (the test would pass vacuously else)
    reasons = " ".join(q.values())
    for rule in ("exact duplicate", "different values", "unparseable date", "not found in"):
        assert rule in reasons
    assert_same(whole, parts, out_w, out_p)
    tx = parts.tables["transactions"]
    assert "Göte\nborg" in set(tx["store"])  # the record across two lines came in whole


def test_blocks_decide_formats_like_the_whole_file(small_raw, tmp_path):
    """No date format in the mapping: the first block decides it, later blocks keep it."""
    doc = yaml.safe_load((small_raw / "mapping.yml").read_text(encoding="utf-8"))
    del doc["tables"]["transactions"]["date_format"]
    (small_raw / "mapping.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    df = read_tx(small_raw)
    # a block whose dates all read both ways (day ≤ 12): the format of the first block holds
    # (slashes: a dotted date is day-first by convention, a slashed one is not)
    df.loc[2400:3599, "Tidspunkt"] = df.loc[2400:3599, "Tidspunkt"].str.replace(
        r"^\d\d\.", "05.", regex=True
    )
    df["Tidspunkt"] = df["Tidspunkt"].str.replace(".", "/", regex=False)
    df.loc[3000, "Brutto"] = "1.234,50"  # thousands separator in a later block
    df.loc[3000, "Netto"] = "1.234,50"
    write_tx(small_raw, df)
    out_w, out_p = tmp_path / "whole", tmp_path / "parts"
    whole, parts = run(small_raw, out_w), run(small_raw, out_p, block_rows=300)
    assert_same(whole, parts, out_w, out_p)
    assert parts.tables["transactions"]["gross_amount"].max() == 1234.5


def test_parquet_in_blocks_and_without_output(small_raw, tmp_path):
    """points_ledger is a Parquet export: row groups in blocks; validate-only keeps no file."""
    whole = run(small_raw, None)
    parts = run(small_raw, None, block_rows=250)
    assert blocks.streamable(
        small_raw / "points_ledger.parquet", _tm(small_raw, "points_ledger"), 250
    )
    assert issues(whole) == issues(parts)
    for name in whole.tables:
        pd.testing.assert_frame_equal(parts.tables[name], whole.tables[name], obj=name)
    staged = parts.tables.source("transactions")
    assert staged.exists()
    del parts
    import gc

    gc.collect()
    assert not staged.exists()  # the temporary block files go with the result


def test_each_parent_is_prepared_once_for_all_blocks(small_raw, tmp_path, monkeypatch):
    """The orphan check took the parent's distinct ids for every block (2026-12-04: 100M
    receipts in 106 blocks against 6.25M customer ids, ~4 s a block, ingest 24× the 10M's)."""
    from loyalty_roi.ingest import crossref

    made = []
    real = crossref.KeySet.__init__

    def counting(self, among):
        made.append(len(among))
        real(self, among)

    monkeypatch.setattr(crossref.KeySet, "__init__", counting)
    spoil(small_raw)  # one receipt names a customer that is not there: the check bites
    res = run(small_raw, tmp_path / "out", block_rows=400)
    n_customers = len(res.tables["customers"])
    n_blocks = -(-res.quality.set_index("table").loc["transactions", "rows_read"] // 400)
    assert n_blocks >= 8
    referring = sum(
        "customers.customer_id" in spec.references.values()
        for name, spec in TABLES.items()
        if name in res.tables
    )
    assert 1 <= made.count(n_customers) <= referring < n_blocks
    assert "not found in" in " ".join(r for _, r in quarantine(tmp_path / "out", "transactions"))


def _tm(raw, table):
    from loyalty_roi.sources import load_mapping

    return load_mapping(raw / "mapping.yml")[table]


@pytest.mark.parametrize("where", [200, 3000])
def test_a_row_with_too_many_fields_is_named_by_its_line(small_raw, tmp_path, where):
    lines = (small_raw / TX).read_bytes().split(b"\n")
    lines[where] += b";extra"
    (small_raw / TX).write_bytes(b"\n".join(lines))
    errors = []
    for block_rows in (10**9, 400):
        with pytest.raises(DataError) as exc:
            run(small_raw, tmp_path / f"o{block_rows}", block_rows=block_rows)
        errors.append([(i.file, i.rule, i.rows) for i in exc.value.issues])
    assert errors[0] == errors[1]
    assert errors[0][0][2] == [where + 1]


def test_mixed_encoding_in_a_later_block_is_named(small_raw, tmp_path):
    df = read_tx(small_raw)
    write_tx(small_raw, df, encoding="utf-8")
    lines = (small_raw / TX).read_bytes().split(b"\n")
    lines[3000] = lines[3000].replace(b";", "Gävle;".encode("latin-1"), 1)  # one cp1252 line
    (small_raw / TX).write_bytes(b"\n".join(lines))
    for block_rows in (10**9, 400):
        with pytest.raises(DataError) as exc:
            run(small_raw, tmp_path / f"o{block_rows}", block_rows=block_rows)
        issue = exc.value.issues[0]
        assert "mixed encodings" in issue.rule and 3001 in issue.rows, (block_rows, issue)


def test_a_failed_block_run_leaves_no_staged_file(small_raw, tmp_path):
    """A fatal problem in block 8 stops the run; the output folder gets no table and no leftovers."""
    df = read_tx(small_raw)
    df.loc[3000:, "Tidspunkt"] = "gestern"  # far more than 5 % of the rows unparseable
    write_tx(small_raw, df)
    out = tmp_path / "out"
    with pytest.raises(DataError):
        run(small_raw, out, block_rows=400)
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_receipts_as_line_items_across_blocks_stop_with_the_fix(small_raw, tmp_path):
    df = read_tx(small_raw)
    half = len(df) // 2
    df.loc[half:, "Bonnr"] = df.loc[: len(df) - half - 1, "Bonnr"].to_numpy()  # ids reused later
    write_tx(small_raw, df)
    with pytest.raises(DataError) as exc:
        run(small_raw, None, block_rows=400)
    assert "line items" in exc.value.issues[0].rule


def test_customers_derived_from_receipts_in_blocks(small_raw, tmp_path):
    doc = yaml.safe_load((small_raw / "mapping.yml").read_text(encoding="utf-8"))
    doc["tables"]["customers"] = {
        "derive_from": "transactions",
        "columns": {"is_member": {"value": False}, "marketing_consent": {"value": False}},
    }
    (small_raw / "mapping.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    (small_raw / "customers.csv").unlink()
    whole, parts = run(small_raw, None), run(small_raw, None, block_rows=400)
    pd.testing.assert_frame_equal(parts.tables["customers"], whole.tables["customers"])
    assert len(whole.tables["customers"]) > 300


def test_monthly_coverage_by_hand_from_a_frame_and_a_file(tmp_path):
    tx = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c", "d"],
            "customer_id": ["x", None, "y", "x"],
            "ts": pd.to_datetime(
                ["2026-01-03 10:00", "2026-01-31 23:59", "2026-03-01 00:00", "2026-03-15 12:00"]
            ).astype("datetime64[us]"),
            "is_return": [False, False, True, False],
            "net_amount": [10.0, 5.5, -2.0, 4.0],
        }
    )
    tx.to_parquet(tmp_path / "tx.parquet")
    for source in (tx, tmp_path / "tx.parquet"):
        cov = ingest.monthly_coverage(source)
        assert cov["month"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-03"]
        assert cov["receipts"].tolist() == [2, 2]
        assert cov["returns"].tolist() == [0, 1]
        assert cov["identified_share"].tolist() == [0.5, 1.0]
        assert cov["net_revenue"].tolist() == [15.5, 2.0]


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", "object"])
def test_key_set_membership_by_hand(dtype):
    """Both ways of the lookup (all known: probe the ids; some unknown: hash the ids)."""
    from loyalty_roi.ingest.crossref import KeySet

    ids = KeySet(pd.Series(["a", "b", "c", None, "d", "e"], dtype=dtype))
    known = pd.Series(["b", None, "b", "a"], dtype=dtype)
    assert ids.contains(known).tolist() == [True, False, True, True]
    some = pd.Series(["b", "x", None, "e", "x"], dtype=dtype)
    assert ids.contains(some).tolist() == [True, False, False, True, False]
    many = pd.Series(list("abcdexyz"), dtype=dtype)  # more distinct values than ids
    assert ids.contains(many).tolist() == [True] * 5 + [False] * 3
    assert KeySet(pd.Series([], dtype=dtype)).contains(known).tolist() == [False] * 4
    assert KeySet(pd.Series([3, 1])).contains(pd.Series([1, 2])).tolist() == [True, False]
