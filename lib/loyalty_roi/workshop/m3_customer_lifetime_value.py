"""Workshop module 3: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module3``.
"""

from __future__ import annotations

from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _clv, _top20_share

SLUG = "customer_lifetime_value"
TITLE = "Module 3 · Customer lifetime value"
MINUTES = 30
GOALS = [
    "fit BG/NBD (how often, and whether still active) and Gamma-Gamma (how much) with the library",
    "read expected CLV per customer and per segment",
    "see how concentrated future value is, and how it differs from past revenue",
]

CELLS = [
    md(
        "## Fit the models\n\n"
        "`clv.clv_for_month` fits BG/NBD + Gamma-Gamma on each customer's purchase days up to the analysis "
        "month and returns the expected gross-margin CLV per customer over the configured "
        "horizon (24 months, discounted). It takes about half a minute."
    ),
    code(
        "summary = clv.summary_from_engine(ws.engine, months.end(ws.month))\n"
        "fit, customer_clv = clv.clv_for_month(summary, ws.cfg.finance)\n"
        "scored = segments.rfm_scores(engine.rfm_summary(ws.engine, as_of=ws.month))\n"
        "clv_seg = customer_clv.merge(scored[['customer_id', 'segment', 'monetary']], on='customer_id')\n"
        "clv_seg[['clv', 'monetary']].describe().round(1)"
    ),
    md(
        "## Exercise 1 — What is a Champion worth from now on?\n\n"
        "The **average expected CLV** (column `clv`) of the customers in the Champions segment."
    ),
    ex(
        "module3.exercise1",
        "answer = clv_seg.loc[clv_seg['segment'] == 'Champions', 'clv'].mean()\nanswer",
        "# TODO: mean clv of the Champions\nanswer = None\nanswer",
    ),
    md(
        "## Exercise 2 — How concentrated is future value?\n\n"
        "Rank customers by `clv`, take the top 20 % (`round(0.2 × number of customers)`), and "
        "give their **share of all expected CLV**."
    ),
    ex(
        "module3.exercise2",
        "top = clv_seg.nlargest(int(round(len(clv_seg) * 0.2)), 'clv')\n"
        "answer = top['clv'].sum() / clv_seg['clv'].sum()\nanswer",
        "# TODO: top 20 % of customers by clv → their clv ÷ all clv\nanswer = None\nanswer",
    ),
    md("## CLV by segment"),
    code("clv.clv_by(customer_clv, scored[['customer_id', 'segment']], 'segment').round(1)"),
    md(
        "## Discuss\n\n"
        "1. Some customers with high past revenue have low expected CLV. Which segment are they "
        "in, and why does the model think so?\n"
        "2. What would you spend to keep a Champion? Relate it to the CLV you found.\n"
        "3. The model assumes customers leave silently and for good. Where does that fit a "
        "grocery retailer, and where does it not?"
    ),
]


def checks() -> Module:
    """The module's self-checks: ``check.module3.exerciseN(answer)``."""

    def mean_champions(col: str, how: str = "mean") -> float:
        c = _clv()
        v = c.loc[c["segment"] == "Champions", col]
        return float(v.sum() if how == "sum" else v.mean())

    return Module(
        TITLE,
        [
            Exercise(
                "module3.exercise1",
                "The average expected CLV of a Champion (customer_clv's clv column).",
                lambda: mean_champions("clv"),
                [
                    (
                        lambda: mean_champions("clv", "sum"),
                        "That is the CLV of all Champions together; the question is the average "
                        "per customer (mean).",
                    ),
                    (
                        lambda: mean_champions("monetary"),
                        "That is past net revenue (monetary). CLV is the expected future margin "
                        "from the BG/NBD + Gamma-Gamma fit: use the clv column.",
                    ),
                ],
                "Join customer_clv with the segments on customer_id, then the mean clv of the "
                "Champions.",
                rtol=1e-3,
            ),
            Exercise(
                "module3.exercise2",
                "Which share of all expected CLV do the top 20 % of customers (by CLV) hold?",
                lambda: _top20_share("clv"),
                [
                    (
                        lambda: _top20_share("monetary"),
                        "You ranked customers by past revenue (monetary). Rank them by expected "
                        "CLV: the best customers of the past are not all the best of the future.",
                    ),
                ],
                "Take the round(20 %) of customers with the highest clv; their clv sum ÷ all clv.",
                kind="share",
                rtol=1e-3,
            ),
        ],
    )
