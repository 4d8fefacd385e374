"""Test helpers mirroring Elixir's ``Oban.Testing``, and a pytest plugin (``pytest_plugin``).

Assertions on enqueued jobs run over a ``Client``, a DSN, or your own psycopg connection
(then they see your transaction's uncommitted rows). ``perform_job`` runs one worker through
the node's executor and outcome rules without a database; ``drain_queue`` runs a queue's jobs
in this process against the real rows and writes the real acks. No node is started.

    from bridge.testing import assert_enqueued, perform_job

    def test_signup(oban_bridge_client):
        signup(oban_bridge_client, "a@b.c")
        assert_enqueued(oban_bridge_client, worker=send_welcome, args={"email": "a@b.c"})
        assert perform_job(send_welcome, {"email": "a@b.c"}).state == "completed"
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.testing._drain import DRAIN_KEYS, drain_queue
    from bridge.testing._enqueued import (
        all_enqueued,
        all_enqueued_async,
        assert_enqueued,
        assert_enqueued_async,
        refute_enqueued,
        refute_enqueued_async,
    )
    from bridge.testing._match import ANY
    from bridge.testing._perform import Performed, build_job, perform_job

#: loaded on first use, so the pytest plugin (this package's ``pytest_plugin``) costs a
#: project nothing — no psycopg, no runtime — until a test asks for a helper
_LAZY = {
    "all_enqueued": "_enqueued",
    "assert_enqueued": "_enqueued",
    "refute_enqueued": "_enqueued",
    "all_enqueued_async": "_enqueued",
    "assert_enqueued_async": "_enqueued",
    "refute_enqueued_async": "_enqueued",
    "ANY": "_match",
    "DRAIN_KEYS": "_drain",
    "Performed": "_perform",
    "build_job": "_perform",
    "drain_queue": "_drain",
    "perform_job": "_perform",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bridge.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"bridge.testing.{module}"), name)


__all__ = [
    "ANY",
    "DRAIN_KEYS",
    "Performed",
    "all_enqueued",
    "all_enqueued_async",
    "assert_enqueued",
    "assert_enqueued_async",
    "build_job",
    "drain_queue",
    "perform_job",
    "refute_enqueued",
    "refute_enqueued_async",
]
