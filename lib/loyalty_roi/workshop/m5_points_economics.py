"""Workshop module 5: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module5``.
"""

from __future__ import annotations

from .. import points
from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _earned_window, _kpi, _ledger_sum, _ledger_window, _outstanding, _ultimate, load

SLUG = "points_economics"
TITLE = "Module 5 · Points economics: redemption, breakage, liability"
MINUTES = 30
GOALS = [
    "roll the points balance forward from the ledger",
    "tell redemption, breakage and outstanding points apart",
    "value the points liability the way finance books it",
]

CELLS = [
    md(
        "## The ledger\n\n"
        "`ws.points_ledger` has one row per points event: `earn` (positive), `redeem` and "
        "`expire` (negative), `adjust` (either sign)."
    ),
    code(
        "ledger = ws.points_ledger\n"
        "upto = ledger[ledger['date'] < ws.next_month]\n"
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
        "last12 = ledger[(ledger['date'] >= ws.next_month - pd.DateOffset(months=12)) & (ledger['date'] < ws.next_month)]\n"
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
]


def checks() -> Module:
    """The module's self-checks: ``check.module5.exerciseN(answer)``."""

    def liability(kind: str) -> float:
        ws = load()
        lg = _outstanding(ws.points_ledger, ws)
        if kind == "face":
            return float(lg["points"].sum() * ws.cfg.finance.cost_per_point)
        return float(points.liability(lg, _ultimate(), ws.cfg.finance.cost_per_point)["liability"])

    return Module(
        TITLE,
        [
            Exercise(
                "module5.exercise1",
                "Outstanding points at the end of the analysis month.",
                lambda: _ledger_sum(("earn", "redeem", "expire", "adjust")),
                [
                    (
                        lambda: _ledger_sum(("earn", "redeem", "adjust")),
                        "Expired points are gone too: subtract expiries as well as redemptions.",
                    ),
                    (
                        lambda: _ledger_sum(("earn",)),
                        "Those are the points ever issued: redemptions and expiries reduce the "
                        "balance.",
                    ),
                    (
                        lambda: _ledger_sum(("earn", "redeem", "expire", "adjust"), absolute=True),
                        "Redemptions and expiries are stored as negative points: sum the signed "
                        "values, don't take absolute values.",
                    ),
                ],
                "Sum the signed points of every ledger row dated up to the end of the month.",
            ),
            Exercise(
                "module5.exercise2",
                "Breakage rate of the last 12 months: points expired ÷ points issued.",
                lambda: _kpi("breakage_rate"),
                [
                    (
                        lambda: _ledger_window("redeem") / _earned_window(),
                        "That is the redemption rate (redeemed ÷ issued). Breakage is the share "
                        "that expires unused.",
                    ),
                    (
                        lambda: 1 - _ledger_window("redeem") / _earned_window(),
                        "Not every unredeemed point is broken: many are still outstanding and may "
                        "be redeemed later. Breakage counts only expired points.",
                    ),
                ],
                "Over the 12 months ending with the analysis month: expired points (as a positive "
                "number) ÷ earned points.",
                kind="share",
            ),
            Exercise(
                "module5.exercise3",
                "The points liability in money: outstanding points × cost per point × the share "
                "of them expected to be redeemed.",
                lambda: liability("right"),
                [
                    (
                        lambda: liability("face"),
                        "That is the face value: it assumes every outstanding point will be "
                        "redeemed. Multiply by the expected redemption share of outstanding points.",
                    ),
                ],
                "points.liability(ledger, ultimate, cost_per_point) computes it; check your own "
                "multiplication against it.",
                rtol=1e-3,
            ),
        ],
    )
