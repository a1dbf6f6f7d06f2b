"""The per-month run lock: a second run refuses, a killed run's lock is detected as stale."""

import json
import os
import subprocess
import sys

import pytest

from loyalty_roi.publish import LockedError, RunLock, remove_stale_staging


def test_second_run_for_the_same_month_refuses(tmp_path):
    with RunLock(tmp_path, "2026-10"):
        with pytest.raises(LockedError, match="a report for 2026-10 is already running") as exc:
            RunLock(tmp_path, "2026-10").acquire()
        assert "wait for it to finish" in str(exc.value)
        RunLock(tmp_path, "2026-09").acquire().release()  # other months are independent
    assert not (tmp_path / ".locks" / "2026-10.lock").exists()


def test_stale_lock_of_a_killed_run_is_replaced_and_its_staging_removed_once(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    (tmp_path / ".locks").mkdir()
    (tmp_path / ".locks" / "2026-10.lock").write_text(
        json.dumps({"pid": pid, "started": "earlier"})
    )
    leftover = tmp_path / f".staging-p{pid}-abc"
    leftover.mkdir()
    (leftover / "01_ingest_data.ipynb").write_text("{}")
    live = tmp_path / f".staging-p{os.getpid()}-xyz"  # a running process's staging: kept
    live.mkdir()
    lock = RunLock(tmp_path, "2026-10").acquire()
    assert lock.stale_removed["pid"] == pid
    assert json.loads(lock.path.read_text())["pid"] != pid
    assert leftover.exists(), "the lock leaves staging to remove_stale_staging (one cleanup)"
    assert remove_stale_staging(tmp_path) == [leftover]
    assert not leftover.exists() and live.exists()
    lock.release()


def test_cli_refuses_while_another_run_holds_the_lock(tmp_path):
    from loyalty_roi.paths import PROJ_ROOT

    out = tmp_path / "reports"
    with RunLock(out, "2026-10"):
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "loyalty_roi.cli",
                "report",
                "--month",
                "2026-10",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=PROJ_ROOT,
        )
    assert res.returncode == 3
    assert "already running" in res.stderr and "Traceback" not in res.stderr
    assert not (out / "2026-10").exists()


def test_a_kernel_failure_is_one_error_line_with_the_run_kept_not_a_traceback(
    tmp_path, monkeypatch
):
    """The kernel's messaging can break (e.g. 'Invalid Signature'): exit 1, one line, _failed/ kept."""

    from loyalty_roi import reportrun, runner
    from loyalty_roi.config import load_config

    def broken(*args, **kwargs):
        raise ValueError("Invalid Signature: b'951f40'\nmore detail")

    monkeypatch.setattr(runner, "run_notebook", broken)
    messages = []
    monkeypatch.setattr(reportrun.typer, "secho", lambda m="", **kw: messages.append(str(m)))
    out = tmp_path / "reports"
    out.mkdir()
    run = reportrun.ReportRun(load_config(), tmp_path / "c.yml", out, 60, None)
    try:
        with pytest.raises(reportrun.typer.Exit) as e:
            run.notebook("02_segment_customers.ipynb", tmp_path, {}, "2026-10")
        assert e.value.exit_code == 1
        text = "\n".join(messages)
        assert "02_segment_customers.ipynb could not be run (the notebook kernel failed): " in text
        assert "ValueError: Invalid Signature" in text and "Traceback" not in text
        (failed,) = (out / "2026-10" / "_failed").iterdir()
        assert "Invalid Signature" in (failed / "error.txt").read_text(encoding="utf-8")
    finally:
        run.close()


def test_the_kernel_is_stopped_before_the_last_months_report_files_are_built(tmp_path, monkeypatch):
    """Chromium prints the index to PDF while the report files are built: after the run's last
    month the kernel (0.7 GiB with its imports) is stopped first; between months it is reset."""
    from loyalty_roi import reportrun
    from loyalty_roi.config import load_config

    class Session:
        calls: list = []

        def reset(self):
            self.calls.append("reset")

        def close(self):
            self.calls.append("close")

    out = tmp_path / "reports"
    out.mkdir()
    run = reportrun.ReportRun(load_config(), tmp_path / "c.yml", out, 60, None)
    real, run.session = run.session, Session()
    seen = []
    monkeypatch.setattr(run, "notebook", lambda nb, stage, params, month: {"notebook": nb})
    monkeypatch.setattr(
        reportrun, "_build_report_files", lambda *a: seen.append(list(run.session.calls)) or ""
    )
    monkeypatch.setattr(reportrun, "publish", lambda stage, target: None)
    monkeypatch.setattr(reportrun, "_html", lambda nb: 0.0)
    run._ingest_page = run._pages.submit(lambda: 0.0)
    try:
        ingest_dir = tmp_path / "ingest"
        ingest_dir.mkdir()
        run._month("2026-09", "c.yml", ingest_dir, {}, None, last=False)
        run._month("2026-10", "c.yml", ingest_dir, {}, None, last=True)
        assert seen == [["reset"], ["reset", "close"]]
    finally:
        run.session = real
        run.close()


def test_each_notebooks_page_is_made_while_the_next_notebook_runs(tmp_path, monkeypatch):
    """The HTML pages (0.3–0.9 s each) are made beside the kernel, not after the last notebook."""
    import time

    from loyalty_roi import reportrun
    from loyalty_roi.config import load_config

    out = tmp_path / "reports"
    out.mkdir()
    run = reportrun.ReportRun(load_config(), tmp_path / "c.yml", out, 60, None)
    made, pages_when_started = [], {}

    def html(nb_path):
        made.append(nb_path.name)
        return 0.25

    def notebook(nb, stage, params, month):
        deadline = time.monotonic() + 10
        if nb != reportrun.NOTEBOOKS[1]:  # the previous notebook's page, made meanwhile
            while len(made) < reportrun.NOTEBOOKS.index(nb) and time.monotonic() < deadline:
                time.sleep(0.01)
        pages_when_started[nb] = list(made)
        return {"notebook": nb}

    monkeypatch.setattr(reportrun, "_html", html)
    monkeypatch.setattr(run, "notebook", notebook)
    seen = []
    monkeypatch.setattr(reportrun, "_build_report_files", lambda *a: seen.append(a[-1]) or "")
    monkeypatch.setattr(reportrun, "publish", lambda stage, target: None)
    try:
        ingest_dir = tmp_path / "ingest"
        ingest_dir.mkdir()
        run._ingest_page = run._pages.submit(html, ingest_dir / reportrun.NOTEBOOKS[0])
        run._month("2026-10", "c.yml", ingest_dir, {}, None, last=True)
    finally:
        run.close()
    n1, n2, n3 = reportrun.NOTEBOOKS[1:]
    assert pages_when_started[n2] == [reportrun.NOTEBOOKS[0], n1]
    assert pages_when_started[n3] == [reportrun.NOTEBOOKS[0], n1, n2]
    assert seen == [0.75]  # the three pages' seconds reach the manifest
