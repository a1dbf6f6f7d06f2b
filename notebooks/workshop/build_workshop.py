"""Write the workshop's exercise and solution notebooks from their one source.

Each module's text, tasks (with solutions) and checks live together in
``lib/loyalty_roi/workshop/m<N>_<slug>.py``.  Run
``.venv/bin/python notebooks/workshop/build_workshop.py`` after editing one and
commit the notebooks it writes (they carry no outputs).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from loyalty_roi.workshop import MODULES
from loyalty_roi.workshop.authoring import build, notebook_path

HERE = Path(__file__).parent


def main() -> None:
    for n, module in enumerate(MODULES, start=1):
        for solution in (False, True):
            target = notebook_path(HERE, module, n, solution)
            nbformat.write(build(module, n, solution), target)
            print("wrote", target.relative_to(HERE.parents[1]))


if __name__ == "__main__":
    main()
