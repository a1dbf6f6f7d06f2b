"""Workshop module 6: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module6``.
"""

from __future__ import annotations

from .. import roi
from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _retention_change, _roi, load, roi_case

SLUG = "roi_case"
TITLE = "Module 6 · Building the ROI case"
MINUTES = 40
GOALS = [
    "build the program P&L from the corrected lift, the margin and the costs",
    "compute ROI and the break-even lift; run scenarios and sensitivity",
    "use the what-if explorer, and answer the +5 pp retention question",
]

CELLS = [
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
]


def checks() -> Module:
    """The module's self-checks: ``check.module6.exerciseN(answer)``."""
    return Module(
        TITLE,
        [
            Exercise(
                "module6.exercise1",
                "ROI of the last 12 months: (incremental margin − program cost) ÷ program cost.",
                lambda: roi.summary(*roi_case(), load().cfg.finance.discount_rate)["roi"],
                [
                    (
                        lambda: _roi("incremental_revenue"),
                        "Revenue is not profit: use the incremental margin (incremental revenue × "
                        "gross margin).",
                    ),
                    (
                        lambda: _roi("member_revenue"),
                        "Most member revenue would have happened without the program: only the "
                        "incremental margin is the program's return.",
                    ),
                ],
                "From roi.monthly_pnl: (sum of incremental_margin − sum of program_cost) ÷ sum of "
                "program_cost.",
                kind="share",
            ),
            Exercise(
                "module6.exercise2",
                "The break-even lift: the lift at which the ROI is exactly 0.",
                lambda: roi.break_even_lift(*roi_case()),
                [
                    (
                        lambda: roi_case()[1].lift,
                        "That is the estimated lift. Find the lift at which incremental margin "
                        "just covers the program cost (ROI = 0).",
                    ),
                ],
                "Try lifts with dataclasses.replace(drivers, lift=x) until roi.summary(...)['roi'] "
                "is 0 — or use roi.break_even_lift and explain its formula.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module6.exercise3",
                "+5 percentage points of annual retention: by how much does the value of a "
                "customer, m × r ÷ (1 + d − r), change (relative change)?",
                lambda: _retention_change("right"),
                [
                    (
                        lambda: _retention_change("relative"),
                        "+5 percentage points means r + 0.05, not r × 1.05 (+5 percent).",
                    ),
                    (
                        lambda: _retention_change("undiscounted"),
                        "Keep the discount rate d in the formula: m × r ÷ (1 + d − r).",
                    ),
                ],
                "r, m = roi.annual_retention_and_margin(panel, gross_margin); value(r) = m × r ÷ "
                "(1 + d − r); answer value(r + 0.05) ÷ value(r) − 1.",
                kind="share",
            ),
        ],
    )
