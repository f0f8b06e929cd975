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
import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mock_server.state.store import STALE, Candidate, Fired, StateUnavailable

__all__ = ["RedisFiles", "RedisStore"]

T = TypeVar("T")
_P = "gemini-mock:"
_OUTAGES = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError)
_BACK_OFF_SECONDS = 1.0
_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}

_APPEND = """
local id = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], id .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return id
"""
_CLEAR = "local n = redis.call('LLEN', KEYS[1]); redis.call('DEL', KEYS[1]); return n"
_REPLACE = """
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[5]) == ARGV[1] then return 0 end
  redis.call('SET', KEYS[5], ARGV[1])
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return redis.call('INCR', KEYS[2])
"""
_ADD = "redis.call('RPUSH', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])"
_FIRE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -2 end
for i = 0, tonumber(ARGV[3]) - 1 do
  local index, limit, p = ARGV[4 + 3 * i], tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i])
  local fired = tonumber(redis.call('HGET', KEYS[2], index) or '0')
  if limit < 0 or fired < limit then
    local wins = true
    if p < 1 then
      local k = redis.call('INCR', KEYS[3])
      wins = tonumber(string.sub(redis.sha1hex(ARGV[2] .. ':' .. k), 1, 13), 16) / 4503599627370496 < p
    end
    if wins then
      redis.call('HSET', KEYS[2], index, fired + 1)
      return {tonumber(index), fired}
    end
  end
end
return -1
"""
_PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  for _, id in ipairs(redis.call('ZPOPMIN', KEYS[2], over)) do redis.call('HDEL', KEYS[1], id) end
end
return 1
"""
_RENAME = """
local meta = redis.call('HGET', KEYS[1], ARGV[1])
if meta then redis.call('HSET', KEYS[1], ARGV[2], meta); redis.call('HDEL', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[3]) end
return 1
"""


class _AsyncScripts:
    def __init__(self, loop: asyncio.AbstractEventLoop, client: aioredis.Redis) -> None:
        self.loop, self.client = loop, client
        self.append, self.fire = client.register_script(_APPEND), client.register_script(_FIRE)


class RedisStore:
    shared = True

    def __init__(self, url: str, journal_size: int = 1000, collection_limit: int = 1000) -> None:
        self._url = url
        self._client = redis.Redis.from_url(url, **_TIMEOUTS)
        self._async_scripts: _AsyncScripts | None = None
        options = self._client.connection_pool.connection_kwargs
        # The address names the database but never a password from the URL.
        database = options.get("db", 0)
        if "path" in options:
            self.address = f"unix://{options['path']}?db={database}"
        else:
            self.address = f"redis://{options.get('host', 'localhost')}:{options.get('port', 6379)}/{database}"
        self._size = max(1, journal_size)
        self._limit = max(1, collection_limit)
        self._down_until = 0.0
        script = self._client.register_script
        self._append, self._clear, self._replace = script(_APPEND), script(_CLEAR), script(_REPLACE)
        self._add, self._fire, self._put, self._rename = script(_ADD), script(_FIRE), script(_PUT), script(_RENAME)

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

    def _async(self) -> _AsyncScripts:
        """The asyncio client of the running event loop (a client is bound to the loop it first ran on)."""
        loop = asyncio.get_running_loop()
        if self._async_scripts is None or self._async_scripts.loop is not loop:
            self._async_scripts = _AsyncScripts(loop, aioredis.Redis.from_url(self._url, **_TIMEOUTS))
        return self._async_scripts

    async def journal_append_async(self, entry: Any) -> int:
        scripts = self._async()
        number = int(await self.acall(lambda: scripts.append(keys=[_P + "journal:id", _P + "journal"],
                                                             args=[json.dumps(entry), self._size])))
        entry["id"] = number
        return number

    async def rules_version_async(self) -> int:
        client = self._async().client
        return int(await self.acall(lambda: client.get(_P + "rules:version")) or 0)

    async def fire_async(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        scripts = self._async()
        args = self._fire_args(version, candidates, seed)
        return self._fired(await self.acall(lambda: scripts.fire(keys=self._RULE_KEYS[1:4], args=args)))

    @property
    def client(self) -> redis.Redis:
        return self._client

    # journal
    def journal_append(self, entry: Any) -> int:
        number = int(self.call(lambda: self._append(keys=[_P + "journal:id", _P + "journal"],
                                                    args=[json.dumps(entry), self._size])))
        entry["id"] = number
        return number

    def journal_entries(self) -> list[Any]:
        rows: list[Any] = self.call(lambda: list(self._client.lrange(_P + "journal", 0, -1)))
        entries = []
        for row in rows:
            number, _, body = row.partition(b" ")
            entries.append(json.loads(body) | {"id": int(number)})
        return entries

    def journal_clear(self) -> int:
        return int(self.call(lambda: self._clear(keys=[_P + "journal"])))

    # scenario rules
    _RULE_KEYS = [_P + "rules", _P + "rules:version", _P + "rules:fired", _P + "rules:draws", _P + "rules:source"]

    def rules_version(self) -> int:
        return int(self.call(lambda: self._client.get(_P + "rules:version")) or 0)

    def rules(self) -> tuple[int, list[Any]]:
        def read() -> list[Any]:
            pipe = self._client.pipeline(transaction=True)
            pipe.get(_P + "rules:version")
            pipe.lrange(_P + "rules", 0, -1)
            return list(pipe.execute())

        version, rows = self.call(read)
        return int(version or 0), [json.loads(row) for row in rows]

    def set_rules(self, raw_rules: list[Any]) -> int:
        return self._replace_rules(raw_rules, "")

    def _replace_rules(self, raw_rules: list[Any], digest: str) -> int:
        args = [digest, *(json.dumps(raw) for raw in raw_rules)]
        return int(self.call(lambda: self._replace(keys=self._RULE_KEYS, args=args)))

    def add_rule(self, raw_rule: Any) -> int:
        return int(self.call(lambda: self._add(keys=self._RULE_KEYS[:2], args=[json.dumps(raw_rule)])))

    def load_rules_source(self, raw_rules: list[Any], digest: str) -> bool:
        return self._replace_rules(raw_rules, digest) != 0

    def fire(self, version: int, candidates: list[Candidate], seed: int) -> Fired | str | None:
        args = self._fire_args(version, candidates, seed)
        return self._fired(self.call(lambda: self._fire(keys=self._RULE_KEYS[1:4], args=args)))

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
        raw: dict[Any, Any] = self.call(lambda: dict(self._client.hgetall(_P + "rules:fired")))
        return {int(index): int(count) for index, count in raw.items()}

    # collections
    def _keys(self, kind: str) -> list[str]:
        return [f"{_P}doc:{kind}", f"{_P}doc:{kind}:order", _P + "doc:seq"]

    def put_document(self, kind: str, ident: str, document: dict[str, Any]) -> None:
        body = json.dumps(document)
        self.call(lambda: self._put(keys=self._keys(kind), args=[ident, body, self._limit]))

    def get_document(self, kind: str, ident: str) -> dict[str, Any] | None:
        body = self.call(lambda: self._client.hget(f"{_P}doc:{kind}", ident))
        return None if body is None else dict(json.loads(body))

    def delete_document(self, kind: str, ident: str) -> bool:
        def remove() -> Any:
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(f"{_P}doc:{kind}", ident)
            pipe.zrem(f"{_P}doc:{kind}:order", ident)
            return pipe.execute()[0]

        return bool(self.call(remove))

    def list_documents(self, kind: str) -> list[dict[str, Any]]:
        def read() -> list[Any]:
            order: list[Any] = list(self._client.zrange(f"{_P}doc:{kind}:order", 0, -1))
            return list(self._client.hmget(f"{_P}doc:{kind}", order)) if order else []

        return [json.loads(body) for body in self.call(read) if body is not None]

    def files_backend(self) -> RedisFiles:
        return RedisFiles(self)

    def check(self) -> None:
        self._down_until = 0.0
        self.call(self._client.ping)

    def close(self) -> None:
        self._client.close()


class RedisFiles:
    """Uploaded files and upload sessions in Redis (a ``file_store`` backend): metadata in one hash,
    bytes in one string per entry, so every replica serves every file."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._redis = store.client
        self._meta = _P + "files:meta"

    def _data(self, key: str) -> str:
        return f"{_P}files:data:{key}"

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
        script = self._store._rename
        self._store.call(lambda: script(keys=[self._meta, self._data(old), self._data(new)], args=[old, new]))

    def delete(self, key: str) -> None:
        def remove() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.hdel(self._meta, key)
            pipe.delete(self._data(key))
            pipe.execute()

        self._store.call(remove)
