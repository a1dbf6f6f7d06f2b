"""The artefact catalogue: each shared result is built once per month and read back unchanged."""

import pandas as pd
import pytest

from loyalty_roi import artefacts, engine, months


def test_a_shared_artefact_is_built_once_and_read_back_identical(tiny_processed, monkeypatch):
    eng = engine.connect(tiny_processed)
    month = months.resolve(eng, "latest")
    built = artefacts.shared("panel", eng, tiny_processed, month)
    assert artefacts.path("panel", tiny_processed, month).exists()
    calls = []
    monkeypatch.setattr(artefacts, "_build", lambda *a: calls.append(a))
    again = artefacts.shared("panel", eng, tiny_processed, month)
    assert calls == []  # the second notebook reads, it does not query again
    pd.testing.assert_frame_equal(again, built)  # dtypes too: Int64, int32, str, datetime
    pd.testing.assert_frame_equal(built, engine.customer_month_panel(eng, end=month, keys=True))


def test_a_shared_artefact_gives_only_the_columns_asked_for_built_or_read(tiny_processed):
    from loyalty_roi import roi

    eng = engine.connect(tiny_processed)
    month = months.resolve(eng, "latest")
    first = artefacts.shared("panel", eng, tiny_processed, month, columns=roi.PANEL_COLUMNS)
    assert list(first.columns) == roi.PANEL_COLUMNS
    kept = artefacts._columns(artefacts.path("panel", tiny_processed, month))
    assert sorted(kept) == sorted(
        roi.PANEL_COLUMNS
    )  # built with only these: no tier or points work
    whole = artefacts.shared("panel", eng, tiny_processed, month)  # asks for more: built again
    pd.testing.assert_frame_equal(whole, engine.customer_month_panel(eng, end=month, keys=True))
    read = artefacts.shared("panel", eng, tiny_processed, month, columns=roi.PANEL_COLUMNS)
    pd.testing.assert_frame_equal(read, first)
    pd.testing.assert_frame_equal(read, whole[roi.PANEL_COLUMNS])


def test_artefacts_are_kept_per_month_and_by_catalogue_name_only(tiny_processed):
    eng = engine.connect(tiny_processed)
    lo, hi = engine.data_months(eng)
    last = months.resolve(eng, "latest")
    earlier = str(pd.Period(last, "M") - 1)
    a = artefacts.shared("panel", eng, tiny_processed, last)
    b = artefacts.shared("panel", eng, tiny_processed, earlier)
    assert a["mi"].max() > b["mi"].max()  # a backfill month gets its own panel
    with pytest.raises(KeyError, match="not in the artefact catalogue"):
        artefacts.save(pd.DataFrame(), "my_table", tiny_processed)
    with pytest.raises(ValueError, match="per month"):
        artefacts.path("panel", tiny_processed)
    artefacts.save({"month": last, "reason": "x"}, "verdict_unavailable", tiny_processed)
    assert artefacts.load("verdict_unavailable", tiny_processed) == {"month": last, "reason": "x"}
    assert artefacts.load("program_pnl", tiny_processed) is None
