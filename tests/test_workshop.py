"""The workshop: solutions pass every check, exercises run and say "not yet", every hint fires."""

import math

import nbformat
import pandas as pd
import pytest

from loyalty_roi import runner, workshop
from loyalty_roi.paths import NOTEBOOKS_DIR

WS_DIR = NOTEBOOKS_DIR / "workshop"
SOLUTIONS = sorted(WS_DIR.glob("*_solution.ipynb"))
EXERCISES = sorted(WS_DIR.glob("*_exercise.ipynb"))
CHECKS = workshop.check.all_exercises()


def test_six_modules_each_with_exercise_solution_and_the_facilitator_guide():
    assert len(SOLUTIONS) == len(EXERCISES) == 6
    assert [p.name.replace("_solution", "") for p in SOLUTIONS] == [
        p.name.replace("_exercise", "") for p in EXERCISES
    ]
    guide = (WS_DIR / "FACILITATOR.md").read_text(encoding="utf-8")
    for heading in ("Agenda", "Participant setup", "Common pitfalls", "make workshop"):
        assert heading in guide


def test_committed_notebooks_are_what_the_builder_writes():
    from loyalty_roi.workshop.authoring import build, notebook_path

    assert len(workshop.MODULES) == 6
    for n, module in enumerate(workshop.MODULES, start=1):
        for solution in (False, True):
            path = notebook_path(WS_DIR, module, n, solution)
            committed = nbformat.read(path, as_version=4)
            assert committed.cells == build(module, n, solution).cells, path.name


def test_each_module_has_one_title_for_its_notebooks_and_its_checks():
    for n, module in enumerate(workshop.MODULES, start=1):
        checks = getattr(workshop.check, f"module{n}")
        assert checks.title == module.TITLE
        heading = nbformat.read(next(WS_DIR.glob(f"{n:02d}_*_solution.ipynb")), as_version=4)
        assert heading.cells[0].source.startswith(f"# {module.TITLE} — solution")
        tasks = [c[1] for c in module.CELLS if c[0] == "ex"]
        assert tasks == [e.name for e in checks.exercises.values()]


def _check_outputs(path, tmp_path):
    out = tmp_path / path.name
    runner.run_notebook(path, out, timeout=600)
    nb = nbformat.read(out, as_version=4)
    results = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("check."):
            (text,) = [o["data"]["text/plain"] for o in cell.outputs if "data" in o]
            results.append(text)
    return nb, results


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_runs_clean_and_passes_every_check(path, tmp_path):
    nb, results = _check_outputs(path, tmp_path)
    assert results and all(": ✓ — right" in r for r in results), results
    assert not any("# TODO" in c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercise_notebook_runs_to_the_end_and_says_not_yet(path, tmp_path):
    nb, results = _check_outputs(path, tmp_path)  # raises if any cell fails
    assert results and all(": not yet — no answer yet" in r for r in results), results
    todo = [c for c in nb.cells if c.cell_type == "code" and "# TODO" in c.source]
    assert len(todo) == len(results)


def test_every_check_is_reachable_as_check_module_exercise():
    names = [e.name for e in CHECKS]
    assert len(names) == 19 and len(set(names)) == 19  # module 4 has five (joining at a high)
    for e in CHECKS:
        module, exercise = e.name.split(".")
        assert getattr(getattr(workshop.check, module), exercise) is e


@pytest.mark.parametrize("ex", CHECKS, ids=lambda e: e.name)
def test_blank_answers_are_not_yet_never_an_exception(ex):
    for blank in (None, "", "   ", pd.DataFrame()):
        r = ex(blank)
        assert not r.passed and r.message.startswith("no answer yet")
        assert "not yet" in repr(r) and "not yet" in r._repr_html_()


@pytest.mark.parametrize("ex", CHECKS, ids=lambda e: e.name)
def test_the_right_answer_passes_and_each_mistake_gets_its_own_hint(ex):
    expected = ex.expected()
    r = ex(expected)
    assert r.passed and "✓" in repr(r)
    assert ex.mistakes, f"{ex.name} has no typical mistakes"
    for value, hint in ex.mistakes:
        wrong = value()
        assert not ex._same(wrong, expected)[0], f"{ex.name}: a 'mistake' equals the answer"
        r = ex(wrong)
        assert not r.passed and r.message == hint, (ex.name, r.message)


@pytest.mark.parametrize("ex", CHECKS, ids=lambda e: e.name)
def test_other_wrong_answers_get_the_general_hint(ex):
    expected = ex.expected()
    if ex.kind == "frame":
        r = ex(expected.iloc[1:])
        assert not r.passed and "customers, expected" in r.message
        changed = expected.assign(monetary=expected["monetary"] * 1.1)
        assert "monetary differs" in ex(changed).message
        assert "DataFrame is expected" in ex(3.0).message
        return
    wrong = expected * 1.37 + 0.011
    assert not math.isclose(wrong, expected)
    r = ex(wrong)
    assert not r.passed and r.message == ex.hint
    assert "a number is expected" in ex("twelve").message
    if ex.kind == "share":
        assert "not a percentage" in ex(expected * 100).message


def test_results_show_as_check_mark_or_not_yet_in_html():
    ex = workshop.check.module1.exercise1
    ok, no = ex(ex.expected()), ex(-1.0)
    assert "✓" in ok._repr_html_() and "#1a7f37" in ok._repr_html_()
    assert "not yet" in no._repr_html_() and bool(no) is False
