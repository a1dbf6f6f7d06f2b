"""Checks that can falsify the corrected lift, and the confidence label they give the verdict.

None of them may reassure falsely:

* **Balance** on every matching feature *and* on pre-period outcomes; the
  sentence says "balanced" only when every standardised mean difference is
  below the limit.
* **Joint pre-trend test**: one Wald test that every pre-enrollment term of the
  event study is zero (bootstrap covariance), instead of one interval per month
  (which raises false alarms in about one run in five and misses real drifts).
* **Placebo**: the same design around a pseudo-enrollment ``shift`` months
  before the real one; its "lift" must be ≈ 0.
* **Sensitivity**: how much of the lift a hidden bias would have to explain to
  move the ROI verdict across break-even.

:func:`confidence` turns them into one label for the verdict: *robust*,
*fragile* or *not credible*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .incrementality import DidResult

SMD_LIMIT = 0.1
SMD_SEVERE = 0.25
ALPHA = 0.05
# a pre-enrollment difference smaller than this and than a quarter of the lift cannot carry the
# verdict: with 370k members (100M receipts) the joint test rejects a drift of 1 pp
PRETREND_MATERIAL = 0.01

# the estimator's own statistics, re-exported here with the checks that read them
from .did_stats import balance_table, joint_pretrend, smd  # noqa: E402,F401
from .lift_estimate import Headline, headline, placebo_fires  # noqa: E402,F401


def placebo(panel, shift: int = 3, **kwargs) -> DidResult | None:
    """The corrected lift around a pseudo-enrollment ``shift`` months early (should be ≈ 0).

    ``panel``: a :class:`~loyalty_roi.lift_panel.LiftPanel` or a dense panel frame.
    """
    from .incrementality import matched_did

    kwargs.setdefault("n_boot", 200)
    try:
        return matched_did(panel, shift=shift, **kwargs)
    except ValueError:
        return None


def placebo_sentence(plac: DidResult | None, shift: int = 3) -> str:
    """The placebo check of both estimates in one sentence."""
    if plac is None or not np.isfinite(plac.lift):
        return (
            f"Placebo: not run — moving enrollment {shift} months earlier needs {shift} more months "
            "of history before the enrollments."
        )
    p_did, p_anc = placebo_fires(plac)
    out = (
        f"Placebo: with every enrollment moved {shift} months earlier (all months still before the "
        f"real sign-up), the difference-in-differences finds {plac.lift:+.1%} (95% interval "
        f"{plac.ci[0]:+.1%} to {plac.ci[1]:+.1%})"
    )
    if p_anc is not None:
        out += f" and the lagged-outcome estimate {plac.ancova:+.1%}"
    if p_did and p_anc:
        return out + (
            " — neither is zero: members sign up around a temporary high (or low) that neither "
            "estimate's assumption describes, so the lift is given as the range between the two."
        )
    if p_did:
        return out + (
            " — the difference-in-differences is NOT zero (members rose into sign-up), the "
            "lagged-outcome estimate is: it is the one used."
        )
    if p_anc:
        return out + (
            " — the difference-in-differences is consistent with no effect, as it must be; the "
            "lagged-outcome estimate is not (members are lastingly heavier buyers), so the "
            "difference-in-differences is used."
        )
    return out + " — consistent with no effect, as it must be."


def pretrend_size(did: DidResult) -> float:
    """The largest absolute event-study term before enrollment (NaN when there is none)."""
    if "k" not in did.event_study:
        return float("nan")
    pre = did.event_study.loc[did.event_study["k"] < 0, "lift"].abs()
    return float(pre.max()) if pre.notna().any() else float("nan")


def pretrend_material(did: DidResult) -> bool:
    """Whether a pre-trend is large enough to matter: ≥ 1 pp and ≥ a quarter of the lift.

    The joint test says whether members and controls differed before enrollment at
    all; with hundreds of thousands of members it detects drifts far too small to
    change the answer (Roth 2022, "Pretest with caution").  What can bias the lift
    is the size of the drift (Rambachan & Roth 2023 bound the post-period bias by
    the pre-period's): so a rejected test makes the lift *not credible* only when
    the pre-period drifts materially.  The drift is the straight-line trend over
    the pre-period (:func:`~loyalty_roi.did_stats.pretrend_drift`), which must
    itself be significant: single months that zig-zag are noise, not a trend.
    Without it (a result built by hand) the largest month is the size.
    """
    floor = max(PRETREND_MATERIAL, 0.25 * abs(did.lift))
    if np.isfinite(did.pretrend_drift) and np.isfinite(did.pretrend_drift_p):
        return bool(abs(did.pretrend_drift) >= floor and did.pretrend_drift_p < ALPHA)
    return bool(pretrend_size(did) >= floor)


def _small_pretrend(did: DidResult) -> str:
    size = pretrend_size(did) * 100
    if np.isfinite(did.pretrend_drift) and size >= PRETREND_MATERIAL * 100:
        # single months differ, but they do not add up to a trend that could carry the lift
        return (
            f"a difference before enrollment is detectable (joint test p = {did.pretrend_p:.3f}) in "
            f"single months (up to {size:.1f} pp), but the months show no material trend (a drift "
            f"of {did.pretrend_drift * 100:+.1f} pp over the pre-period, p = "
            f"{did.pretrend_drift_p:.2f}), against a lift of {did.lift:+.1%} and "
            f"{did.treated:,} members"
        )
    return (
        f"a difference before enrollment is detectable (joint test p = {did.pretrend_p:.3f}) but "
        f"small: at most {size:.1f} pp in any month, against a lift of "
        f"{did.lift:+.1%} and {did.treated:,} members"
    )


@dataclass
class Confidence:
    """The verdict's confidence label and the reasons behind it."""

    label: str  # "robust", "fragile", "not credible"
    reasons: list[str]

    def sentence(self) -> str:
        """The confidence label and its reasons as one sentence."""
        return f"Confidence: {self.label} — " + "; ".join(self.reasons) + "."


def confidence(
    did: DidResult,
    plac: DidResult | None,
    breakeven_lift: float | None = None,
    smd_limit: float = SMD_LIMIT,
) -> Confidence:
    """Label the lift the verdict uses (:func:`headline`) from the falsification checks.

    Each of the two estimates has its own placebo (the same estimate around a
    pseudo-enrollment 3 months early).  *not credible*: a matching feature stays
    badly unbalanced (SMD > 0.25); or the difference-in-differences is used alone
    and the joint pre-trend test rejects a material drift (:func:`pretrend_material`);
    or both placebos fail and one reads *below* zero (the bracket assumes that an
    estimate that errs, errs upward).  *fragile*: the lift is a bracket (both
    placebos fail: sign-up coincides with a temporary high), only the
    lagged-outcome estimate passes its placebo, the placebo could not be run,
    balance is approximate, or the controls are censored (members-only data).
    *robust*: the estimate used passes every check.

    Whether the interval straddles break-even is not part of the label: it is the
    verdict's precision, said in the verdict (:func:`verdict_precision`).
    ``bench/coverage.py`` measures how well the label predicts the error.
    """
    bad, weak, good = [], [], []
    head = headline(did, plac)
    p_did, p_anc = placebo_fires(plac)
    if p_did is None:
        weak.append("the placebo check could not be run (too little history)")
    elif head.basis == "bracket":
        weak.append(
            (
                "both estimates fail their placebo"
                if p_anc
                else "the difference-in-differences fails its placebo"
            )
            + f" (difference-in-differences {plac.lift:+.1%}, lagged-outcome {plac.ancova:+.1%} "
            "where 0 is expected): members sign up around a temporary high (or low), so the effect "
            "is given as the range between the two estimates"
        )
        if (p_did and plac.ci[1] < 0) or (p_anc and plac.ancova_ci[1] < 0):
            bad.append(
                "a placebo reads below zero (members were falling before they signed up), so the "
                "lower estimate is not known to be the conservative one"
            )
    else:
        good.append(f"placebo {plac.lift:+.1%} (interval includes 0)")
        if p_anc:
            good.append(
                f"the lagged-outcome estimate fails its placebo ({plac.ancova:+.1%}): members are "
                "lastingly heavier buyers, which the difference-in-differences differences out"
            )
    line = 0.0 if breakeven_lift is None else breakeven_lift
    did_alone = head.basis == "difference-in-differences"
    if np.isfinite(did.pretrend_p):
        if did.pretrend_p < ALPHA and pretrend_material(did) and did_alone:
            bad.append(
                f"members and controls already drifted apart before enrollment (joint test p = "
                f"{did.pretrend_p:.3f}, up to {pretrend_size(did) * 100:.1f} pp in a month)"
            )
        elif did.pretrend_p < ALPHA and pretrend_material(did):
            weak.append(
                f"members rose into their sign-up month (up to {pretrend_size(did) * 100:.1f} pp "
                "above their controls in a month before it)"
            )
        elif did.pretrend_p < ALPHA and pretrend_size(did) >= abs(head.lift - line):
            weak.append(
                _small_pretrend(did) + f", yet as large as the lift's distance to {line:+.1%}"
            )
        elif did.pretrend_p < ALPHA:
            good.append(_small_pretrend(did))
        else:
            good.append(f"no pre-trend (joint test p = {did.pretrend_p:.2f})")
    bal = did.balance
    matched = ~bal["feature"].str.contains("not matched") if len(bal) else pd.Series(dtype=bool)
    worst = float(bal.loc[matched, "smd_after"].abs().max()) if matched.any() else 0.0
    if worst > SMD_SEVERE:
        bad.append(f"a matching feature stays unbalanced (SMD {worst:.2f})")
    elif worst > smd_limit:
        weak.append(f"balance is approximate (largest SMD of a matching feature {worst:.2f})")
    else:
        good.append(f"balanced (every matching feature's SMD < {smd_limit})")
    if did.censored_controls:
        weak.append(
            "members-only data: the controls are members who signed up later, each followed until "
            "its sign-up, so fewer controls carry the later months (on synthetic members-only "
            "exports with sign-up at the till: mean bias −1.8 pp for a planted +15.5 %, 90 % "
            "interval coverage)"
        )
    if bad:
        return Confidence("not credible", bad)
    if weak:
        return Confidence("fragile", weak)
    return Confidence("robust", good)


def verdict_precision(did: DidResult, plac: DidResult | None, breakeven_lift: float) -> str | None:
    """A sentence when the lift's interval includes break-even (or 0): the data cannot tell yet."""
    head = headline(did, plac)
    lo, hi = head.ci
    if lo < breakeven_lift < hi:
        return (
            f"The lift's 95% interval ({lo:+.1%} to {hi:+.1%}) includes the break-even lift "
            f"({breakeven_lift:+.1%}): the data cannot yet tell whether the program pays off."
        )
    return None


def sensitivity_sentence(
    did: DidResult, breakeven_lift: float, plac: DidResult | None = None
) -> str:
    """How large a hidden bias would have to be to turn the ROI verdict around."""
    lift = headline(did, plac).lift
    gap = lift - breakeven_lift
    if lift <= 0:
        return (
            f"The measured lift is {lift:+.1%}: no hidden bias is needed for the program not to "
            f"pay off; it would need a true lift of {breakeven_lift:+.1%}."
        )
    share = gap / lift
    if gap > 0:
        return (
            f"To turn the verdict to 'does not pay off', a hidden bias would have to explain "
            f"{gap * 100:.1f} pp of the {lift:+.1%} lift ({share:.0%} of it): the break-even lift is "
            f"{breakeven_lift:+.1%}."
        )
    return (
        f"To turn the verdict to 'pays off', the true lift would have to be {-gap * 100:.1f} pp higher than "
        f"measured ({breakeven_lift:+.1%} instead of {lift:+.1%}), i.e. the estimate would have to be "
        "biased downward by that much."
    )


def diagnostics_sentences(res: DidResult, smd_limit: float = SMD_LIMIT) -> list[str]:
    """Plain-language checks of the assumptions behind the corrected lift."""
    out = []
    if np.isfinite(res.pretrend_p):
        if res.pretrend_p < ALPHA and not pretrend_material(res):
            zigzag = np.isfinite(res.pretrend_drift) and pretrend_size(res) >= PRETREND_MATERIAL
            out.append(
                "Pre-trends: "
                + _small_pretrend(res)
                + (
                    " — differences that do not add up to a trend cannot carry the result."
                    if zigzag
                    else " — too small to carry the result (a drift this size is significant only "
                    "because the sample is large)."
                )
            )
        elif res.pretrend_p < ALPHA:
            out.append(
                f"Pre-trends: before enrollment, members and their matched controls already drifted "
                f"apart (joint test over the pre-period months, p = {res.pretrend_p:.3f}) — the "
                "parallel-trends assumption looks violated; treat the corrected lift with caution."
            )
        else:
            out.append(
                "Pre-trends: in the months before enrollment, members and matched controls moved in "
                f"parallel (joint test over all pre-period months, p = {res.pretrend_p:.2f}), as the "
                "method assumes."
            )
    else:
        out.append("Pre-trends: not testable (too few pre-period months or bootstrap draws).")
    bal = res.balance
    over = bal[bal["smd_after"].abs() > smd_limit]
    if len(over):
        names = ", ".join(
            f"'{f}' ({v:+.2f})" for f, v in zip(over["feature"], over["smd_after"], strict=True)
        )
        out.append(
            f"Balance: after matching, {names} still differ by more than {smd_limit} standardised "
            "mean differences; the controls are not fully comparable."
        )
    else:
        out.append(
            f"Balance: matching reduced the largest standardised difference from "
            f"{bal['smd_before'].abs().max():.2f} to {bal['smd_after'].abs().max():.2f}; every feature "
            f"and the pre-period outcomes are below {smd_limit}."
        )
    return out


def trend_breakdown(
    did: DidResult, breakeven_lift: float | None = None, plac: DidResult | None = None
) -> dict:
    """How far trends may depart from parallel before the answer changes (relative magnitudes).

    In the spirit of HonestDiD (Rambachan & Roth 2023, "relative magnitudes"):
    suppose that after sign-up members and controls drift apart by up to ``M``
    times the largest difference seen in any month before sign-up.  The lift's
    95 % interval then widens by ``M × that difference`` on each side.  The
    breakdown values are the ``M`` at which the widened interval first includes
    0 (``sign``) and break-even (``verdict``); 0 when it already does, NaN when
    there is no pre-period to measure.
    """
    head = headline(did, plac)
    size = pretrend_size(did)
    lo, hi = head.ci
    out = {"pre_size": size, "lo": lo, "hi": hi, "sign": np.nan, "verdict": np.nan}
    if not np.isfinite(size) or size <= 0 or not np.isfinite(lo) or not np.isfinite(hi):
        return out
    out["sign"] = max(lo / size, -hi / size, 0.0)
    if breakeven_lift is not None and np.isfinite(breakeven_lift):
        out["verdict"] = max((lo - breakeven_lift) / size, (breakeven_lift - hi) / size, 0.0)
    return out


def trend_breakdown_sentence(
    did: DidResult, breakeven_lift: float | None = None, plac: DidResult | None = None
) -> str:
    """The breakdown values of :func:`trend_breakdown` in one sentence."""
    b = trend_breakdown(did, breakeven_lift, plac)
    if not np.isfinite(b["sign"]):
        return (
            "Sensitivity to parallel trends: not computable — the event study has no pre-period "
            "month to measure a departure against."
        )
    unit = f"the largest monthly difference before sign-up ({b['pre_size'] * 100:.1f} pp)"
    if b["sign"] == 0:
        sign = "the lift's 95 % interval already includes zero, so its sign is not established"
    else:
        sign = (
            f"a departure from parallel trends after sign-up of {b['sign']:.1f}× {unit} would make "
            "the lift's interval include zero"
        )
    if not np.isfinite(b["verdict"]):
        return f"Sensitivity to parallel trends: {sign}."
    if b["verdict"] == 0:
        verdict = f"the interval already includes break-even ({breakeven_lift:+.1%})"
    else:
        verdict = f"{b['verdict']:.1f}× would move it across break-even ({breakeven_lift:+.1%})"
    return f"Sensitivity to parallel trends: {sign}; {verdict}."
