"""The "Measuring loyalty ROI" workshop: its dataset, six modules and their self-checks.

In a workshop notebook::

    from loyalty_roi.workshop import check, load
    ws = load()                          # tables, engine and analysis month
    ...
    check.module1.exercise1(answer)      # ✓, or "not yet" with a hint

Each module lives in one file (``m1_raw_to_kpis.py`` … ``m6_roi_case.py``)
with its notebook text, its tasks and their checks; the exercise and solution
notebooks are generated from it (:mod:`loyalty_roi.workshop.authoring`).

Every expected value is computed **at check time** with the library on the
same workshop data (:mod:`loyalty_roi.workshop.data`).  Each check also
computes the results of the typical mistakes (counting orders instead of
customers, forgetting returns, comparing members with everyone, …) and, when
an answer matches one, says what went wrong.  A blank or ``None`` answer is
"not yet", never an exception.
"""

from __future__ import annotations

from . import (
    m1_raw_to_kpis,
    m2_rfm_segments_tiers,
    m3_customer_lifetime_value,
    m4_self_selection,
    m5_points_economics,
    m6_roi_case,
)
from .checking import Checks, Exercise, Result
from .data import (
    MIN_TREATED,
    Workshop,
    campaign_for_exercise,
    consent,
    high_demo,
    high_program,
    load,
    prepare,
    roi_case,
    till_demo,
    workshop_config,
)

MODULES = (
    m1_raw_to_kpis,
    m2_rfm_segments_tiers,
    m3_customer_lifetime_value,
    m4_self_selection,
    m5_points_economics,
    m6_roi_case,
)

check = Checks([m.checks() for m in MODULES])

__all__ = [
    "MIN_TREATED",
    "MODULES",
    "Exercise",
    "Result",
    "Workshop",
    "campaign_for_exercise",
    "check",
    "consent",
    "high_demo",
    "high_program",
    "load",
    "prepare",
    "roi_case",
    "till_demo",
    "workshop_config",
]
