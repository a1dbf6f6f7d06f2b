"""Report runs that never collide and never show a half-written report.

**Locks.** ``reports/.locks/YYYY-MM.lock`` is created atomically (``O_EXCL``)
and holds the owner's PID.  A second run for the same month refuses with a
clear message; a lock whose process no longer exists (a run killed with
``kill -9``) is stale and replaced.  The same class locks the processed-data
folder that every run of one configuration shares.

**Publishing.** A run builds ``reports/.staging-p<pid>-*/YYYY-MM/`` and swaps it
with ``reports/YYYY-MM/`` in one ``renameat2(RENAME_EXCHANGE)`` call (Linux ≥
3.15): a reader sees either the old report or the new one, never a mix and
never nothing.  Where the kernel or file system cannot exchange, two
``os.replace`` calls are used (a window of microseconds without the folder,
never a half report).  Staging folders of dead runs are removed once, by the
command line before it takes its locks (:func:`remove_stale_staging`).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import json
import os
import re
import shutil
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
        """Take the lock, or raise :class:`LockedError` naming the live holder."""
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
                # a killed run: take over (its staging folders go with remove_stale_staging)
                self.stale_removed = owner
                self.path.unlink(missing_ok=True)
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
        """Give the lock up (only when this process holds it)."""
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


# publishing
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_STAGING_RE = re.compile(r"^\.staging-p(\d+)-")


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; ``False`` when the platform cannot."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def publish(staged: Path, target: Path) -> None:
    """Make ``staged`` the report at ``target``; earlier failure records in ``_failed/`` are kept."""
    if target.exists():
        keep_failed = target / "_failed"
        if keep_failed.exists():
            shutil.copytree(keep_failed, staged / "_failed")
        if exchange(staged, target):
            shutil.rmtree(staged, ignore_errors=True)  # now holds the previous report
            return
        old = staged.with_name(staged.name + ".old")
        os.replace(target, old)
        os.replace(staged, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, target)


def staging_prefix() -> str:
    """Prefix of this process's staging folders (holds the PID for stale detection)."""
    return f".staging-p{os.getpid()}-"


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Delete staging folders of runs whose process is gone (``kill -9``, power cut)."""
    removed = []
    for d in Path(out_dir).glob(".staging-*"):
        m = _STAGING_RE.match(d.name)
        if m is None or not pid_alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed
