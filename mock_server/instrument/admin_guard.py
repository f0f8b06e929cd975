"""Who may use the fake's own endpoints (``/_mock/*``): the security model of docs/security.md.

The admin surface reads other clients' prompts and changes what every client gets, so:
- with ``--admin-key`` (or else ``--api-key``) set, every ``/_mock/`` request must carry one of those
  keys, sent the ways the API takes keys (``x-goog-api-key``, ``Authorization: Bearer``, ``?key=``);
  without keys it stays open, for local tooling on loopback;
- whatever the keys, nothing a web page can send cross-site without a CORS preflight is obeyed: a
  request whose ``Origin`` is not this server's own, or whose ``Sec-Fetch-Site`` says cross-site, is
  refused (403), and a request body must be ``Content-Type: application/json`` (``text/plain``, form and
  multipart posts need no preflight, so they are refused with 400). The fake sends no CORS headers, so a
  browser never lets a foreign page past the preflight that JSON needs.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.types import Scope

from mock_server.web.auth import authenticate
from mock_server.web.errors import ApiError

__all__ = ["ADMIN_PREFIX", "admin_gate", "admin_refusal"]

ADMIN_PREFIX = "/_mock/"
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _has_body(method: str, headers: dict[str, str]) -> bool:
    if method not in _BODY_METHODS:
        return False
    length = headers.get("content-length", "")
    return bool("transfer-encoding" in headers or (length and length != "0") or method in ("POST", "PUT", "PATCH"))


def _own_origin(scope: Scope, headers: dict[str, str]) -> str:
    scheme = str(scope.get("scheme", "http"))
    return f"{scheme}://{headers.get('host', '')}".lower()


def admin_refusal(scope: Scope, keys: tuple[str, ...]) -> ApiError | None:
    """Why this ``/_mock/`` request is refused, or None when it may proceed."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    origin = headers.get("origin")
    if origin is not None and origin.lower() != _own_origin(scope, headers):
        return ApiError.named("mock_admin_cross_site", reason=f"Origin {origin[:100]} is not this server")
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return ApiError.named("mock_admin_cross_site", reason="Sec-Fetch-Site says the page is another site")
    method = str(scope["method"]).upper()
    if _has_body(method, headers):
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return ApiError.named("mock_admin_content_type", content_type=media[:100] or "none")
    if keys:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            authenticate(headers, query, keys)
        except ApiError as error:
            return error
    return None


def admin_gate(keys: tuple[str, ...]) -> Callable[[Scope], ApiError | None]:
    """The front's gate for ``ADMIN_PREFIX`` (``web/front.py``): ``admin_refusal`` with these keys."""

    def gate(scope: Scope) -> ApiError | None:
        return admin_refusal(scope, keys)

    return gate
