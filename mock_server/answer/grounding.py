"""Synthetic ``groundingMetadata`` for requests with the ``googleSearch`` tool (offline, never real).

Real grounded image responses carry the search queries, the top web sources (``groundingChunks``)
and a ``searchEntryPoint`` with Google's rendered search chip (facts §4c). The fake cannot search,
so it invents a plausible, deterministic set derived from the prompt and marks it unmistakably:
``"x-gemini-image-kit-synthetic": true`` in the metadata (the response schema allows this one
extra key), source URIs under the reserved ``.invalid`` top-level domain, and an HTML comment in
``renderedContent``. Clients that follow the links get a DNS failure, not somebody's website.
"""

from __future__ import annotations

import hashlib
import html
import urllib.parse
from typing import Any

from mock_server.answer.validation import ImageRequest

__all__ = ["SYNTHETIC_MARKER", "synthetic_grounding"]

SYNTHETIC_MARKER = "x-gemini-image-kit-synthetic"
_SOURCES = 3  # "top 3 web sources" for image grounding [DOC-IMG]


def _search_types(request: ImageRequest) -> set[str]:
    types: set[str] = set()
    for tool in request.body.get("tools", []):
        search = tool.get("googleSearch")
        if search is not None:
            types |= set((search.get("searchTypes") or {"webSearch": {}}).keys())
    return types or {"webSearch"}


def synthetic_grounding(request: ImageRequest) -> dict[str, Any] | None:
    """Grounding metadata for ``request``, or None when it does not search (or the model cannot)."""
    if not request.google_search:
        return None
    subject = " ".join(request.prompt.split())[:80] or "image"
    digest = hashlib.sha256(subject.encode()).hexdigest()[:12]
    queries = [subject, f"{subject} reference"]
    chunks = [
        {"web": {"uri": f"https://source-{number}.grounding.gemini-image-kit.invalid/{digest}",
                 "title": f"source-{number}.grounding.gemini-image-kit.invalid"}}
        for number in range(1, _SOURCES + 1)
    ]
    chips = "".join(f'<a class="chip" href="https://www.google.com/search?q={urllib.parse.quote_plus(q)}">'
                    f"{html.escape(q)}</a>" for q in queries)
    rendered = ("<!-- gemini-image-kit: synthetic grounding, no search was performed -->\n"
                f'<div class="container"><div class="headline">Google Search suggestions</div>{chips}</div>')
    metadata: dict[str, Any] = {
        "searchEntryPoint": {"renderedContent": rendered},  # no sdkBlob on image models (obs. 31)
        "groundingChunks": chunks,
        "webSearchQueries": queries,
    }
    if "imageSearch" in _search_types(request):
        metadata["imageSearchQueries"] = [f"{subject} photo"]
    metadata[SYNTHETIC_MARKER] = True
    return metadata
