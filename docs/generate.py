"""Fill the generated parts of the documentation from the code they describe.

``make docs`` runs it before building the site; ``tests/test_docs.py`` fails
when a committed page differs from what it writes.  A generated part sits
between ``<!-- begin: NAME -->`` and ``<!-- end: NAME -->``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent


def _parameters_table() -> str:
    import papermill as pm

    from loyalty_roi.config import NOTEBOOK_PARAMS

    rows = ["| parameter | notebook | config key | type | help |", "| --- | --- | --- | --- | --- |"]
    for nb in sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb")):
        for name, p in pm.inspect_notebook(str(nb)).items():
            key = NOTEBOOK_PARAMS.get(name)
            if key is None:
                continue
            help_text = p["help"].replace("|", "\\|")
            rows.append(
                f"| `{name}` | {nb.stem[:2]} | `{key}` | `{p['inferred_type_name']}` | {help_text} |"
            )
    return "\n".join(rows)


def _sections() -> dict[tuple[str, str], str]:
    from loyalty_roi import kpis, schema

    workbook = (ROOT / "config" / "workbook.yml").read_text(encoding="utf-8")
    facilitator = (ROOT / "notebooks" / "workshop" / "FACILITATOR.md").read_text(encoding="utf-8")
    return {
        ("kpis.md", "kpi-catalogue"): kpis.catalogue_markdown(),
        ("data-dictionary.md", "data-dictionary"): schema.data_dictionary_markdown(),
        ("configuration.md", "notebook-parameters"): _parameters_table(),
        ("configuration.md", "workbook-yml"): f"```yaml\n{workbook.rstrip()}\n```",
        ("facilitator.md", "facilitator"): facilitator.rstrip(),
    }


def render() -> dict[Path, str]:
    """Every page with a generated part, as it should read."""
    pages: dict[Path, str] = {}
    for (page, name), body in _sections().items():
        path = HERE / page
        text = pages.get(path) or path.read_text(encoding="utf-8")
        pattern = re.compile(
            rf"(<!-- begin: {re.escape(name)} -->\n).*?(<!-- end: {re.escape(name)} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"{page}: no <!-- begin: {name} --> … <!-- end: {name} --> markers")
        pages[path] = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return pages


def stale() -> list[str]:
    """The pages whose generated parts differ from the code."""
    return [p.name for p, text in render().items() if p.read_text(encoding="utf-8") != text]


def main() -> None:
    if "--check" in sys.argv:
        bad = stale()
        if bad:
            raise SystemExit(f"generated docs out of date: {', '.join(bad)} — run make docs")
        return
    for path, text in render().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print("updated", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
