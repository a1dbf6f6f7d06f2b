"""Spending that comes and goes: latent phases, seasonal segments, and signing up at a high.

Real shoppers do not buy at a constant rate.  A move, a new baby, a renovation
or a holiday season lifts a household's spending for a few months, and then it
drifts back.  Loyalty programs recruit at the till, so they sign people up
disproportionately *during* such a high: the member's own spending was going to
fall back whatever the program did.  A lift estimate that does not compare like
with like at the moment of sign-up reads that fall-back (or the rest of the high
that was still to come) as the program's effect.

This module plants that family of behaviours (issue 30):

* a **latent spending phase** per customer: an AR(1) process on the log scale,
  ``z_t = ρ z_{t−1} + √(1−ρ²) σ ε_t`` (stationary sd ``σ``), that multiplies the
  order rate by ``exp(z − σ²/2)`` and the order value by ``exp(b z − b²σ²/2)``
  (both mean 1), independent of heaviness and membership;
* **seasonal segments**: a share of customers (more of the heavy ones) whose
  demand peaks in November–December;
* three sign-up mechanisms that select on them (see
  :data:`~.params.ENROLLMENT_MECHANISMS`): ``spending_high`` (at the till, the
  chance per purchase × ``exp(β z_t)``), ``big_basket`` (at the till, the chance
  per purchase × (basket / the customer's usual basket)^γ) and
  ``seasonal_drive`` (a sign-up drive in November–December, when the seasonal
  segment buys most).

Phases and segments are off (σ = 0, no segment) under the older mechanisms, so
their programs are drawn exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import SynthParams

# the mechanisms of this module, and the spending dynamics each one switches on by default
PHASE_MECHANISMS = ("spending_high", "big_basket", "seasonal_drive")
DEFAULT_PHASE_SIGMA = {"spending_high": 0.4, "big_basket": 0.35, "seasonal_drive": 0.15}


def phase_sigma(p: SynthParams) -> float:
    """The stationary sd of the latent log-spending phase (0: no phases)."""
    if p.phase_sigma is not None:
        return float(p.phase_sigma)
    return DEFAULT_PHASE_SIGMA.get(p.enrollment, 0.0)


def seasonal_share(p: SynthParams) -> float:
    """Share of customers in the November–December segment (0 unless asked for)."""
    if p.seasonal_share is not None:
        return float(p.seasonal_share)
    return 0.35 if p.enrollment == "seasonal_drive" else 0.0


@dataclass
class Phases:
    """Each customer's spending dynamics: the latent phase and the seasonal segment."""

    sigma: float
    rho: float
    basket_weight: float
    z: np.ndarray  # current log-phase per customer
    seasonal: np.ndarray  # in the November–December segment
    seasonal_amp: float

    def step(self, rng: np.random.Generator) -> None:
        """Advance every customer's phase by one month (no draw when phases are off)."""
        if self.sigma > 0:
            innov = rng.normal(0.0, self.sigma * np.sqrt(1 - self.rho**2), self.z.size)
            self.z = self.rho * self.z + innov

    def rate_mult(self, month_of_year: int) -> np.ndarray:
        """Multiplier of the order rate this month (mean 1 over customers and phases)."""
        m = np.exp(self.z - self.sigma**2 / 2) if self.sigma > 0 else np.ones(self.z.size)
        if self.seasonal.any():
            m = m * np.where(self.seasonal, seasonal_profile(month_of_year, self.seasonal_amp), 1.0)
        return m

    def value_mult(self) -> np.ndarray:
        """Multiplier of the order value this month (mean 1)."""
        if self.sigma <= 0 or self.basket_weight == 0:
            return np.ones(self.z.size)
        b = self.basket_weight
        return np.exp(b * self.z - (b * self.sigma) ** 2 / 2)


def seasonal_profile(month_of_year: int, amp: float) -> float:
    """The seasonal segment's demand relative to the others: a Nov–Dec peak, a year's mean of 1."""
    peak = {11: 1 + amp * 0.6, 12: 1 + amp}
    low = 1 - amp * 1.6 / 10  # the other ten months give back what the peak adds
    return peak.get(month_of_year, low)


def draw(p: SynthParams, rng: np.random.Generator, h: np.ndarray) -> Phases:
    """Draw the phases' starting state and the seasonal segment.

    Nothing is drawn when both are off, so the older mechanisms' streams are unchanged.
    """
    n = h.size
    sigma, share = phase_sigma(p), seasonal_share(p)
    z = rng.normal(0.0, sigma, n) if sigma > 0 else np.zeros(n)
    if share > 0:  # heavy buyers are more often the ones with a holiday peak
        w = h / h.mean()
        seasonal = rng.random(n) < np.clip(share * w, 0, 0.95)
    else:
        seasonal = np.zeros(n, bool)
    return Phases(
        sigma=sigma,
        rho=p.phase_persistence,
        basket_weight=p.phase_basket_weight,
        z=z,
        seasonal=seasonal,
        seasonal_amp=p.seasonal_amp,
    )


def till_no_signup(
    p: SynthParams,
    ph: Phases,
    month_of_year: int,
    cust: np.ndarray,
    value: np.ndarray,
    usual_value: np.ndarray,
) -> np.ndarray:
    """Per customer, the chance that none of this month's purchases signed them up.

    ``cust`` and ``value`` are this month's orders (customer index, order value),
    ``usual_value`` each customer's usual order value.
    """
    q = np.full(cust.size, p.enroll_prob_per_purchase)
    if p.enrollment == "spending_high":
        q = q * np.exp(p.phase_signup * ph.z[cust])
    elif p.enrollment == "big_basket":
        q = q * (value / usual_value[cust]) ** p.basket_signup
    elif p.enrollment == "seasonal_drive" and month_of_year in p.drive_months:
        q = q * p.promo_boost
    q = np.clip(q, 0.0, 0.9)
    log_none = np.bincount(cust, weights=np.log1p(-q), minlength=usual_value.size)
    return np.exp(log_none)


def truth(p: SynthParams, ph: Phases) -> dict:
    """What the phases planted, for ``truth.json``."""
    return {
        "phase_sigma": ph.sigma,
        "phase_persistence": ph.rho if ph.sigma > 0 else None,
        "phase_basket_weight": ph.basket_weight if ph.sigma > 0 else None,
        "seasonal_segment_share": float(ph.seasonal.mean()),
        "seasonal_amp": ph.seasonal_amp if ph.seasonal.any() else None,
    }
