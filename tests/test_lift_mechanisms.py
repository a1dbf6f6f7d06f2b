"""The corrected lift under realistic sign-up: planted truth, falsification and members-only data.

On the main of 2026-11-22 a program with **zero** effect whose members sign up
at the till read as +4 … +17 %, with clean-looking diagnostics.  These tests
plant the truth with each enrollment mechanism of the generator and check the
estimate, the placebo, the joint pre-trend test and the confidence label — and
that the diagnostics *do* flag the old design's bias (they have power).
"""

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import incrementality, lift_checks, synth

pytestmark = pytest.mark.slow


def panel_of(tmp_path, data):
    return incrementality.panel_and_consent(data.tables)


def program(tmp_path, **kw):
    d = synth.generate(n_customers=12_000, months=24, end_month="2026-10", **kw)
    return d, *panel_of(tmp_path, d)


def test_zero_effect_at_the_till_is_not_read_as_a_lift(tmp_path):
    d, panel, consent = program(
        tmp_path, seed=2, enrollment="till", frequency_lift=0.0, spend_lift=0.0
    )
    assert d.truth["program_lift"]["revenue"] == 0 and d.truth["enrollment"]["mechanism"] == "till"
    did = incrementality.matched_did(panel, n_boot=200, exact=consent)
    assert did.ci[0] <= 0 <= did.ci[1] and abs(did.lift) < 0.04
    plac = lift_checks.placebo(panel, exact=consent)
    assert plac is not None and plac.ci[0] <= 0 <= plac.ci[1]
    assert lift_checks.confidence(did, plac).label != "not credible"


def test_the_old_design_is_biased_and_the_checks_say_so(tmp_path):
    """Power: with a launch wave and no effect, never-enrolled controls read +10 % or more."""
    _, panel, consent = program(
        tmp_path, seed=2, enrollment="launch_wave", frequency_lift=0.0, spend_lift=0.0
    )
    old = incrementality.matched_did(panel, n_boot=150, exact=consent, design="legacy")
    assert old.lift > 0.08 and old.ci[0] > 0  # the bias the issue measured
    plac = lift_checks.placebo(panel, exact=consent, design="legacy")
    label = lift_checks.confidence(old, plac)
    assert label.label == "not credible", label.reasons
    new = incrementality.matched_did(panel, n_boot=150, exact=consent)
    assert abs(new.lift) < 0.05 and new.ci[0] <= 0 <= new.ci[1]


@pytest.mark.parametrize("mechanism", ["promotion", "till"])
def test_a_planted_lift_is_recovered(tmp_path, mechanism):
    d, panel, consent = program(
        tmp_path, seed=2, enrollment=mechanism, frequency_lift=0.15, spend_lift=0.0
    )
    truth = d.truth["program_lift"]["revenue"]
    did = incrementality.matched_did(panel, n_boot=200, exact=consent)
    assert did.ci[0] <= truth <= did.ci[1] and abs(did.lift - truth) < 0.06
    assert did.ci[0] > 0


def test_members_only_program_with_history_before_enrollment_gets_an_estimate(tmp_path):
    d = synth.generate(n_customers=12_000, seed=3, enrollment="till", end_month="2026-10")
    members = set(d.tables["customers"].loc[d.tables["customers"]["is_member"], "customer_id"])
    for name, df in d.tables.items():
        if "customer_id" in df and name != "transactions":
            d.tables[name] = df[df["customer_id"].isin(members)].reset_index(drop=True)
    tx = d.tables["transactions"]
    d.tables["transactions"] = tx[tx["customer_id"].isna() | tx["customer_id"].isin(members)]
    panel, consent = panel_of(tmp_path, d)
    assert (
        panel.groupby("customer_id")["is_member"].max().all()
    )  # everyone is (or becomes) a member
    did, reason = incrementality.corrected_lift(panel, n_boot=100, exact=consent)
    assert reason is None and did is not None and did.future_member_controls == 1.0
    # controls are censored at their own sign-up: followed to the end, they read −1 … −10 %
    assert did.censored_controls
    truth = d.truth["program_lift"]["revenue"]
    assert did.ci[0] <= truth <= did.ci[1] and abs(did.lift - truth) < 0.05
    conf = lift_checks.confidence(did, None)
    assert conf.label == "fragile" and any("members-only" in r for r in conf.reasons)


def test_everyone_enrolled_before_the_window_says_why(tmp_path):
    d = synth.generate(
        n_customers=3000,
        seed=4,
        enrollment="independent",
        enroll_prob_per_month=0.0,
        existing_member_prob=0.5,
        end_month="2026-10",
    )
    panel, _ = panel_of(tmp_path, d)
    did, reason = incrementality.corrected_lift(panel)
    assert did is None and "enrolled inside the data window" in reason and "provide" in reason


def test_truth_states_the_mechanism_and_the_lift_per_horizon():
    d = synth.generate(n_customers=500, seed=1, enrollment="promotion", lift_ramp_months=4)
    lift = d.truth["program_lift"]
    by = lift["revenue_by_horizon"]
    assert by["1"] < by["2"] < by["4"] == pytest.approx(lift["revenue"]) == by["12"]
    assert by["1"] == pytest.approx((1 + 0.10 / 4) * (1 + 0.05 / 4) - 1)
    assert d.truth["enrollment"]["mechanism"] == "promotion"
    with pytest.raises(ValueError, match="not one of"):
        synth.generate(n_customers=100, enrollment="magic")


@pytest.mark.parametrize("mechanism", list(synth.ENROLLMENT_MECHANISMS))
def test_every_mechanism_signs_members_up_the_way_it_says(mechanism):
    d = synth.generate(n_customers=3000, seed=7, enrollment=mechanism, end_month="2026-10")
    c, tx = d.tables["customers"], d.tables["transactions"]
    inwin = c[c["enrolled_at"] >= pd.Timestamp(d.truth["window"]["start"])]
    assert len(inwin) > 100
    if mechanism in ("till", "launch_wave", "promotion"):  # at a purchase: a receipt that day
        days = tx.assign(day=tx["ts"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
        hit = inwin.merge(
            days, left_on=["customer_id", "enrolled_at"], right_on=["customer_id", "day"]
        )
        assert len(hit) == len(inwin)
    if mechanism == "launch_wave":
        first = inwin["enrolled_at"].dt.to_period("M").value_counts().sort_index()
        assert first.iloc[:2].sum() > 0.5 * len(inwin)  # most join in the first two months
        assert not (c["enrolled_at"] < pd.Timestamp(d.truth["window"]["start"])).any()


def test_breakage_truth_is_expiries_over_the_points_of_the_same_buckets():
    d = synth.generate(n_customers=2000, seed=1, end_month="2026-10")
    pl = d.tables["points_ledger"]
    m = pl["date"].dt.to_period("M")
    last_matured = pd.Period("2026-10", "M") - 11  # buckets that reached their 12-month expiry
    credited = pl.loc[pl["type"].isin(["earn", "adjust"]) & (m <= last_matured), "points"].sum()
    expired = -pl.loc[pl["type"] == "expire", "points"].sum()
    assert d.truth["points"]["earn_share_matured_cohorts_expired"] == pytest.approx(
        expired / credited
    )


def test_joint_pretrend_test_rejects_a_drift_and_accepts_noise():
    rng = np.random.default_rng(0)
    boot = rng.normal(0, 0.02, (400, 13))
    flat = np.r_[rng.normal(0, 0.01, 6), np.zeros(7)]
    drift = np.r_[np.linspace(-0.08, 0.08, 6), np.zeros(7)]
    assert lift_checks.joint_pretrend(np.expm1(flat), np.expm1(boot), 6)[1] > 0.05
    assert lift_checks.joint_pretrend(np.expm1(drift), np.expm1(boot), 6)[1] < 0.001


def test_sensitivity_sentence_names_the_bias_needed():
    res = incrementality.DidResult(
        lift=0.15,
        ci=(0.1, 0.2),
        se=0.02,
        event_study=pd.DataFrame(),
        balance=pd.DataFrame(),
        cohorts=pd.DataFrame(),
        treated=100,
        controls=300,
        member_post_revenue=10.0,
        counterfactual_post_revenue=10 / 1.15,
    )
    assert "5.0 pp of the +15.0% lift (33% of it)" in lift_checks.sensitivity_sentence(res, 0.10)
    assert "2.0 pp higher" in lift_checks.sensitivity_sentence(res, 0.17)
