"""Seeded synthetic loyalty program with known, planted effects.

The generator is the embedded default data of every notebook and the ground
truth of every estimator test.  What it plants (all written to ``truth.json``):

* **Self-selection and sign-up.**  Each customer has a latent heaviness ``h``
  (lognormal, mean 1) that scales the monthly order rate and, mildly, the order
  value.  How members sign up is a parameter (``enrollment``, see
  :data:`ENROLLMENT_MECHANISMS`): at the till (each purchase signs the customer
  up with a fixed chance — the demo's default, because real programs enrol
  while people buy), a launch wave, a sign-up bonus promotion, a hazard ∝ h²
  only while the customer still buys, or a hazard ∝ h² that ignores activity
  (the textbook case).  Heavy buyers join more and earlier under every one.
* **Program lift.**  From the month *after* enrollment a member's order rate
  is multiplied by ``1 + frequency_lift`` and order value by
  ``1 + spend_lift``, ramping up linearly over ``lift_ramp_months`` if set:
  ``truth.json`` gives the revenue lift per horizon and the mechanism.
* **Churn** is a constant monthly hazard independent of ``h`` and membership,
  so the corrected estimators can be unbiased.
* **Tiers** bronze/silver/gold from annualised 12-month spend, evaluated monthly.
* **Points**: 1 point per currency unit × tier multiplier (× 2 in double-points
  campaigns), vouchers of ``voucher_points``, FIFO expiry after 12 months,
  a quarter of members never redeem (breakage), rare goodwill adjustments.
* **Campaigns** with randomized holdouts and a true lift on the order rate in
  the campaign window (coupons also give a discount; double points double the
  points earned).
* Surveys (NPS, CSAT), monthly program costs, anonymous sales, returns.

``generate`` returns canonical frames plus the raw personal data; ``write_raw``
writes them as a real export would look (Danish/Dutch/German headers,
``;``-separated latin-1 CSV with decimal commas, Parquet, Excel) with the
mapping file that maps them back.
"""

from __future__ import annotations

from .demo import ensure_demo_data, load_truth, params_from_config, scale_for_transactions
from .export import MAPPING_YAML, write_raw
from .params import ENROLLMENT_MECHANISMS, SynthData, SynthParams
from .program import generate

__all__ = [
    "ENROLLMENT_MECHANISMS",
    "MAPPING_YAML",
    "SynthData",
    "SynthParams",
    "ensure_demo_data",
    "generate",
    "load_truth",
    "params_from_config",
    "scale_for_transactions",
    "write_raw",
]
