"""Helpers shared by test modules: local server ports, the Chromium binary and its flags,
and the folder where screenshots are kept."""

from __future__ import annotations

import socket
import subprocess
import time

from loyalty_roi.paths import PROJ_ROOT

ARTIFACTS = PROJ_ROOT / "test-artifacts"  # screenshots kept for a person to look at
CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium; Playwright's own download does not work here
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Wait until the server ``proc`` started listens on ``port``; raise if it exits or times out."""
    end = time.time() + timeout
    name = " ".join(str(a) for a in proc.args[:2]) if isinstance(proc.args, list) else proc.args
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{name} did not listen on port {port} within {timeout:.0f} s")
