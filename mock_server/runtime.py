"""Per-app state shared by the handlers: settings, caches, and the stores later features add."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from mock_server.answer.images import ImageCache
from mock_server.settings import Settings

__all__ = ["BoundedCache", "Runtime", "runtime_of"]


class BoundedCache:
    """A small thread-safe LRU map (parsed requests by body digest)."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


@dataclass
class Runtime:
    settings: Settings
    images: ImageCache
    planned: BoundedCache = field(default_factory=lambda: BoundedCache(2048))
    # Feature modules (files, journal, scenarios, ...) attach their stores here by name.
    extensions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        return cls(settings=settings, images=ImageCache(settings.image_cache_bytes))


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
