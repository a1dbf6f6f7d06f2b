"""The documentation: generated reference pages match the code, the site builds strictly, links resolve."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

from loyalty_roi import kpis, schema
from loyalty_roi.paths import PROJ_ROOT

DOCS = PROJ_ROOT / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("generate", DOCS / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_reference_pages_are_what_the_code_says():
    assert _generator().stale() == [], "run make docs and commit docs/"
    assert kpis.catalogue_markdown() in (DOCS / "kpis.md").read_text(encoding="utf-8")
    dictionary = (DOCS / "data-dictionary.md").read_text(encoding="utf-8")
    for t in schema.TABLES.values():
        for c in t.columns:
            assert f"| `{c.name}` |" in dictionary, f"data dictionary lacks {t.name}.{c.name}"


def test_the_site_builds_strictly_without_a_warning(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=PROJ_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "WARNING" not in out.stderr, out.stderr[-2000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "kpis" / "index.html").exists()


def test_every_page_is_in_the_navigation():
    nav = (PROJ_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"


def test_the_readme_is_short_and_its_links_resolve():
    text = (PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 160
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [x for x in links if not x.startswith(("http://", "https://"))]
    assert local, "the README links into the docs"
    for target in local:
        assert (PROJ_ROOT / target).exists(), f"README links to {target}, which does not exist"
    for page in DOCS.glob("*.md"):  # every docs page is reachable from the README or the index
        index = (DOCS / "index.md").read_text(encoding="utf-8")
        assert page.name == "index.md" or page.name in index, (
            f"{page.name} not linked from docs/index.md"
        )
