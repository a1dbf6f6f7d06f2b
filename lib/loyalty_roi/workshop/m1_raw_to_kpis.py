"""Workshop module 1: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module1``.
"""

from __future__ import annotations

from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _kpi, _repeat_rate, _retention, _tx_month, _tx_window, load

SLUG = "raw_to_kpis"
TITLE = "Module 1 · From raw transactions to loyalty KPIs"
MINUTES = 40
GOALS = [
    "read a receipts table the way the KPI definitions do: orders vs returns, identified vs anonymous",
    "compute average order value, purchase frequency, repeat purchase rate and retention with pandas",
    "know why each KPI counts *customers* or *orders*, and over which window",
]

CELLS = [
    md(
        "## The data\n\n"
        "`ws.transactions` has one row per receipt. A **return is its own row** with "
        "`is_return == True` and a negative `net_amount`. Receipts without a `customer_id` are "
        "anonymous sales (no loyalty card shown). `net_amount` is after discounts; "
        "`gross_amount` before. `ws.month` is the analysis month — the latest complete month "
        "in the data."
    ),
    code(
        "tx = ws.transactions\n"
        "in_month = (tx['ts'] >= ws.month_start) & (tx['ts'] < ws.next_month)\n"
        "month_tx = tx[in_month]\n"
        "print(f'{len(month_tx):,} receipts in {ws.month}, of which {month_tx.is_return.sum():,} returns '\n"
        "      f'and {month_tx.customer_id.isna().sum():,} anonymous')\n"
        "month_tx.head()"
    ),
    md(
        "## Exercise 1 — Average order value (AOV)\n\n"
        "**AOV = net revenue ÷ orders** in the month. Net revenue is the sum of `net_amount` "
        "over *all* receipts (returns deducted, anonymous sales included); orders are the "
        "receipts that are not returns. Use `month_tx`."
    ),
    ex(
        "module1.exercise1",
        "answer = month_tx['net_amount'].sum() / (~month_tx['is_return']).sum()\nanswer",
        "# TODO: net revenue of the month ÷ number of orders (receipts that are not returns)\n"
        "answer = None\nanswer",
    ),
    md(
        "## Exercise 2 — Purchase frequency\n\n"
        "**Orders of identified customers ÷ identified customers with at least one order**, in "
        "the month. Anonymous receipts can't be attributed to anyone, so they are left out here."
    ),
    ex(
        "module1.exercise2",
        "orders = month_tx[month_tx['customer_id'].notna() & ~month_tx['is_return']]\n"
        "answer = len(orders) / orders['customer_id'].nunique()\nanswer",
        "# TODO: orders of identified customers ÷ number of distinct customers who ordered\n"
        "answer = None\nanswer",
    ),
    md(
        "## Exercise 3 — Repeat purchase rate\n\n"
        "Of the customers who bought in the **12 months ending with the analysis month**, "
        "which share bought at least twice? Count orders (no returns) per identified customer. "
        "`window_tx` below holds those 12 months."
    ),
    code(
        "start_12 = ws.next_month - pd.DateOffset(months=12)\n"
        "window_tx = tx[(tx['ts'] >= start_12) & (tx['ts'] < ws.next_month) & tx['customer_id'].notna()]\n"
        "print(f'{start_12:%Y-%m-%d} … {ws.next_month - pd.Timedelta(days=1):%Y-%m-%d}: {len(window_tx):,} receipts')"
    ),
    ex(
        "module1.exercise3",
        "orders_per_customer = window_tx[~window_tx['is_return']].groupby('customer_id').size()\n"
        "answer = (orders_per_customer >= 2).sum() / (orders_per_customer >= 1).sum()\nanswer",
        "# TODO: orders per customer (returns dropped) → share of customers with ≥ 2 orders\n"
        "answer = None\nanswer",
    ),
    md(
        "## Exercise 4 — Retention rate\n\n"
        "Retention compares two windows of 3 months: the **previous** window (months −5…−3) and "
        "the **current** one (the last 3 months, ending with the analysis month). Retention = "
        "customers with an order in both windows ÷ customers with an order in the previous "
        "window. Churn is 1 − retention."
    ),
    ex(
        "module1.exercise4",
        "def buyers(first, last):\n"
        "    w = tx[(tx['ts'] >= first) & (tx['ts'] < last) & ~tx['is_return']]\n"
        "    return set(w['customer_id'].dropna())\n\n"
        "current = buyers(ws.next_month - pd.DateOffset(months=3), ws.next_month)\n"
        "previous = buyers(ws.next_month - pd.DateOffset(months=6), ws.next_month - pd.DateOffset(months=3))\n"
        "answer = len(current & previous) / len(previous)\nanswer",
        "# TODO: the sets of customers with an order in the previous and in the current window,\n"
        "#       then |both| ÷ |previous|\n"
        "answer = None\nanswer",
    ),
    md(
        "## Compare with the library\n\n"
        "The workbook computes every KPI of its catalogue for every month "
        "(`loyalty_roi.kpis`). Your four numbers are in this table for the analysis month — "
        "the same definitions, computed by the engine."
    ),
    code(
        "values = kpis.monthly_kpis(kpis.gather_inputs(ws.engine))\n"
        "values.loc[ws.month_start, ['average_order_value', 'purchase_frequency', "
        "'repeat_purchase_rate', 'retention_rate']]"
    ),
    md(
        "## Discuss\n\n"
        "1. The repeat purchase rate counts customers, not orders. What would a rate based on "
        "orders reward that the business doesn't care about?\n"
        "2. Retention uses 3-month windows. What happens to the number with 1-month windows in a "
        "business where people buy every 6 weeks?\n"
        "3. Why does AOV include anonymous receipts but purchase frequency not?"
    ),
]


def checks() -> Module:
    """The module's self-checks: ``check.module1.exerciseN(answer)``."""

    def tx():
        return _tx_month(load())

    def ident():
        t = tx()
        return t[t["customer_id"].notna()]

    return Module(
        TITLE,
        [
            Exercise(
                "module1.exercise1",
                "Average order value of the analysis month: net revenue ÷ orders.",
                lambda: _kpi("average_order_value"),
                [
                    (
                        lambda: tx().loc[~tx()["is_return"], "net_amount"].mean(),
                        "Returns are separate rows with negative amounts, and net revenue deducts "
                        "them: sum net_amount over all rows (returns included), then divide by the "
                        "number of orders.",
                    ),
                    (
                        lambda: tx()["net_amount"].sum() / len(tx()),
                        "A return is not an order: divide by the receipts where is_return is False.",
                    ),
                    (
                        lambda: (
                            tx()["net_amount"].sum()
                            / tx().loc[~tx()["is_return"], "customer_id"].nunique()
                        ),
                        "You divided by customers: that is spend per customer. AOV divides by "
                        "orders (receipts that are not returns).",
                    ),
                ],
                "AOV = sum of net_amount of all receipts in the month (returns deducted) ÷ "
                "number of receipts that are not returns; anonymous receipts count too.",
            ),
            Exercise(
                "module1.exercise2",
                "Purchase frequency of the analysis month: orders per active customer.",
                lambda: _kpi("purchase_frequency"),
                [
                    (
                        lambda: (
                            (~tx()["is_return"]).sum()
                            / ident().loc[~ident()["is_return"], "customer_id"].nunique()
                        ),
                        "Anonymous receipts (no customer_id) cannot be attributed to a customer: "
                        "count only the orders of identified customers.",
                    ),
                    (
                        lambda: len(ident()) / ident()["customer_id"].nunique(),
                        "Counting orders, leave out the returns (is_return == True) — in the "
                        "numerator and when deciding who was active.",
                    ),
                ],
                "Frequency = orders of identified customers ÷ identified customers with at "
                "least one order, both in the analysis month.",
            ),
            Exercise(
                "module1.exercise3",
                "Repeat purchase rate over the 12 months ending with the analysis month.",
                lambda: _kpi("repeat_purchase_rate"),
                [
                    (
                        lambda: (lambda n: float(n[n >= 2].sum() / n.sum()))(
                            _tx_window(load(), 12).query("~is_return").groupby("customer_id").size()
                        ),
                        "You counted orders, not customers: the rate is the share of customers "
                        "(with at least one order) who ordered at least twice.",
                    ),
                    (
                        lambda: _repeat_rate(_tx_window(load(), 12), count_returns=True),
                        "A return is not a purchase: drop rows with is_return before counting "
                        "orders per customer.",
                    ),
                    (
                        lambda: _repeat_rate(_tx_window(load(), 1)),
                        "The repeat purchase rate looks at the 12 months ending with the analysis "
                        "month, not at the month alone.",
                    ),
                ],
                "Count orders (no returns) per identified customer over the 12 months; the rate "
                "is customers with ≥ 2 orders ÷ customers with ≥ 1 order.",
                kind="share",
            ),
            Exercise(
                "module1.exercise4",
                "Retention rate: customers active in the previous 3 months who are active again "
                "in the last 3 months.",
                lambda: _kpi("retention_rate"),
                [
                    (
                        lambda: _retention(
                            load(), load().cfg.analysis.retention_window, denominator="current"
                        ),
                        "Retention asks how many of the customers you had are still there: divide "
                        "by the customers active in the previous window, not the current one.",
                    ),
                    (
                        lambda: _retention(load(), 1),
                        "Use windows of 3 months (the previous 3 and the last 3 months), not single "
                        "months: a monthly buyer pattern is too noisy.",
                    ),
                ],
                "Previous window = the 3 months before the last 3; retention = customers with "
                "an order in both windows ÷ customers with an order in the previous window.",
                kind="share",
            ),
        ],
    )
