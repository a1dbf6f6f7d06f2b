"""Publishing a finished report folder without a moment in which it is missing or half written.

A run builds ``reports/.staging-p<pid>-*/YYYY-MM/`` and swaps it with
``reports/YYYY-MM/`` in one ``renameat2(RENAME_EXCHANGE)`` call (Linux ≥ 3.15):
a reader sees either the old report or the new one, never a mix and never
nothing.  Where the kernel or file system cannot exchange, two ``os.replace``
calls are used (a window of microseconds without the folder, never a half report).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from pathlib import Path

from .runlock import pid_alive

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
