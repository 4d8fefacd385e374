"""Decode, scope and dispatch what the listener hears. Nothing on the wire can crash it.

Every payload form Oban sends is read (plain JSON, ``Z:``-gzip, legacy gzip); anything
else — non-JSON, bad base64 or gzip, a JSON array, wrong types, unknown actions — is
counted and logged, and the notifier goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bridge.errors import DecodeError
from bridge.wire.notify import decode_payload

log = logging.getLogger("bridge.notifier")

Handler = Callable[[dict[str, Any]], None]
LISTENED = ("insert", "signal", "leader")


class Notifier:
    def __init__(self, ident: str, handlers: Mapping[str, Handler]):
        self.ident = ident
        self.handlers = dict(handlers)
        self.received = 0
        self.rejected = 0

    def in_scope(self, message: dict[str, Any]) -> bool:
        # mirrors lib/oban/notifier.ex in_scope?/2: no ident, "any", or exactly our ident
        ident = message.get("ident", "any")
        return bool(ident == "any" or ident == self.ident)

    def deliver(self, channel: str, payload: str) -> None:
        self.received += 1
        try:
            message = decode_payload(payload)
        except DecodeError as exc:
            self._reject(channel, payload, str(exc))
            return
        if not self.in_scope(message):
            return
        handler = self.handlers.get(channel)
        if handler is None:
            return
        try:
            handler(message)
        except (KeyError, TypeError, ValueError) as exc:
            self._reject(channel, payload, f"unexpected shape: {exc!r}")

    def _reject(self, channel: str, payload: str, why: str) -> None:
        self.rejected += 1
        log.warning("ignored a notification on %s (%s): %.120r", channel, why, payload)
