"""Workshop module 4: its notebook text, tasks and checks in one place.

The exercise and solution notebooks are generated from ``CELLS`` by
``notebooks/workshop/build_workshop.py``; ``checks()`` builds ``check.module4``.
"""

from __future__ import annotations

from .. import incrementality
from ..lift_checks import headline
from .authoring import code, ex, md
from .checking import Exercise, Module
from .data import _campaign_rows, _did, _holdout_campaign, _panel, _placebo, high_estimates

SLUG = "self_selection"
TITLE = "Module 4 · Why “members spend 12–18 % more” is not the program's effect"
MINUTES = 40
GOALS = [
    "see how self-selection inflates the naive member vs non-member comparison",
    "estimate the program's effect with matched difference-in-differences",
    "read a campaign holdout test, the cleanest evidence there is",
    "see why sign-up at the till fools a careless comparison, and run a placebo check",
    "see people join at a temporary high, and which estimate survives it",
]

CELLS = [
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
        'same design. Nobody was a member yet, so the "lift" must be about zero; if it is '
        "not, the design is picking up who joins, not what the program does. Run "
        "`lift_checks.placebo(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)` and give its `lift`."
    ),
    ex(
        "module4.exercise4",
        "plac = lift_checks.placebo(panel, exact=workshop.consent(), min_treated=workshop.MIN_TREATED)\n"
        "answer = plac.lift\nanswer",
        "# TODO: plac = lift_checks.placebo(...); answer = the placebo lift\nanswer = None\nanswer",
    ),
    md(
        "## Joining at a temporary high\n\n"
        "People also join when they are buying *unusually much*: a move, a new baby, the "
        "holidays. Afterwards they drift back to their usual level, program or not. Below is a "
        "generated program with **zero** effect whose members sign up far more often during "
        "such a high. Read it four ways: the naive comparison, a DiD that matches controls on "
        "their history only, the placebo, and the report's estimate — a DiD that also matches "
        "on the sign-up month itself, next to an estimate adjusted for each member's recent "
        "months (lagged outcomes). Where those two disagree, the report gives the range between "
        "them and uses the lower one."
    ),
    code("high = workshop.high_demo()\nhigh.round(3)"),
    md(
        "## Exercise 5 — Which estimate survives the high?\n\n"
        "Run the report's estimate on the high program and give the lift the verdict uses: "
        "`panel_h, consent_h = workshop.high_program()`, then "
        "`did_h = incrementality.matched_did(panel_h, n_boot=150, exact=consent_h)`, its placebo "
        "`plac_h = lift_checks.placebo(panel_h, exact=consent_h, n_boot=150)` and "
        "`lift_checks.headline(did_h, plac_h).lift`. The truth is 0."
    ),
    ex(
        "module4.exercise5",
        "panel_h, consent_h = workshop.high_program()\n"
        "did_h = incrementality.matched_did(panel_h, n_boot=150, exact=consent_h)\n"
        "plac_h = lift_checks.placebo(panel_h, exact=consent_h, n_boot=150)\n"
        "answer = lift_checks.headline(did_h, plac_h).lift\nanswer",
        "# TODO: did_h = incrementality.matched_did(...); plac_h = lift_checks.placebo(...)\n"
        "# answer = lift_checks.headline(did_h, plac_h).lift\n"
        "answer = None\nanswer",
    ),
    md(
        "Look back at the table: the naive figure and the history-only DiD credit the program "
        "with the high and the drift back from it; the placebo is far from 0 — it catches that "
        "*who joins when* is not random; the report then gives the range between its two "
        "estimates and uses the lower one, which lands near the truth of 0."
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
        "# TODO: contacted customers' mean revenue ÷ holdout customers' − 1\nanswer = None\nanswer",
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
        "customers would you need to see a 5 % lift?\n"
        "4. When did you last sign up for a loyalty card? Was it a week you were buying more "
        'than usual — why does that make "members spent more after joining" weak evidence?'
    ),
]


def checks() -> Module:
    """The module's self-checks: ``check.module4.exerciseN(answer)``."""

    def naive(kind: str) -> float:
        p = _panel()
        p = p[p["mi"] > p["mi"].max() - 12]
        m = p.loc[p["is_member"], "revenue"].mean()
        if kind == "all":
            return float(m / p["revenue"].mean() - 1)
        if kind == "active":
            a = p[p["active"]]
            return float(
                a.loc[a["is_member"], "revenue"].mean() / a.loc[~a["is_member"], "revenue"].mean()
                - 1
            )
        return float(incrementality.naive_lift(_panel())["lift"])

    def campaign(kind: str) -> float:
        r = _campaign_rows()
        t, h = r[~r["is_holdout"]], r[r["is_holdout"]]
        if kind == "response":
            return float((t["orders"] > 0).mean() / (h["orders"] > 0).mean() - 1)
        if kind == "inverted":
            return float(h["revenue"].mean() / t["revenue"].mean() - 1)
        return float(_holdout_campaign()["lift"])

    return Module(
        TITLE,
        [
            Exercise(
                "module4.exercise1",
                "The naive lift: revenue per member-month ÷ revenue per non-member-month − 1, "
                "over the last 12 months of the panel.",
                lambda: naive("right"),
                [
                    (
                        lambda: naive("all"),
                        "Compare members with non-members, not with everyone: the average over all "
                        "customer-months already contains the members.",
                    ),
                    (
                        lambda: naive("active"),
                        "Keep the months without a purchase (revenue 0): leaving them out hides "
                        "that non-members buy less often.",
                    ),
                ],
                "Filter the panel to the last 12 months (mi), then mean revenue where is_member "
                "÷ mean revenue where not is_member − 1.",
                kind="share",
            ),
            Exercise(
                "module4.exercise2",
                "The corrected lift from incrementality.matched_did (with exact matching on "
                "marketing consent).",
                lambda: _did().lift,
                [
                    (
                        lambda: naive("right"),
                        "That is the naive lift again — members compared with all non-members. "
                        "Self-selection makes it far too high; report the matched DiD's lift.",
                    ),
                ],
                "did = incrementality.matched_did(panel, exact=workshop.consent(), "
                "min_treated=workshop.MIN_TREATED); the answer is did.lift.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module4.exercise4",
                "The placebo: the same design with every enrollment moved 3 months earlier "
                "(lift_checks.placebo with exact matching on consent); its lift.",
                lambda: _placebo().lift,
                [
                    (
                        lambda: _did().lift,
                        "That is the real corrected lift. The placebo moves enrollment 3 months "
                        "earlier, when nobody was a member yet: run lift_checks.placebo.",
                    ),
                ],
                "plac = lift_checks.placebo(panel, exact=workshop.consent(), "
                "min_treated=workshop.MIN_TREATED); the answer is plac.lift.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module4.exercise5",
                "The lift the report's verdict uses on the zero-effect high program: "
                "lift_checks.headline of the matched DiD.",
                lambda: headline(high_estimates()[1], high_estimates()[2]).lift,
                [
                    (
                        lambda: high_estimates()[0].lift,
                        "That is the DiD matched on history only: it reads the drift back from "
                        "the high as lift. Use the report's matched_did (default matching) and "
                        "lift_checks.headline.",
                    ),
                    (
                        lambda: high_estimates()[1].lift,
                        "That is the DiD alone. The verdict uses lift_checks.headline(did_h, "
                        "plac_h).lift: each estimate's placebo decides which one counts.",
                    ),
                ],
                "did_h = incrementality.matched_did(panel_h, n_boot=150, exact=consent_h); plac_h = "
                "lift_checks.placebo(panel_h, exact=consent_h, n_boot=150); the answer is "
                "lift_checks.headline(did_h, plac_h).lift.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module4.exercise3",
                "Holdout lift of the campaign named in the notebook: revenue per contacted "
                "customer ÷ revenue per holdout customer − 1, in the campaign window.",
                lambda: campaign("right"),
                [
                    (
                        lambda: campaign("response"),
                        "That is the lift of the response rate (share who bought). The question "
                        "is about revenue per customer.",
                    ),
                    (
                        lambda: campaign("inverted"),
                        "Turned around: the contacted group goes on top (contacted ÷ holdout − 1).",
                    ),
                ],
                "From engine.campaign_window_activity: for this campaign, mean revenue where "
                "is_holdout is False ÷ mean revenue where it is True − 1.",
                kind="share",
            ),
        ],
    )
