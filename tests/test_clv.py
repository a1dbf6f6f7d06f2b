"""CLV: the BG/NBD inputs by hand, and the published CDNOW estimates reproduced from raw transactions."""

from pathlib import Path

import pandas as pd
import pytest

from loyalty_roi import clv

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.txt"


def test_summary_by_hand():
    daily = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c"],
            "date": pd.to_datetime(
                ["2026-01-01", "2026-01-15", "2026-02-12", "2026-01-08", "2026-01-29", "2026-03-05"]
            ),
            "amount": [10.0, 20.0, 40.0, 5.0, 7.0, 9.0],
        }
    )
    s = clv.summary_from_daily(daily, "2026-02-26", "2026-03-26").set_index("customer_id")
    assert s.loc["a", "frequency"] == 2 and s.loc["a", "recency"] == 6 and s.loc["a", "T"] == 8
    assert (
        s.loc["a", "monetary_value"] == 30.0
    )  # mean of the repeat purchases (20, 40), first excluded
    assert (
        s.loc["b", "frequency"] == 0
        and s.loc["b", "monetary_value"] == 0.0
        and s.loc["b", "T"] == 7
    )
    assert s.loc["c", "holdout_purchases"] == 1 and s.loc["a", "holdout_purchases"] == 0
    assert s.loc["c", "holdout_weeks"] == 4


def cdnow_daily() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        names=["customer_id", "order", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw.groupby(["customer_id", "date"], as_index=False)["amount"].sum()


@pytest.mark.slow
def test_reproduces_the_published_cdnow_estimates_from_raw_transactions():
    """Fader, Hardie & Lee (2005): BG/NBD r=0.243, α=4.414, a=0.793, b=2.426 (39-week calibration,
    2,357 customers); Gamma-Gamma p=6.25, q=3.74, γ=15.44 (946 repeat buyers)."""
    s = clv.summary_from_daily(cdnow_daily(), "1997-09-30")
    assert len(s) == 2357 and (s["frequency"] > 0).sum() == 946
    f = clv.fit(s)
    assert f.bgnbd_params == pytest.approx(
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=0.0015
    )
    assert f.gamma_gamma_params == pytest.approx({"p": 6.25, "q": 3.74, "v": 15.44}, abs=0.0055)
    # holdout (weeks 40–78): the model's classic conditional-expectation check
    s2 = clv.summary_from_daily(cdnow_daily(), "1997-09-30", "1998-06-30")
    tab, err = clv.holdout_validation(s2, f)
    assert abs(err["total_error_pct"]) < 15
    assert tab["predicted"].is_monotonic_increasing


@pytest.mark.slow
def test_each_customer_keeps_its_own_clv_whatever_the_row_order():
    """The models see row numbers, not text ids (xarray compares text coordinates slowly):
    results are read back by position, so a shuffled summary must give each id the same figures."""
    s = clv.summary_from_daily(cdnow_daily(), "1997-09-30")
    f = clv.fit(s)
    got = clv.customer_clv(f, 24, 0.08).set_index("customer_id")
    shuffled = s.sample(frac=1.0, random_state=5).reset_index(drop=True)
    again = clv.customer_clv(clv.ClvFit(f.bgnbd, f.gamma_gamma, shuffled), 24, 0.08)
    assert list(again["customer_id"]) == list(shuffled["customer_id"])
    pd.testing.assert_frame_equal(again.set_index("customer_id").loc[got.index], got, rtol=1e-9)
    assert got["clv"].nunique() > 100  # customers differ: a mix-up would show


@pytest.mark.parametrize("seed", range(6))
def test_the_engine_summary_equals_the_pandas_summary(seed, tmp_path):
    """Notebooks 02–03 take the CLV inputs from the engine: at 100M receipts the purchase days
    would be 100M rows in pandas.  Same figures as the pandas code on random programs."""
    from loyalty_roi import engine

    from . import reference
    from .test_kpi_counts import random_program

    tables = random_program(seed)
    for name, df in tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    eng = engine.connect(tmp_path)
    for cal, obs in [("2025-06-30", None), ("2025-12-31", None), ("2025-06-30", "2025-12-31")]:
        got = clv.summary_from_engine(eng, pd.Timestamp(cal), obs and pd.Timestamp(obs))
        want = reference.clv_summary(tables, cal, obs)
        assert len(want) > 0
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, check_dtype=False)
        assert (got.dtypes == want.dtypes).all(), (got.dtypes, want.dtypes)


def test_arviz_daily_notice_is_filtered_with_its_leading_newline():
    """ArviZ warns once a day with a message that starts with a newline (so tests rarely see it)."""
    import warnings

    from loyalty_roi.clv import ARVIZ_NOTICE

    text = (
        "\nArviZ is undergoing a major refactor to improve flexibility and extensibility "
        "while maintaining a user-friendly interface.\nSome upcoming changes may be backward "
        "incompatible."
    )
    for pattern, expected in ((ARVIZ_NOTICE, 0), (".*ArviZ is undergoing a major refactor", 1)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)
            warnings.warn(text, FutureWarning, stacklevel=1)
        assert len(seen) == expected, pattern  # the old pattern let it through
