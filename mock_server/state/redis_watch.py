"""Knowing that the rules did not change, without asking Redis on every request.

The scripts that change rules publish the new version on a channel. A process subscribes once; on
each request it looks, without waiting, whether anything arrived on that connection (one ``poll``
system call). Redis writes the announcement to every subscriber in the same pass as the reply to
the change, so it is in this machine's socket before the admin caller even has its answer, let alone
sends the next request: the next request everywhere sees the change. Any doubt (not subscribed yet,
the connection broke) means asking Redis, as without the watch.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import redis
from redis.client import PubSub

__all__ = ["RulesWatch"]

_RETRY_SECONDS = 1.0


class RulesWatch:
    def __init__(self, url: str, timeouts: dict[str, Any], channel: str) -> None:
        self._url, self._timeouts, self._channel = url, timeouts, channel
        self._pubsub: PubSub | None = None
        self._next_try = 0.0

    def quiet(self) -> bool:
        """True when subscribed and nothing was announced since the last look."""
        if self._pubsub is None:
            return False
        changed = False
        try:
            while (message := self._pubsub.get_message(timeout=0.0)) is not None:
                changed = changed or message.get("type") == "message"
        except (redis.RedisError, OSError, ValueError):
            self.close()
            return False
        return not changed

    def subscribe(self) -> None:
        """Start watching (at most once a second after a failure); call before reading the version
        the watch will vouch for, so that no change can slip between the two."""
        if self._pubsub is not None or time.monotonic() < self._next_try:
            return
        self._next_try = time.monotonic() + _RETRY_SECONDS
        try:
            pubsub = redis.Redis.from_url(self._url, **self._timeouts).pubsub()
            pubsub.subscribe(self._channel)
            confirmed = pubsub.get_message(timeout=self._timeouts["socket_timeout"])
        except (redis.RedisError, OSError):
            return
        if confirmed is not None and confirmed.get("type") == "subscribe":
            self._pubsub = pubsub
        else:
            pubsub.close()

    def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self._pubsub.close()
            self._pubsub = None
