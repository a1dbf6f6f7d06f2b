"""``generate``: the synthetic program, step by step (see the package docstring)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from ..schema import coerce_canonical
from . import assemble, simulate
from .params import SynthData, SynthParams


def generate(params: SynthParams | None = None, **kwargs) -> SynthData:
    """Generate a synthetic loyalty program.

    Parameters
    ----------
    params
        A :class:`SynthParams`; keyword arguments override its fields
        (``generate(n_customers=2000, seed=1)``).

    Returns
    -------
    SynthData
        ``tables`` holds the nine canonical tables (dtypes as in
        :func:`loyalty_roi.schema.coerce_canonical`), ``truth`` the planted effects.
    """
    p = params or SynthParams()
    if kwargs:
        p = SynthParams(**{**asdict(p), **kwargs})
    rng = np.random.default_rng(p.seed)  # one stream, drawn from by each step in this order
    cal = simulate.calendar(p)
    pop = simulate.population(p, rng, cal)
    plan_rng = rng if p.plan_seed is None else np.random.default_rng([p.plan_seed, 1])
    campaigns = simulate.plan_campaigns(p, plan_rng, cal)
    bought = simulate.simulate_months(p, rng, cal, pop, campaigns)
    ledger = assemble.points(p, rng, cal, pop, bought.tx, campaigns)
    cid = np.array([f"C{i + 1:06d}" for i in range(p.n_customers)], dtype=object)
    transactions, receipts = assemble.transactions(p, rng, cal, pop, bought.tx, cid)
    campaigns_df, contacts, program_costs = assemble.campaign_tables(
        p, cal, campaigns, bought.contacts_rows, cid
    )
    tables = {
        "customers": assemble.customers(p, cal, pop, cid),
        "transactions": transactions,
        "points_ledger": assemble.points_ledger(ledger, receipts, cid),
        "tier_history": assemble.tier_history(bought.tier_rows, cid),
        "campaigns": campaigns_df,
        "campaign_contacts": contacts,
        "coupon_redemptions": assemble.coupon_redemptions(receipts, campaigns, cid),
        "program_costs": program_costs,
        "surveys": assemble.surveys(p, rng, cal, pop, cid),
    }
    tables = {k: coerce_canonical(v, k) for k, v in tables.items()}
    pii = assemble.personal_data(rng, cid)
    truth = assemble.truth(p, cal, pop, bought, ledger, tables)
    return SynthData(tables=tables, pii=pii, truth=truth)
