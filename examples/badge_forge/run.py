#!/usr/bin/env python3
"""badge_forge end to end: Elixir enqueues badges, Python renders them, Elixir prints them.

1. Create a throw-away database on the server ``--dsn`` names and migrate it
   (``bridge.migrate``: the tables Elixir's ``Oban.Migration`` would make).
2. Start a Python ``Node`` for queue ``badges`` (worker ``badge_forge.generator.GenerateBadge``).
3. Start the Elixir app (``mix badge_forge`` in ``--elixir DIR``): it enqueues ``--count``
   badge jobs for the Python worker and serves queue ``print`` (``BadgeForge.PrintWorker``).
4. Wait (``AsyncClient.wait``) for each badge job, read the print job's id from its recorded
   value, wait for that print job and show what Elixir recorded.
5. Stop both sides, drop the database (unless ``--keep``); exit 0 when every badge was
   rendered and printed, 1 otherwise.

    python examples/badge_forge/run.py --elixir /path/to/compiled/badge_forge/elixir
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import bridge

HERE = Path(__file__).resolve().parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
STARTUP_TIMEOUT = 240.0  # a cold start compiles Oban and its dependencies


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL", DEFAULT_SERVER),
        help="PostgreSQL server to create the example's database on "
        f"(default: $DATABASE_URL, else {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--elixir",
        default=os.environ.get("BADGE_FORGE_ELIXIR", str(HERE / "elixir")),
        help="the badge_forge Mix project, with Oban available "
        "(default: $BADGE_FORGE_ELIXIR, else examples/badge_forge/elixir)",
    )
    parser.add_argument("--count", type=int, default=3, help="badges to forge (default: 3)")
    parser.add_argument("--out", help="directory for the SVG files (default: a temporary one)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each job (default: 60)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    return parser.parse_args(argv)


def ecto_url(dsn: str) -> str:
    """``DATABASE_URL`` for Ecto: ``postgres://user[:password]@host[:port]/dbname``."""
    params = conninfo_to_dict(dsn)
    auth = quote(str(params.get("user") or "postgres"), safe="")
    if params.get("password"):
        auth += ":" + quote(str(params["password"]), safe="")
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or "5432"
    dbname = quote(str(params.get("dbname") or "postgres"), safe="")
    return f"postgres://{auth}@{host}:{port}/{dbname}"


@contextlib.contextmanager
def throwaway_database(server: str, keep: bool) -> Iterator[str]:
    """A new database on ``server`` (its DSN), dropped afterwards unless ``keep``."""
    name = f"badge_forge_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(server, dbname=name)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


class ElixirApp:
    """``mix badge_forge`` as a subprocess: JSON lines on stdout, logs into a file."""

    def __init__(self, directory: Path, dsn: str, count: int, timeout: float):
        self.log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if k != "MIX_ENV"}  # its default (dev) build
        env["DATABASE_URL"] = ecto_url(dsn)
        self.proc = subprocess.Popen(
            ["mix", "badge_forge", "--count", str(count), "--timeout", str(int(timeout) + 60)],
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def read(self, timeout: float) -> dict[str, Any]:
        try:
            message = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"nothing from the Elixir app within {timeout:.0f} s") from None
        if message is None:
            raise RuntimeError(f"the Elixir app exited ({self.proc.wait()})")
        return message

    def log_tail(self, lines: int = 20) -> str:
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip()
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int:
        """Close stdin (Oban shuts down gracefully); kill after 30 s."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def load_generator() -> ModuleType:
    """The Python worker's module, importable from this directory."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module("badge_forge.generator")


def show_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


async def forge(args: argparse.Namespace, dsn: str, out_dir: Path) -> bool:
    generator = load_generator()
    client = bridge.Client(dsn)
    generator.configure(out_dir, client)
    node = bridge.Node(dsn, queues={"badges": 2}, node="badge-forge-python")
    await node.start()
    print(f"python: node {node.name} serving queue badges ({generator.GenerateBadge.name})")
    ok = True
    try:
        elixir = ElixirApp(Path(args.elixir), dsn, args.count, args.timeout)
    except BaseException:
        await node.stop()
        client.close()
        raise
    try:
        hello = await asyncio.to_thread(elixir.read, STARTUP_TIMEOUT)
        badge_ids: list[int] = hello["enqueued"]
        print(
            f"elixir: Oban {hello['oban_version']} on Elixir {hello['elixir']} (OTP {hello['otp']})"
            f" enqueued badge jobs {badge_ids}"
        )
        async with bridge.AsyncClient(dsn) as aclient:
            for badge_id in badge_ids:
                badge = await aclient.wait(badge_id, timeout=args.timeout)
                number, name = badge.job.args.get("badge_id"), badge.job.args.get("name")
                print(f"\nbadge #{number} for {name} (job {badge_id}): ", end="")
                print(f"{badge.job.worker} {badge.state.value}")
                if not (badge.completed and badge.recorded):
                    print(f"  errors: {badge.job.errors}")
                    ok = False
                    continue
                rendered = badge.value
                print(f"  python rendered {rendered['path']} ({rendered['bytes']} bytes)")
                printed = await aclient.wait(rendered["print_job_id"], timeout=args.timeout)
                print(f"  print job {printed.job.id} ({printed.job.worker}): {printed.state.value}")
                if not (printed.completed and printed.recorded):
                    print(f"  errors: {printed.job.errors}")
                    ok = False
                    continue
                print(f"  elixir recorded: {show_value(printed.value)}")
                if printed.value.get("sha256") != rendered["sha256"]:
                    print("  the checksums differ")
                    ok = False
        # What Elixir read back from the Python worker's Record (binary_to_term, [:safe]).
        seen: dict[int, dict[str, Any]] = {}
        while len(seen) < len(badge_ids):
            message = await asyncio.to_thread(elixir.read, args.timeout)
            if "badge_job" in message:
                seen[message["badge_job"]] = message
        print("\nelixir read back what the Python worker recorded (binary_to_term, [:safe]):")
        for badge_id in badge_ids:
            recorded = seen[badge_id].get("recorded")
            print(f"  job {badge_id}: {recorded}")
            ok = ok and recorded is not None and "print_job_id" in recorded
    except Exception as exc:
        print(f"\nfailed: {type(exc).__name__}: {exc}")
        ok = False
    finally:
        rc = elixir.stop()
        await node.stop()
        client.close()
    print(f"\nelixir app exited with status {rc}")
    ok = ok and rc == 0
    if not ok:
        print(f"elixir log (tail):\n{elixir.log_tail()}")
    elixir.log.close()
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (Path(args.elixir) / "mix.exs").is_file():
        print(f"no Mix project in {args.elixir} (--elixir DIR or $BADGE_FORGE_ELIXIR)")
        return 1
    if shutil.which("mix") is None:
        print("`mix` is not on PATH: the Elixir side needs Elixir with Oban (see README.md)")
        return 1
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.out:
            out_dir = Path(args.out)
        elif args.keep:
            out_dir = Path(tempfile.mkdtemp(prefix="badge_forge-"))
        else:
            out_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="badge_forge-")))
        dsn = stack.enter_context(throwaway_database(args.dsn, args.keep))
        print(bridge.migrate(dsn).describe())
        ok = asyncio.run(forge(args, dsn, out_dir))
        files = sorted(p.name for p in out_dir.glob("*.svg"))
        print(f"badge files in {out_dir}: {', '.join(files) or 'none'}")
    verdict = "ok" if ok else "FAILED"
    print(f"badge_forge: {verdict} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
