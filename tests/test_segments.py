"""RFM segment names and campaign target lists on frames small enough to check by hand."""

import pandas as pd

from loyalty_roi import segments


def test_segment_rules_by_hand():
    r = pd.Series([5, 1, 2, 4, 5, 3, 2, 1])
    f = pd.Series([5, 5, 3, 3, 1, 2, 1, 1])
    m = pd.Series([5, 5, 1, 1, 1, 1, 1, 1])
    got = segments.name_segments(r, f, m).astype(str).tolist()
    assert got == [
        "Champions",
        "Can't lose",
        "At risk",
        "Loyal",
        "New",
        "Potential loyalists",
        "Hibernating",
        "Lost",
    ]


def test_target_lists_contain_only_customers_with_marketing_consent():
    rfm = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "segment": pd.Categorical(
                ["At risk", "At risk", "Lost", "Champions", "Champions", "Champions"],
                categories=list(segments.SEGMENTS),
            ),
            "monetary": [10.0, 30.0, 5.0, 100.0, 50.0, 70.0],
            "recency_days": [100, 90, 300, 3, 4, 5],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            # b: refused; e: consent unknown (counts as no consent); c: not targeted (Lost)
            "marketing_consent": pd.array([True, False, True, True, None, True], dtype="boolean"),
            "is_member": [True, False, False, True, True, False],
        }
    )
    targets, counts = segments.target_list(rfm, customers)
    # "At risk" comes before "Champions" in the action order; within a segment by revenue
    assert targets["customer_id"].tolist() == ["a", "d", "f"]
    assert targets["action"].tolist() == [
        "win-back campaign",
        "referral and early access",
        "referral and early access",
    ]
    assert (
        counts.loc["At risk", "listed"] == 1 and counts.loc["At risk", "left_out_no_consent"] == 1
    )
    assert counts.loc["Champions", "listed"] == 2
    assert counts.loc["Champions", "left_out_no_consent"] == 1
    assert counts.loc["Hibernating", "listed"] == 0  # every targeted segment is shown
