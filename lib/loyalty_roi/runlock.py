"""One report run per month at a time: a lock file with the owner's PID.

``reports/.locks/YYYY-MM.lock`` is created atomically (``O_EXCL``).  A second
run for the same month refuses with a clear message; a lock whose process no
longer exists (a run killed with ``kill -9``) is stale: it is replaced, and the
staging folders of dead runs are removed.  The same class locks the processed
data folder that every run of one configuration shares.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from .errors import WorkbookError

# a run sets this to its PID for the processes it starts (notebook kernels): its locks are theirs
OWNER_ENV = "LOYALTY_ROI_LOCK_OWNER"


def hand_down_locks() -> None:
    """Let processes started from now on (notebook kernels) use the locks this process holds."""
    os.environ[OWNER_ENV] = str(os.getpid())


def processed_lock(processed: Path) -> RunLock:
    """The lock of a processed-data folder: every writer (ingest, validate, report) takes it."""
    return RunLock(Path(processed), "processed", what=f"a run writing {processed}")


class LockedError(WorkbookError):
    """Another live run holds the lock for this month."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Lock for the report of one month under ``out_dir``."""

    def __init__(self, out_dir: Path, month: str, what: str | None = None):
        self.out_dir = Path(out_dir)
        self.month = month
        self.what = what or f"a report for {month}"
        self.path = self.out_dir / ".locks" / f"{month}.lock"
        self.stale_removed: dict | None = None
        self.inherited = False

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = json.loads(self.path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    owner = {"pid": -1, "started": "unknown"}
                if owner.get("pid", -1) > 0 and str(owner["pid"]) == os.environ.get(OWNER_ENV):
                    self.inherited = True  # held by the run that started this process (a kernel)
                    return self
                if owner.get("pid", -1) > 0 and pid_alive(owner["pid"]):
                    raise LockedError(
                        f"{self.what} is already running (pid {owner['pid']}, started "
                        f"{owner.get('started')}) — wait for it to finish; if that process is gone, delete "
                        f"{self.path}"
                    ) from None
                self.stale_removed = owner  # killed run: take over and clean up after it
                self.path.unlink(missing_ok=True)
                from .publish import remove_stale_staging

                remove_stale_staging(self.out_dir)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(
                    {
                        "pid": os.getpid(),
                        "started": dt.datetime.now().isoformat(timespec="seconds"),
                    },
                    f,
                )
            return self
        raise LockedError(
            f"could not take the lock {self.path} — delete it if no report is running"
        )

    def release(self) -> None:
        if self.inherited:
            return
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if owner.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
