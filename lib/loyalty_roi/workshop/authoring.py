"""How a workshop module becomes its exercise and solution notebooks.

Every task is written once, with its solution, in the module's ``CELLS``; the
exercise notebook gets the same cell with the solution replaced by
``answer = None  # TODO …``.  ``notebooks/workshop/build_workshop.py`` writes
the notebooks; a test checks that the committed ones are what it writes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

import nbformat

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
    months,
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
    """A markdown cell, the same in both notebooks."""
    return ("md", text)


def code(src: str) -> tuple:
    """A code cell, the same in both notebooks."""
    return ("code", src)


def ex(name: str, solution: str, todo: str) -> tuple:
    """A task: ``solution`` must assign ``answer``; ``todo`` is what participants start from."""
    return ("ex", name, solution, todo)


def _id(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:8]


def build(module: ModuleType, n: int, solution: bool) -> nbformat.NotebookNode:
    """The exercise (or solution) notebook of workshop module ``n``.

    Parameters
    ----------
    module
        The module's source, e.g. :mod:`loyalty_roi.workshop.m1_raw_to_kpis`.
    n
        Its number (1–6); it seeds the stable cell ids.
    solution
        ``True`` for the solution notebook, ``False`` for the exercise.

    Returns
    -------
    nbformat.NotebookNode
        The notebook, without outputs.
    """
    kind = "solution" if solution else "exercise"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "loyalty-roi",
        "display_name": "Python (loyalty-roi)",
        "language": "python",
    }
    head = (
        f"# {module.TITLE}{' — solution' if solution else ''}\n\n"
        f"*About {module.MINUTES} minutes.* After this module you can:\n\n"
        + "\n".join(f"- {g}" for g in module.GOALS)
        + "\n\n"
        + HOW
    )
    cells = [nbformat.v4.new_markdown_cell(head), nbformat.v4.new_code_cell(SETUP)]
    for c in module.CELLS:
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


def notebook_path(folder: Path, module: ModuleType, n: int, solution: bool) -> Path:
    """Where the exercise (or solution) notebook of module ``n`` lives in ``folder``."""
    return folder / f"{n:02d}_{module.SLUG}_{'solution' if solution else 'exercise'}.ipynb"
