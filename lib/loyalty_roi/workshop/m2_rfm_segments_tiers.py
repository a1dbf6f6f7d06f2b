"""Workshop module 2: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module2``.
"""

from __future__ import annotations

import pandas as pd

from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _rfm, load

SLUG = "rfm_segments_tiers"
TITLE = "Module 2 · Knowing your customers: RFM segments and tiers"
MINUTES = 30
GOALS = [
    "build recency, frequency and monetary value per customer",
    "turn them into named segments and read what each segment is worth",
    "see how tiers are distributed and how members move between them",
]

CELLS = [
    md(
        "## Exercise 1 — The RFM table\n\n"
        "Per identified customer, up to the end of the analysis month: **frequency** = number "
        "of orders (no returns), **monetary** = net revenue (sum of `net_amount` over all rows, "
        "so returns are deducted). Return a DataFrame with the columns `customer_id`, "
        "`frequency`, `monetary` and one row per customer who ordered at least once."
    ),
    code(
        "tx = ws.transactions\nknown = tx[tx['customer_id'].notna() & (tx['ts'] < ws.next_month)]"
    ),
    ex(
        "module2.exercise1",
        "frequency = known[~known['is_return']].groupby('customer_id').size().rename('frequency')\n"
        "monetary = known.groupby('customer_id')['net_amount'].sum().rename('monetary')\n"
        "answer = pd.concat([frequency, monetary], axis=1, join='inner').reset_index()\n"
        "answer.head()",
        "# TODO: frequency (orders, no returns) and monetary (net, returns deducted) per customer\n"
        "answer = None\nanswer",
    ),
    md(
        "## From RFM to named segments\n\n"
        "The library scores R, F and M from 1 to 5 by quintiles and names segments by rules "
        "(Champions, Loyal, At risk, Can't lose, …). This is the analyst's tool — no need to "
        "rewrite it:"
    ),
    code(
        "scored = segments.rfm_scores(engine.rfm_summary(ws.engine, as_of=ws.month))\n"
        "display(segments.segment_rules_table())\n"
        "scored['segment'].value_counts()"
    ),
    md(
        "## Exercise 2 — What are the Champions worth?\n\n"
        "Which **share of net revenue** (the `monetary` column of `scored`) comes from the "
        "Champions segment?"
    ),
    ex(
        "module2.exercise2",
        "is_champion = scored['segment'] == 'Champions'\n"
        "answer = scored.loc[is_champion, 'monetary'].sum() / scored['monetary'].sum()\nanswer",
        "# TODO: Champions' monetary ÷ everyone's monetary\nanswer = None\nanswer",
    ),
    md("## Tiers\n\nMembers per tier over time, and who moved up or down last month."),
    code(
        "panel = engine.customer_month_panel(ws.engine, end=ws.month)\n"
        "display(segments.tier_distribution(panel).tail(3))\n"
        "migration, moves = segments.tier_migration(panel, ws.month)\n"
        "display(Markdown(segments.migration_sentence(moves, ws.month)))\n"
        "migration"
    ),
    md(
        "## Discuss\n\n"
        "1. Champions are a fifth of the customers or less but carry a large share of revenue. "
        "What does that mean for a program that gives everyone the same reward rate?\n"
        "2. *At risk* and *Can't lose* customers used to buy often. Which would you contact "
        "first, and with what?\n"
        "3. The segments are relative (quintiles). What happens to the Champions when every "
        "customer buys more?"
    ),
]


def checks() -> Module:
    """The module's self-checks: ``check.module2.exerciseN(answer)``."""

    def rfm_expected():
        return _rfm()[["customer_id", "frequency", "monetary"]]

    def sales():
        t = load().transactions
        return t[t["customer_id"].notna() & (t["ts"] < load().next_month)]

    def rfm_with_returns_as_orders():
        s = sales()
        f = s.groupby("customer_id").size().rename("frequency")
        m = s.groupby("customer_id")["net_amount"].sum().rename("monetary")
        return pd.concat([f, m], axis=1).loc[rfm_expected()["customer_id"]].reset_index()

    def rfm_without_returns():
        s = sales()
        s = s[~s["is_return"]]
        f = s.groupby("customer_id").size().rename("frequency")
        m = s.groupby("customer_id")["net_amount"].sum().rename("monetary")
        return pd.concat([f, m], axis=1).reset_index()

    def champions(col: str) -> float:
        r = _rfm()
        champ = r["segment"] == "Champions"
        if col == "customers":
            return float(champ.mean())
        return float(r.loc[champ, "monetary"].sum() / r["monetary"].sum())

    return Module(
        TITLE,
        [
            Exercise(
                "module2.exercise1",
                "A table with one row per customer: customer_id, frequency (orders) and monetary "
                "(net revenue, returns deducted) up to the end of the analysis month.",
                rfm_expected,
                [
                    (
                        rfm_with_returns_as_orders,
                        "frequency counts orders: leave returns out when counting (but keep them "
                        "in monetary, which is net of returns).",
                    ),
                    (
                        rfm_without_returns,
                        "monetary is net revenue: returns (negative amounts) must be deducted, so "
                        "sum net_amount over all of a customer's rows.",
                    ),
                ],
                "Group the identified customers' transactions by customer_id: frequency = rows "
                "that are not returns, monetary = sum of net_amount over all rows.",
                kind="frame",
                columns=("frequency", "monetary"),
            ),
            Exercise(
                "module2.exercise2",
                "Which share of net revenue comes from the Champions segment?",
                lambda: champions("revenue"),
                [
                    (
                        lambda: champions("customers"),
                        "That is the Champions' share of customers; the question is their share of "
                        "net revenue (sum of monetary).",
                    ),
                ],
                "Score with segments.rfm_scores, then Champions' monetary ÷ everyone's monetary.",
                kind="share",
            ),
        ],
    )
