"""Notebooks: committed clean, run headlessly by papermill, fail without tracebacks."""

import json
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from papermill.exceptions import PapermillExecutionError

from loyalty_roi import runner
from loyalty_roi.paths import NOTEBOOKS_DIR, PROJ_ROOT

NOTEBOOKS = sorted(NOTEBOOKS_DIR.rglob("*.ipynb"))
MAIN_NOTEBOOKS = [p for p in NOTEBOOKS if p.parent == NOTEBOOKS_DIR]


def test_there_are_notebooks():
    assert any(p.name == "01_ingest_data.ipynb" for p in MAIN_NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOKS_DIR)))
def test_committed_notebook_is_valid_and_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: strip outputs"
            )


@pytest.mark.parametrize("path", MAIN_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_documented_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in tagged[0].source.splitlines():
        if "=" in line and not line.startswith("#"):
            name = line.split(":")[0].strip()
            assert f"{name}: " in out, f"papermill does not document parameter {name}"
            assert "#" in line, f"{path.name}: parameter {name} has no help comment"


def small_params(tmp_path):
    return {
        "raw_dir": str(tmp_path / "raw"),
        "mapping": str(tmp_path / "raw" / "mapping.yml"),
        "processed_dir": str(tmp_path / "processed"),
        "demo_customers": 400,
        "demo_months": 12,
        "demo_end_month": "2026-10",
        "demo_seed": 3,
        "run_date": "2026-11-22",
    }


@pytest.mark.slow
def test_ingest_notebook_runs_on_small_data_and_is_deterministic(tmp_path):
    out = tmp_path / "01.ipynb"
    runner.run_notebook(
        runner.notebook_path("01_ingest_data.ipynb"), out, small_params(tmp_path), timeout=300
    )
    nb = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "9 tables ingested" in text
    assert any(
        "image/png" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert (tmp_path / "processed" / "transactions.parquet").exists()
    # the executed notebook (a report file) carries no raw personal data
    from loyalty_roi import synth

    pii = synth.generate(n_customers=400, months=12, end_month="2026-10", seed=3).pii
    blob = out.read_text(encoding="utf-8")
    assert not [v for v in pd.concat([pii["email"], pii["name"], pii["phone"]]) if v in blob]
    # re-run under nbval: cells marked NBVAL_CHECK_OUTPUT must reproduce their numbers exactly
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout[-3000:]


@pytest.mark.slow
def test_bad_input_fails_the_notebook_with_a_message_not_a_traceback(tmp_path):
    params = small_params(tmp_path)
    from loyalty_roi import synth

    synth.write_raw(
        synth.generate(n_customers=400, months=12, end_month="2026-10", seed=3), tmp_path / "raw"
    )
    (tmp_path / "raw" / "transactions.csv").write_bytes(b"")
    params["source"] = "files"
    with pytest.raises(PapermillExecutionError) as exc:
        runner.run_notebook(
            runner.notebook_path("01_ingest_data.ipynb"), tmp_path / "01.ipynb", params, timeout=300
        )
    assert exc.value.ename == "DataError" and "transactions.csv" in exc.value.evalue
    nb = nbformat.read(tmp_path / "01.ipynb", as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert len(errors) == 1
    shown = "\n".join(errors[0]["traceback"])
    assert (
        "fix:" in shown
        and "Traceback" not in shown
        and 'File "' not in shown
        and "---->" not in shown
    )


def test_cli_validate_prints_a_one_line_reason_not_a_traceback(tmp_path):
    from loyalty_roi import synth

    synth.write_raw(
        synth.generate(n_customers=300, months=6, end_month="2026-10", seed=2), tmp_path / "raw"
    )
    (tmp_path / "raw" / "customers.csv").write_bytes(b"KundeID;Navn\n")
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(
        json.dumps(
            {
                "data": {
                    "source": "files",
                    "raw_dir": str(tmp_path / "raw"),
                    "mapping": str(tmp_path / "raw" / "mapping.yml"),
                    "processed_dir": str(tmp_path / "processed"),
                }
            }
        )
    )
    res = subprocess.run(
        [sys.executable, "-m", "loyalty_roi.cli", "validate", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=PROJ_ROOT,
    )
    assert res.returncode == 2
    assert "customers.csv" in res.stderr and "no data rows" in res.stderr and "fix:" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_runs_started_side_by_side_each_talk_to_their_own_kernel(tmp_path):
    # two report runs (or two test workers) start kernels at the same moment from the
    # same working directory; with jupyter_client's default IPC socket names they
    # picked the same sockets and failed with "Invalid Signature"
    src = tmp_path / "pid.ipynb"
    cells = [nbformat.v4.new_code_cell("import time; time.sleep(0.5); print('kernel ok')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), src)
    code = (
        "import sys; from loyalty_roi import runner\n"
        "for i in range(3): runner.run_notebook(sys.argv[1], sys.argv[2] + str(i) + '.ipynb')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(src), str(tmp_path / f"out{n}_")],
            cwd=PROJ_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(3)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(outs)
    for n in range(3):
        for i in range(3):
            nb = nbformat.read(tmp_path / f"out{n}_{i}.ipynb", as_version=4)
            assert nb.cells[0].outputs[0]["text"] == "kernel ok\n"
    assert not list(PROJ_ROOT.glob("kernel-ipc-*")), "sockets left in the project folder"


def test_a_kernel_session_runs_notebooks_in_turn_each_from_an_empty_namespace(tmp_path):
    first = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import os, matplotlib.pyplot as plt\nx = 1\nplt.figure()\nprint(os.getpid())"
            )
        ]
    )
    later = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import os, matplotlib.pyplot as plt\n"
                "print(os.getpid(), 'x' in globals(), len(plt.get_fignums()), os.getcwd())"
            )
        ]
    )
    nbformat.write(first, tmp_path / "first.ipynb")
    nbformat.write(later, tmp_path / "later.ipynb")
    out = []
    with runner.KernelSession() as session:
        for i, name in enumerate(["first", "later", "first", "later"]):
            if i == 3:  # a run empties the kernel itself once a month's notebooks are done
                session.reset()
                assert not session.used
            runner.run_notebook(
                tmp_path / f"{name}.ipynb", tmp_path / f"out{i}.ipynb", session=session
            )
            out.append(
                nbformat.read(tmp_path / f"out{i}.ipynb", as_version=4)
                .cells[-1]
                .outputs[0]["text"]
                .split()
            )
        km = session.km
    pid = out[0][0]
    # the same kernel process ran all four, and the later ones saw nothing of the first
    assert out[1] == out[3] == [pid, "False", "0", str(PROJ_ROOT)]
    assert out[2][0] == pid
    assert session.km is None and not km.has_kernel  # stopped when the session closed


def test_every_notebook_reads_the_config_named_by_the_environment_by_default(tmp_path, monkeypatch):
    # Voilà (notebook 05) cannot pass parameters, so $LOYALTY_ROI_CONFIG names the config;
    # notebooks 01–04 opened in JupyterLab must follow the same variable
    from loyalty_roi import config

    cfg = tmp_path / "mine.yml"
    cfg.write_text("currency: NOK\n", encoding="utf-8")
    monkeypatch.setenv("LOYALTY_ROI_CONFIG", str(cfg))
    for path in MAIN_NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        ns: dict = {}
        exec(cell.source, ns)  # the parameters cell only assigns literals
        assert config.notebook_config(ns["config_path"]).currency == "NOK", path.name
