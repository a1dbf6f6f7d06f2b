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
    """The placebo check in one sentence."""
    if plac is None or not np.isfinite(plac.lift):
        return (
            f"Placebo: not run — moving enrollment {shift} months earlier needs {shift} more months "
            "of history before the enrollments."
        )
    ok = plac.ci[0] <= 0 <= plac.ci[1]
    return (
        f"Placebo: with every enrollment moved {shift} months earlier (all months still before the "
        f"real sign-up), the method finds {plac.lift:+.1%} (95% interval {plac.ci[0]:+.1%} to "
        f"{plac.ci[1]:+.1%}) — "
        + (
            "consistent with no effect, as it must be."
            if ok
            else "NOT zero: the design picks up "
            "something other than the program (who signs up and when); distrust the corrected lift."
        )
    )


def pretrend_size(did: DidResult) -> float:
    """The largest absolute event-study term before enrollment (NaN when there is none)."""
    pre = did.event_study.loc[did.event_study["k"] < 0, "lift"].abs()
    return float(pre.max()) if pre.notna().any() else float("nan")


def pretrend_material(did: DidResult) -> bool:
    """Whether a pre-trend is large enough to matter: ≥ 1 pp and ≥ a quarter of the lift.

    The joint test says whether members and controls differed before enrollment at
    all; with hundreds of thousands of members it detects drifts far too small to
    change the answer (Roth 2022, "Pretest with caution").  What can bias the lift
    is the size of the drift (Rambachan & Roth 2023 bound the post-period bias by
    the pre-period's): so a rejected test makes the lift *not credible* only when
    the largest pre-period term is material.
    """
    size = pretrend_size(did)
    return bool(size >= max(PRETREND_MATERIAL, 0.25 * abs(did.lift)))


def _small_pretrend(did: DidResult) -> str:
    return (
        f"a difference before enrollment is detectable (joint test p = {did.pretrend_p:.3f}) but "
        f"small: at most {pretrend_size(did) * 100:.1f} pp in any month, against a lift of "
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
    """Label the corrected lift from the falsification checks.

    *not credible*: the placebo differs from 0, the joint pre-trend test
    rejects a material drift (:func:`pretrend_material`), or a feature stays
    badly unbalanced (SMD > 0.25).  *fragile*: the
    checks pass but the interval straddles break-even (or 0), balance is only
    approximate, or the placebo could not be run.  *robust*: everything passes.
    """
    bad, weak, good = [], [], []
    if plac is not None and np.isfinite(plac.lift):
        if plac.ci[0] > 0 or plac.ci[1] < 0:
            bad.append(f"the placebo (enrollment moved earlier) gives {plac.lift:+.1%}, not 0")
        else:
            good.append(f"placebo {plac.lift:+.1%} (interval includes 0)")
    else:
        weak.append("the placebo check could not be run (too little history)")
    line = 0.0 if breakeven_lift is None else breakeven_lift
    if np.isfinite(did.pretrend_p):
        if did.pretrend_p < ALPHA and pretrend_material(did):
            bad.append(
                f"members and controls already drifted apart before enrollment (joint test p = "
                f"{did.pretrend_p:.3f}, up to {pretrend_size(did) * 100:.1f} pp in a month)"
            )
        elif did.pretrend_p < ALPHA and pretrend_size(did) >= abs(did.lift - line):
            weak.append(
                _small_pretrend(did) + f", yet as large as the lift's distance to {line:+.1%}"
            )
        elif did.pretrend_p < ALPHA:
            good.append(_small_pretrend(did))
        else:
            good.append(f"no pre-trend (joint test p = {did.pretrend_p:.2f})")
    bal = did.balance
    outcome = bal["feature"].str.contains("not matched")
    worst_m = float(bal.loc[~outcome, "smd_after"].abs().max()) if (~outcome).any() else 0.0
    worst_o = float(bal.loc[outcome, "smd_after"].abs().max()) if outcome.any() else 0.0
    if worst_m > SMD_SEVERE:
        bad.append(f"a matching feature stays unbalanced (SMD {worst_m:.2f})")
    elif max(worst_m, worst_o) > smd_limit:
        weak.append(
            f"balance is approximate (largest SMD {max(worst_m, worst_o):.2f} > {smd_limit}"
            + (
                ", on pre-period outcomes: members were heavier buyers than their controls"
                if worst_o > max(worst_m, smd_limit)
                else ""
            )
            + ")"
        )
    else:
        good.append(f"balanced (every SMD < {smd_limit}, pre-period outcomes included)")
    if did.censored_controls:
        weak.append(
            "members-only data: the controls are members who signed up later, each followed until "
            "its sign-up, so fewer controls carry the later months (on synthetic members-only "
            "exports with sign-up at the till: mean bias −1.8 pp for a planted +15.5 %, 90 % "
            "interval coverage)"
        )
    if did.ci[0] < line < did.ci[1]:
        what = "break-even" if breakeven_lift is not None else "zero"
        weak.append(
            f"the 95% interval {did.ci[0]:+.1%} … {did.ci[1]:+.1%} includes {what} ({line:+.1%})"
        )
    if bad:
        return Confidence("not credible", bad)
    if weak:
        return Confidence("fragile", weak)
    return Confidence("robust", good)


def sensitivity_sentence(did: DidResult, breakeven_lift: float) -> str:
    """How large a hidden bias would have to be to turn the ROI verdict around."""
    gap = did.lift - breakeven_lift
    if did.lift <= 0:
        return (
            f"The measured lift is {did.lift:+.1%}: no hidden bias is needed for the program not to "
            f"pay off; it would need a true lift of {breakeven_lift:+.1%}."
        )
    share = gap / did.lift
    if gap > 0:
        return (
            f"To turn the verdict to 'does not pay off', a hidden bias would have to explain "
            f"{gap * 100:.1f} pp of the {did.lift:+.1%} lift ({share:.0%} of it): the break-even lift is "
            f"{breakeven_lift:+.1%}."
        )
    return (
        f"To turn the verdict to 'pays off', the true lift would have to be {-gap * 100:.1f} pp higher than "
        f"measured ({breakeven_lift:+.1%} instead of {did.lift:+.1%}), i.e. the estimate would have to be "
        "biased downward by that much."
    )


def diagnostics_sentences(res: DidResult, smd_limit: float = SMD_LIMIT) -> list[str]:
    """Plain-language checks of the assumptions behind the corrected lift."""
    out = []
    if np.isfinite(res.pretrend_p):
        if res.pretrend_p < ALPHA and not pretrend_material(res):
            out.append(
                "Pre-trends: " + _small_pretrend(res) + " — too small to carry the result (a drift "
                "this size is significant only because the sample is large)."
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


@dataclass
class Headline:
    """The lift the verdict uses: one estimate, or the bracket of two that disagree."""

    lift: float
    ci: tuple[float, float]
    basis: str  # "difference-in-differences", "lagged-outcome adjustment" or "bracket"
    bracket: tuple[float, float] | None = None  # (lower, upper) estimate when they disagree

    @property
    def is_bracket(self) -> bool:
        """Whether the two estimates disagree, so the lift is a range."""
        return self.bracket is not None


def headline(did: DidResult) -> Headline:
    """The estimate the verdict uses, from the DiD and the lagged-outcome (ANCOVA) estimate.

    The two rest on different assumptions (parallel trends given a permanent
    level; unconfounded sign-up given the recent path).  When they agree within
    their sampling noise, the DiD is reported with its interval.  When they
    disagree, the lift is reported as the bracket between them, the interval
    runs from the lower estimate's lower bound to the upper one's upper bound,
    and the verdict uses the **lower** estimate: on every sign-up behaviour of
    the generator the estimate that errs does so upward (the DiD reads a drift
    back from a sign-up high as lift, the ANCOVA under-corrects for permanently
    heavier members), so the lower one is the conservative reading
    (``bench/coverage.py`` measures it).
    """
    d_lo, d_hi = did.ci
    if not np.isfinite(did.ancova) or not np.all(np.isfinite(did.ancova_ci)):
        return Headline(did.lift, did.ci, "difference-in-differences")
    a_lo, a_hi = did.ancova_ci
    se_d, se_a = (d_hi - d_lo) / 3.92, (a_hi - a_lo) / 3.92
    gap = did.lift - did.ancova
    if abs(gap) <= 1.96 * float(np.hypot(se_d, se_a)):
        return Headline(did.lift, did.ci, "difference-in-differences")
    low, high = sorted((did.lift, did.ancova))
    basis = "lagged-outcome adjustment" if did.ancova < did.lift else "difference-in-differences"
    return Headline(low, (min(d_lo, a_lo), max(d_hi, a_hi)), basis, bracket=(low, high))


def trend_breakdown(did: DidResult, breakeven_lift: float | None = None) -> dict:
    """How far trends may depart from parallel before the answer changes (relative magnitudes).

    In the spirit of HonestDiD (Rambachan & Roth 2023, "relative magnitudes"):
    suppose that after sign-up members and controls drift apart by up to ``M``
    times the largest difference seen in any month before sign-up.  The lift's
    95 % interval then widens by ``M × that difference`` on each side.  The
    breakdown values are the ``M`` at which the widened interval first includes
    0 (``sign``) and break-even (``verdict``); 0 when it already does, NaN when
    there is no pre-period to measure.
    """
    head = headline(did)
    size = pretrend_size(did)
    lo, hi = head.ci
    out = {"pre_size": size, "lo": lo, "hi": hi, "sign": np.nan, "verdict": np.nan}
    if not np.isfinite(size) or size <= 0 or not np.isfinite(lo) or not np.isfinite(hi):
        return out
    out["sign"] = max(lo / size, -hi / size, 0.0)
    if breakeven_lift is not None and np.isfinite(breakeven_lift):
        out["verdict"] = max((lo - breakeven_lift) / size, (breakeven_lift - hi) / size, 0.0)
    return out


def trend_breakdown_sentence(did: DidResult, breakeven_lift: float | None = None) -> str:
    """The breakdown values of :func:`trend_breakdown` in one sentence."""
    b = trend_breakdown(did, breakeven_lift)
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
