"""Where things are: the project root and its default folders.

Every path is derived from ``$LOYALTY_ROI_HOME``, else from the source tree
the package lives in, else (a package installed as a wheel) from the working
directory, so notebooks, papermill runs, tests and the CLI agree on where
things are.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LOYALTY_ROI_HOME"


def _project_root() -> Path:
    """The folder that relative paths (``data/``, ``reports/``, ``config/``) are taken from.

    ``$LOYALTY_ROI_HOME`` if set; else the source tree this package lives in (a
    clone, or an editable install); else, for a package installed as a wheel,
    the working directory.
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    tree = Path(__file__).resolve().parents[2]
    if (tree / "pyproject.toml").is_file() and (tree / "lib" / "loyalty_roi").is_dir():
        return tree
    return Path.cwd()


PROJ_ROOT = _project_root()
CONFIG_DIR = PROJ_ROOT / "config"
DEFAULT_CONFIG = CONFIG_DIR / "workbook.yml"
DATA_DIR = PROJ_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJ_ROOT / "reports"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"


def resolve_path(path: str | Path) -> Path:
    """Return ``path`` as an absolute path; relative paths are taken from the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (PROJ_ROOT / p)
