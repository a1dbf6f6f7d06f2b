"""The holdout test plan: the power formula against simulated holdout tests on real-shaped revenue."""

import numpy as np
import pytest

from loyalty_roi import incrementality, synth, testplan


def test_required_customers_matches_the_textbook_case():
    # Kohavi et al.'s rule of thumb: n per arm ≈ 16 σ² / Δ² at h = ½, α = 5 %, 80 % power
    n = testplan.required_customers(mean=100.0, sd=50.0, lift=0.05, share=0.5)
    assert n / 2 == pytest.approx(16 * 50**2 / 5**2, rel=0.02)
    # a smaller holdout share needs more customers: 1/h + 1/(1-h) grows
    assert testplan.required_customers(100, 50, 0.05, 0.1) == pytest.approx(
        n * (1 / 0.1 + 1 / 0.9) / 4
    )
    assert np.isnan(testplan.required_customers(100, 50, 0.0, 0.1))


def test_the_planned_size_gives_80_percent_power_on_this_datas_revenue():
    d = synth.generate(n_customers=4000, seed=3, end_month="2026-10")
    panel, _ = incrementality.panel_and_consent(d.tables)
    values = testplan.customer_means(panel, 3)
    assert len(values) > 1000 and (values == 0).any()  # zeros and heavy buyers: not normal
    lift = 0.08
    n = testplan.required_customers(values.mean(), values.std(ddof=1), lift, 0.2)
    power = testplan.simulated_power(values, lift, round(n), 0.2, draws=1500)
    assert power == pytest.approx(0.80, abs=0.04)
    # half the customers: clearly less power (the check can fail)
    assert testplan.simulated_power(values, lift, round(n / 2), 0.2, draws=1500) < 0.6


def test_plan_sentence_names_the_smallest_feasible_holdout_or_what_it_would_take():
    d = synth.generate(n_customers=3000, seed=4, end_month="2026-10")
    panel, _ = incrementality.panel_and_consent(d.tables)
    plan = testplan.holdout_plan(panel, 0.30)
    assert set(plan["test_months"]) == {3, 6} and len(plan) == 6
    s = testplan.plan_sentence(plan, 0.30, stores=8)
    assert "80% power at 5% significance" in s and "stepped-wedge" in s
    tiny = testplan.holdout_plan(panel, 0.005)
    assert not tiny["feasible"].any()
    assert "more than the" in testplan.plan_sentence(tiny, 0.005)
    assert "not computable" in testplan.plan_sentence(plan.iloc[0:0], 0.3)
