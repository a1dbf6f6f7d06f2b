"""Published figures the report compares the data against, each with its source.

Every number quoted from outside the data is named here once and cited where it
is used (``cite("member_premium")``), so no claim appears without its source.
The sources are the articles the workbook was specified from (``shared/seeds``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """A published figure the report compares against, with its source."""

    text: str
    source: str


CLAIMS = {
    "member_premium": Claim(
        "members spend 12–18 % more than non-members",
        "“Analys av mätvärden för lojalitetsprogram” (Swedish article on loyalty metrics)",
    ),
    "retention_profit": Claim(
        "+5 % retention raises profit by 25–95 %",
        "F. F. Reichheld, Bain & Company, as quoted in “Analys av mätvärden för lojalitetsprogram”",
    ),
    "program_cost": Claim(
        "about 80 % of firms invest less than 1.5 % of revenue in their loyalty programs",
        "“Kundenbindungsstrategien und KPI der Wirksamkeit” (German article on retention "
        "strategies)",
    ),
}


def cite(key: str) -> str:
    """``(source: …)`` for a claim, to append to a sentence that quotes it."""
    return f"(source: {CLAIMS[key].source})"
