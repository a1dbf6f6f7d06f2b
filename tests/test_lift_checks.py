"""The confidence label weighs a pre-trend by its size, not only by its p-value.

On the 100M-receipt program (372,949 matched members, planted lift +15.5 %) the
corrected lift was +15.7 % (15.1–16.3 %), the placebo −0.3 %, and every
pre-enrollment month within ±1.0 pp — yet the joint pre-trend test rejected
(p = 0.006) and the verdict was labelled *not credible*.  A drift that small is
significant only because the sample is large; a drift that could carry the
lift must still make it not credible.
"""

import numpy as np
import pandas as pd

from loyalty_roi import lift_checks
from loyalty_roi.incrementality import DidResult


def did_with(pre_terms, lift=0.157, p=0.006, treated=372_949) -> DidResult:
    ks = np.arange(-6, 7)
    ev = np.r_[pre_terms, np.nan, np.full(6, lift)]
    balance = pd.DataFrame(
        {
            "feature": ["revenue", "pre-period revenue (outcome, not matched)"],
            "smd_before": [0.5, 0.6],
            "smd_after": [0.0, 0.05],
        }
    )
    return DidResult(
        lift=lift,
        ci=(lift - 0.006, lift + 0.006),
        se=0.003,
        event_study=pd.DataFrame({"k": ks, "lift": ev, "lo": ev - 0.005, "hi": ev + 0.005}),
        balance=balance,
        cohorts=pd.DataFrame(),
        treated=treated,
        controls=3 * treated,
        member_post_revenue=100.0,
        counterfactual_post_revenue=100 / (1 + lift),
        pretrend_wald=18.0,
        pretrend_p=p,
    )


def placebo_ok() -> DidResult:
    return did_with([0.0] * 6, lift=-0.003, p=0.5)


def test_a_significant_but_small_pretrend_does_not_make_the_lift_not_credible():
    small = did_with([0.010, -0.003, 0.004, -0.001, -0.006, -0.003])  # the 100M run's
    assert lift_checks.pretrend_size(small) == 0.010
    conf = lift_checks.confidence(small, placebo_ok(), breakeven_lift=0.20)
    assert conf.label == "robust", conf.reasons
    assert any(
        "detectable (joint test p = 0.006) but small: at most 1.0 pp" in r for r in conf.reasons
    )
    sentence = lift_checks.diagnostics_sentences(small)[0]
    assert sentence.startswith("Pre-trends: a difference before enrollment is detectable")
    assert "too small to carry the result" in sentence


def test_a_pretrend_that_could_carry_the_lift_is_not_credible():
    drift = did_with([0.06, 0.05, 0.04, 0.03, 0.02, 0.01])  # 6 pp: over a quarter of the lift
    conf = lift_checks.confidence(drift, placebo_ok(), breakeven_lift=0.05)
    assert conf.label == "not credible"
    assert "up to 6.0 pp in a month" in conf.reasons[0]
    assert (
        "parallel-trends assumption looks violated" in lift_checks.diagnostics_sentences(drift)[0]
    )
    # at zero effect, 1 pp is the floor: a drift of 1.5 pp is material
    assert lift_checks.confidence(did_with([0.015] + [0] * 5, lift=0.0), placebo_ok()).label == (
        "not credible"
    )


def test_a_small_pretrend_near_break_even_leaves_the_verdict_fragile():
    near = did_with([0.010, 0, 0, 0, 0, 0], lift=0.157)
    conf = lift_checks.confidence(near, placebo_ok(), breakeven_lift=0.150)  # 0.7 pp away
    assert conf.label == "fragile"
    assert any("as large as the lift's distance to +15.0%" in r for r in conf.reasons)
    not_rejected = did_with([0.010, 0, 0, 0, 0, 0], p=0.4)
    assert lift_checks.confidence(not_rejected, placebo_ok(), breakeven_lift=0.20).label == "robust"


def test_single_months_that_do_not_form_a_trend_are_said_to_be_so():
    """A zig-zag of ±7 pp rejects the joint test, but no straight-line drift: not 'small'."""
    zigzag = did_with([0.03, -0.07, 0.07, 0.0, -0.07, 0.04], lift=0.0, p=0.006)
    zigzag.pretrend_drift, zigzag.pretrend_drift_p = -0.004, 0.8
    assert not lift_checks.pretrend_material(zigzag)
    sentence = lift_checks.diagnostics_sentences(zigzag)[0]
    assert "in single months (up to 7.0 pp), but the months show no material trend" in sentence
    assert "do not add up to a trend" in sentence and "small" not in sentence
    drift = did_with([0.06, 0.05, 0.04, 0.03, 0.02, 0.01], lift=0.0, p=0.006)
    drift.pretrend_drift, drift.pretrend_drift_p = -0.05, 0.001
    assert lift_checks.pretrend_material(drift)
    assert lift_checks.confidence(drift, placebo_ok()).label == "not credible"
