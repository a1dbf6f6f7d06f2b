"""Errors that speak to the user: what is wrong, where, and how to fix it.

``WorkbookError`` subclasses carry a finished message.  In notebooks,
:func:`install_notebook_handler` makes IPython show that message instead of a
traceback while the cell still fails (so papermill still stops the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WorkbookError(Exception):
    """Base class of the errors the workbook raises on purpose."""


class ConfigError(WorkbookError):
    """The configuration file or a parameter is invalid."""


@dataclass
class Issue:
    """One data problem, located precisely.

    Attributes
    ----------
    file, column
        Where: the source file (name only) and the source column.
    rows
        Line numbers in the source file (header = line 1); empty for file-level problems.
    rule
        Which rule failed, in words.
    fix
        What the user should do.
    """

    file: str
    column: str | None
    rows: list[int] = field(default_factory=list)
    rule: str = ""
    fix: str = ""

    def describe(self, max_rows: int = 8) -> str:
        """The problem in one line: file, column, lines (at most ``max_rows``), rule and fix."""
        where = f"{self.file}"
        if self.column:
            where += f", column '{self.column}'"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = f" (+{len(self.rows) - max_rows} more)" if len(self.rows) > max_rows else ""
            where += f", line{'s' if len(self.rows) > 1 else ''} {shown}{more}"
        return f"{where}: {self.rule} — fix: {self.fix}"


class DataError(WorkbookError):
    """Input data cannot be ingested; carries one or more located :class:`Issue`."""

    def __init__(self, issues: Issue | list[Issue]):
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Every problem, one line each."""
        if len(self.issues) == 1:
            return self.issues[0].describe()
        return f"{len(self.issues)} data problems:\n" + "\n".join(
            f"  - {i.describe()}" for i in self.issues
        )


def _show_without_traceback(shell, etype, value, tb, tb_offset=None):  # pragma: no cover - IPython
    # The handler must publish the error itself; ipykernel then reports the
    # cell as failed with this one message as its whole "traceback".
    stb = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def install_notebook_handler() -> None:
    """Show :class:`WorkbookError` in notebooks as a plain message, not a traceback.

    The cell still fails, so papermill stops and reports the error.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is not None:
        ip.set_custom_exc((WorkbookError,), _show_without_traceback)
