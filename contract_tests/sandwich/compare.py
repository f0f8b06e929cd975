"""Differences between what the client sent and what the fake received, and between two answers.

Proto JSON accepts camelCase and snake_case, and the fake's journal stores requests normalised, so
bodies are compared through their camelCase view. Strings the journal elides (inline image data,
``<N chars sha256:...>``) are compared by digest or length.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from schemas.wire.casing import map_keys, snake_to_camel

__all__ = ["Difference", "answer_differences", "body_differences", "header_differences", "path_below",
           "query_differences", "query_pairs", "raw_body_differences", "resolved_differences", "strip_volatile"]

_ELIDED = re.compile(r"^<(\d+) chars sha256:([0-9a-f]+)>$")
_MAX_STRING = 512  # the journal's elision threshold (docs/journal.md)
# Differ on every answer by design; never a relay's doing.
VOLATILE_KEYS = frozenset({"responseId"})


@dataclass(frozen=True)
class Difference:
    """One place where two JSON documents disagree: ``kind`` is dropped, added or changed."""

    kind: str
    where: str
    expected: Any = None
    actual: Any = None


def pointer(*tokens: str | int) -> str:
    """An RFC 6901 JSON pointer from path tokens."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def camel_view(document: Any) -> Any:
    return map_keys(document, snake_to_camel)


def _same_string(sent: str, received: str) -> bool:
    if sent == received:
        return True
    match = _ELIDED.match(received)
    if match and len(sent) > _MAX_STRING:
        digest = hashlib.sha256(sent.encode()).hexdigest()
        # Digest equal, or the same length give or take padding (base64 respelled URL-safe <-> standard,
        # padded or not, by a normaliser: the same bytes).
        return digest.startswith(match.group(2)) or abs(int(match.group(1)) - len(sent)) <= 2
    # Enum names are case-insensitive on the way in ("Image" is read as IMAGE).
    return len(sent) < 64 and sent.upper() == received.upper()


def _walk(sent: Any, received: Any, path: tuple[str | int, ...]) -> Iterator[Difference]:
    if isinstance(sent, dict) and isinstance(received, dict):
        for key, value in sent.items():
            if key not in received:
                if value is not None:
                    yield Difference("dropped", pointer(*path, key), _short(value), None)
            else:
                yield from _walk(value, received[key], (*path, key))
        for key in received.keys() - sent.keys():
            yield Difference("added", pointer(*path, key), None, _short(received[key]))
        return
    if isinstance(sent, list) and isinstance(received, list):
        if len(sent) != len(received):
            yield Difference("changed", pointer(*path), f"{len(sent)} items", f"{len(received)} items")
            return
        for index, (left, right) in enumerate(zip(sent, received, strict=True)):
            yield from _walk(left, right, (*path, index))
        return
    if isinstance(sent, str) and isinstance(received, str):
        if not _same_string(sent, received):
            yield Difference("changed", pointer(*path), _short(sent), _short(received))
        return
    if sent != received:
        yield Difference("changed", pointer(*path), _short(sent), _short(received))


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 80:
        return value[:60] + f"... <{len(value)} characters>"
    if isinstance(value, (dict, list)) and len(repr(value)) > 200:
        return f"<{type(value).__name__} of {len(value)}>"
    return value


def body_differences(sent: Any, forwarded: Any) -> list[Difference]:
    """How the forwarded request body differs from the one the client sent (camelCase views)."""
    return list(_walk(camel_view(sent), camel_view(forwarded), ()))


def strip_volatile(document: Any) -> Any:
    """``document`` without the fields that differ on every answer (``responseId``)."""
    if isinstance(document, dict):
        return {key: strip_volatile(value) for key, value in document.items() if key not in VOLATILE_KEYS}
    if isinstance(document, list):
        return [strip_volatile(item) for item in document]
    return document


def answer_differences(direct: Any, relayed: Any) -> list[Difference]:
    """How the relay's answer differs from the fake's direct answer to the same request."""
    return list(_walk(strip_volatile(camel_view(direct)), strip_volatile(camel_view(relayed)), ()))


def path_below(url: str, base_url: str) -> str:
    """The path of ``url`` below ``base_url``'s own path (a relay mounted at ``/gemini`` forwards the rest)."""
    path, base = urlsplit(url).path, urlsplit(base_url).path.rstrip("/")
    return path[len(base):] if base and path.startswith(base + "/") else path


def query_pairs(url: str) -> list[tuple[str, str]]:
    """The query of ``url`` without the key (a relay sends its own upstream)."""
    return [(name, value) for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True) if name != "key"]


def query_differences(url: str, forwarded: Any) -> list[Difference]:
    """Query parameters the client sent that the relay dropped or changed; parameters it added are ``added``."""
    sent = dict(query_pairs(url))
    received = {str(k): v for k, v in (forwarded or {}).items() if k != "key"} if isinstance(forwarded, dict) else {}
    found = [Difference("dropped" if name not in received else "changed", f"?{name}", value, received.get(name))
             for name, value in sent.items() if received.get(name) != value]
    found += [Difference("added", f"?{name}", None, value) for name, value in received.items() if name not in sent]
    return found


def _media_type(value: Any) -> str:
    return str(value or "").split(";")[0].strip().lower()


def header_differences(sent: dict[str, str], forwarded: Any) -> list[Difference]:
    """Headers that must pass: a body's ``Content-Type`` (its media type; parameters may change)."""
    received = {str(k).lower(): v for k, v in forwarded.items()} if isinstance(forwarded, dict) else {}
    wanted = _media_type(sent.get("content-type"))
    if wanted and _media_type(received.get("content-type")) != wanted:
        return [Difference("changed", "content-type", wanted, received.get("content-type"))]
    return []


def raw_body_differences(sent: bytes, forwarded: Any) -> list[Difference]:
    """A body that is not JSON (a malformed-JSON probe): the journal keeps its first characters as ``$raw``."""
    raw = forwarded.get("$raw") if isinstance(forwarded, dict) else None
    if not isinstance(raw, str):
        return []
    text = sent.decode("utf-8", "replace")
    return [] if text.startswith(raw) or raw.startswith(text) else [Difference("changed", "", _short(text),
                                                                               _short(raw))]


# What the fake's journal says a request resolved to (an Interactions create is journaled as the
# generateContent request it becomes, not as sent).
_RESOLVED = ("model", "prompt", "aspectRatio", "imageSize", "responseModalities")


def resolved_differences(direct: dict[str, Any], forwarded: dict[str, Any]) -> list[Difference]:
    """How what the relay's request resolved to upstream differs from what the same request resolves to
    sent directly: the model, prompt, ratio, size and modalities, then the resolved body."""
    found = [Difference("changed", f"/{name}", direct.get(name), forwarded.get(name))
             for name in _RESOLVED if direct.get(name) != forwarded.get(name)]
    return found + list(_walk(camel_view(direct.get("body")), camel_view(forwarded.get("body")), ()))
