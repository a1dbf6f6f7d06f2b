"""The self-check framework: an answer compared with the library's, and the typical mistakes."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Result:
    """The outcome of one check; shown as ✓ or "not yet" with a hint in a notebook."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "not yet"
        return f"{self.exercise}: {mark} — {self.message}"

    def _repr_html_(self) -> str:
        colour, mark = ("#1a7f37", "✓") if self.passed else ("#b35900", "not yet")
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{colour}'>{mark}</b> <i>{html.escape(self.exercise)}</i> — "
            f"{html.escape(self.message)}</div>"
        )


Value = Callable[[], Any]


@dataclass
class Exercise:
    """One self-check: how to compute the right answer and the typical wrong ones."""

    name: str
    task: str
    expected: Value
    mistakes: list[tuple[Value, str]]
    hint: str  # when the answer matches no known mistake
    kind: str = "number"  # number | share | frame | text
    rtol: float = 1e-4
    columns: tuple[str, ...] = ()  # for frames: the columns compared (index = customer_id)

    def __call__(self, answer: Any = None) -> Result:
        """Check ``answer``: ✓, or *not yet* with a hint (never an exception)."""
        if _blank(answer):
            return Result(
                self.name, False, "no answer yet: replace None with your result. " + self.task
            )
        try:
            expected = self.expected()
        except Exception as exc:  # the workshop data is broken: say so, don't crash the notebook
            return Result(self.name, False, f"the check could not compute the answer ({exc})")
        ok, why = self._same(answer, expected)
        if ok:
            return Result(self.name, True, f"right: {_show(expected, self.kind)}")
        for value, hint in self.mistakes:
            try:
                wrong = value()
            except Exception:  # a mistake that cannot be computed on this data
                continue
            if self._same(answer, wrong)[0]:
                return Result(self.name, False, hint)
        if self.kind == "share" and _is_number(answer) and self._same(answer / 100, expected)[0]:
            return Result(
                self.name, False, "give the share as a fraction (0.25), not a percentage (25)."
            )
        return Result(self.name, False, why or self.hint)

    def _same(self, answer: Any, expected: Any) -> tuple[bool, str | None]:
        if self.kind == "text":
            return str(answer).strip().casefold() == str(expected).strip().casefold(), None
        if self.kind == "frame":
            return _same_frame(answer, expected, self.columns, self.rtol)
        if not _is_number(answer):
            return False, f"a number is expected, not {type(answer).__name__}."
        return math.isclose(float(answer), float(expected), rel_tol=self.rtol, abs_tol=1e-9), None


def _blank(answer: Any) -> bool:
    if answer is None or answer is Ellipsis:
        return True
    if isinstance(answer, str) and not answer.strip():
        return True
    if isinstance(answer, (pd.DataFrame, pd.Series)) and answer.empty:
        return True
    return False


def _is_number(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _show(x: Any, kind: str) -> str:
    if kind == "share":
        return f"{float(x):.1%}"
    if kind == "number":
        return f"{float(x):,.2f}" if abs(float(x)) < 1000 else f"{float(x):,.0f}"
    if kind == "frame":
        return f"{len(x):,} rows match"
    return str(x)


def _same_frame(
    answer: Any, expected: pd.DataFrame, columns: tuple[str, ...], rtol: float
) -> tuple[bool, str | None]:
    if not isinstance(answer, pd.DataFrame):
        return False, "a DataFrame is expected (one row per customer)."
    a = answer.set_index("customer_id") if "customer_id" in answer.columns else answer
    e = expected.set_index("customer_id")
    missing = [c for c in columns if c not in a.columns]
    if missing:
        return (
            False,
            f"the table needs the columns {', '.join(columns)} (missing: {', '.join(missing)}).",
        )
    if len(a) != len(e) or not a.index.isin(e.index).all():
        return False, (
            f"{len(a):,} customers, expected {len(e):,}: one row per identified customer with at "
            "least one purchase (not a return) up to the end of the month."
        )
    a = a.loc[e.index]
    for c in columns:
        if not np.allclose(a[c].astype(float), e[c].astype(float), rtol=rtol, atol=1e-6):
            return False, f"the column {c} differs from the expected values."
    return True, None


class Module:
    """One workshop module's checks, reachable as attributes (``module.exercise1``)."""

    def __init__(self, title: str, exercises: list[Exercise]):
        self.title = title
        self.exercises = {e.name.split(".")[-1]: e for e in exercises}
        for key, e in self.exercises.items():
            setattr(self, key, e)

    def __repr__(self) -> str:
        return f"{self.title}: " + ", ".join(self.exercises)


class Checks:
    """``check.moduleN.exerciseM(answer)`` for every workshop module."""

    def __init__(self, modules: list[Module]) -> None:
        self.modules = {f"module{i}": m for i, m in enumerate(modules, start=1)}
        for key, m in self.modules.items():
            setattr(self, key, m)

    def all_exercises(self) -> list[Exercise]:
        """Every exercise of every module, in order."""
        return [e for m in self.modules.values() for e in m.exercises.values()]
