"""The ``malformed_body`` fault cuts the surface's own answer: the start of an ``Interaction`` on the
Interactions API, of a ``GenerateContentResponse`` on generateContent (Gemini API and Vertex paths);
google-genai fails to parse either."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from google import genai
from google.genai import types

from mock_server.testing import RunningServer

PRO = "gemini-3-pro-image-preview"
KEY = {"x-goog-api-key": "malformed-key"}
interactions_errors = pytest.importorskip("google.genai._interactions_errors")


def _without_values(text: str) -> str:
    """The body's layout and keys, string values blanked (ids, times and data differ per answer)."""
    return re.sub(r'"[^"\n]*"(?=,?\n)', '""', text)


def _is_cut_start_of(cut: bytes, whole: bytes) -> bool:
    """``cut`` is the start of a body laid out as ``whole``, ending inside a string."""
    complete = cut.decode().rpartition('"')[0] + '"'
    return _without_values(whole.decode()).startswith(_without_values(complete))


def test_interactions_cut_an_interaction(live_server: RunningServer) -> None:
    url = f"{live_server.base_url}/v1beta/interactions"
    whole = httpx.post(url, json={"model": PRO, "input": "a fox"}, headers=KEY, timeout=30)
    cut = httpx.post(url, json={"model": PRO, "input": "a fox [mock:malformed_body]"}, headers=KEY, timeout=30)
    assert whole.status_code == cut.status_code == 200
    assert cut.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert cut.content.startswith(b'{\n  "id": "v1_') and b"candidates" not in cut.content
    assert _is_cut_start_of(cut.content, whole.content), (cut.content, whole.content[:200])
    client = genai.Client(api_key="malformed-key", http_options=types.HttpOptions(base_url=live_server.base_url))
    with pytest.raises(interactions_errors.APIResponseValidationError, match="EOF while parsing"):
        client.interactions.create(model=PRO, input="a fox [mock:malformed_body]")


@pytest.mark.parametrize("vertex", [False, True])
def test_generate_content_cuts_a_generate_content_response(live_server: RunningServer, vertex: bool) -> None:
    path = f"/v1/publishers/google/models/{PRO}:generateContent" if vertex else \
        f"/v1beta/models/{PRO}:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "a fox [mock:malformed_body]"}]}]}
    cut = httpx.post(f"{live_server.base_url}{path}", json=body, headers=KEY, timeout=30)
    assert cut.status_code == 200 and cut.content.startswith(b'{\n  "candidates": [')
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    client = genai.Client(vertexai=vertex, api_key="malformed-key",
                          http_options=types.HttpOptions(base_url=live_server.base_url))
    with pytest.raises(json.JSONDecodeError):
        client.models.generate_content(model=PRO, contents="a fox [mock:malformed_body]")
