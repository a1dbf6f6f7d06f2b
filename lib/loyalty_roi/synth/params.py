"""Parameters of the synthetic program, its fixed plans and the result type."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TIER_NAMES = np.array(["bronze", "silver", "gold"])
TIER_MULT = np.array([1.0, 1.25, 1.5])


@dataclass(frozen=True)
class SynthParams:
    """Parameters of the synthetic program (the planted truth included)."""

    n_customers: int = 20_000
    months: int = 24
    end_month: str = "2026-10"
    seed: int = 42
    # behaviour
    heaviness_sigma: float = 0.7
    base_orders_per_month: float = 0.9
    base_order_value: float = 38.0
    churn_hazard: float = 0.012
    share_existing: float = 0.55
    # self-selection and how customers sign up (see ENROLLMENT_MECHANISMS)
    enrollment: str = "independent"
    enroll_prob_per_month: float = 0.035  # "independent", "while_buying": × heaviness²
    enroll_prob_per_purchase: float = 0.03  # "till", "launch_wave", "promotion"
    launch_month: int = 9  # "launch_wave": month index of the launch in the window
    launch_prob_per_purchase: float = 0.30  # "launch_wave": in the launch month and the next
    promo_months: tuple[int, ...] = (8, 14, 19)  # "promotion": sign-up bonus months
    promo_boost: float = 6.0  # "promotion": per-purchase sign-up chance × this in a promo month
    existing_member_prob: float = 0.10
    # spending that comes and goes (synth.phases; on by default only for its mechanisms)
    phase_sigma: float | None = None  # sd of the latent log-spending phase (None: by mechanism)
    phase_persistence: float = 0.75  # its month-to-month autocorrelation
    phase_basket_weight: float = 0.5  # how much of the phase shows in the order value
    phase_signup: float = 2.0  # "spending_high": per-purchase sign-up chance × exp(this × phase)
    basket_signup: float = 2.0  # "big_basket": × (basket / usual basket) ** this
    seasonal_share: float | None = None  # share in the Nov–Dec segment (None: by mechanism)
    seasonal_amp: float = 0.8  # that segment's December peak (+80 %; November +48 %)
    drive_months: tuple[int, ...] = (11, 12)  # "seasonal_drive": months of the sign-up drive
    # planted program effect (ramps up linearly over lift_ramp_months after enrollment)
    frequency_lift: float = 0.10
    spend_lift: float = 0.05
    lift_ramp_months: int = 0
    # points
    points_per_unit: float = 1.0
    voucher_points: int = 200
    expiry_months: int = 12
    never_redeem_share: float = 0.25
    tier_thresholds: tuple[float, float] = (350.0, 900.0)
    # other
    return_rate: float = 0.04
    anonymous_share: float = 0.20
    holdout_share: float = 0.20
    survey_rate: float = 0.02
    # scale: the campaign plan drawn from its own stream (shards of one large program share it)
    plan_seed: int | None = None

    @property
    def true_revenue_lift(self) -> float:
        """The long-run revenue lift (reached after ``lift_ramp_months``)."""
        return (1 + self.frequency_lift) * (1 + self.spend_lift) - 1

    def ramp(self, k: np.ndarray) -> np.ndarray:
        """Share of the full effect ``k`` months after enrollment (0 in the enrollment month)."""
        k = np.asarray(k, dtype=float)
        full = (
            np.ones_like(k)
            if self.lift_ramp_months <= 0
            else np.minimum(1, k / self.lift_ramp_months)
        )
        return np.where(k >= 1, full, 0.0)

    def lift_at(self, k: int) -> float:
        """True revenue lift ``k`` months after enrollment."""
        r = float(self.ramp(np.array([k]))[0])
        return (1 + self.frequency_lift * r) * (1 + self.spend_lift * r) - 1


# How members sign up.  Real programs enrol at the till or at online checkout, i.e.
# while buying; "independent" (a monthly hazard that ignores activity) is the
# textbook case that a naive DiD handles and real data rarely looks like.
ENROLLMENT_MECHANISMS = {
    "independent": "monthly hazard ∝ heaviness², whether or not the customer still buys",
    "while_buying": "monthly hazard ∝ heaviness², only while the customer is still alive (buying)",
    "till": "at a purchase: each purchase signs the customer up with a fixed chance",
    "launch_wave": "program launched in the window: most members join at a purchase in the "
    "launch month or the next, then at the till",
    "promotion": "at the till, with a sign-up bonus campaign multiplying the chance in a few months",
    "spending_high": "at the till, far more likely during a temporary spending high (a latent, "
    "autocorrelated phase that lifts order rate and basket, then drifts back)",
    "big_basket": "at the till, more likely for a basket that is large against the customer's "
    "usual one (baskets follow a latent, autocorrelated phase)",
    "seasonal_drive": "a November–December sign-up drive at the till, when a segment of mostly "
    "heavy buyers has its holiday peak",
}


@dataclass
class SynthData:
    """Canonical tables, raw personal data and the planted truth."""

    tables: dict[str, pd.DataFrame]
    pii: pd.DataFrame  # customer_id, name, email, phone (raw, never leaves data/raw)
    truth: dict = field(default_factory=dict)


FIRST = [
    "Søren",
    "Mette",
    "Lars",
    "Anne",
    "Jens",
    "Karin",
    "Björn",
    "Åsa",
    "Jürgen",
    "Ülkü",
    "Sanne",
    "Pieter",
    "Inge",
    "Henrik",
    "Märta",
    "Øystein",
    "Bente",
    "Gitte",
    "Kees",
    "Lærke",
]
LAST = [
    "Jørgensen",
    "Nielsen",
    "Hansen",
    "Müller",
    "Andersson",
    "de Vries",
    "Schröder",
    "Bakker",
    "Lindqvist",
    "Åberg",
    "Pedersen",
    "Janssen",
    "Weiß",
    "Østergaard",
    "Berg",
    "Visser",
]
STORES = np.array(
    [
        "København Strøget",
        "Aarhus C",
        "Odense",
        "Malmö",
        "Göteborg",
        "Amsterdam Zuid",
        "Köln Altstadt",
        "Oslo Grünerløkka",
    ]
)
WEB = "Web shop"

CAMPAIGN_PLAN = [  # months before end, type, name, days, lift, audience, discount
    (19, "email", "Spring newsletter", 7, 0.06, "consenting", 0.0),
    (16, "double_points", "Double points weekend", 3, 0.30, "members", 0.0),
    (13, "coupon", "Summer coupon 10%", 14, 0.15, "consenting", 0.10),
    (10, "event", "Gold VIP evening", 1, 0.40, "gold", 0.0),
    (7, "email", "Autumn news & offers", 7, 0.06, "consenting", 0.0),
    (4, "double_points", "Double points weekend II", 3, 0.30, "members", 0.0),
    (2, "coupon", "Black week coupon 10%", 7, 0.15, "consenting", 0.10),
]
