"""The per-month run lock: a second run refuses, a killed run's lock is detected as stale."""

import json
import subprocess
import sys

import pytest

from loyalty_roi.runlock import LockedError, RunLock


def test_second_run_for_the_same_month_refuses(tmp_path):
    with RunLock(tmp_path, "2026-10"):
        with pytest.raises(LockedError, match="a report for 2026-10 is already running") as exc:
            RunLock(tmp_path, "2026-10").acquire()
        assert "wait for it to finish" in str(exc.value)
        RunLock(tmp_path, "2026-09").acquire().release()  # other months are independent
    assert not (tmp_path / ".locks" / "2026-10.lock").exists()


def test_stale_lock_of_a_killed_run_is_replaced_and_its_staging_removed(tmp_path):
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
    lock = RunLock(tmp_path, "2026-10").acquire()
    assert lock.stale_removed["pid"] == pid
    assert not leftover.exists()
    assert json.loads(lock.path.read_text())["pid"] != pid
    lock.release()


def test_cli_refuses_while_another_run_holds_the_lock(tmp_path):
    from loyalty_roi.config import PROJ_ROOT

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
