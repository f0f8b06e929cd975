"""google-genai clients in Vertex mode against a running fake: project mode (OAuth) and express mode (key)."""

from __future__ import annotations

import google.oauth2.credentials
from google import genai
from google.genai import types

from mock_server.testing import RunningServer

__all__ = ["express_client", "project_client"]


def project_client(server: RunningServer) -> genai.Client:
    credentials = google.oauth2.credentials.Credentials(token="ya29.fake-access-token")  # type: ignore[no-untyped-call]
    return genai.Client(vertexai=True, project="proj-1", location="us-central1", credentials=credentials,
                        http_options=types.HttpOptions(base_url=server.base_url))


def express_client(server: RunningServer) -> genai.Client:
    return genai.Client(vertexai=True, api_key="express-key", http_options=types.HttpOptions(base_url=server.base_url))
