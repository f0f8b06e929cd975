"""Client side of the fake's request journal (``GET /_mock/requests``), for tests.

``gemini_mock.calls`` lists the requests the fake received during the current test (API keys
redacted); ``gemini_mock.assert_called(model=..., image_size=...)`` asserts that at least one (or
exactly ``times``) matched and returns the matching calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Call", "JournalClient"]


@dataclass(frozen=True)
class Call:
    """One request as the fake recorded it."""

    id: int
    method: str
    path: str
    status: int | None
    model: str | None = None
    action: str | None = None
    image_size: str | None = None
    aspect_ratio: str | None = None
    prompt: str | None = None
    scenario: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Call:
        return cls(
            id=int(entry["id"]), method=entry["method"], path=entry["path"], status=entry.get("status"),
            model=entry.get("model"), action=entry.get("action"), image_size=entry.get("imageSize"),
            aspect_ratio=entry.get("aspectRatio"), prompt=entry.get("prompt"), scenario=entry.get("scenario"),
            headers=dict(entry.get("headers") or {}), body=entry.get("body"), raw=entry,
        )

    def _matches(self, expected: dict[str, Any]) -> bool:
        for name, value in expected.items():
            if name == "prompt_contains":
                if value not in (self.prompt or ""):
                    return False
            elif getattr(self, name) != value:
                return False
        return True


class JournalClient:
    """Reads the journal of the fake at ``base_url``; only calls after ``mark()`` are listed."""

    def __init__(self, base_url: str, admin_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._since = 0
        # The admin surface requires a key when the fake has one (docs/security.md).
        self._headers = {"x-goog-api-key": admin_key} if admin_key else {}

    def _entries(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/_mock/requests", headers=self._headers, timeout=10)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["requests"]
        return entries

    def mark(self) -> None:
        """Forget what came before: ``calls`` starts after the latest request recorded so far."""
        entries = self._entries()
        self._since = max((int(entry["id"]) for entry in entries), default=self._since)

    @property
    def calls(self) -> list[Call]:
        return [Call.from_entry(entry) for entry in self._entries() if int(entry["id"]) > self._since]

    def clear(self) -> None:
        """Empty the server's journal (affects every user of this fake)."""
        httpx.delete(f"{self.base_url}/_mock/requests", headers=self._headers, timeout=10).raise_for_status()

    def assert_called(self, *, times: int | None = None, **expected: Any) -> list[Call]:
        """The calls matching every given field (``model``, ``image_size``, ``aspect_ratio``, ``action``,
        ``scenario``, ``status``, ``method``, ``path``, ``prompt_contains``); fails with the calls seen."""
        known = set(Call.__dataclass_fields__) | {"prompt_contains"}
        unknown = set(expected) - known
        if unknown:
            raise TypeError(f"assert_called got unknown fields {sorted(unknown)}")
        calls = self.calls
        matching = [call for call in calls if call._matches(expected)]
        ok = len(matching) == times if times is not None else bool(matching)
        if not ok:
            seen = "\n".join(
                f"  #{c.id} {c.method} {c.path} -> {c.status} action={c.action} model={c.model} "
                f"image_size={c.image_size} aspect_ratio={c.aspect_ratio} scenario={c.scenario}" for c in calls
            ) or "  (none)"
            wanted = f"exactly {times}" if times is not None else "at least one"
            raise AssertionError(f"expected {wanted} call with {expected}, found {len(matching)}; calls:\n{seen}")
        return matching
