"""Database operations, each written once as a generator (pure: no psycopg, no I/O).

An operation yields :class:`Statement` values and receives the rows each one
returned; its ``return`` value is the operation's result. ``bridge.pg`` drives
the same generator over a sync or an async psycopg connection, so the
transaction logic of, say, a unique insert exists exactly once.
"""

from bridge.ops._types import Op, Rows, Statement

__all__ = ["Op", "Rows", "Statement"]
