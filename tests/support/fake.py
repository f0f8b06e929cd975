"""The fake in-process (httpx ASGITransport, no sockets), and what tests send it and read from its answers."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any

import httpx
from PIL import Image

from mock_server.app import create_app
from mock_server.settings import Settings

API_KEY = "test-key-0123456789"


class InProcess:
    """Synchronous calls into an app through httpx's ASGITransport (no sockets)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.app = create_app(settings or Settings())

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def generate(self, model: str, body: Any, *, version: str = "v1beta", key: str | None = API_KEY,
                 **kwargs: Any) -> httpx.Response:
        headers = {"x-goog-api-key": key} if key else {}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["content-type"] = "application/json"
        return self.request("POST", f"/{version}/models/{model}:generateContent", content=content,
                            headers=headers | kwargs.pop("headers", {}), **kwargs)


def text_request(prompt: str = "a lighthouse at dawn", **image_config: str) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if image_config:
        body["generationConfig"] = {"imageConfig": image_config}
    return body


def images_in(response_json: dict[str, Any], *, include_thoughts: bool = False) -> list[Image.Image]:
    """Decoded images of a generateContent response, final ones unless asked for thoughts too."""
    found = []
    for part in response_json["candidates"][0]["content"].get("parts", []):
        if "inlineData" in part and (include_thoughts or not part.get("thought")):
            found.append(Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"]))))
    return found


def png_bytes(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30),
              fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, fmt)
    return buffer.getvalue()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The google.rpc.Status of an error response, after checking the envelope's shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    status: dict[str, Any] = body["error"]
    assert status["code"] == response.status_code
    return status
