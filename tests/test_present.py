"""The presentation layer: every value as a reader sees it, never nan, NaT, None or inf."""

import numpy as np
import pandas as pd

from loyalty_roi import present


def test_values_are_formatted_by_unit_and_missing_is_a_dash():
    assert present.fmt(1234.5, "money", "DKK") == "DKK 1,234"
    assert present.fmt(12.345, "money", "EUR") == "EUR 12.35"
    assert present.fmt(0.1234, "share") == "12.3%"
    assert present.fmt(-0.0004, "pp") == "0.0 pp"  # never "−0.0 pp"
    assert present.fmt(0.052, "change") == "+5.2%"
    assert present.fmt(5663.0, "count") == "5,663"
    assert present.fmt(pd.Timestamp("2025-11-01"), "month") == "Nov 2025"
    for missing in (np.nan, None, pd.NaT, np.inf, -np.inf):
        assert present.fmt(missing, "money") == present.DASH


def test_tables_have_human_headers_no_positional_index_and_escape_text():
    df = pd.DataFrame(
        {
            "payback_month": [pd.NaT, pd.Timestamp("2026-03-01")],
            "roi": [np.nan, -0.632],
            "name": ["<b>x</b>", None],
        }
    )
    shown = present.frame(df, {"roi": "change"})
    assert list(shown.columns) == ["Payback month", "ROI", "Name"]
    assert shown.iloc[0].tolist() == ["—", "—", "<b>x</b>"]
    assert shown.iloc[1].tolist() == ["Mar 2026", "-63.2%", "—"]
    html = present.table(df, {"roi": "change"}).to_html()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "nan" not in html.lower().replace("nanoseconds", "") and "NaT" not in html
    assert '<th class="blank' not in html  # no positional index column
