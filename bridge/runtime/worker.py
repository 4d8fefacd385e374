"""``@worker``: a Python function or class that runs jobs for a worker name.

The name is the string in ``oban_jobs.worker`` — an Elixir module name such as
``"badge_forge.generator.GenerateBadge"`` when Elixir enqueues for Python, or by default
``"module.qualname"``. Options mirror ``use Oban.Worker``. Registered workers are what a
node runs; their names are what its producers fetch (``worker = ANY(...)``).
"""

from __future__ import annotations

import inspect as pyinspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from bridge.errors import ConfigError, ValidationError
from bridge.wire.cron import cast_entry
from bridge.wire.job import DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, Job, new_job
from bridge.wire.unique import UniqueOption

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from bridge.pg.client import Client
    from bridge.pg.client_async import AsyncClient
    from bridge.wire.job import JobOptions

Executor = Literal["async", "thread", "process"]
EXECUTORS: tuple[Executor, ...] = ("async", "thread", "process")
F = TypeVar("F")


@dataclass
class Worker:
    """A registered worker: the callable, its name and its ``use Oban.Worker`` options."""

    name: str
    perform: Callable[[Job], Any]
    executor: Executor
    queue: str = DEFAULT_QUEUE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    priority: int | None = None
    tags: tuple[str, ...] = ()
    unique: UniqueOption = None
    timeout: float | Callable[[Job], float | None] | None = None
    backoff: Callable[[Job], int] | None = None
    recorded: bool = False
    #: module and qualname, so a child process can import the same callable
    target: tuple[str, str] = ("", "")
    defaults: dict[str, Any] = field(default_factory=dict)
    #: a cron expression: the node's leader inserts a job for this worker on that schedule
    cron: str | None = None

    def timeout_for(self, job: Job) -> float | None:
        """Seconds this job may run (None: no limit), as ``Oban.Worker.timeout/1``."""
        value = self.timeout(job) if callable(self.timeout) else self.timeout
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValidationError("timeout", f"must be a positive number of seconds, got {value!r}")
        return float(value)

    def new(self, args: Mapping[str, Any] | None = None, **options: Unpack[JobOptions]) -> Any:
        """``Job.new`` with this worker's name and defaults (options override them)."""
        merged: dict[str, Any] = {**self.defaults, **options}
        return new_job(self.name, args, **merged)

    def enqueue(
        self,
        args: Mapping[str, Any] | None = None,
        *,
        client: Client | None = None,
        **options: Unpack[JobOptions],
    ) -> Job:
        """Insert a job for this worker through ``client`` (or ``default_client()``)."""
        target = client or _default_client()
        return target.insert(self.new(args, **options))

    async def enqueue_async(
        self,
        args: Mapping[str, Any] | None = None,
        *,
        client: AsyncClient,
        **options: Unpack[JobOptions],
    ) -> Job:
        """Async twin of :meth:`enqueue` (an ``AsyncClient`` is required)."""
        return await client.insert(self.new(args, **options))

    def __call__(self, job: Job) -> Any:
        return self.perform(job)


class Registry:
    """Worker name → :class:`Worker`. One process-wide instance, ``REGISTRY``."""

    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}
        self._lock = threading.Lock()

    def add(self, worker: Worker) -> None:
        with self._lock:
            existing = self._workers.get(worker.name)
            if existing is not None and existing.target != worker.target:
                raise ConfigError(
                    f"worker name {worker.name!r} is already registered by "
                    f"{'.'.join(existing.target)}"
                )
            self._workers[worker.name] = worker

    def get(self, name: str) -> Worker | None:
        return self._workers.get(name)

    def names(self) -> list[str]:
        return sorted(self._workers)

    def for_queue(self, queue: str) -> list[Worker]:
        return [w for w in self._workers.values() if w.queue == queue]

    def all(self) -> list[Worker]:
        return list(self._workers.values())


REGISTRY = Registry()
_CLIENT: list[Client] = []


def set_default_client(client: Client) -> None:
    """The client ``Worker.enqueue`` uses when none is passed."""
    _CLIENT[:] = [client]


def _default_client() -> Client:
    if not _CLIENT:
        raise ConfigError(
            "Worker.enqueue needs a client: pass client=Client(...) or call "
            "bridge.set_default_client(...) once at start-up"
        )
    return _CLIENT[0]


def _resolve(target: Any) -> tuple[Callable[[Job], Any], bool, tuple[str, str]]:
    """The callable to run, whether it is a coroutine function, and where it lives."""
    where = (getattr(target, "__module__", ""), getattr(target, "__qualname__", ""))
    if isinstance(target, type):
        instance = target()
        process = getattr(instance, "process", None)
        if process is None:
            raise ConfigError(f"worker class {target.__qualname__} has no process(self, job)")
        return process, pyinspect.iscoroutinefunction(process), where
    if not callable(target):
        raise ConfigError(f"@worker needs a function or a class, got {target!r}")
    return target, pyinspect.iscoroutinefunction(target), where


def _check(name: Any, queue: Any, executor: Any, max_attempts: Any) -> None:
    if not isinstance(name, str) or not 0 < len(name) < 128:
        raise ValidationError("worker", f"must be a string of 1..127 characters, got {name!r}")
    if not isinstance(queue, str) or not 0 < len(queue) < 128:
        raise ValidationError("queue", f"must be a string of 1..127 characters, got {queue!r}")
    if executor not in (None, *EXECUTORS):
        raise ValidationError("executor", f"must be one of {EXECUTORS}, got {executor!r}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValidationError("max_attempts", f"must be an integer >= 1, got {max_attempts!r}")


@overload
def worker(name: F, /) -> F: ...


@overload
def worker(
    name: str | None = None,
    /,
    *,
    queue: str = DEFAULT_QUEUE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: int | None = None,
    tags: tuple[str, ...] | list[str] = (),
    unique: UniqueOption = None,
    timeout: float | Callable[[Job], float | None] | None = None,
    backoff: Callable[[Job], int] | None = None,
    recorded: bool = False,
    executor: Executor | None = None,
    cron: str | None = None,
    registry: Registry | None = None,
) -> Callable[[F], Worker]: ...


def worker(
    name: Any = None,
    /,
    *,
    queue: str = DEFAULT_QUEUE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: int | None = None,
    tags: tuple[str, ...] | list[str] = (),
    unique: UniqueOption = None,
    timeout: float | Callable[[Job], float | None] | None = None,
    backoff: Callable[[Job], int] | None = None,
    recorded: bool = False,
    executor: Executor | None = None,
    cron: str | None = None,
    registry: Registry | None = None,
) -> Any:
    """Register a function (or a class with ``process(self, job)``) as a worker.

    ``async def`` runs on the node's event loop; a plain ``def`` runs in a thread pool
    (``executor="process"``: a process pool, for CPU-bound work). The result decides the
    row: see ``bridge.wire.outcome``. ``cron="*/5 * * * *"`` adds a crontab entry (args
    ``{}``) that a node serving this worker inserts while it leads.
    """
    if callable(name) and not isinstance(name, str):
        return worker()(name)

    def register(target: Any) -> Worker:
        perform, is_async, where = _resolve(target)
        chosen: Executor = executor or ("async" if is_async else "thread")
        full = name if name is not None else f"{where[0]}.{where[1]}"
        _check(full, queue, chosen, max_attempts)
        if chosen == "async" and not is_async:
            raise ConfigError(f"{full}: executor='async' needs an async def")
        if chosen != "async" and is_async:
            raise ConfigError(f"{full}: an async def runs on the loop (executor='async')")
        defaults: dict[str, Any] = {"queue": queue, "max_attempts": max_attempts}
        for key, value in (("priority", priority), ("unique", unique)):
            if value is not None:
                defaults[key] = value
        if tags:
            defaults["tags"] = list(tags)
        new_job(full, {}, **defaults)  # the defaults must pass Job.new's rules now
        if cron is not None:
            cast_entry((cron, full))  # a bad expression fails at import, naming the entry
        spec = Worker(
            full, perform, chosen, queue, max_attempts, priority, tuple(tags), unique,
            timeout, backoff, recorded, where, defaults, cron,
        )  # fmt: skip
        (registry or REGISTRY).add(spec)
        return spec

    return register
