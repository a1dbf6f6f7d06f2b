"""The memory-saving paths give what the plain pandas paths give."""

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import memory
from loyalty_roi.ingest.parse import _take_rows
from loyalty_roi.parsing import as_text


def _mixed_frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "id": pd.Series([f"C{i:05d}" for i in range(n)], dtype="str"),
            "tier": pd.Series(rng.choice(["gold", None], n), dtype="str"),
            "n": pd.Series(rng.integers(0, 5, n), dtype="Int64").mask(rng.random(n) < 0.1),
            "x": rng.random(n),
            "flag": rng.random(n) < 0.5,
            "ts": pd.date_range("2026-01-01", periods=n, freq="h"),
        }
    )


def test_read_parquet_equals_pandas(tmp_path):
    f = tmp_path / "t.parquet"
    df = _mixed_frame()
    df.to_parquet(f, index=False)
    pd.testing.assert_frame_equal(memory.read_parquet(f), pd.read_parquet(f))


def test_take_rows_equals_loc_and_empties_the_frame():
    df = _mixed_frame()
    keep = np.random.default_rng(1).random(len(df)) < 0.9
    expected = df.loc[keep].reset_index(drop=True)
    work = df.copy()
    pd.testing.assert_frame_equal(_take_rows(work, keep), expected)
    assert work.columns.empty  # every column was handed over, none held twice
    everything = _take_rows(df.iloc[5:].copy(), np.ones(len(df) - 5, dtype=bool))
    assert everything.index.equals(pd.RangeIndex(len(df) - 5))  # numbered from 0 either way


def test_clean_arrow_text_is_shared_and_anything_else_is_stripped():
    clean = pd.Series(["a", "b c", ""], dtype="str")
    assert as_text(clean) is clean
    for raw, want in (
        ([" a", "b"], ["a", "b"]),
        (["a", "b\u00a0"], ["a", "b"]),  # a no-break space is whitespace too
        (["a", None], ["a", ""]),
    ):
        got = as_text(pd.Series(raw, dtype="str"))
        assert got.tolist() == want
    # long columns are checked a block at a time: dirt in a later block is found
    s = pd.Series(["x"] * 2_500_000 + [" y"], dtype="str")
    assert as_text(s).iloc[-1] == "y"


def test_key_check_under_its_small_memory_limit_still_finds_one_repeat():
    n = 3_000_000  # more keys than fit in KEY_CHECK_MEMORY without spilling
    ids = pd.Series([f"T{i:09d}" for i in range(n)], dtype="str")
    assert not memory.keys_repeat(pd.DataFrame({"t": ids}), ["t"])
    ids.iloc[-1] = ids.iloc[17]
    assert memory.keys_repeat(pd.DataFrame({"t": ids}), ["t"])


def test_key_repeats_are_counted_as_pandas_would_count_them():
    f = pd.DataFrame({"a": ["x", "y", "x", None, None], "b": [1, 1, 2, 2, 2]})
    assert memory.keys_repeat(f, ["a"])  # "x" twice
    assert not memory.keys_repeat(f, ["a", "b"])  # (x,1) (y,1) (x,2); keys with a null skipped
    assert not memory.keys_repeat(f.iloc[[0, 1, 3, 4]], ["a"])  # two nulls are not a repeat
    for cols in (["a"], ["a", "b"]):
        has = f[cols].notna().all(axis=1)
        assert memory.keys_repeat(f, cols) == bool((f.duplicated(cols) & has).any())


def test_text_values_share_clean_text_and_equal_the_stripped_reading():
    from loyalty_roi.parsing import text_values

    clean = pd.Series(["C1", None, "C2"], dtype="str")
    v, missing = text_values(clean)
    assert v is clean and missing.tolist() == [False, True, False]
    for raw in (["C1", "", None], [" C1", "C2 ", None], ["C1", "\u00a0", "C3"]):
        s = pd.Series(raw, dtype="str")
        v, missing = text_values(s)
        t = as_text(s)
        pd.testing.assert_series_equal(v, t.where(t != ""))  # blanks and nulls are missing
        assert missing.tolist() == (t == "").tolist()
    obj = pd.Series(["a ", None], dtype=object)  # not Arrow text: stripped the plain way
    assert text_values(obj)[0].tolist()[0] == "a" and text_values(obj)[1].tolist() == [False, True]


def test_the_engine_out_of_memory_says_which_setting_to_raise():
    """At 100M receipts the RFM summary of 6M customers hit DuckDB's default 1.1 GiB limit and the
    notebook showed DuckDB's exception; it now names the config setting."""
    import duckdb
    import ibis

    from loyalty_roi.errors import ConfigError

    class Session:
        def sql(self, _):
            raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")

    class Eng:
        backend, memory_limit, session = "duckdb", "1126MiB", Session()

        def sql(self, expr):
            return "SELECT 1"

    expr = ibis.table({"a": "int64"}, name="t")  # never run: the session fails first
    with pytest.raises(
        ConfigError, match=r"memory limit \(1126MiB\).*engine.memory_share.*above 1126MiB"
    ):
        memory.collect(Eng(), expr)


def test_memory_sizes_are_read_as_duckdb_writes_them():
    assert memory._bytes("1228MiB") == 1228 * 2**20
    assert memory._bytes("2 GB") == 2 * 10**9
    assert memory._bytes("1.5GiB") == int(1.5 * 2**30)
    assert memory._bytes("512KiB") == 512 * 2**10
    assert memory._bytes("80%") is None  # not a size: the limit is left alone


def _limit(eng) -> str:
    """DuckDB's memory limit, read on a second cursor (the first may be streaming a result)."""
    return eng.session.cursor().execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_a_streamed_result_is_worked_within_the_stream_bound_then_the_limit_comes_back(
    small_processed,
):
    """DuckDB fills its whole limit with the hash aggregate of the lift arrays (10M
    receipts: the process peaked at 1.1 GiB); streamed, it works within 256 MiB."""
    from loyalty_roi import engine

    eng = engine.connect(small_processed, options=type("O", (), {"memory_limit": "2GiB"})())
    configured = _limit(eng)
    tx = eng.table("transactions")
    expr = tx.group_by("customer_id").aggregate(n=tx.count())
    seen, n = set(), 0
    for b in memory.batches(eng, expr, rows=100):
        seen.add(_limit(eng))  # the bound, while the result streams
        n += b.num_rows
    assert seen == {"256.0 MiB"} and _limit(eng) == configured == "2.0 GiB"
    assert n == eng.execute(expr).shape[0] > 100  # every row, in more than one batch
    # a consumer that stops early gets the limit back too; a smaller limit is never raised
    gen = memory.batches(eng, expr, rows=10)
    next(gen)
    gen.close()
    assert _limit(eng) == configured
    small = engine.connect(small_processed, options=type("O", (), {"memory_limit": "128MiB"})())
    with memory.working_memory(small, memory.STREAM_MEMORY_BYTES):
        assert _limit(small) == "128.0 MiB"
    eng.close()
    small.close()


def test_a_query_that_cannot_run_within_the_stream_bound_runs_within_the_configured_limit(
    small_processed, monkeypatch
):
    from loyalty_roi import engine

    eng = engine.connect(small_processed, options=type("O", (), {"memory_limit": "2GiB"})())
    tx = eng.table("transactions")
    expr = tx.group_by(["customer_id", "ts"]).aggregate(n=tx.count())
    monkeypatch.setattr(memory, "STREAM_MEMORY_BYTES", 2**20)  # 1 MiB: too small for anything
    with pytest.raises(Exception, match="Out of Memory"):
        with memory.working_memory(eng, 2**20):
            eng.session.sql(eng.sql(expr)).fetchall()
    n = sum(b.num_rows for b in memory.batches(eng, expr, rows=1000))
    assert n == len(eng.execute(expr)) > 1000 and _limit(eng) == "2.0 GiB"
    eng.close()
