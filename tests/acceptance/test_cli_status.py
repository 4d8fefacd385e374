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

FOOTER = b"Ctrl-C to quit"  # the last line of every frame


def _read(fd: int, seconds: float, *, frames: int = 0) -> bytes:
    """What the terminal shows within ``seconds``, or as soon as ``frames`` frames came."""
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not frames or out.count(FOOTER) < frames):
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
        # as from a terminal: a job started with `&` by a script (CI's PostgreSQL 18 tier)
        # inherits SIGINT ignored, and Python then never turns Ctrl-C into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    try:
        screen = _read(master, 60.0, frames=3)  # start-up is slow on a loaded machine
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            screen += _read(master, 0.2)  # keep draining: a full pty would block its last frame
        assert proc.poll() == 0, f"exit {proc.returncode}: {screen[-400:]!r}"
        screen += _read(master, 0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = screen.decode(errors="replace")
    assert text.count(FOOTER.decode()) >= 3, text  # one frame per refresh
    assert "\x1b[2K" in text or "\x1b[1A" in text, "no cursor movement: not redrawn in place"
    assert "listening for" in text and "Traceback" not in text
