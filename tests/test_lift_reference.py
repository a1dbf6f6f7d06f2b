"""The corrected lift against two reference implementations of Callaway & Sant'Anna's DiD.

``diff-diff`` (maintained; also synthetic DiD and HonestDiD) and ``csdid``.  Where
the designs' assumptions match — no self-selection on how heavy a
buyer is (so trends are parallel in levels as well as in ratios), sign-up
independent of activity, a homogeneous effect — the pooled relative effect of
the references (not-yet-treated controls, outcome regression, event times 0…5,
divided by the treated's counterfactual level) must agree with ours within
sampling error.  They differ by design elsewhere: the references compare levels
with unconditional parallel trends (heavier members trend differently in
levels, so it drifts when heavy buyers self-select), while ours matches on
history, requires activity in the enrollment month and compares ratios.
"""

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import incrementality, synth

pytestmark = pytest.mark.slow


def staggered_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """The balanced panel in the references' shape: unit ``id``, period ``t``, first treated ``g``."""
    lo = panel["mi"].min()
    known = panel.groupby("customer_id")["mi"].min() == lo  # a balanced panel
    p = panel[panel["customer_id"].isin(known[known].index)].copy()
    enr = (p["mi"] - p["months_since_enrollment"].astype("float")).groupby(p["customer_id"]).first()
    p["t"] = p["mi"] - lo + 1
    g = (enr - lo + 2).reindex(p["customer_id"]).to_numpy()  # first treated month: after sign-up
    p["g"] = np.where(np.isnan(g), 0, g).astype(int)
    p = p[(p["g"] == 0) | (p["g"] > 1)]  # members from before the window are always treated
    p["id"] = pd.factorize(p["customer_id"])[0]
    return p


def cs_relative_att(panel: pd.DataFrame, max_e: int = 5) -> tuple[float, float]:
    from csdid.att_gt import ATTgt

    p = staggered_panel(panel)
    m = ATTgt(
        yname="revenue",
        gname="g",
        idname="id",
        tname="t",
        data=p[["id", "t", "g", "revenue"]],
        control_group="notyettreated",
    ).fit(est_method="reg", bstrap=False)
    with contextlib.redirect_stdout(io.StringIO()):
        m.aggte(typec="dynamic", min_e=0, max_e=max_e, bstrap=False)
    a = m.atte
    ev = p.assign(e=p["t"] - p["g"])
    y1 = ev[(ev["g"] > 0) & ev["e"].between(0, max_e)].groupby("e")["revenue"].mean()
    att_e = pd.Series(a["att_egt"], index=a["egt"]).reindex(y1.index)
    rel = float((att_e / (y1 - att_e)).mean())
    se = float(a["overall_se"] / (y1.mean() - a["overall_att"]))
    return rel, se


def dd_relative_att(panel: pd.DataFrame, max_e: int = 5) -> tuple[float, float]:
    """The same relative effect from ``diff-diff``'s Callaway–Sant'Anna (not-yet-treated, regression)."""
    from diff_diff import CallawaySantAnna

    p = staggered_panel(panel)
    fit = CallawaySantAnna(control_group="not_yet_treated", estimation_method="reg").fit(
        p[["id", "t", "g", "revenue"]], outcome="revenue", unit="id", time="t", first_treat="g"
    )
    es = fit.aggregate("event_study").to_dataframe()  # the post-fit aggregation of diff-diff 3.x
    es = es.set_index(es["event_time"].astype(int))
    ev = p.assign(e=p["t"] - p["g"])
    y1 = ev[(ev["g"] > 0) & ev["e"].between(0, max_e)].groupby("e")["revenue"].mean()
    att, se = es["att"].reindex(y1.index), es["se"].reindex(y1.index)
    rel = float((att / (y1 - att)).mean())
    # horizons are positively correlated: the mean's s.e. is at most the mean of the s.e.s
    return rel, float((se / (y1 - att)).mean())


def test_pooled_lift_agrees_with_diff_diff_and_csdid():
    """diff-diff's CS and csdid agree with each other, and with both of our estimates.

    On this design (no self-selection on heaviness, sign-up independent of
    activity, a homogeneous effect) the DiD and the lagged-outcome estimate rest on
    assumptions that both hold, so both must agree with the references.
    """
    d = synth.generate(
        n_customers=12_000,
        seed=3,
        enrollment="independent",
        heaviness_sigma=0.05,
        frequency_lift=0.15,
        spend_lift=0.0,
        end_month="2026-10",
    )
    panel, consent = incrementality.panel_and_consent(d.tables)
    ours = incrementality.matched_did(panel, n_boot=200, exact=consent)
    dd, dd_se = dd_relative_att(panel)
    cs, _ = cs_relative_att(panel)
    truth = d.truth["program_lift"]["revenue"]
    assert abs(dd - cs) < 0.01, (dd, cs)  # two implementations of one estimator
    assert abs(ours.lift - dd) < 2 * np.hypot(ours.se, dd_se), (ours.lift, dd)
    anc_se = (ours.ancova_ci[1] - ours.ancova_ci[0]) / 3.92
    assert abs(ours.ancova - dd) < 2 * np.hypot(anc_se, dd_se), (ours.ancova, dd)
    assert abs(dd - truth) < 2.5 * dd_se
