"""Raw data is read-only by construction: folder checks and the one write path.

* :func:`check_folders` refuses configurations whose raw, processed and report
  folders overlap (one inside another, or the same), before anything runs.
* :func:`protect` registers a folder as read-only for this process (the raw
  exports of the configuration); :func:`atomic_write` — the only way the
  library writes a file — refuses any path inside a protected folder, so no code
  path can overwrite, truncate or delete an export, whatever the configuration.
* :func:`demo_folder_ok` decides whether the synthetic generator may write into
  a folder: only an empty one or one it marked itself (``.loyalty-roi-demo``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import ConfigError, WorkbookError

DEMO_MARKER = ".loyalty-roi-demo"
_PROTECTED: set[Path] = set()


class ReadOnlyError(WorkbookError):
    """Something tried to write inside a folder of raw exports."""


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (symlinks resolved)."""
    p, f = _real(path), _real(folder)
    return p == f or f in p.parents


def check_folders(folders: dict[str, str | Path]) -> None:
    """Refuse folders that are the same or nested in one another.

    Parameters
    ----------
    folders
        Role → path, e.g. ``{"data.raw_dir": …, "data.processed_dir": …, "reports": …}``.

    Raises
    ------
    ConfigError
        Naming both keys and the fix.
    """
    items = [(k, v) for k, v in folders.items() if v is not None]
    problems = []
    for i, (ka, a) in enumerate(items):
        for kb, b in items[i + 1 :]:
            if inside(a, b) or inside(b, a):
                how = "is the same folder as" if _real(a) == _real(b) else "overlaps"
                problems.append(f"  {ka} ({a}) {how} {kb} ({b})")
    if problems:
        raise ConfigError(
            "the data folders overlap, so a run could overwrite or delete raw exports:\n"
            + "\n".join(problems)
            + "\nfix: give raw exports, processed data and reports three separate folders "
            "(e.g. data/raw/<name>, data/processed, reports)"
        )


def protect(folder: str | Path) -> None:
    """Mark ``folder`` (raw exports) read-only for every later write of this process."""
    _PROTECTED.add(_real(folder))


def check_writable(path: str | Path) -> None:
    """Raise :class:`ReadOnlyError` if ``path`` is inside a protected raw folder."""
    for folder in _PROTECTED:
        if inside(path, folder):
            raise ReadOnlyError(
                f"refusing to write {path}: it is inside the raw data folder {folder}, which the "
                "workbook never modifies — fix: point data.processed_dir and the report folder "
                "outside data.raw_dir"
            )


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """Write ``path`` via a temp file in the same folder and an atomic rename.

    ``write(tmp)`` produces the file at the temporary path.  Paths inside a
    protected raw folder are refused before anything is created.
    """
    path = Path(path)
    check_writable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def remove(path: str | Path) -> None:
    """Delete a file the workbook wrote earlier; never one inside a protected folder."""
    check_writable(path)
    Path(path).unlink(missing_ok=True)


def demo_folder_ok(folder: str | Path) -> bool:
    """Whether the demo generator may write into ``folder``: absent, empty or marked as demo."""
    f = Path(folder)
    if not f.exists():
        return True
    if not f.is_dir():
        return False
    if (f / DEMO_MARKER).exists():
        return True
    truth = f / "truth.json"
    if truth.exists():  # made by an earlier version of the generator, before the marker
        try:
            import json

            return "params" in json.loads(truth.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
    return not any(p for p in f.iterdir() if p.name not in (".gitkeep",))
