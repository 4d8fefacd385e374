"""Decode, scope and dispatch what the listener hears. Nothing on the wire can crash it.

Every payload form Oban sends is read (plain JSON, ``Z:``-gzip, legacy gzip); anything
else — non-JSON, bad base64 or gzip, a JSON array, wrong types, unknown actions — is
counted in ``rejected`` and logged (at most ``LOG_BURST`` lines a minute, so a flood of
garbage cannot flood the log), and the notifier goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bridge.errors import BridgeError, DecodeError
from bridge.wire.notify import decode_payload

log = logging.getLogger("bridge.notifier")

Handler = Callable[[dict[str, Any]], None]
#: the channels a node LISTENs on (lib/oban/notifier.ex listeners: producers on insert and
#: signal, the peer on leader, Sonar on sonar); gossip is sent, not read (see runtime/gossip.py)
LISTENED = ("insert", "signal", "leader", "sonar")
LOG_BURST = 20  # rejections logged per minute; the rest are only counted


class Notifier:
    def __init__(self, ident: str, handlers: Mapping[str, Handler]):
        self.ident = ident
        self.handlers = dict(handlers)
        self.received = 0
        self.rejected = 0
        self._window = (0.0, 0)  # (minute started, lines logged in it)

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
        except (BridgeError, KeyError, TypeError, ValueError) as exc:
            self._reject(channel, payload, str(exc) or repr(exc))
        except Exception as exc:  # a handler bug: still never the listener's end
            log.exception("notification handler failed on %s", channel)
            self._reject(channel, payload, repr(exc))

    def _reject(self, channel: str, payload: str, why: str) -> None:
        self.rejected += 1
        now = time.monotonic()
        started, logged = self._window
        if now - started >= 60:
            if logged > LOG_BURST:
                log.warning("%d more bad notifications were not logged", logged - LOG_BURST)
            started, logged = now, 0
        self._window = (started, logged + 1)
        if logged < LOG_BURST:
            log.warning("ignored a notification on %s (%s): %.120r", channel, why, payload)
