"""The request path's Redis calls, coalesced: every request needs the rules version (has anyone
changed the rules? ``RulesWatch`` mostly answers that without a call) and one journal append.
Under load many requests wait at once, so each flush
sends everything queued when it starts as one pipeline, one round trip for all of them.

Still exact: a request's version is read by a GET sent after the request asked, and its journal
entry is appended before its response's last byte is sent; entries keep their queue order.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from mock_server.state import redis_scripts as lua
from mock_server.state.redis_watch import RulesWatch

__all__ = ["RequestPath"]

Guard = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


class RequestPath:
    """Bound to one event loop (an asyncio Redis client cannot change loops)."""

    def __init__(self, url: str, timeouts: dict[str, Any], guard: Guard, journal_bounds: tuple[int, int],
                 changes: str) -> None:
        self.loop = asyncio.get_running_loop()
        self._watch = RulesWatch(url, timeouts, changes)
        self._known: int | None = None  # the version the watch vouches for
        self.client = aioredis.Redis.from_url(url, **timeouts)
        self.fire = self.client.register_script(lua.FIRE)
        self._guard, self._bounds = guard, journal_bounds  # entries, bytes
        self._versions: list[asyncio.Future[int]] = []
        self._entries: list[tuple[str, asyncio.Future[int]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def version(self) -> int:
        if self._known is not None and self._watch.quiet():
            return self._known
        self._known = None
        self._watch.subscribe()  # before the read, so that no change slips in between
        future: asyncio.Future[int] = self.loop.create_future()
        self._versions.append(future)
        self._start()
        version = await future
        if self._watch.quiet():  # nothing announced while the read was on its way
            self._known = version
        return version

    async def append(self, text: str) -> int:
        future: asyncio.Future[int] = self.loop.create_future()
        self._entries.append((text, future))
        self._start()
        return await future

    def close(self) -> None:
        """Its event loop has gone (another took over): stop watching."""
        self._watch.close()

    def _start(self) -> None:
        if self._drainer is None:
            self._drainer = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._versions or self._entries:
                versions, self._versions = self._versions, []
                entries, self._entries = self._entries, []
                texts = [text for text, _ in entries]
                flush = functools.partial(self._flush, bool(versions), texts)
                try:
                    version, first = await self._guard(flush)
                except Exception as exc:  # an outage (StateUnavailable) or a bug: every waiter hears, none hangs
                    for future in [*versions, *(future for _, future in entries)]:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for future in versions:
                    if not future.done():
                        future.set_result(version)
                for offset, (_, future) in enumerate(entries):
                    if not future.done():
                        future.set_result(first + offset)
        finally:
            self._drainer = None

    async def _flush(self, want_version: bool, texts: list[str]) -> tuple[int, int]:
        pipe = self.client.pipeline(transaction=False)
        if want_version:
            pipe.get(lua.RULES_VERSION)
        if texts:
            pipe.eval(lua.APPEND, len(lua.JOURNAL_KEYS), *lua.JOURNAL_KEYS, *self._bounds, *texts)
        results = list(await pipe.execute())
        version = int(results.pop(0) or 0) if want_version else 0
        return version, int(results[0]) if texts else 0
