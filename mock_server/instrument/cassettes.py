"""Cassettes: recorded exchanges as small, diffable JSON, images as files named by content hash.

Layout of a cassette directory::

    DIR/<action>-<key16>.json      one per distinct request; its responses in the order recorded
    DIR/blobs/<sha256>.<ext>       every image (request or response), stored once

A request is identified by a canonical form that ignores the API key, header order and field
casing (snake_case and camelCase read alike, base64 normalised): method, path, the query minus
``key``, the ``X-Mock-Scenario`` header, and the body. The API key is redacted from everything
before it is written, and ``CassetteStore.write`` refuses (``SecretLeak``) to store a cassette or
blob that still contains it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from schemas.wire.b64 import decode_base64
from schemas.wire.casing import map_strings, snake_to_camel
from schemas.wire.redaction import extract_api_key, redact_document, redact_text, worth_redacting

__all__ = ["CassetteStore", "SecretLeak", "canonical_request", "request_key", "secrets_in"]

_BLOB_TEXT = re.compile(rb'("(?:data|bytesBase64Encoded)"\s*:\s*")([A-Za-z0-9+/]{256,}={0,2})(")')
_BLOB_REF = re.compile(r"blob:sha256:([0-9a-f]{64})\.([a-z0-9]+)")
_IMAGE_EXT = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp", b"GIF8": "gif"}
_FORMATS: tuple[dict[str, Any], ...] = (
    {"indent": 2, "separators": (",", ": "), "ensure_ascii": False},
    {"indent": None, "separators": (",", ": "), "ensure_ascii": False},
    {"indent": None, "separators": (", ", ": "), "ensure_ascii": False},
    {"indent": None, "separators": (",", ":"), "ensure_ascii": False},
    {"indent": 2, "separators": (",", ": "), "ensure_ascii": True},
)
_KEPT_RESPONSE_HEADERS = ("content-type", "retry-after", "content-encoding", "x-goog-upload-status")


class SecretLeak(Exception):
    """A cassette still contained an API key after redaction; nothing was written."""


def _std_base64(text: str) -> str:
    try:
        return base64.b64encode(decode_base64(text)).decode()
    except (binascii.Error, ValueError):
        return text


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            name = snake_to_camel(key)
            out[name] = _std_base64(item) if name in ("data", "thoughtSignature") and isinstance(item, str) \
                else _canonical(item)
        return out
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _digest_if_large(text: str) -> str:
    """Large strings (image data) become their digest, so the key is cheap and stable."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest() if len(text) > 256 else text


def canonical_request(method: str, path: str, query_string: str, headers: dict[str, str],
                      body: bytes) -> dict[str, Any]:
    """The parts of a request that decide its answer, in one spelling, without the key."""
    query = {k: v for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "key"}
    found = extract_api_key(headers, dict(parse_qsl(query_string)))
    document: Any = None
    if body:
        try:
            document = _canonical(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            document = {"$sha256": hashlib.sha256(body).hexdigest()}
    canonical = {"method": method.upper(), "path": path, "query": dict(sorted(query.items())),
                 "scenario": headers.get("x-mock-scenario") or None, "body": map_strings(document, _digest_if_large)}
    if found:
        canonical = redact_document(canonical, [found[0]])
    return canonical


def request_key(canonical: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def secrets_in(data: bytes | str, secrets: list[str]) -> list[str]:
    """Which of ``secrets`` (or their URL-encoded forms) occur in ``data``."""
    raw = data.encode() if isinstance(data, str) else data
    return [secret for secret in worth_redacting(secrets)
            if secret.encode() in raw or quote(secret, safe="").encode() in raw]


class CassetteStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.blobs = self.directory / "blobs"
        self._lock = threading.Lock()
        self._written_this_session: set[str] = set()
        self._replayed: dict[str, int] = {}
        self._index: dict[str, Path] | None = None

    # -- writing ---------------------------------------------------------------------------------
    def _extract_blobs(self, body: bytes, pending: dict[str, bytes]) -> bytes:
        def swap(match: re.Match[bytes]) -> bytes:
            text = match.group(2)
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                return match.group(0)
            if base64.b64encode(data) != text:  # keep anything that would not round-trip exactly
                return match.group(0)
            digest = hashlib.sha256(data).hexdigest()
            ext = next((ext for magic, ext in _IMAGE_EXT.items() if data.startswith(magic)), "bin")
            pending[f"{digest}.{ext}"] = data
            return match.group(1) + f"blob:sha256:{digest}.{ext}".encode() + match.group(3)

        return _BLOB_TEXT.sub(swap, body)

    def _response_entry(self, status: int, headers: list[tuple[str, str]], body: bytes,
                        pending: dict[str, bytes]) -> dict[str, Any]:
        entry: dict[str, Any] = {"status": status,
                                 "headers": {k: v for k, v in headers if k in _KEPT_RESPONSE_HEADERS}}
        marked = self._extract_blobs(body, pending)
        try:
            text = marked.decode("utf-8")
        except UnicodeDecodeError:
            entry["bodyBase64"] = base64.b64encode(body).decode()
            return entry
        try:
            document = json.loads(text)
        except ValueError:
            entry["bodyText"] = text
            return entry
        for style in _FORMATS:
            if json.dumps(document, **style) == text:
                entry["body"] = document
                entry["format"] = {"indent": style["indent"], "separators": list(style["separators"]),
                                   "ensureAscii": style["ensure_ascii"]}
                return entry
        entry["bodyText"] = text
        return entry

    def write(self, canonical: dict[str, Any], status: int, headers: list[tuple[str, str]], body: bytes,
              secrets: list[str]) -> Path:
        """Append one response for ``canonical`` (a new recording session starts each file afresh)."""
        secrets = worth_redacting(secrets)
        pending: dict[str, bytes] = {}
        response = self._response_entry(status, headers, body, pending)
        key = request_key(canonical)
        action = str(canonical["path"]).rpartition(":")[2] if ":" in str(canonical["path"]) else "get"
        path = self.directory / f"{re.sub(r'[^A-Za-z0-9]+', '_', action)}-{key[:16]}.json"
        with self._lock:
            cassette: dict[str, Any] = {"version": 1, "key": key, "request": canonical, "responses": []}
            if key in self._written_this_session and path.exists():
                cassette = json.loads(path.read_text(encoding="utf-8"))
            cassette["responses"].append(response)
            text = redact_text(json.dumps(cassette, indent=1, ensure_ascii=False), secrets) + "\n"
            leaks = secrets_in(text, secrets) + [s for data in pending.values() for s in secrets_in(data, secrets)]
            if leaks:
                raise SecretLeak(f"refusing to write {path.name}: it still contains an API key")
            self.blobs.mkdir(parents=True, exist_ok=True)
            for name, data in pending.items():
                blob = self.blobs / name
                if not blob.exists():
                    blob.write_bytes(data)
            path.write_text(text, encoding="utf-8")
            self._written_this_session.add(key)
            self._index = None
        return path

    # -- replaying -------------------------------------------------------------------------------
    def _load_index(self) -> dict[str, Path]:
        if self._index is None:
            index = {}
            for file in sorted(self.directory.glob("*.json")):
                try:
                    index[json.loads(file.read_text(encoding="utf-8"))["key"]] = file
                except (ValueError, KeyError):
                    continue
            self._index = index
        return self._index

    def replay(self, canonical: dict[str, Any]) -> tuple[int, dict[str, str], bytes] | None:
        """The next recorded response for this request (the last one repeats), or None."""
        key = request_key(canonical)
        with self._lock:
            file = self._load_index().get(key)
            if file is None:
                return None
            responses = json.loads(file.read_text(encoding="utf-8"))["responses"]
            turn = self._replayed.get(key, 0)
            self._replayed[key] = turn + 1
        entry = responses[min(turn, len(responses) - 1)]
        return int(entry["status"]), dict(entry["headers"]), self._body(entry)

    def _body(self, entry: dict[str, Any]) -> bytes:
        if "bodyBase64" in entry:
            return base64.b64decode(entry["bodyBase64"])
        if "body" in entry:
            style = entry["format"]
            text = json.dumps(entry["body"], indent=style["indent"], separators=tuple(style["separators"]),
                              ensure_ascii=style["ensureAscii"])
        else:
            text = str(entry["bodyText"])

        def restore(match: re.Match[str]) -> str:
            return base64.b64encode((self.blobs / f"{match.group(1)}.{match.group(2)}").read_bytes()).decode()

        return _BLOB_REF.sub(restore, text).encode("utf-8")
