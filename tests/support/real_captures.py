"""Real Google exchanges (../shared/reference/real-captures) as contract-suite exchanges.

The collector elided image bytes and thought signatures (megabytes each) and recorded what they were:
here each elided image becomes real bytes of the recorded format and pixel size, and each elided
signature a valid base64 blob. Placeholders some recorders put in (``AQID``, 1x1 PNGs, "omitted")
become an image of the declared type at the size the catalogue expects for the request, and the
nulls a relay wrote for absent fields are dropped. Everything else (key order, usage, finish reasons,
mime types) is Google's as recorded.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image

from contract_tests.generation.cases import Case, Exchange, Expectation
from schemas import ModelProfile, load_profile_book
from tests.support.paths import SHARED_REFERENCE

__all__ = [
    "CAPTURES", "Capture", "capture_names", "exchange_of", "gemini_api_image_captures", "load_capture",
    "on_gemini_api", "recorded_request", "restored_response", "stand_in_image",
]

CAPTURES = SHARED_REFERENCE / "real-captures"
"""Reference data beside the repository, never copied into it; tests skip where it is absent."""
_ELIDED = re.compile(r"<collector elided; .*?(PNG|JPEG) (\d+)x(\d+)>")


@dataclass(frozen=True)
class Capture:
    name: str
    raw: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.raw["model"]).split()[0]

    @property
    def streamed(self) -> bool:
        return "_sse_chunks" in self.raw["response"]


def capture_names() -> list[str]:
    """Every capture's name (its file's stem), sorted; none where the captures are absent."""
    return sorted(path.stem for path in CAPTURES.glob("*.json")) if CAPTURES.is_dir() else []


@cache
def load_capture(name: str) -> dict[str, Any]:
    """One capture as recorded (callers must not change it: it is shared)."""
    loaded: dict[str, Any] = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def on_gemini_api(raw: dict[str, Any]) -> bool:
    """Recorded on the Gemini API, not on Vertex AI or the Code Assist backend."""
    endpoint = str(raw.get("endpoint", ""))
    return "Vertex" not in endpoint and "aiplatform" not in endpoint and "Code Assist" not in endpoint


def recorded_request(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The request the capture kept (without the collector's ``_`` notes), or None."""
    request = raw.get("request")
    if isinstance(request, dict) and "contents" in request:
        return {key: value for key, value in request.items() if not key.startswith("_")}
    return None


def gemini_api_image_captures() -> list[Capture]:
    """Successful image-model answers recorded on the Gemini API (not Vertex), with a body."""
    found = []
    for name in capture_names():
        raw = load_capture(name)
        response = raw.get("response")
        model = str(raw.get("model")).split()[0]
        if raw.get("status") != 200 or "image" not in model or not isinstance(response, dict):
            continue
        # wanjiedata relays Vertex's answer shape under a Gemini API path: not Gemini API traffic.
        if not on_gemini_api(raw) or "wanjiedata" in str(raw.get("endpoint", "")):
            continue
        if "candidates" in response or "_sse_chunks" in response:
            found.append(Capture(name, raw))
    return found


def _request(capture: Capture) -> dict[str, Any]:
    unrecorded = {"contents": [{"role": "user", "parts": [{"text": "(request not recorded)"}]}]}
    return recorded_request(capture.raw) or unrecorded


def _expectation(request: dict[str, Any], profile: ModelProfile | None) -> Expectation:
    generation = request.get("generationConfig") or {}
    config = generation.get("imageConfig") or {}
    size = config.get("imageSize")
    canonical = profile.canonical_image_size(size) if profile and size else None
    return Expectation(
        aspect_ratio=config.get("aspectRatio"),
        image_size=canonical or (profile.default_image_size if profile else None), size_explicit=bool(size),
        modalities=tuple(generation.get("responseModalities") or ()),
    )


def _expected_size(profile: ModelProfile | None, expect: Expectation) -> tuple[int, int]:
    if profile is None or expect.image_size is None:
        return 1024, 1024
    return profile.expected_dimensions(expect.aspect_ratio, expect.image_size)


def stand_in_image(fmt: str, width: int, height: int) -> str:
    """Real base64 bytes of an RGB image in ``fmt`` (PNG or JPEG) at exactly ``width`` x ``height``."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, fmt, **({"dpi": (300, 300)} if fmt == "JPEG" else {}))
    return base64.b64encode(buffer.getvalue()).decode()


def _real_image(data: str) -> bool:
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
            return image.size != (1, 1)
    except Exception:
        return False


def _restore(value: Any, size: tuple[int, int]) -> Any:
    if isinstance(value, list):
        return [_restore(item, size) for item in value]
    if not isinstance(value, dict):
        return value
    # Relays re-serialise absent fields as null (proto3 JSON reads null as absent; Google never sends it).
    restored = {key: _restore(item, size) for key, item in value.items() if item is not None}
    blob = restored.get("inlineData")
    if isinstance(blob, dict) and isinstance(blob.get("data"), str):
        elided = _ELIDED.search(blob["data"])
        if elided:
            blob["data"] = stand_in_image(elided.group(1), int(elided.group(2)), int(elided.group(3)))
        elif not _real_image(blob["data"]):
            fmt = "JPEG" if blob.get("mimeType") == "image/jpeg" else "PNG"
            blob["data"] = stand_in_image(fmt, *size)
    signature = restored.get("thoughtSignature")
    if isinstance(signature, str) and ("<collector elided" in signature or not re.fullmatch(r"[A-Za-z0-9+/]+=*",
                                                                                             signature)):
        restored["thoughtSignature"] = base64.b64encode(b"\x12" + os.urandom(60)).decode()
    return restored


def exchange_of(capture: Capture, response: dict[str, Any] | None = None) -> Exchange:
    """The capture (or ``response``, a mutated copy of its restored body) as a contract-suite exchange."""
    request = _request(capture)
    profile = load_profile_book().get(capture.model)
    expect = _expectation(request, profile)
    body = response if response is not None else restored_response(capture)
    action = "streamGenerateContent" if capture.streamed else "generateContent"
    case = Case(purpose="stream" if capture.streamed else "generate", label=capture.name, model=capture.model,
                action=action, document=request, expect=expect)
    if capture.streamed:
        raw = b"".join(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in body["_sse_chunks"])
        headers = {"content-type": "text/event-stream"}
    else:
        raw = json.dumps(body, indent=2).encode() + b"\n"
        headers = {"content-type": "application/json; charset=UTF-8"}
    return Exchange(index=0, case=case, url=f"https://generativelanguage.googleapis.com/v1beta/models/"
                    f"{capture.model}:{action}", request_headers={}, request_body=case.body(), status=200,
                    headers=headers, body=raw)


def restored_response(capture: Capture) -> dict[str, Any]:
    request = _request(capture)
    profile = load_profile_book().get(capture.model)
    size = _expected_size(profile, _expectation(request, profile))
    restored: dict[str, Any] = _restore(capture.raw["response"], size)
    return restored
