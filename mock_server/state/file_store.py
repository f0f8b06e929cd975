"""Where the Files API keeps uploads: in memory, or in a directory every worker process shares.

Two kinds of entries share one byte budget (``Settings.files_max_bytes``): finished files
(``file-<id>``) and uploads in progress (``upload-<upload id>``). Each entry is a JSON metadata
record plus its bytes. Files expire ``Settings.files_ttl_seconds`` after creation (Google: 48 h);
expired entries are swept lazily, whenever the store is used.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from mock_server.settings import Settings

__all__ = ["DirectoryBackend", "FileBackend", "FileStore", "new_id"]

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 12) -> str:
    """A random id shaped like Google's file names (lowercase letters and digits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class FileBackend(Protocol):
    """Where entries live: this process's memory, a directory, or a shared store (Redis)."""

    def entry_keys(self) -> Iterator[str]: ...
    def meta(self, key: str) -> dict[str, Any] | None: ...
    def put_meta(self, key: str, meta: dict[str, Any]) -> None: ...
    def append(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def size(self, key: str) -> int: ...
    def rename(self, old: str, new: str) -> None: ...
    def delete(self, key: str) -> None: ...


class _Memory:
    def __init__(self) -> None:
        self._meta: dict[str, dict[str, Any]] = {}
        self._data: dict[str, bytearray] = {}

    def entry_keys(self) -> Iterator[str]:
        return iter(list(self._meta))

    def meta(self, key: str) -> dict[str, Any] | None:
        return self._meta.get(key)

    def put_meta(self, key: str, meta: dict[str, Any]) -> None:
        self._meta[key] = meta
        self._data.setdefault(key, bytearray())

    def append(self, key: str, data: bytes) -> None:
        self._data[key] += data

    def read(self, key: str) -> bytes:
        return bytes(self._data.get(key, b""))

    def size(self, key: str) -> int:
        return len(self._data.get(key, b""))

    def rename(self, old: str, new: str) -> None:
        self._meta[new] = self._meta.pop(old)
        self._data[new] = self._data.pop(old)

    def delete(self, key: str) -> None:
        self._meta.pop(key, None)
        self._data.pop(key, None)


class _Directory:
    """``<key>.json`` + ``<key>.bin`` per entry; writes go through a temporary file and a rename."""

    def __init__(self, root: str) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str, suffix: str) -> Path:
        return self._root / f"{key}{suffix}"

    def entry_keys(self) -> Iterator[str]:
        return (path.stem for path in self._root.glob("*.json"))

    def meta(self, key: str) -> dict[str, Any] | None:
        try:
            loaded: dict[str, Any] = json.loads(self._path(key, ".json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return loaded

    def put_meta(self, key: str, meta: dict[str, Any]) -> None:
        self._path(key, ".bin").touch()
        temporary = self._path(key, f".json.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(meta))
        temporary.replace(self._path(key, ".json"))

    def append(self, key: str, data: bytes) -> None:
        with self._path(key, ".bin").open("ab") as handle:
            handle.write(data)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key, ".bin").read_bytes()
        except FileNotFoundError:
            return b""

    def size(self, key: str) -> int:
        try:
            return self._path(key, ".bin").stat().st_size
        except FileNotFoundError:
            return 0

    def rename(self, old: str, new: str) -> None:
        self._path(old, ".bin").replace(self._path(new, ".bin"))
        self._path(old, ".json").replace(self._path(new, ".json"))

    def delete(self, key: str) -> None:
        for suffix in (".json", ".bin"):
            self._path(key, suffix).unlink(missing_ok=True)


class FileStore:
    """Entries by key with a shared byte budget and an expiry; thread-safe within a process."""

    def __init__(self, settings: Settings, clock: Any = time.time, backend: FileBackend | None = None) -> None:
        self.max_bytes = settings.files_max_bytes
        self.ttl = settings.files_ttl_seconds
        self._clock = clock
        if backend is None:
            backend = _Directory(settings.files_dir) if settings.files_dir else _Memory()
        self._backend: FileBackend = backend
        self._lock = threading.RLock()

    def now(self) -> float:
        return float(self._clock())

    def _sweep(self) -> None:
        now = self.now()
        for key in self._backend.entry_keys():
            meta = self._backend.meta(key)
            if meta is not None and float(meta.get("expires", now + 1)) <= now:
                self._backend.delete(key)

    def used_bytes(self) -> int:
        with self._lock:
            self._sweep()
            return sum(self._backend.size(key) for key in self._backend.entry_keys())

    def available(self) -> int:
        return max(0, self.max_bytes - self.used_bytes())

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            meta = self._backend.meta(key)
            if meta is not None and float(meta.get("expires", self.now() + 1)) <= self.now():
                self._backend.delete(key)
                return None
            return meta

    def entries(self, prefix: str) -> list[dict[str, Any]]:
        with self._lock:
            self._sweep()
            found = (self._backend.meta(key) for key in self._backend.entry_keys() if key.startswith(prefix))
            return [meta for meta in found if meta is not None]

    def put(self, key: str, meta: dict[str, Any]) -> None:
        with self._lock:
            self._backend.put_meta(key, meta)

    def append(self, key: str, data: bytes) -> None:
        with self._lock:
            self._backend.append(key, data)

    def read(self, key: str) -> bytes:
        with self._lock:
            return self._backend.read(key)

    def size(self, key: str) -> int:
        with self._lock:
            return self._backend.size(key)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            self._backend.rename(old, new)

    def delete(self, key: str) -> None:
        with self._lock:
            self._backend.delete(key)


DirectoryBackend = _Directory
