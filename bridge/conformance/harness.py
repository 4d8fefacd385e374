"""A live Elixir Oban, driven over the harness's JSON-lines protocol (conformance/elixir).

The harness is a Mix project; the machine supplies Oban (``mix deps.get`` on a
normal machine). We start ``mix bridge_harness`` in the harness directory with
``DATABASE_URL`` set, read its ``ready`` line, then send one command per line
and read exactly one reply per command. stderr (compile output, logs) goes to
a file so a failure can show its tail.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 180.0  # a cold start compiles Oban and its dependencies
COMMAND_TIMEOUT = 60.0


class HarnessError(Exception):
    """The harness could not be started, died, or answered a command with an error."""


class Harness:
    """One running harness process bound to one database."""

    def __init__(self, directory: Path, dsn: str, *, command: list[str] | None = None):
        self.directory = directory
        self._stderr = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 - closed in close()
        env = harness_env()
        env["DATABASE_URL"] = _ecto_url(dsn)
        self._proc = subprocess.Popen(
            command or ["mix", "bridge_harness"],
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._next_id = 0
        ready = self._read(STARTUP_TIMEOUT)
        if not ready.get("ready"):
            raise HarnessError(f"unexpected first line from the harness: {ready!r}")
        self.oban_version: str = ready["oban_version"]
        self.elixir_version: str = ready["elixir"]
        self.otp_version: str = ready["otp"]

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith("{"):
                self._lines.put(line)
        self._lines.put(None)

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError(f"no answer from the harness within {timeout:.0f} s") from None
        if line is None:
            raise HarnessError(f"the harness exited ({self._proc.poll()}): {self.stderr_tail()}")
        value: dict[str, Any] = json.loads(line)
        return value

    def call(self, cmd: str, timeout: float = COMMAND_TIMEOUT, **args: Any) -> Any:
        """Send one command and return its result, or raise ``HarnessError``."""
        self._next_id += 1
        request = {"id": self._next_id, "cmd": cmd, **args}
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise HarnessError(f"the harness is gone: {self.stderr_tail()}") from None
        reply = self._read(timeout)
        if reply.get("id") != self._next_id:
            raise HarnessError(f"out-of-order reply {reply!r} to {request!r}")
        if not reply.get("ok"):
            raise HarnessError(str(reply.get("error")))
        return reply.get("result")

    def stderr_tail(self, lines: int = 15) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def close(self) -> None:
        """EOF stops Oban cleanly; kill after a grace period."""
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ecto_url(dsn: str) -> str:
    """The harness parses ``postgres://user[:password]@host[:port]/db`` URLs only."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    auth = str(params.get("user") or "postgres")
    if params.get("password"):
        auth += f":{params['password']}"
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or "5432"
    return f"postgres://{auth}@{host}:{port}/{params.get('dbname', 'postgres')}"


def harness_env() -> dict[str, str]:
    """The environment without a stray ``MIX_ENV``; ``BRIDGE_HARNESS_MIX_ENV=prod`` picks the
    Mix env on purpose (the throughput benchmark compares against a prod build)."""
    env = {k: v for k, v in os.environ.items() if k != "MIX_ENV"}
    wanted = os.environ.get("BRIDGE_HARNESS_MIX_ENV")
    if wanted:
        env["MIX_ENV"] = wanted
    return env


def compile_harness(directory: Path) -> None:
    """Compile once up front so scenario start-ups are warm (and errors surface early)."""
    proc = subprocess.run(
        ["mix", "compile"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=900,
        env=harness_env(),
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise HarnessError(f"`mix compile` failed in {directory}:\n{tail}")
