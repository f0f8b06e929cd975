"""State shared by replicas on several machines: one Redis database (``--state redis://HOST:PORT/DB``).

Everything lives under the ``gemini-mock:`` prefix of the database named in the URL, so restarting a
replica loses nothing. Steps that must be atomic across replicas (journal id + append + trim, rule
firing with its draws, bounded collections) are Lua scripts, which Redis runs one at a time. The
probability draw in Lua is the same SHA-1 function of (seed, draw number) as ``store.draw``.

When Redis cannot be reached, calls raise ``StateUnavailable`` at once for a second (no connect
timeout on every request during an outage), then try again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import redis
from redis.exceptions import RedisError

from mock_server.state import redis_scripts as lua
from mock_server.state.redis_batch import RequestPath
from mock_server.state.store import STALE, Candidate, Fired, StateUnavailable, entry_text, give_id

__all__ = ["RedisFiles", "RedisStore"]

T = TypeVar("T")
# Any Redis trouble (gone, loading, read-only, out of memory) degrades the fake rather than failing
# requests; the warning in the log names the reason.
_OUTAGES = (RedisError, OSError)
_BACK_OFF_SECONDS = 1.0
_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}

class RedisStore:
    shared = True

    def __init__(self, url: str, journal_size: int = 1000, collection_limit: int = 1000,
                 journal_max_bytes: int = 16 * 1024 * 1024) -> None:
        self._url = url
        self._client = redis.Redis.from_url(url, **_TIMEOUTS)
        self._request_path: RequestPath | None = None
        options = self._client.connection_pool.connection_kwargs
        # The address names the database but never a password from the URL.
        database = options.get("db", 0)
        # Pub/sub channels are not per database: the name carries it.
        self.changes = f"{lua.PREFIX}rules:changed:{database}"
        if "path" in options:
            self.address = f"unix://{options['path']}?db={database}"
        else:
            self.address = f"redis://{options.get('host', 'localhost')}:{options.get('port', 6379)}/{database}"
        self._size = max(1, journal_size)
        self._max_bytes = max(1, journal_max_bytes)
        self._limit = max(1, collection_limit)
        self._down_until = 0.0
        script = self._client.register_script
        self._append, self._clear, self._replace = script(lua.APPEND), script(lua.CLEAR), script(lua.REPLACE)
        self._add, self._fire, self._put = script(lua.ADD), script(lua.FIRE), script(lua.PUT)
        self.rename_script = script(lua.RENAME)

    def call(self, action: Callable[[], T]) -> T:
        """Run one Redis step; an outage becomes ``StateUnavailable`` (and a second's back-off)."""
        if time.monotonic() < self._down_until:
            raise StateUnavailable(self.address, "not reachable a moment ago")
        try:
            return action()
        except _OUTAGES as exc:
            self._down_until = time.monotonic() + _BACK_OFF_SECONDS
            raise StateUnavailable(self.address, str(exc) or type(exc).__name__) from exc

    async def acall(self, action: Callable[[], Awaitable[T]]) -> T:
        """``call`` for the request path: waits on Redis without stalling the event loop."""
        if time.monotonic() < self._down_until:
            raise StateUnavailable(self.address, "not reachable a moment ago")
        try:
            return await action()
        except _OUTAGES as exc:
            self._down_until = time.monotonic() + _BACK_OFF_SECONDS
            raise StateUnavailable(self.address, str(exc) or type(exc).__name__) from exc

    def _path(self) -> RequestPath:
        """The request path of the running event loop."""
        path = self._request_path
        if path is None or path.loop is not asyncio.get_running_loop():
            if path is not None:
                path.close()
            path = self._request_path = RequestPath(self._url, _TIMEOUTS, self.acall, (self._size, self._max_bytes),
                                                         self.changes)
        return path

    async def journal_append_async(self, entry: Any) -> int:
        return give_id(entry, await self._path().append(entry_text(entry)))

    async def rules_version_async(self) -> int:
        return await self._path().version()

    async def fire_async(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        script = self._path().fire
        args = self._fire_args(version, candidates, seed)
        return self._fired(await self.acall(lambda: script(keys=lua.RULE_KEYS[1:4], args=args)))

    @property
    def client(self) -> redis.Redis:
        return self._client

    # journal
    def journal_append(self, entry: Any) -> int:
        args: list[int | str] = [self._size, self._max_bytes, entry_text(entry)]
        return give_id(entry, int(self.call(lambda: self._append(keys=lua.JOURNAL_KEYS, args=args))))

    def journal_entries(self) -> list[Any]:
        rows: list[Any] = self.call(lambda: list(self._client.lrange(lua.JOURNAL, 0, -1)))
        entries = []
        for row in rows:
            number, _, body = row.partition(b" ")
            entries.append(json.loads(body) | {"id": int(number)})
        return entries

    def journal_clear(self) -> int:
        return int(self.call(lambda: self._clear(keys=[lua.JOURNAL, lua.JOURNAL_BYTES])))

    # scenario rules
    def rules_version(self) -> int:
        return int(self.call(lambda: self._client.get(lua.RULES_VERSION)) or 0)

    def rules(self) -> tuple[int, list[Any]]:
        def read() -> list[Any]:
            pipe = self._client.pipeline(transaction=True)
            pipe.get(lua.RULES_VERSION)
            pipe.lrange(lua.RULE_KEYS[0], 0, -1)
            return list(pipe.execute())

        version, rows = self.call(read)
        return int(version or 0), [json.loads(row) for row in rows]

    def set_rules(self, raw_rules: list[Any]) -> int:
        return self._replace_rules(raw_rules, "")

    def _replace_rules(self, raw_rules: list[Any], digest: str) -> int:
        args = [digest, *(json.dumps(raw) for raw in raw_rules)]
        return int(self.call(lambda: self._replace(keys=[*lua.RULE_KEYS, self.changes], args=args)))

    def add_rule(self, raw_rule: Any) -> int:
        return int(self.call(lambda: self._add(keys=[*lua.RULE_KEYS[:2], self.changes], args=[json.dumps(raw_rule)])))

    def load_rules_source(self, raw_rules: list[Any], digest: str) -> bool:
        return self._replace_rules(raw_rules, digest) != 0

    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        args = self._fire_args(version, candidates, seed)
        return self._fired(self.call(lambda: self._fire(keys=lua.RULE_KEYS[1:4], args=args)))

    @staticmethod
    def _fire_args(version: int, candidates: list[Candidate], seed: int) -> list[Any]:
        args: list[Any] = [version, seed, len(candidates)]
        for candidate in candidates:
            args.extend(candidate)
        return args

    @staticmethod
    def _fired(result: Any) -> Fired | str | None:
        if isinstance(result, list):
            return int(result[0]), int(result[1])
        return STALE if int(result) == -2 else None

    def fired_counts(self) -> dict[int, int]:
        raw: dict[Any, Any] = self.call(lambda: dict(self._client.hgetall(lua.RULE_KEYS[2])))
        return {int(index): int(count) for index, count in raw.items()}

    # collections
    def _keys(self, kind: str) -> list[str]:
        return [f"{lua.PREFIX}doc:{kind}", f"{lua.PREFIX}doc:{kind}:order", lua.PREFIX + "doc:seq"]

    def put_document(self, kind: str, ident: str, document: dict[str, Any]) -> None:
        body = json.dumps(document)
        self.call(lambda: self._put(keys=self._keys(kind), args=[ident, body, self._limit]))

    def get_document(self, kind: str, ident: str) -> dict[str, Any] | None:
        body = self.call(lambda: self._client.hget(f"{lua.PREFIX}doc:{kind}", ident))
        return None if body is None else dict(json.loads(body))

    def delete_document(self, kind: str, ident: str) -> bool:
        def remove() -> Any:
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(f"{lua.PREFIX}doc:{kind}", ident)
            pipe.zrem(f"{lua.PREFIX}doc:{kind}:order", ident)
            return pipe.execute()[0]

        return bool(self.call(remove))

    def list_documents(self, kind: str) -> list[dict[str, Any]]:
        def read() -> list[Any]:
            order: list[Any] = list(self._client.zrange(f"{lua.PREFIX}doc:{kind}:order", 0, -1))
            return list(self._client.hmget(f"{lua.PREFIX}doc:{kind}", order)) if order else []

        return [json.loads(body) for body in self.call(read) if body is not None]

    def files_backend(self) -> RedisFiles:
        return RedisFiles(self)

    def check(self) -> None:
        self._down_until = 0.0
        self.call(self._client.ping)

    def close(self) -> None:
        if self._request_path is not None:
            self._request_path.close()
        self._client.close()


class RedisFiles:
    """Uploaded files and upload sessions in Redis (a ``file_store`` backend): metadata in one hash,
    bytes in one string per entry, so every replica serves every file."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._redis = store.client
        self._meta = lua.PREFIX + "files:meta"

    def _data(self, key: str) -> str:
        return f"{lua.PREFIX}files:data:{key}"

    def entry_keys(self) -> Iterator[str]:
        keys: list[Any] = self._store.call(lambda: list(self._redis.hkeys(self._meta)))
        return (key.decode() for key in keys)

    def meta(self, key: str) -> dict[str, Any] | None:
        raw = self._store.call(lambda: self._redis.hget(self._meta, key))
        return None if raw is None else dict(json.loads(raw))

    def put_meta(self, key: str, meta: dict[str, Any]) -> None:
        self._store.call(lambda: self._redis.hset(self._meta, key, json.dumps(meta)))

    def append(self, key: str, data: bytes) -> None:
        self._store.call(lambda: self._redis.append(self._data(key), data))

    def read(self, key: str) -> bytes:
        data: Any = self._store.call(lambda: self._redis.get(self._data(key)))
        return bytes(data or b"")

    def size(self, key: str) -> int:
        return int(self._store.call(lambda: self._redis.strlen(self._data(key))))

    def rename(self, old: str, new: str) -> None:
        script = self._store.rename_script
        self._store.call(lambda: script(keys=[self._meta, self._data(old), self._data(new)], args=[old, new]))

    def delete(self, key: str) -> None:
        def remove() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.hdel(self._meta, key)
            pipe.delete(self._data(key))
            pipe.execute()

        self._store.call(remove)
