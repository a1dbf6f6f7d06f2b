"""Which estimate of the program lift the verdict uses: the DiD, or the bracket of two.

The corrected lift has two estimates that rest on different assumptions — the
risk-set matched difference-in-differences (parallel trends given a permanent
level) and the estimate adjusted for lagged outcomes (sign-up unconfounded given
the recent path; :func:`loyalty_roi.did_stats.ancova_lift`) — and each has its
own placebo.  :func:`headline` reads the placebos and returns the lift, its
interval and its basis; :mod:`loyalty_roi.lift_checks` labels it and
:mod:`loyalty_roi.narrative` says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .did_stats import DidResult


def placebo_fires(plac: DidResult | None) -> tuple[bool | None, bool | None]:
    """Whether the DiD's and the lagged-outcome estimate's placebos differ from 0 (None: not run)."""
    if plac is None or not np.isfinite(plac.lift):
        return None, None
    did = bool(plac.ci[0] > 0 or plac.ci[1] < 0)
    if not np.isfinite(plac.ancova) or not np.all(np.isfinite(plac.ancova_ci)):
        return did, None
    return did, bool(plac.ancova_ci[0] > 0 or plac.ancova_ci[1] < 0)


@dataclass
class Headline:
    """The lift the verdict uses: one estimate, or the bracket of two."""

    lift: float
    ci: tuple[float, float]
    basis: str  # "difference-in-differences" or "bracket"
    bracket: tuple[float, float] | None = None  # (lower, upper) estimate when bracketed
    why: str = ""

    @property
    def se(self) -> float:
        """The standard error implied by the reported 95 % interval (for the Monte Carlo)."""
        return (self.ci[1] - self.ci[0]) / 3.92

    @property
    def is_bracket(self) -> bool:
        """Whether the lift is a range between the two estimates."""
        return self.bracket is not None


def headline(did: DidResult, plac: DidResult | None = None) -> Headline:
    """The estimate the verdict uses, from the DiD and the lagged-outcome (ANCOVA) estimate.

    The two rest on different assumptions: parallel trends given a permanent
    level (the DiD), or sign-up that is unconfounded given the recent path
    (ANCOVA).  Each is falsified by its own placebo (``plac``, the same estimates
    around a pseudo-enrollment before the real one):

    * only the ANCOVA's placebo fails → the DiD (members are lastingly heavier;
      the ANCOVA under-corrects that);
    * both fail, or only the DiD's → the **bracket**: members sign up around a temporary high that
      neither assumption describes.  The interval runs from the lower
      estimate's lower bound to the upper one's upper bound, and the verdict uses
      the lower estimate: on every sign-up behaviour of the generator the
      estimate that errs, errs upward (Angrist & Pischke 2009 §5.4 and Ding &
      Li 2019 on bracketing with lagged outcomes and fixed effects).  The
      lagged-outcome estimate is never used alone: its placebo has missed its
      bias under lastingly heavier members (+13 % at zero effect, 1 run in 20);
    * both pass, or no placebo → the DiD, or the bracket when the two estimates
      differ by more than their sampling noise.
    """
    did_h = Headline(did.lift, did.ci, "difference-in-differences")
    if not np.isfinite(did.ancova) or not np.all(np.isfinite(did.ancova_ci)):
        return did_h
    d_lo, d_hi = did.ci
    a_lo, a_hi = did.ancova_ci
    low, high = sorted((did.lift, did.ancova))
    bracket = Headline(low, (min(d_lo, a_lo), max(d_hi, a_hi)), "bracket", bracket=(low, high))
    p_did, p_anc = placebo_fires(plac)
    if p_did and p_anc:
        bracket.why = "both placebos fail"
        return bracket
    if p_did:  # the DiD fails: a rise into sign-up; the lagged outcomes alone are not trusted
        bracket.why = "the difference-in-differences fails its placebo"
        return bracket
    if p_anc and p_did is False:
        did_h.why = "the lagged-outcome estimate fails its placebo"
        return did_h
    gap = did.lift - did.ancova
    if abs(gap) <= 1.96 * float(np.hypot((d_hi - d_lo) / 3.92, (a_hi - a_lo) / 3.92)):
        return did_h
    bracket.why = "the two estimates disagree"
    return bracket
