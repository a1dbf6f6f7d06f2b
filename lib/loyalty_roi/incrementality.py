"""What the program really adds: naive vs corrected lift, and campaign holdouts.

**Naive lift** compares revenue per member-month with revenue per
non-member-month.  Members self-select (heavy buyers join, and join early),
so this overstates the program's effect many times over.

**Corrected lift** — risk-set matched difference-in-differences around each
member's enrollment month (staggered adoption, one cohort per month):

* treated: members who enrolled in month *e*, bought in *e*, and were known
  for the whole window;
* controls (**risk set**, Li, Propert & Rosenbaum 2001): customers who also
  bought in *e* and had not enrolled by *e* — future members included, the
  "not-yet-treated" comparison group of Callaway & Sant'Anna (2021).  Real
  members sign up at the till, i.e. while buying; requiring activity in *e*
  compares the living with the living, and not conditioning on later
  behaviour keeps "never enrolled" from meaning "lapsed".  Matched exactly on
  marketing consent and by nearest neighbours on behaviour in a *matching
  window* before the pre-period (revenue, orders, active months, tenure) and
  recency when the pre-period starts.  The pre-period outcome itself is not
  matched on: that selects controls on noise (regression to the mean; it read
  a zero effect as +13 % under heaviness-driven sign-up);
* controls who enrol later carry the effect in their later months: the
  ratio is corrected for that dilution, ``R = (1+L)/(1+L·s)``;
* outcome: revenue per month in the pre-period (−P…−1) and post-period
  (+1…+Q); the enrollment month is left out;
* estimate: ratio DiD ``(T_post/T_pre)/(C_post/C_pre) − 1`` per cohort, pooled
  on the log scale; event-time effects per horizon; bootstrap intervals.

Why this and not a two-way fixed-effects regression: with staggered sign-up
and effects that grow with time since enrollment, TWFE compares late with
early enrollees and can even flip sign (Goodman-Bacon 2021); cohort-by-cohort
comparisons with not-yet-treated controls avoid already-treated controls.
The checks that can falsify the estimate (joint pre-trend test, placebo,
balance on pre-period outcomes, sensitivity, confidence label) live in
:mod:`loyalty_roi.lift_checks`.  ``design="legacy"`` keeps the previous
design (never-enrolled controls) only to show that those checks catch it.

**Campaign holdouts**: randomized holdouts give an unbiased lift per campaign
(delta-method interval on the ratio of means).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import did_stats, lift_panel
from .did_stats import DidResult
from .holdouts import campaign_lifts  # noqa: F401 - part of this module's API
from .lift_panel import LiftPanel

FEATURES = ("revenue", "orders", "active_months", "tenure_months")


def panel_and_consent(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series]:
    """The customer × month panel and marketing consent of canonical tables held in memory.

    For generated programs (benchmarks, tests, the workshop's demonstrations): the
    tables are written to a temporary folder and read by the engine, as a report would.
    """
    import tempfile
    from pathlib import Path

    from . import engine

    with tempfile.TemporaryDirectory() as tmp:
        for name, df in tables.items():
            df.to_parquet(Path(tmp) / f"{name}.parquet", index=False)
        eng = engine.connect(tmp)
        consent = eng.read("customers").set_index("customer_id")["marketing_consent"]
        return engine.customer_month_panel(eng), consent


def naive_lift(panel: pd.DataFrame | LiftPanel, months: int = 12) -> dict:
    """Revenue per member-month vs per non-member-month over the last ``months`` months.

    ``panel``: a :class:`LiftPanel` or a dense panel frame; every customer-month of
    the panel counts, those without a purchase as 0.
    """
    lp = lift_panel.of(panel)
    cols = np.arange(max(0, lp.n_months - months), lp.n_months)
    inside, member = lift_panel.member_masks(lp, cols)
    m_sum = n_sum = 0.0
    for j, col in enumerate(cols):  # a column at a time: never a copy of the window's revenue
        rev = lp.revenue[:, col]
        m_sum += float(rev[member[:, j]].sum())
        n_sum += float(rev[inside[:, j] & ~member[:, j]].sum())
    m_n, n_n = int(member.sum()), int((inside & ~member).sum())
    # members before they joined are not non-members: a members-only program has no naive comparison
    has_m, has_n = m_n > 0, bool((inside.any(1) & ~member.any(1)).any())
    m = m_sum / m_n if has_m else np.nan
    n = n_sum / n_n if has_n else np.nan
    reason = None
    if not has_n:
        reason = (
            "Not meaningful on this data: every identified customer is a member, so there is no "
            "non-member to compare with (the corrected estimate uses members before they joined)."
        )
    elif not has_m:
        reason = (
            "Not meaningful on this data: no customer is a member — map the member flag if the "
            "program exists, or the report describes the customer base only."
        )
    elif not n > 0:
        reason = "Not meaningful on this data: non-members spent nothing in the period."
    return {
        "member_revenue_per_month": m,
        "non_member_revenue_per_month": n,
        "lift": m / n - 1 if reason is None else np.nan,
        "months": months,
        "reason": reason,
    }


def matched_did(
    panel: pd.DataFrame | LiftPanel,
    pre: int = 6,
    post: int = 6,
    match_window: int = 3,
    k: int = 3,
    n_boot: int = 400,
    seed: int = 0,
    min_treated: int = 20,
    exact: pd.Series | None = None,
    design: str = "risk_set",
    shift: int = 0,
    match: tuple[str, ...] | None = None,
) -> DidResult:
    """Matched difference-in-differences around enrollment (see the module docstring).

    Parameters
    ----------
    panel
        A :class:`LiftPanel` (:meth:`LiftPanel.from_engine` in a report), or a dense
        customer × month panel frame (needs ``customer_id, mi, revenue, orders,
        months_since_enrollment``).
    pre, post
        Months before / after the enrollment month in the comparison (post is cut at the data's end).
    match_window
        Months before the pre-period whose behaviour the controls are matched on.
    k
        Nearest-neighbour controls per treated member (with replacement).
    exact
        Optional customer attribute (indexed by ``customer_id``) to match exactly on,
        e.g. ``marketing_consent``: consenting customers receive campaigns, so a
        consenting member must be compared with consenting non-members.
    design
        ``"risk_set"`` (default): controls are customers not yet enrolled at the
        enrollment month — future members included — matched exactly on whether
        they bought in that month and on pre-period revenue and recency.
        ``"legacy"``: the earlier design (never-enrolled controls, no activity
        condition), kept only to show that the diagnostics catch its bias.
    match
        What controls are matched on: ``"history"`` (behaviour in the matching
        window, tenure, recency) and ``"signup"`` (the sign-up month's revenue and
        orders, so its basket too: a control who had the same spike in the same
        month regresses the same way).  Default: both
        for ``design="risk_set"``, history alone for ``"legacy"`` (the old design).
    shift
        Placebo: compare around a pseudo-enrollment ``shift`` months *before*
        the real one (post window ends before the real enrollment); the lift
        should then be ≈ 0.
    """
    from sklearn.neighbors import NearestNeighbors

    if design not in ("risk_set", "legacy"):
        raise ValueError(f"design must be 'risk_set' or 'legacy', not {design!r}")
    if match is None:
        match = ("history", "signup") if design == "risk_set" else ("history",)
    lp = lift_panel.of(panel)
    months = lp.lo + np.arange(lp.n_months)
    ids = lp.ids
    rev, orders, first = lp.revenue, lp.orders, lp.first  # read only: shared with the placebo
    enroll_idx = lp.enroll
    never = np.isnan(enroll_idx)
    enroll_f = np.where(never, np.inf, enroll_idx)
    bought = orders > 0
    # months since the last purchase before each month (capped at 24): the recency at the anchor
    none = np.int32(-10_000)
    last = np.where(bought, np.arange(len(months), dtype=np.int32)[None, :], none)
    last_before = np.maximum.accumulate(
        np.c_[np.full(len(ids), none, dtype=np.int32), last[:, :-1]], axis=1
    )
    del last
    rng = np.random.default_rng(seed)
    consent = (
        exact.reindex(ids).fillna(False).to_numpy().astype(int)
        if exact is not None
        else np.zeros(len(ids), int)
    )
    span = pre + match_window
    # With hardly anyone who never signs up (an export of members only), every control is a
    # future member selected on signing up later — at the till, on buying later.  Then controls
    # are censored at their own sign-up (Callaway–Sant'Anna's not-yet-treated at each horizon);
    # otherwise they are followed throughout and the dilution is corrected (no selection on the
    # future, which censoring would add when sign-up at a purchase is likely).
    censor = design == "risk_set" and float(never.mean()) < 0.05
    rows_c, t_blocks, c_blocks, shares, anc_blocks = [], [], [], [], []
    anc_rng = np.random.default_rng([seed, 7])  # its own stream: the DiD's draws stay as they were
    future_members = all_controls = 0
    bal_rows = []
    for e in range(span + shift, len(months) - (1 if shift == 0 else 0)):
        a = e - shift  # anchor: the (pseudo-)enrollment month of the comparison
        q = min(post, len(months) - 1 - a) if shift == 0 else min(post, shift - 1)
        if q < 1:
            continue
        eligible = first <= a - span
        if design == "risk_set":
            # like with like at the moment of enrollment: members who signed up in month e while
            # buying, against customers who also bought in e and had not signed up (yet)
            active = eligible & bought[:, e]
            treated = np.flatnonzero(active & (enroll_idx == e))
            pool = np.flatnonzero(active & (enroll_f > e))
        else:  # never-enrolled controls, whatever they did in month e
            treated = np.flatnonzero(eligible & (enroll_idx == e))
            pool = np.flatnonzero(eligible & (enroll_f > a + q))
        strata = consent
        if len(treated) < min_treated:
            continue
        if len(pool) < k:
            continue
        mw = slice(a - span, a - pre)
        pw = slice(a - pre, a)

        def feats(ix, mw=mw, a=a, match=match):
            cols = [
                rev[ix, mw].sum(1),
                orders[ix, mw].sum(1),
                bought[ix, mw].sum(1),
                np.minimum(a - first[ix], 36),
            ]
            if design == "risk_set":  # recency when the pre-period starts
                cols.append(np.minimum(a - pre - last_before[ix, a - pre], 24))
            if "signup" in match:
                # the month's spend and orders (and so its basket); a ratio to the customer's
                # usual basket was tried: it biased sign-up at a big basket by −5 pp
                cols += [rev[ix, a], orders[ix, a]]
            return np.column_stack(cols)

        ft, fc = feats(treated), feats(pool)
        anc_pool = (
            pool
            if len(pool) <= did_stats.ANCOVA_POOL
            else np.sort(anc_rng.choice(pool, did_stats.ANCOVA_POOL, replace=False))
        )
        mu, sd = fc.mean(0), fc.std(0)
        sd[sd == 0] = 1
        picks, kept = [], np.zeros(len(treated), bool)
        for stratum in np.unique(strata[treated]):
            t_in = strata[treated] == stratum
            c_in = np.flatnonzero(strata[pool] == stratum)
            if len(c_in) < k:
                continue
            nn = NearestNeighbors(n_neighbors=k).fit((fc[c_in] - mu) / sd)
            _, idx = nn.kneighbors((ft[t_in] - mu) / sd)
            picks.append(pool[c_in[idx.ravel()]])
            kept |= t_in
        if not picks or kept.sum() < min_treated:
            continue
        treated, ft = treated[kept], ft[kept]
        ix = np.r_[treated, anc_pool]
        anc_x = np.column_stack(
            [rev[ix, a - pre : a], feats(ix, match=("history", "signup")), consent[ix]]
        )
        post_cols = np.arange(a + 1, a + q + 1)
        anc_blocks.append(
            did_stats.ancova_cohort(rev, enroll_f, ix, len(treated), post_cols, anc_x, censor)
        )
        matched, counts = np.unique(np.concatenate(picks), return_counts=True)
        weights = counts / k  # each treated member spreads weight 1 over its k controls
        rel = np.arange(a - pre, a + q + 1)  # relative months −pre … +q
        t_blocks.append((rev[np.ix_(treated, rel)], None))
        c_blocks.append((rev[np.ix_(matched, rel)], weights))
        # controls who enrol later carry the program's effect in those months (1 from the
        # month after their enrollment): their share per relative month, for the correction
        # 1 from the month after a control's own (later) enrollment: the program's effect is in
        # those months, and _ratios undoes that dilution.  Their enrollment month stays in: in
        # the full population that purchase is an ordinary draw, and dropping it biases upward.
        under = (enroll_f[matched][:, None] < rel[None, :]).astype(float)
        if censor:  # members-only data: a control counts only until it signs up (-1 = left out)
            under[enroll_f[matched][:, None] <= rel[None, :]] = -1.0
        shares.append(under)
        future_members += int((~np.isinf(enroll_f[matched])).sum())
        all_controls += len(matched)
        rows_c.append(
            {
                "cohort": int(months[e]),
                "treated": len(treated),
                "controls": len(matched),
                "post_months": q,
                "controls_enrolling_later": int((enroll_f[matched] <= a + q).sum()),
            }
        )
        names = FEATURES + (("recency_months",) if design == "risk_set" else ())
        if "signup" in match:
            names += ("sign-up month revenue", "sign-up month orders")
        fcm = feats(matched)
        for j, name in enumerate(names):
            bal_rows.append(
                {
                    "cohort": e,
                    "feature": name,
                    "t": ft[:, j],
                    "c_all": fc[:, j],
                    "c_m": fcm[:, j],
                    "w": weights,
                }
            )
        bal_rows.append(
            {
                "cohort": e,
                "feature": "bought in the enrollment month",
                "t": bought[treated, e].astype(float),
                "c_all": bought[pool, e].astype(float),
                "c_m": bought[matched, e].astype(float),
                "w": weights,
            }
        )
        for name, arr in (("pre-period revenue", rev), ("pre-period active months", bought)):
            bal_rows.append(  # outcomes before enrollment: not matched on, must balance anyway
                {
                    "cohort": e,
                    "feature": f"{name} (outcome, not matched)",
                    "t": arr[treated, pw].sum(1).astype(float),
                    "c_all": arr[pool, pw].sum(1).astype(float),
                    "c_m": arr[matched, pw].sum(1).astype(float),
                    "w": weights,
                }
            )
    if not t_blocks:
        raise ValueError(
            "not enough enrollments with history for the difference-in-differences "
            f"(need ≥ {min_treated} members per enrollment month with {span + shift} months of "
            "history and customers not yet enrolled to compare with)"
        )

    res_lift, ev, cohort_logs = did_stats.ratios(t_blocks, c_blocks, shares, pre, post)
    boots, ev_boot, boot_logs = [], [], []
    for _ in range(n_boot):  # resample treated and controls within each cohort
        tb, cb, sb = [], [], []
        for (t, _), (c, w), sh in zip(t_blocks, c_blocks, shares, strict=True):
            it = rng.integers(0, len(t), len(t))
            ic = rng.integers(0, len(c), len(c))
            tb.append((t[it], None))
            cb.append((c[ic], w[ic]))
            sb.append(sh[ic])
        bl, bev, blogs = did_stats.ratios(tb, cb, sb, pre, post)
        boots.append(bl)
        ev_boot.append(bev)
        boot_logs.append(blogs)
    boots = np.array(boots)
    ev_boot = np.array(ev_boot)
    anc_w = [len(t) * (t.shape[1] - pre - 1) for t, _ in t_blocks]
    # cohorts that differ more than their noise widen the interval (random-effects pooling)
    spread = did_stats.heterogeneity_factor(
        cohort_logs, np.array(anc_w, float), np.array(boot_logs)
    )
    ci = (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
    ci = did_stats.widen(res_lift, ci, spread)
    anc, anc_ci, _ = did_stats.ancova_lift(anc_blocks, anc_w, n_boot, anc_rng)
    ks = np.arange(-pre, post + 1)
    event = pd.DataFrame(
        {
            "k": ks,
            "lift": ev,
            "lo": did_stats.percentile(ev_boot, 2.5),
            "hi": did_stats.percentile(ev_boot, 97.5),
        }
    )
    event.loc[event["k"] == 0, ["lift", "lo", "hi"]] = np.nan  # enrollment month left out
    wald, p_value = did_stats.joint_pretrend(ev, ev_boot, pre)
    drift, drift_p = did_stats.pretrend_drift(ev, ev_boot, pre)
    n_treated = sum(len(t) for t, _ in t_blocks)
    post_months = sum(t[:, pre + 1 :].shape[1] * len(t) for t, _ in t_blocks)
    member_post = sum(t[:, pre + 1 :].sum() for t, _ in t_blocks) / max(1, post_months)
    return DidResult(
        lift=res_lift,
        ci=ci,
        se=float(boots.std(ddof=1)) * spread,
        event_study=event,
        balance=did_stats.balance_table(bal_rows),
        cohorts=pd.DataFrame(rows_c),
        treated=n_treated,
        controls=sum(len(c) for c, _ in c_blocks),
        member_post_revenue=member_post,
        counterfactual_post_revenue=member_post / (1 + res_lift),
        pretrend_wald=wald,
        pretrend_p=p_value,
        pretrend_drift=drift,
        pretrend_drift_p=drift_p,
        design=design,
        future_member_controls=future_members / max(1, all_controls),
        censored_controls=censor,
        ancova=anc,
        ancova_ci=anc_ci,
    )


def lift_table(
    naive: dict, did: DidResult, truth: float | None = None, plac: DidResult | None = None
) -> pd.DataFrame:
    """Naive and corrected lifts side by side (and the planted truth for the demo data).

    The corrected lift has two estimates (the DiD and the lagged-outcome adjustment);
    when they disagree a last row gives the one the verdict uses.
    """
    from .lift_estimate import headline

    rows = []
    if not naive.get("reason"):  # a members-only program has no naive comparison
        rows.append(("naive: members vs non-members", naive["lift"], np.nan, np.nan))
    rows.append(("corrected: matched difference-in-differences", did.lift, *did.ci))
    if np.isfinite(did.ancova):
        rows.append(
            ("corrected: adjusted for lagged outcomes (ANCOVA)", did.ancova, *did.ancova_ci)
        )
    head = headline(did, plac)
    if head.is_bracket:
        rows.append(
            ("used for the verdict: the lower of the two, bracket interval", head.lift, *head.ci)
        )
    if truth is not None:
        rows.append(("planted truth (synthetic data)", truth, np.nan, np.nan))
    out = pd.DataFrame(rows, columns=["estimate", "lift", "ci_low", "ci_high"]).set_index(
        "estimate"
    )
    if truth is not None:
        out["error_vs_truth"] = out["lift"] - truth
    return out


def corrected_lift(
    panel: pd.DataFrame | LiftPanel, **kwargs
) -> tuple[DidResult | None, str | None]:
    """:func:`matched_did`, or ``(None, reason)`` when the data cannot support it.

    The corrected lift needs members who enrolled inside the data window with
    enough history, and non-members to compare them with.
    """
    panel = lift_panel.of(panel)
    if not panel.enrolled_inside():
        return None, (
            "Not available: no member enrolled inside the data window (everyone enrolled before it, "
            "or there are no members), so there is no before/after to compare — provide history "
            "that starts before members enrolled."
        )
    try:
        return matched_did(panel, **kwargs), None
    except ValueError as exc:
        return None, (
            f"Not available: {exc}. Provide a longer history, more enrollments, or customers "
            "(members before they enrolled count) to compare with."
        )
