"""The report's verdicts and headline sentences — one home for what the report says.

Notebook 04 and the index page call these functions instead of composing
f-strings: the verdict, the naive-vs-corrected paragraph, the Monte Carlo and
break-even sentences, the "not available" lines and the index page's "what
changed this month".  Sentences that explain one computation in detail (a
placebo, a liability, a cohort table) stay next to that computation.

Every function returns a sentence for every input it accepts: a missing value
becomes a stated reason, never ``nan``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import lift_checks, lift_panel, roi
from .claims import cite

NO_LIFT = (
    "Not available — this section needs the corrected lift, which could not be estimated on this "
    "data (see the first section for why and what would enable it)."
)
NO_SCENARIOS = (
    "Not available — no named scenarios in the config: add them under `scenarios:` (e.g. "
    "conservative, base and optimistic, each with a lift factor, margin, redemption rate and cost "
    "factor) to compare them here."
)
NO_PNL = (
    "Not available — the program P&L, ROI, scenarios and the explorer need the corrected lift "
    "(see above)."
)


def lift_paragraph(naive: dict, did, plac=None) -> str:
    """Naive vs corrected lift in one paragraph (or the corrected lift alone when no naive one exists).

    When the difference-in-differences and the lagged-outcome estimate disagree,
    the effect is stated as the bracket between them (:func:`lift_checks.headline`).
    """
    head = lift_checks.headline(did, plac)
    if head.is_bracket:
        low, high = head.bracket
        effect = (
            f"the program's own effect lies between {low:+.1%} and {high:+.1%} (95% interval "
            f"{head.ci[0]:+.1%} to {head.ci[1]:+.1%}, {did.treated:,} members): the "
            f"difference-in-differences gives {did.lift:+.1%}, the estimate adjusted for each "
            f"member's recent spending (lagged outcomes) {did.ancova:+.1%}; "
            + (
                "both fail their placebo: members sign up around a temporary high (or low) that "
                "neither assumption describes"
                if head.why == "both placebos fail"
                else "the difference-in-differences fails its placebo: members rose into their "
                "sign-up month"
                if head.why.startswith("the difference-in-differences")
                else "they disagree by more than their sampling noise"
            )
            + f". The verdict uses the lower one, {low:+.1%}"
        )
    else:
        effect = (
            f"the program's own effect is {head.lift:+.1%} (95% interval {head.ci[0]:+.1%} to "
            f"{head.ci[1]:+.1%}, {did.treated:,} members)"
        )
        if np.isfinite(did.ancova):
            effect += f"; adjusting for members' recent spending instead gives {did.ancova:+.1%}"
    lift = head.lift
    if naive.get("reason") or not np.isfinite(naive["lift"]):
        why = naive.get("reason") or "Not meaningful on this data: no naive comparison exists."
        return (
            f"{why} Comparing each new member's change around enrollment with similar customers "
            f"who had not joined yet, {effect}."
        )
    if naive["lift"] <= lift:
        tail = "Here the naive figure does not overstate it."
    else:
        ratio = naive["lift"] / lift if lift > 0 else np.inf
        tail = "The naive figure overstates it " + (
            f"{ratio:.1f}-fold." if np.isfinite(ratio) else "entirely."
        )
    return (
        f"Members spend {naive['lift']:+.0%} more per month than non-members (naive comparison), but "
        f"after matching each new member to similar customers and comparing their change around "
        f"enrollment, {effect}. {tail}"
    )


def no_lift_paragraph(naive: dict, missing: str) -> str:
    """Why there is no corrected lift, with the naive comparison (or why there is none)."""
    naive_text = naive.get("reason") or (
        f"Naive lift: members spend {naive['lift']:+.0%} per month vs non-members."
    )
    return f"{naive_text} {missing} The ROI sections below need the corrected lift and are skipped."


def verdict(s: dict, mc: pd.DataFrame, currency: str) -> str:
    """The executive verdict in one sentence (``s`` is :func:`loyalty_roi.roi.summary`)."""
    lo, hi = np.percentile(mc["roi"] + 1, [5, 95])
    pay = (
        f"payback in {s['payback_month']:%B %Y} (month {s['payback_months']} of the period)"
        if s["payback_month"] is not None
        else "no payback within the period"
    )
    return (
        f"The program returns {currency} {s['return_per_unit']:.2f} of incremental gross margin per "
        f"{currency} 1 spent (90% interval {lo:.2f}–{hi:.2f}); ROI {s['roi']:+.0%}, {pay}; "
        f"P(ROI > 0) = {(mc['roi'] > 0).mean():.0%}."
    )


def verdict_paragraph(s: dict, mc: pd.DataFrame, currency: str, discount_rate: float) -> str:
    """The verdict with the cost share (against its published benchmark) and the NPV."""
    return (
        f"**Verdict.** {verdict(s, mc, currency)} The program costs "
        f"{s['cost_share_of_revenue']:.2%} of revenue; about 80% of firms spend under 1.5% "
        f"{cite('program_cost')}. NPV over the period: {currency} {s['npv']:,.0f} at "
        f"{discount_rate:.0%} a year."
    )


def monte_carlo_sentence(mc: pd.DataFrame) -> str:
    """P(ROI > 0), the median and the 90 % range of the simulated ROI."""
    r = mc["roi"]
    return (
        f"P(ROI > 0) = {(r > 0).mean():.0%}; median ROI {r.median():+.0%}; "
        f"90% of draws between {r.quantile(0.05):+.0%} and {r.quantile(0.95):+.0%}."
    )


def break_even_sentence(break_even: float, lift: float | None) -> str:
    """The break-even lift against the corrected estimate (``None``: no credible estimate)."""
    if not np.isfinite(break_even):
        return (
            "The program does not break even at any lift: its costs exceed what any lift on "
            "members' revenue returns in margin over the period."
        )
    if lift is None or not np.isfinite(lift):
        return (
            f"The program breaks even at a lift of {break_even:+.1%} on members' revenue: that is "
            "the effect a test must be able to detect (no credible estimate to compare it with)."
        )
    side = "above" if lift > break_even else "below"
    return (
        f"The program breaks even at a lift of {break_even:+.1%} on members' revenue; the "
        f"corrected estimate is {lift:+.1%} ({side} break-even)."
    )


def roll_forward_sentence(reconciles: pd.Series) -> str:
    """Whether the points roll-forward reconciles with the ledger's running balance."""
    ok = "reconciles to the point in every month" if reconciles.all() else "DOES NOT reconcile"
    return f"The roll-forward {ok} with the ledger's running balance."


def what_changed(
    card: pd.DataFrame | None,
    now: pd.DataFrame,
    before: pd.DataFrame | None,
    before_month: str | None = None,
    currency: str = "EUR",
    n: int = 3,
) -> list[str]:
    """The index page's "what changed this month": a few sentences a director reads first.

    ``card`` is the month's scorecard (:func:`loyalty_roi.scorecard.build`; ``None``
    when the KPI notebook did not run); ``now`` and ``before`` are the headline
    figures (:func:`loyalty_roi.frontpage.headline`) of this month and of the last
    report published before it (``None`` when there is none).  Lists the largest
    KPI movements with whether they are good news, the targets by status, and how
    the headline figures moved since the previous report.
    """
    from .present import fmt
    from .scorecard import biggest_movements, change_unit

    out = []
    if card is None:
        out.append("No KPI scorecard this month (the KPI notebook did not run).")
    else:
        moved = biggest_movements(card, n)
        moved = moved[moved["mom"] != 0]  # an unchanged KPI is no news
        for r in moved.itertuples():
            good = (r.mom > 0) == bool(r.higher_is_better)
            verb = "rose" if r.mom > 0 else "fell"
            out.append(
                f"{r.kpi} {verb} {abs(r.mom):.1f} {change_unit(r.unit)} on the month "
                f"({'good news' if good else 'a worsening'})."
            )
        if not len(moved):
            out.append("No KPI can be compared with the previous month: it is not in the data.")
        statuses = card["status"].astype(str)
        counts = {s: int((statuses == s).sum()) for s in ("on track", "at risk", "off track")}
        infeasible = int(statuses.str.startswith("infeasible").sum())
        if sum(counts.values()) or infeasible:
            listed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            out.append(
                f"Targets: {listed or 'none measurable'}."
                + (
                    f" {infeasible} target(s) cannot be reached as set (see the KPI notebook)."
                    if infeasible
                    else ""
                )
            )
        else:
            out.append(
                "No KPI has a target: set them under kpi.targets in the config to track them."
            )
    if before is None:
        out.append("This is the first published report: there is no earlier one to compare with.")
        return out
    b = before.set_index("figure")
    parts = []
    for r in now.itertuples():
        if r.figure not in b.index:
            continue
        old = b.loc[r.figure]
        if r.unit == "text":
            if r.note and old["note"] and str(old["note"]) != r.note:
                parts.append(f"{r.figure.lower()} {old['note']} → {r.note}")
            continue
        if pd.isna(old["value"]) and r.value is None:
            continue
        was, is_ = fmt(old["value"], r.unit, currency), fmt(r.value, r.unit, currency)
        if was != is_:
            parts.append(f"{r.figure} {was} → {is_}")
    since = f"Since the {before_month} report" if before_month else "Since the previous report"
    out.append(
        f"{since}: " + "; ".join(parts) + "."
        if parts
        else f"{since}: the headline figures are unchanged."
    )
    return out


def bullets(sentences: list[str]) -> str:
    """Sentences as a Markdown bullet list."""
    return "\n".join(f"- {s}" for s in sentences)


def cost_source_sentence(source: str) -> str:
    """Where the program's running costs come from."""
    return f"Running costs (platform, marketing and staff) come from the {source}."


def retention_sentence(
    panel,
    gross_margin: float,
    discount_rate: float,
    change_pp: float,
    currency: str,
) -> str:
    """What +``change_pp`` retention is worth on this data, against the published claim.

    ``panel``: a :class:`~loyalty_roi.lift_panel.LiftPanel` or a dense panel frame.
    """
    panel = lift_panel.of(panel)
    months = panel.n_months
    if months < 24:
        return (
            "Not available on this data: annual retention compares the customers active in two "
            f"consecutive 12-month windows, so it needs 24 months of history; the data has {months}."
        )
    annual_retention, annual_margin = roi.annual_retention_and_margin(panel, gross_margin)
    if not np.isfinite(annual_retention) or annual_margin <= 0:
        return "Not meaningful on this data: no customer was active in both 12-month windows."
    rv = roi.retention_value(annual_retention, annual_margin, discount_rate, change_pp)
    inside = "inside" if 0.25 <= rv["change"] <= 0.95 else "outside"
    return (
        f"Annual retention is {rv['annual_retention']:.0%}; raising it to "
        f"{rv['new_retention']:.0%} raises the value of a customer from {currency} "
        f"{rv['value_before']:,.0f} to {currency} {rv['value_after']:,.0f} ({rv['change']:+.0%}) — "
        f"{inside} the published 25–95 % range {cite('retention_profit')}."
    )


def extrapolation_sentence(data: roi.ProgramData) -> str:
    """How much of the member revenue the lift was measured on, and what the rest assumes."""
    total = float(data.member_revenue.sum())
    if total <= 0:
        return "No member revenue after enrollment in the period: nothing to extrapolate."
    share = float(data.measured.sum()) / total
    return (
        f"The lift was measured on {share:.0%} of members' revenue in the period (members who "
        f"joined inside the data, months 1–{data.measured_horizon} after sign-up). The other "
        f"{1 - share:.0%} — longer-standing members and later months — is covered by assuming "
        "the same lift holds there; the scenarios and the Monte Carlo vary that assumption "
        "(extrapolation 0 = no lift outside what was measured)."
    )


NO_FINDING = (
    "Not stated — the lift estimate is not credible (see Confidence below), so no ROI, scenario or "
    "simulation is built on it; the break-even lift, the program's cost and the test plan below say "
    "what is known and how to get a measured answer."
)


def provisional(text: str, label: str | None) -> str:
    """``text`` qualified when the lift behind it is fragile."""
    if label == "fragile":
        return f"Provisional — the lift behind this is fragile (see Confidence): {text}"
    return text


def what_is_known(
    head, be: float, cost_per_month: float, currency: str, reasons: list[str] | None = None
) -> str:
    """Instead of a verdict: why there is none, the known bounds, break-even, cost and the next step.

    ``head`` is the :class:`~loyalty_roi.lift_checks.Headline` (None when no estimate
    exists); ``reasons`` the confidence label's reasons or the estimate's missing-reason.
    """
    why = "; ".join(reasons or []) or "the corrected lift could not be estimated"
    if head is not None and head.is_bracket:
        known = (
            f"the two estimates put the lift between {head.bracket[0]:+.1%} and "
            f"{head.bracket[1]:+.1%} (95% interval {head.ci[0]:+.1%} to {head.ci[1]:+.1%})"
        )
    elif head is not None:
        known = f"the estimate's 95% interval is {head.ci[0]:+.1%} to {head.ci[1]:+.1%}, but it failed its checks"
    else:
        known = "no lift could be measured"
    be_text = (
        f"it needs a lift of {be:+.1%} on members' revenue to break even"
        if np.isfinite(be)
        else "no lift on members' revenue would cover its cost"
    )
    return (
        f"No ROI verdict: {why}. What is known: {known}; the program costs {currency} "
        f"{cost_per_month:,.0f} a month, and {be_text}. Next step: measure the lift with a "
        "randomized holdout (the test plan below)."
    )
