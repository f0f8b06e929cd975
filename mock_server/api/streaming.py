"""``:streamGenerateContent``: the planned reply, split into chunks, as SSE or one streamed JSON array.

Chunk order follows the real stream (facts §6): every part is its own chunk, in reply order, so
thought text and thought images come first, then the answer's text and image (2.5 Flash Image
streams its text in word-sized deltas first, obs. 6). How the stream ends
follows the captures (obs. 6, 7): 2.5 Flash Image puts ``finishReason`` (and ``groundingMetadata``)
on the chunk with the last part; Gemini 3 models send a separate closing event
``{"parts": [{"text": ""}], "role": "model"}`` + ``STOP`` after it, and the chunk before reports its
thinking provisionally higher, revised down in the closing event. No chunk is empty, so the SDK's
chat keeps the turn. Every chunk repeats ``modelVersion`` and the same ``responseId``, and a
cumulative ``usageMetadata``: prompt and thought tokens in full from the first chunk (as in a
captured Gemini stream), candidate tokens growing with the answer parts sent, the last chunk equal
to the non-streamed response's usage. SSE answers carry ``Content-Disposition: attachment`` and
Google's compact spacing (``{"a": 1,"b": 2}``); an error before the first byte is one plain pretty
JSON body labelled ``text/event-stream`` (obs. 9).

Framing, chosen by ``alt``:
- ``alt=sse`` (what the SDKs send): ``data: <single-line JSON>`` events ended by ``\\r\\n\\r\\n``
  (``Settings.sse_line_ending``; facts §11.10), ``Content-Type: text/event-stream``.
- no ``alt`` or ``alt=json``: one JSON array streamed element by element, ``[{...}\\n,\\r\\n{...}\\n]``,
  each element pretty-printed like a non-streamed response.

Errors found before the first byte (bad request, unknown model, error scenarios) are ordinary
error responses. A stream can also end badly once it has started, as Google's do: the scenario's
``StreamPlan`` (``mock_server/instrument/scenarios.py``) either sends an error chunk after N content chunks
(``data: {"error": {...}}`` or a last array element ``{"error": {...}}``) or, for ``drop``, just
stops after N chunks: no finishReason, and on the array path no closing ``]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from mock_server.answer.images import RenderedImage
from mock_server.answer.reply import Reply, reply_document, shape_document, splice
from mock_server.answer.validation import ImageRequest
from mock_server.api.generate import prepare, rendered_for
from mock_server.instrument.latency import plan_delay
from mock_server.instrument.scenarios import StreamPlan, stream_plan
from mock_server.runtime import runtime_of
from mock_server.web.errors import JSON_CONTENT_TYPE, ApiError, error_body
from schemas import ModelProfile, load_profile_book
from schemas.wire.sse import SSE_CONTENT_TYPE, SSE_SEPARATORS

__all__ = ["chunk_groups", "chunk_usage", "encode_chunks", "label_stream_error", "stream_generate_content",
           "text_deltas"]

_WORDS_PER_DELTA = 3



def chunk_groups(reply: Reply) -> list[range]:
    """The part indices of each chunk: one part per chunk; a reply without parts is one chunk."""
    if not reply.parts:
        return [range(0)]
    return [range(index, index + 1) for index in range(len(reply.parts))]


def _part_tokens(reply: Reply, request: ImageRequest) -> list[int]:
    """What each answer (non-thought) part adds to candidatesTokenCount; thought parts add nothing."""
    per_image = request.profile.output_tokens_per_image(request.image_size)
    book = load_profile_book()
    return [0 if part.thought else per_image if part.image is not None else book.text_tokens(part.text or "")
            for part in reply.parts]


def chunk_usage(reply: Reply, request: ImageRequest, sent: int) -> dict[str, Any]:
    """usageMetadata after the first ``sent`` parts: cumulative, never above the final usage."""
    final = reply.usage
    if sent >= len(reply.parts):
        return final
    weights = _part_tokens(reply, request)
    total_weight = sum(weights) or 1
    final_candidates = int(final.get("candidatesTokenCount", 0))
    candidates = min(final_candidates, final_candidates * sum(weights[:sent]) // total_weight)
    images = sum(1 for part in reply.parts[:sent] if part.image is not None and not part.thought)
    final_images = sum(int(d["tokenCount"]) for d in final.get("candidatesTokensDetails", [])
                       if d.get("modality") == "IMAGE")
    image_tokens = min(final_images, images * request.profile.output_tokens_per_image(request.image_size))
    usage: dict[str, Any] = {}
    for key, value in final.items():  # keep Google's key order
        if key == "candidatesTokenCount":
            if candidates:
                usage[key] = candidates
        elif key == "candidatesTokensDetails":
            if image_tokens:
                usage[key] = [{"modality": "IMAGE", "tokenCount": image_tokens}]
        elif key == "totalTokenCount":
            usage[key] = int(value) - final_candidates + candidates
        else:
            usage[key] = value
    return usage


def closes_separately(reply: Reply, request: ImageRequest) -> bool:
    """Gemini 3 (thinking) models end a finished stream with an empty closing event (obs. 6);
    2.5 Flash Image puts finishReason on its last (image) event."""
    return request.profile.thinking and reply.has_candidate and bool(reply.parts) and reply.finish_reason == "STOP"


def provisional_usage(final: dict[str, Any]) -> dict[str, Any]:
    """The usage a stream reports before its closing event: thinking counted higher, revised down in
    the closing event (obs. 7: 134->44, 263->175, 244->167 with candidates unchanged)."""
    thoughts = int(final.get("thoughtsTokenCount", 0))
    if not thoughts:
        return final
    extra = 70 + (thoughts * 31 + int(final.get("promptTokenCount", 0))) % 26  # steady per request
    return {key: value + extra if key in ("thoughtsTokenCount", "totalTokenCount") else value
            for key, value in final.items()}


def text_deltas(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text``, as 2.5 Flash Image streams its caption (obs. 6)."""
    words = re.findall(r"\s*\S+\s*", text) or [text]
    return ["".join(words[start:start + _WORDS_PER_DELTA]) for start in range(0, len(words), _WORDS_PER_DELTA)]


def _delta_chunks(document: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """One text chunk as its word-sized deltas, candidatesTokenCount growing to ``after``'s."""
    text = document["candidates"][0]["content"]["parts"][0]["text"]
    pieces = text_deltas(text)
    grown_from, grown_to = int(before.get("candidatesTokenCount", 0)), int(after.get("candidatesTokenCount", 0))
    chunks, sent = [], 0
    for number, piece in enumerate(pieces, start=1):
        sent += len(piece)
        chunk = json.loads(json.dumps(document))
        candidate = chunk["candidates"][0]
        candidate["content"]["parts"][0]["text"] = piece
        if number < len(pieces):
            for key in ("finishReason", "finishMessage", "groundingMetadata"):
                candidate.pop(key, None)
            grown = grown_from + (grown_to - grown_from) * sent // max(1, len(text))
            chunk["usageMetadata"] = {key: grown if key == "candidatesTokenCount" else
                                      int(value) - grown_to + grown if key == "totalTokenCount" else value
                                      for key, value in after.items()
                                      if (key != "candidatesTokensDetails" or key in before)
                                      and (key != "candidatesTokenCount" or grown)}
        else:
            chunk["usageMetadata"] = after
        chunks.append(chunk)
    return chunks


def encode_chunks(
    reply: Reply, rendered: dict[int, RenderedImage], request: ImageRequest, secret: str,
) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    """Each chunk as (document with blob markers, blobs), in stream order."""
    groups = chunk_groups(reply)
    closing = closes_separately(reply, request)
    chunks: list[tuple[dict[str, Any], dict[str, bytes]]] = []
    for number, indices in enumerate(groups, start=1):
        final = number == len(groups) and not closing
        document, blobs = reply_document(reply, rendered, secret, indices=indices, final=final)
        document["usageMetadata"] = chunk_usage(reply, request, indices.stop)
        part = reply.parts[indices.start] if len(indices) == 1 else None
        if part is not None and part.text and not part.thought and not request.profile.thinking:
            before = chunk_usage(reply, request, indices.start)
            chunks += [(chunk, {}) for chunk in _delta_chunks(document, before, document["usageMetadata"])]
            continue
        chunks.append((document, blobs))
    if closing:
        last, _ = chunks[-1]
        last["usageMetadata"] = provisional_usage(last["usageMetadata"])
        document, _ = reply_document(reply, rendered, secret, indices=range(0), final=True)
        document["candidates"][0]["content"] = {"parts": [{"text": ""}], "role": "model"}
        chunks.append((document, {}))
    # Another surface's dress (Vertex) goes on last, over every chunk, deltas and closing event included.
    return [(shape_document(reply, document, first=number == 0, final=number == len(chunks) - 1), blobs)
            for number, (document, blobs) in enumerate(chunks)]


def _frame_sse(document: dict[str, Any], blobs: dict[str, bytes], separator: bytes) -> list[bytes]:
    """One SSE event, as pieces: the image base64 is sent without being copied into one buffer."""
    return [b"data: ", *splice(document, blobs, indent=None), separator]


def _frame_array(document: dict[str, Any], blobs: dict[str, bytes], first: bool) -> list[bytes]:
    return [b"[" if first else b"\n,\r\n", *splice(document, blobs, indent=2)]


_ID_MARK = b"@@gik-stream-id-" + os.urandom(6).hex().encode() + b"@@"


def stream_events(reply: Reply, rendered: dict[int, RenderedImage], request: ImageRequest, secret: str, sse: bool,
                  separator: bytes) -> list[list[bytes]]:
    """Each event's bytes, as pieces, in stream order. Like a whole answer, the events of a planned reply
    without images are encoded once and later copies only fill in their responseId (image data is
    looked up per request, in the image cache that bounds it)."""
    if rendered:
        return _framed(encode_chunks(reply, rendered, request, secret), sse, separator)
    template: list[list[bytes | None]] | None = reply.streams.get((sse, separator))
    if template is None:
        marked = reply.with_changes(response_id=_ID_MARK.decode())
        frames = _framed(encode_chunks(marked, rendered, request, secret), sse, separator)
        template = [[slot for piece in frame for slot in _id_slots(piece)] for frame in frames]
        reply.streams[(sse, separator)] = template
    response_id = reply.response_id.encode()
    return [[response_id if piece is None else piece for piece in frame] for frame in template]


def _id_slots(piece: bytes) -> list[bytes | None]:
    """``piece`` with None where the responseId goes."""
    texts = piece.split(_ID_MARK)
    slots: list[bytes | None] = [texts[0]]
    for text in texts[1:]:
        slots += [None, text]
    return slots


def _framed(chunks: list[tuple[dict[str, Any], dict[str, bytes]]], sse: bool, separator: bytes) -> list[list[bytes]]:
    return [_frame_sse(document, blobs, separator) if sse else _frame_array(document, blobs, number == 0)
            for number, (document, blobs) in enumerate(chunks)]


async def _body(
    events: list[list[bytes]], sse: bool, separator: bytes, plan: StreamPlan | None, first_delay: float, gap: float,
) -> AsyncIterator[bytes]:
    limit = len(events) if plan is None else min(len(events), max(0, plan.after_chunks))
    if first_delay > 0:
        await asyncio.sleep(first_delay)
    for number, event in enumerate(events[:limit]):
        if number and gap > 0:
            await asyncio.sleep(gap)
        for piece in event:
            yield piece
    if plan is not None and plan.cut == "drop":
        return
    if plan is not None and plan.error is not None:
        error = error_body(plan.error)
        if sse:
            yield b"".join(_frame_sse(plan.error.to_dict(), {}, separator))
        else:
            yield (b"[" if limit == 0 else b"\n,\r\n") + error
    if not sse:
        yield b"\n]"


async def stream_generate_content(request: Request, profile: ModelProfile) -> Response:
    runtime = runtime_of(request)
    alt = request.query_params.get("alt", "json")
    if alt not in ("sse", "json"):
        raise ApiError.named("invalid_value", path="alt", type="TYPE_ENUM", value=f'"{alt}"')
    image_request, reply, _pure = await prepare(request, profile)
    rendered = await rendered_for(runtime, reply)
    sse = alt == "sse"
    separator = SSE_SEPARATORS[runtime.settings.sse_line_ending]
    events = stream_events(reply, rendered, image_request, runtime.settings.signing_secret, sse, separator)
    delay = plan_delay(runtime, profile, image_request.image_size)
    gap = (delay.total - delay.first_chunk) / max(1, len(events) - 1)
    body = _body(events, sse, separator, stream_plan(request.scope), delay.first_chunk, gap)
    headers = {"vary": "Origin, X-Origin, Referer", "cache-control": "no-cache"}
    if sse:  # exactly as Google labels its SSE answers (obs. 2): no charset, an attachment
        headers |= {"content-type": SSE_CONTENT_TYPE, "content-disposition": "attachment"}
    response_type = _WaitingStream if delay.total > 0 or delay.first_chunk > 0 else _ImmediateStream
    return response_type(body, media_type=SSE_CONTENT_TYPE if sse else JSON_CONTENT_TYPE, headers=headers)


class _WaitingStream(StreamingResponse):
    """A stream that waits between its events (simulated latency): Starlette's, which listens for the
    client leaving in a task of its own and then stops waiting."""


class _ImmediateStream(StreamingResponse):
    """A stream with nothing to wait for, sent straight: no disconnect-listening task per request (a
    client that left makes the server drop the rest, as it does for any answer)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)
        except OSError as exc:
            raise ClientDisconnect() from exc


def label_stream_error(request: Request, action: str, error: ApiError) -> None:
    """An error on ``streamGenerateContent?alt=sse`` stays one plain pretty JSON body, not an SSE
    event, yet is labelled ``text/event-stream`` as Google labels it (obs. 9)."""
    if action == "streamGenerateContent" and request.query_params.get("alt") == "sse":
        error.headers.setdefault("content-type", SSE_CONTENT_TYPE)
