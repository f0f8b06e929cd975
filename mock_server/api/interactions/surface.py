"""Which surface serves an Interactions request: the Gemini API's own paths or another one's (Vertex AI).

The handlers are shared; a surface that routes them from its own paths checks the version and the
credentials itself, then marks the request with a ``Surface`` saying how it differs: the Gemini API
version whose rules and texts apply, the error for an unknown model, the error envelope, and how
its create body reads in the Gemini API's shape (with where images are delivered by URI).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from mock_server.web.errors import ApiError
from mock_server.web.http import check_version, require_key

__all__ = ["Surface", "admit", "surface_of", "use_surface"]

_SCOPE_KEY = "gemini_mock.interactions_surface"


@dataclass(frozen=True)
class Surface:
    rules_version: str  # the Gemini API version whose rules and error texts apply
    unknown_model: Callable[[str], ApiError]
    google_errors: bool  # errors in Google's standard envelope, not the Interactions one
    # The create body in the Gemini API's shape, and the gs:// folder its images are delivered to (or None).
    read_body: Callable[[Any], tuple[Any, str | None]] = lambda document: (document, None)


def use_surface(scope: Scope, surface: Surface) -> None:
    """Mark a request as admitted (version and credentials checked) by ``surface``'s route."""
    scope[_SCOPE_KEY] = surface


def surface_of(scope: Scope) -> Surface | None:
    """The surface that admitted the request; None on the Gemini API's own paths."""
    surface = scope.get(_SCOPE_KEY)
    return surface if isinstance(surface, Surface) else None


def admit(request: Request) -> Surface | None:
    """Check version and key on the Gemini API's paths (another surface's route did it already)."""
    surface = surface_of(request.scope)
    if surface is None:
        check_version(request)
        require_key(request)
    return surface
