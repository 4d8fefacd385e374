"""``status --watch`` in a real terminal (a pty): it redraws in place and Ctrl-C exits 0."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.pg


def _read(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return out


def test_watch_redraws_in_place_and_ctrl_c_exits_0(dsn: str) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "status", "--dsn", dsn, "--watch", "--interval", "0.3"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        screen = _read(master, 3.0)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        assert proc.wait(timeout=10) == 0
        screen += _read(master, 0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = screen.decode(errors="replace")
    assert text.count("Ctrl-C to quit") >= 3, text  # one frame per refresh
    assert "\x1b[2K" in text or "\x1b[1A" in text, "no cursor movement: not redrawn in place"
    assert "listening for" in text and "Traceback" not in text
