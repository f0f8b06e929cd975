"""The fake behind a relay (sandwich mode): its journal read over HTTP, and direct requests to it.

The contract suite never imports the fake: the journal is JSON from ``GET /_mock/requests``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["TAG_PARAMETER", "UpstreamFake", "entry_mentions", "refused_without_body"]

# Google's standard system parameter (any string up to 40 characters, every Google API accepts it): where
# a request without a prompt carries its sandwich tag.
TAG_PARAMETER = "quotaUser"


def entry_mentions(entry: dict[str, Any], tag: str) -> bool:
    """True when a journal entry is the request tagged ``tag``: its ``quotaUser`` query parameter is the
    tag, or its prompt (the last user turn) carries the tag; the whole body only when the fake resolved
    no prompt (a request it refused). A later turn replays earlier tagged prompts in its history, so the
    body alone would match them too."""
    query = entry.get("query")
    if isinstance(query, dict) and query.get(TAG_PARAMETER) == tag:
        return True
    prompt = entry.get("prompt")
    if prompt is not None:
        return tag in str(prompt)
    body = entry.get("body")
    contents = body.get("contents") if isinstance(body, dict) else None
    last_turn = contents[-1] if isinstance(contents, list) and contents else body
    return tag in json.dumps(last_turn, ensure_ascii=False)


def refused_without_body(entry: dict[str, Any]) -> bool:
    """An entry the fake refused for its key before reading the body: no tag can identify it."""
    return entry.get("status") in (400, 401, 403) and not entry.get("body") and entry.get("method") == "POST"


@dataclass(frozen=True)
class UpstreamFake:
    """Where the relay under test forwards to: the fake's root URL and the key the relay injects."""

    base_url: str
    api_key: str | None = None
    timeout_s: float = 30.0

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def host_port(self) -> str:
        """``host:port`` as a relay would have to write it to reach the fake."""
        parts = urlsplit(self.root)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname}:{port}"

    def leak_markers(self) -> dict[str, str]:
        """Strings that must never reach a client through the relay, by what they reveal."""
        markers = {"upstream URL": self.root, "upstream host:port": self.host_port}
        if self.api_key:
            markers["upstream API key"] = self.api_key
        return markers

    def journal(self) -> list[dict[str, Any]]:
        """Every entry the fake holds (oldest first); other traffic may be among them."""
        try:
            # The fake guards /_mock/ with its keys when it has any (docs/security.md).
            headers = {"x-goog-api-key": self.api_key} if self.api_key else {}
            response = httpx.get(f"{self.root}/_mock/requests", headers=headers, timeout=self.timeout_s)
            if response.status_code in (400, 401, 403):  # the fake guards its journal with its keys
                raise UpstreamUnavailable(
                    f"cannot read the fake's journal at {self.root}/_mock/requests (HTTP {response.status_code}): "
                    "if it is the fake, set GEMINI_UPSTREAM_API_KEY (or --upstream-api-key) to the key it was "
                    "started with")
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise UpstreamUnavailable(f"cannot read the fake's journal at {self.root}/_mock/requests: {error}") \
                from error
        entries = document.get("requests") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise UpstreamUnavailable(f"{self.root}/_mock/requests is not the fake's journal")
        return [entry for entry in entries if isinstance(entry, dict)]

    def check_key(self) -> None:
        """Raise UpstreamUnavailable when the fake refuses the upstream key: every direct answer would
        then differ from the relay's for a reason that is not the relay's."""
        headers = {"x-goog-api-key": self.api_key} if self.api_key else {}
        try:
            status = httpx.get(f"{self.root}/v1beta/models", params={"pageSize": "1"}, headers=headers,
                               timeout=self.timeout_s).status_code
        except httpx.HTTPError as error:
            raise UpstreamUnavailable(f"the fake at {self.root} does not answer: {error}") from error
        if status in (400, 401, 403):
            raise UpstreamUnavailable(
                f"the fake at {self.root} refused the upstream key (HTTP {status}): set GEMINI_UPSTREAM_API_KEY "
                "(or --upstream-api-key) to the key it was started with")

    def last_id(self) -> int:
        return max((int(entry.get("id") or 0) for entry in self.journal()), default=0)


class UpstreamUnavailable(Exception):
    """The --upstream-fake URL does not answer like the fake (no journal): a usage error."""


__all__ += ["UpstreamUnavailable"]
