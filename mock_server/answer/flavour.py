"""Answer flavours: one planned answer, dressed as the surface that was called dresses it.

The Gemini API is the plain flavour (identity everywhere). Another surface (Vertex AI, issue 10)
registers a ``Flavour`` subclass in ``FLAVOURS`` and marks its requests with ``use_flavour``; the
generateContent pipeline then asks the flavour to read the request (strip and check the fields only
that surface has), to adjust the planned reply (output format, thought summaries), and to reshape
every response document and stream chunk. So there is one generator, and a surface is a transformation.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from mock_server.answer.reply import SHAPERS, Reply
from mock_server.answer.validation import ImageRequest
from mock_server.settings import Settings

__all__ = ["FLAVOURS", "GEMINI", "Flavour", "flavour_named", "flavour_of", "register", "use_flavour"]

_SCOPE_KEY = "gemini_mock.flavour"


class Flavour:
    """The Gemini API's own flavour: nothing to change. Subclasses override what differs."""

    name = "gemini"
    # Whether a planned reply may be reused for an identical body (flavoured replies carry per-call data).
    cacheable = True

    def gemini_version(self, version: str) -> str:
        """The Gemini API version whose rules and error texts the shared validation applies."""
        return version

    def read_request(self, document: Any) -> tuple[Any, dict[str, Any]]:
        """(the generateContent body the shared validation reads, options for ``shape_reply``)."""
        return document, {}

    def read_count_request(self, document: Any) -> Any:
        """The countTokens body in the Gemini API's form."""
        return document

    def shape_reply(self, reply: Reply, request: ImageRequest, options: dict[str, Any], settings: Settings) -> Reply:
        return reply

    def shape_document(self, reply: Reply, document: dict[str, Any], first: bool, final: bool) -> dict[str, Any]:
        """A response (``first`` and ``final``) or one stream chunk, as this surface sends it."""
        return document

    def shape_count(self, body: dict[str, Any], request: ImageRequest) -> dict[str, Any]:
        return body


GEMINI = Flavour()
FLAVOURS: dict[str, Flavour] = {GEMINI.name: GEMINI}


def register(flavour: Flavour) -> Flavour:
    """Make ``flavour`` known by name, to requests and to the encoding of its replies."""
    FLAVOURS[flavour.name] = flavour
    SHAPERS[flavour.name] = flavour.shape_document
    return flavour


def use_flavour(scope: Scope, flavour: Flavour) -> None:
    """Mark a request as served by ``flavour`` (its route does this before delegating)."""
    register(flavour)
    scope[_SCOPE_KEY] = flavour.name


def flavour_of(scope: Scope) -> Flavour:
    return flavour_named(str(scope.get(_SCOPE_KEY, GEMINI.name)))


def flavour_named(name: str) -> Flavour:
    return FLAVOURS.get(name, GEMINI)
