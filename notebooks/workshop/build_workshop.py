"""Build the workshop's exercise and solution notebooks from one source.

Every task is written once with its solution; the exercise notebook gets the
same cell with the solution replaced by ``answer = None  # TODO …``.  Run
``.venv/bin/python notebooks/workshop/build_workshop.py`` after editing and
commit the notebooks it writes (they carry no outputs).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat

HERE = Path(__file__).parent

SETUP = """\
import dataclasses

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from loyalty_roi import (
    clv,
    engine,
    incrementality,
    kpis,
    lift_checks,
    narrative,
    points,
    roi,
    segments,
    widgets,
    workshop,
)
from loyalty_roi.workshop import check, load

ws = load()  # the workshop program: tables, a query engine and the analysis month
print(f"Analysis month {ws.month}; tables: {', '.join(ws.tables)}")"""

HOW = (
    "**How this works.** Read each section, run the cells from the top (Shift+Enter). "
    "Where a cell says `# TODO`, replace `None` with your own code, run it, and run the "
    "check below it: ✓ means right; *not yet* comes with a hint. Checks compute the right "
    "answer from the library on the same data, so you can't break anything — try again "
    "as often as you like."
)


def md(text: str) -> tuple:
    return ("md", text)


def code(src: str) -> tuple:
    return ("code", src)


def ex(name: str, solution: str, todo: str) -> tuple:
    """A task: ``solution`` must assign ``answer``; ``todo`` is what participants start from."""
    return ("ex", name, solution, todo)


MODULES: dict[int, dict] = {}

MODULES[1] = {
    "slug": "raw_to_kpis",
    "title": "Module 1 · From raw transactions to loyalty KPIs",
    "minutes": 40,
    "goals": [
        "read a receipts table the way the KPI definitions do: orders vs returns, identified vs anonymous",
        "compute average order value, purchase frequency, repeat purchase rate and retention with pandas",
        "know why each KPI counts *customers* or *orders*, and over which window",
    ],
    "cells": [
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
            "in_month = (tx['ts'] >= ws.month_start) & (tx['ts'] < ws.month_end)\n"
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
            "start_12 = ws.month_end - pd.DateOffset(months=12)\n"
            "window_tx = tx[(tx['ts'] >= start_12) & (tx['ts'] < ws.month_end) & tx['customer_id'].notna()]\n"
            "print(f'{start_12:%Y-%m-%d} … {ws.month_end - pd.Timedelta(days=1):%Y-%m-%d}: {len(window_tx):,} receipts')"
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
            "current = buyers(ws.month_end - pd.DateOffset(months=3), ws.month_end)\n"
            "previous = buyers(ws.month_end - pd.DateOffset(months=6), ws.month_end - pd.DateOffset(months=3))\n"
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
    ],
}

MODULES[2] = {
    "slug": "rfm_segments_tiers",
    "title": "Module 2 · Knowing your customers: RFM segments and tiers",
    "minutes": 30,
    "goals": [
        "build recency, frequency and monetary value per customer",
        "turn them into named segments and read what each segment is worth",
        "see how tiers are distributed and how members move between them",
    ],
    "cells": [
        md(
            "## Exercise 1 — The RFM table\n\n"
            "Per identified customer, up to the end of the analysis month: **frequency** = number "
            "of orders (no returns), **monetary** = net revenue (sum of `net_amount` over all rows, "
            "so returns are deducted). Return a DataFrame with the columns `customer_id`, "
            "`frequency`, `monetary` and one row per customer who ordered at least once."
        ),
        code(
            "tx = ws.transactions\n"
            "known = tx[tx['customer_id'].notna() & (tx['ts'] < ws.month_end)]"
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
    ],
}

MODULES[3] = {
    "slug": "customer_lifetime_value",
    "title": "Module 3 · Customer lifetime value",
    "minutes": 30,
    "goals": [
        "fit BG/NBD (how often, and whether still active) and Gamma-Gamma (how much) with the library",
        "read expected CLV per customer and per segment",
        "see how concentrated future value is, and how it differs from past revenue",
    ],
    "cells": [
        md(
            "## Fit the models\n\n"
            "`clv.clv_for_month` fits BG/NBD + Gamma-Gamma on the daily purchases up to the analysis "
            "month and returns the expected gross-margin CLV per customer over the configured "
            "horizon (24 months, discounted). It takes about half a minute."
        ),
        code(
            "fit, customer_clv = clv.clv_for_month(\n"
            "    engine.daily_purchases(ws.engine, end=ws.month), engine.month_end(ws.month), ws.cfg.finance\n"
            ")\n"
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
    ],
}

MODULES[4] = {
    "slug": "self_selection",
    "title": "Module 4 · Why “members spend 12–18 % more” is not the program's effect",
    "minutes": 40,
    "goals": [
        "see how self-selection inflates the naive member vs non-member comparison",
        "estimate the program's effect with matched difference-in-differences",
        "read a campaign holdout test, the cleanest evidence there is",
        "see why sign-up at the till fools a careless comparison, and run a placebo check",
    ],
    "cells": [
        md(
            "## The panel\n\n"
            "One row per customer and month (`mi` is a month index): revenue, orders, and whether "
            "the customer was a member that month."
        ),
        code(
            "panel = engine.customer_month_panel(ws.engine, end=ws.month)\n"
            "last12 = panel[panel['mi'] > panel['mi'].max() - 12]\n"
            "last12[['customer_id', 'month', 'revenue', 'orders', 'is_member']].head()"
        ),
        md(
            "## Exercise 1 — The naive lift\n\n"
            "Using `last12`: mean revenue per **member-month** ÷ mean revenue per **non-member-month** "
            "− 1. Keep months without purchases (revenue 0)."
        ),
        ex(
            "module4.exercise1",
            "member = last12['is_member']\n"
            "answer = last12.loc[member, 'revenue'].mean() / last12.loc[~member, 'revenue'].mean() - 1\nanswer",
            "# TODO: members' mean monthly revenue ÷ non-members' − 1\nanswer = None\nanswer",
        ),
        md(
            "That number is what a dashboard reports. But the customers who join are the ones who "
            "already bought more — they **select themselves** into the program. The matched "
            "difference-in-differences compares each new member with non-members who looked the "
            "same *before* (same spending history, same marketing consent), and asks how much more "
            "the member's revenue grew *after* joining."
        ),
        md(
            "## Exercise 2 — The corrected lift\n\n"
            "Run `incrementality.matched_did(panel, exact=workshop.consent(), "
            "min_treated=workshop.MIN_TREATED)` and give its `lift` (the workshop program is "
            "small, so cohorts of 10 new members are accepted)."
        ),
        ex(
            "module4.exercise2",
            "did = incrementality.matched_did(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)\n"
            "answer = did.lift\nanswer",
            "# TODO: did = incrementality.matched_did(...); answer = the corrected lift\n"
            "answer = None\nanswer",
        ),
        code(
            "did = incrementality.matched_did(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)\n"
            "display(Markdown(narrative.lift_paragraph(incrementality.naive_lift(panel), did)))\n"
            "did.event_study.round(3)"
        ),
        md(
            "## Why sign-up at the till fools a careless comparison\n\n"
            "Real members join **while buying** — at the till or at checkout. So on the day they "
            "join they are, by construction, alive and shopping. Customers who *never* joined "
            "include many who quietly stopped buying. Compare members' revenue after joining with "
            "never-joiners and the program gets credit for the difference between the living and "
            "the lapsed — even if it does nothing. A plain *before vs after* of members has the "
            "same flaw: they were picked at a moment of buying.\n\n"
            "Below: a program with **zero** effect whose members join at the till, read two ways. "
            "The risk-set design compares each new member only with customers who *also bought "
            "that month* and had not joined yet."
        ),
        code("workshop.till_demo().round(3)"),
        md(
            "## Exercise 4 — The placebo\n\n"
            "A check that can say *no*: move every enrollment 3 months **earlier** and run the "
            "same design. Nobody was a member yet, so the \"lift\" must be about zero; if it is "
            "not, the design is picking up who joins, not what the program does. Run "
            "`lift_checks.placebo(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)` and give its `lift`."
        ),
        ex(
            "module4.exercise4",
            "plac = lift_checks.placebo(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)\n"
            "answer = plac.lift\nanswer",
            "# TODO: plac = lift_checks.placebo(...); answer = the placebo lift\n"
            "answer = None\nanswer",
        ),
        md(
            "## Exercise 3 — A campaign holdout\n\n"
            "Some campaigns kept a random **holdout** group that was not contacted. Because the "
            "split was random, the holdout shows what the contacted customers would have done "
            "anyway. For the campaign named below: mean revenue of contacted customers ÷ mean "
            "revenue of holdout customers − 1, in the campaign window."
        ),
        code(
            "campaign_id = workshop.campaign_for_exercise()\n"
            "activity = engine.campaign_window_activity(ws.engine)\n"
            "one = activity[activity['campaign_id'] == campaign_id]\n"
            "print(campaign_id, one['is_holdout'].value_counts().to_dict())\n"
            "one.head()"
        ),
        ex(
            "module4.exercise3",
            "contacted, holdout = one[~one['is_holdout']], one[one['is_holdout']]\n"
            "answer = contacted['revenue'].mean() / holdout['revenue'].mean() - 1\nanswer",
            "# TODO: contacted customers' mean revenue ÷ holdout customers' − 1\n"
            "answer = None\nanswer",
        ),
        code(
            "incrementality.campaign_lifts(activity, ws.campaigns)[\n"
            "    ['campaign_id', 'type', 'contacts', 'holdouts', 'lift', 'lift_lo', 'lift_hi']].round(3)"
        ),
        md(
            "## Discuss\n\n"
            "1. The naive lift is several times the corrected one. Which customers make the "
            "difference?\n"
            "2. What would have to be true for the matched DiD to be wrong? (Hint: what changes for "
            "a customer at the moment they join, apart from the program?)\n"
            "3. The holdout lift of one campaign comes with a wide interval. How many holdout "
            "customers would you need to see a 5 % lift?"
        ),
    ],
}

MODULES[5] = {
    "slug": "points_economics",
    "title": "Module 5 · Points economics: redemption, breakage, liability",
    "minutes": 30,
    "goals": [
        "roll the points balance forward from the ledger",
        "tell redemption, breakage and outstanding points apart",
        "value the points liability the way finance books it",
    ],
    "cells": [
        md(
            "## The ledger\n\n"
            "`ws.points_ledger` has one row per points event: `earn` (positive), `redeem` and "
            "`expire` (negative), `adjust` (either sign)."
        ),
        code(
            "ledger = ws.points_ledger\n"
            "upto = ledger[ledger['date'] < ws.month_end]\n"
            "upto.groupby('type')['points'].agg(['count', 'sum'])"
        ),
        md(
            "## Exercise 1 — Outstanding points\n\n"
            "How many points are outstanding (earned, not yet redeemed or expired) at the end of "
            "the analysis month? Use `upto`."
        ),
        ex(
            "module5.exercise1",
            "answer = upto['points'].sum()\nanswer",
            "# TODO: the balance at the end of the month\nanswer = None\nanswer",
        ),
        md(
            "## Exercise 2 — Breakage\n\n"
            "Over the **12 months ending with the analysis month**: points expired ÷ points issued "
            "(earned)."
        ),
        ex(
            "module5.exercise2",
            "last12 = ledger[(ledger['date'] >= ws.month_end - pd.DateOffset(months=12)) & (ledger['date'] < ws.month_end)]\n"
            "by_type = last12.groupby('type')['points'].sum()\n"
            "answer = -by_type['expire'] / by_type['earn']\nanswer",
            "# TODO: expired ÷ earned in the last 12 months (mind the signs)\nanswer = None\nanswer",
        ),
        md(
            "## Exercise 3 — The liability\n\n"
            "Not every outstanding point will be redeemed. The library estimates, from how earlier "
            "cohorts of points were redeemed, the share of today's outstanding points that will "
            "be (`expected_redemption_of_outstanding`). Liability = outstanding points × cost per "
            "point × that share."
        ),
        code(
            "ultimate = points.ultimate_redemption(points.redemption_by_cohort(upto), expiry_months=12)\n"
            "liab = points.liability(upto, ultimate, ws.cfg.finance.cost_per_point)\n"
            "share = liab['expected_redemption_of_outstanding']\n"
            "print(f'cost per point {ws.cfg.finance.cost_per_point}, expected redemption of outstanding {share:.1%}')"
        ),
        ex(
            "module5.exercise3",
            "answer = upto['points'].sum() * ws.cfg.finance.cost_per_point * share\nanswer",
            "# TODO: outstanding × cost per point × expected redemption share\nanswer = None\nanswer",
        ),
        code(
            "display(Markdown(points.liability_sentence(liab, ws.cfg.currency)))\n"
            "points.roll_forward(upto, ws.cfg.finance.cost_per_point, points.expected_redemption_rate(ultimate)).tail(6)"
        ),
        md(
            "## Discuss\n\n"
            "1. Breakage lowers the cost of the program. Why is a program that *relies* on breakage "
            "a weak program?\n"
            "2. Finance books the liability at the expected redemption, not at face value. What "
            "happens to it if you shorten the expiry from 12 to 6 months?\n"
            "3. Which signal tells you early that members stop caring about the points?"
        ),
    ],
}

MODULES[6] = {
    "slug": "roi_case",
    "title": "Module 6 · Building the ROI case",
    "minutes": 40,
    "goals": [
        "build the program P&L from the corrected lift, the margin and the costs",
        "compute ROI and the break-even lift; run scenarios and sensitivity",
        "use the what-if explorer, and answer the +5 pp retention question",
    ],
    "cells": [
        md(
            "## The P&L\n\n"
            "`workshop.roi_case()` collects what the P&L needs for the last 12 months, as notebook "
            "04 does: member revenue, points issued, running costs, and the drivers (corrected lift "
            "from module 4, gross margin, cost per point, expected redemption rate from module 5)."
        ),
        code(
            "data, drivers = workshop.roi_case()\n"
            "print(drivers)\n"
            "pnl = roi.monthly_pnl(data, drivers)\n"
            "pnl[['member_revenue', 'incremental_revenue', 'incremental_margin', 'program_cost', 'net']].round(0)"
        ),
        md(
            "## Exercise 1 — ROI\n\n"
            "ROI = (incremental margin − program cost) ÷ program cost, summed over the 12 months of "
            "`pnl`."
        ),
        ex(
            "module6.exercise1",
            "margin, cost = pnl['incremental_margin'].sum(), pnl['program_cost'].sum()\n"
            "answer = (margin - cost) / cost\nanswer",
            "# TODO: (incremental margin − program cost) ÷ program cost\nanswer = None\nanswer",
        ),
        md(
            "## Exercise 2 — Break-even lift\n\n"
            "At which lift would the program exactly pay for itself (ROI = 0)? Try lifts with "
            "`dataclasses.replace(drivers, lift=x)` and `roi.summary(data, d, rate)['roi']`; bisection "
            "converges in a few dozen steps."
        ),
        ex(
            "module6.exercise2",
            "def roi_at(lift):\n"
            "    d = dataclasses.replace(drivers, lift=lift)\n"
            "    return roi.summary(data, d, ws.cfg.finance.discount_rate)['roi']\n\n"
            "lo, hi = 0.0, 5.0\n"
            "for _ in range(60):\n"
            "    mid = (lo + hi) / 2\n"
            "    lo, hi = (mid, hi) if roi_at(mid) < 0 else (lo, mid)\n"
            "answer = (lo + hi) / 2\nanswer",
            "# TODO: the lift at which ROI = 0\nanswer = None\nanswer",
        ),
        md("## Scenarios and sensitivity"),
        code(
            "rate = ws.cfg.finance.discount_rate\n"
            "rows = []\n"
            "for name, lift in [('half the lift', drivers.lift / 2), ('estimate', drivers.lift), ('1.5 × lift', drivers.lift * 1.5)]:\n"
            "    s = roi.summary(data, dataclasses.replace(drivers, lift=lift), rate)\n"
            "    rows.append({'scenario': name, 'lift': lift, 'roi': s['roi'], 'net': s['net']})\n"
            "pd.DataFrame(rows).round(3)"
        ),
        md(
            "## The what-if explorer\n\n"
            "In JupyterLab, the explorer below moves every driver with a slider and redraws the "
            "P&L (it needs a live kernel; in a headless run it is skipped)."
        ),
        code(
            "try:\n"
            "    display(widgets.explorer(data, drivers, rate, ws.cfg.currency))\n"
            "except Exception as exc:  # no widget front end (e.g. a headless run)\n"
            "    print(f'explorer not shown: {exc}')"
        ),
        md(
            "## Exercise 3 — What is +5 pp retention worth?\n\n"
            "The sources quote “+5 % retention → +25–95 % profit”. With the annual retention `r` and "
            "margin per retained customer `m` of this program and the discount rate `d`, a "
            "customer is worth `m × r ÷ (1 + d − r)`. By how much (relative change) does that value "
            "grow when retention rises by **5 percentage points**?"
        ),
        code(
            "r, m = roi.annual_retention_and_margin(panel := engine.customer_month_panel(ws.engine, end=ws.month),\n"
            "                                       ws.cfg.finance.gross_margin)\n"
            "d = ws.cfg.finance.discount_rate\n"
            "print(f'annual retention {r:.1%}, margin per retained customer {m:,.0f}, discount rate {d:.0%}')"
        ),
        ex(
            "module6.exercise3",
            "def value(ret):\n    return m * ret / (1 + d - ret)\n\n"
            "answer = value(r + 0.05) / value(r) - 1\nanswer",
            "# TODO: value(r + 0.05) ÷ value(r) − 1\nanswer = None\nanswer",
        ),
        md(
            "## Discuss\n\n"
            "1. The program's ROI depends most on which driver? Look at the scenarios and at the "
            "explorer's tornado.\n"
            "2. Is +5 pp retention realistic for this program, given the corrected lift you found?\n"
            "3. Write the one-sentence verdict you would give the CFO — and the one number that "
            "would change it."
        ),
    ],
}


def _id(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:8]


def build(n: int, solution: bool) -> nbformat.NotebookNode:
    m = MODULES[n]
    kind = "solution" if solution else "exercise"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "loyalty-roi",
        "display_name": "Python (loyalty-roi)",
        "language": "python",
    }
    head = (
        f"# {m['title']}{' — solution' if solution else ''}\n\n"
        f"*About {m['minutes']} minutes.* After this module you can:\n\n"
        + "\n".join(f"- {g}" for g in m["goals"])
        + "\n\n"
        + HOW
    )
    cells = [nbformat.v4.new_markdown_cell(head), nbformat.v4.new_code_cell(SETUP)]
    for c in m["cells"]:
        if c[0] == "md":
            cells.append(nbformat.v4.new_markdown_cell(c[1]))
        elif c[0] == "code":
            cells.append(nbformat.v4.new_code_cell(c[1]))
        else:
            _, name, sol, todo = c
            cells.append(nbformat.v4.new_code_cell(sol if solution else todo))
            cells.append(nbformat.v4.new_code_cell(f"check.{name}(answer)"))
    for i, cell in enumerate(cells):
        cell["id"] = _id(str(n), kind, str(i))
    nb.cells = cells
    return nb


def path(n: int, solution: bool) -> Path:
    m = MODULES[n]
    return HERE / f"{n:02d}_{m['slug']}_{'solution' if solution else 'exercise'}.ipynb"


def main() -> None:
    for n in MODULES:
        for solution in (False, True):
            nbformat.write(build(n, solution), path(n, solution))
            print("wrote", path(n, solution).relative_to(HERE.parents[1]))


if __name__ == "__main__":
    main()
