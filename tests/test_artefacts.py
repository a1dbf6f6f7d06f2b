"""The artefact catalogue: each shared result is built once per month and read back unchanged."""

import pandas as pd
import pytest

from loyalty_roi import artefacts, engine, months


def test_a_shared_artefact_is_built_once_and_read_back_identical(tiny_processed, monkeypatch):
    from loyalty_roi import clv

    eng = engine.connect(tiny_processed)
    month = months.resolve(eng, "latest")
    built = artefacts.shared("clv_summary", eng, tiny_processed, month)
    assert artefacts.path("clv_summary", tiny_processed, month).exists()
    calls = []
    monkeypatch.setattr(artefacts, "_build", lambda *a: calls.append(a))
    again = artefacts.shared("clv_summary", eng, tiny_processed, month)
    assert calls == []  # the second notebook reads, it does not query again
    pd.testing.assert_frame_equal(again, built)  # dtypes too
    pd.testing.assert_frame_equal(built, clv.summary_from_engine(eng, months.end(month)))


def test_artefacts_are_kept_per_month_and_by_catalogue_name_only(tiny_processed):
    eng = engine.connect(tiny_processed)
    lo, hi = engine.data_months(eng)
    last = months.resolve(eng, "latest")
    earlier = str(pd.Period(last, "M") - 1)
    a = artefacts.shared("clv_summary", eng, tiny_processed, last)
    b = artefacts.shared("clv_summary", eng, tiny_processed, earlier)
    assert (a["T"] > b["T"]).all()  # a backfill month gets its own summary, as of its own end
    with pytest.raises(KeyError, match="not in the artefact catalogue"):
        artefacts.save(pd.DataFrame(), "my_table", tiny_processed)
    with pytest.raises(ValueError, match="per month"):
        artefacts.path("store_totals", tiny_processed)
    artefacts.save({"month": last, "reason": "x"}, "verdict_unavailable", tiny_processed)
    assert artefacts.load("verdict_unavailable", tiny_processed) == {"month": last, "reason": "x"}
    assert artefacts.load("program_pnl", tiny_processed) is None
