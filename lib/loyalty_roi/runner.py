"""Execute the workbook's notebooks headlessly with papermill.

All headless runs go through :func:`run_notebook` so they share the kernel,
the execution timeout (widget notebooks can hang without one) and the IPC
kernel transport (local sockets instead of unencrypted TCP ports).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from .paths import NOTEBOOKS_DIR, PROJ_ROOT

KERNEL_NAME = "loyalty-roi"
DEFAULT_TIMEOUT = 900  # seconds per cell


class IPCKernelManager(AsyncKernelManager):
    """Kernel manager that talks to the kernel over IPC sockets, not TCP.

    The sockets live in a private temporary folder per kernel.  jupyter_client's
    default (``kernel-ipc-N`` in the working directory) picks the first free
    ``N`` by looking for files, so two runs started side by side from the same
    folder could pick the same sockets and talk to each other's kernel.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        if kwargs["transport"] == "ipc" and "ip" not in kwargs:
            self._socket_dir = tempfile.mkdtemp(prefix="loyalty-roi-kernel-")
            kwargs["ip"] = str(Path(self._socket_dir) / "kernel")
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_socket_dir", None):
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]


def release_memory() -> None:
    """Close every figure, collect garbage and hand freed pages back to the system.

    Run in a shared kernel between two notebooks (after ``%reset -f``), so the
    next notebook starts small, as in a fresh kernel.
    """
    import ctypes
    import gc

    import matplotlib.pyplot as plt

    from .memory import release_arrow_memory

    plt.close("all")
    gc.collect()
    release_arrow_memory()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing more to hand back
        pass


# between two notebooks in a shared kernel: an empty namespace, with the imports kept
_RESET = "%reset -f\nfrom loyalty_roi.runner import release_memory\nrelease_memory()\ndel release_memory\n"


class KernelSession:
    """One kernel that runs several notebooks in turn (every notebook of a report run).

    Starting a kernel and importing pandas, matplotlib, the engine and PyMC costs
    seconds per notebook; a run pays it once, for ingest and every month's
    notebooks 02–04.  Between notebooks the namespace is reset (``%reset -f``),
    figures are closed and freed memory is returned (:func:`release_memory`), so
    each notebook still starts from nothing of the previous one: it stays
    runnable on its own in JupyterLab, and the tests run each notebook in a fresh
    kernel as well.
    """

    def __init__(self, kernel_name: str = KERNEL_NAME) -> None:
        self.kernel_name = kernel_name
        self.km: IPCKernelManager | None = None
        self.used = False

    def manager(self, startup_timeout: int = 60) -> IPCKernelManager:
        """The started kernel's manager, reset for the next notebook when it has run one."""
        from jupyter_core.utils import run_sync

        if self.km is None or not run_sync(self.km.is_alive)():
            self.close()
            self.km = IPCKernelManager(kernel_name=self.kernel_name)
            run_sync(self.km.start_kernel)(cwd=str(PROJ_ROOT))
            self.used = False
        elif self.used:
            self.reset(startup_timeout)
        self.used = True
        return self.km

    def reset(self, timeout: int = 60) -> None:
        """Empty the namespace of the last notebook and hand its memory back, now.

        Called before the next notebook, and by a run once a month's notebooks
        are done, so the report files (and Chromium's PDF) are built beside a
        small kernel, not beside the last notebook's panel.
        """
        if self.km is None or not self.used:
            return
        kc = self.km.blocking_client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=timeout)
            reply = kc.execute_interactive(_RESET, timeout=timeout, store_history=False)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel could not be reset: {reply['content']}")
        finally:
            kc.stop_channels()
        self.used = False

    def close(self) -> None:
        """Shut the kernel down (idempotent)."""
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone: nothing to stop
                pass
            self.km = None

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def notebook_path(name: str) -> Path:
    """Path of a workbook notebook by file name (``01_ingest_data.ipynb``)."""
    return NOTEBOOKS_DIR / name


def run_notebook(
    src: str | Path,
    dst: str | Path,
    parameters: dict[str, Any] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress_bar: bool = False,
    kernel_name: str = KERNEL_NAME,
    session: KernelSession | None = None,
    **kwargs: Any,
):
    """Execute ``src`` with papermill into ``dst``; raises ``PapermillExecutionError`` on failure.

    The working directory is the project root, so notebooks behave the same
    under JupyterLab, papermill, tests and the CLI.  With a :class:`KernelSession`
    the notebook runs in the session's kernel (reset first) instead of a new one.
    """
    import papermill as pm

    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    if session is not None:
        kwargs["km"] = session.manager()
    return pm.execute_notebook(
        str(src),
        str(dst),
        parameters=parameters or {},
        kernel_name=kernel_name,
        execution_timeout=timeout,
        progress_bar=progress_bar,
        cwd=str(PROJ_ROOT),
        kernel_manager_class="loyalty_roi.runner.IPCKernelManager",
        **kwargs,
    )
