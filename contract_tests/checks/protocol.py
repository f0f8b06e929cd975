"""Protocol tolerance and the side endpoints: casing, auth styles, GET models, streaming."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract_tests.checks.base import CheckContext, Failure, Skip, camel_view, check, pointer
from contract_tests.checks.images import final_images
from contract_tests.checks.schema import schema_failures
from contract_tests.checks.vertex import gemini_view
from contract_tests.generation.cases import Exchange
from schemas.wire.sse import parse_sse

__all__ = ["auth_styles", "casing_tolerance", "models_endpoint", "parse_sse", "streaming"]


@check("casing_tolerance", "major", ("casing", "generate"))
def casing_tolerance(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Valid requests spelled in snake_case, or camelCase and snake_case mixed at any depth, with standard
    or URL-safe base64, are accepted (200) like their camelCase form. Google's proto3 JSON parser accepts
    both names, and the Python SDK itself sends ``inlineData`` with ``mime_type`` and URL-safe base64."""
    case = exchange.case
    if case.casing == "camel" and case.purpose == "generate":
        raise Skip("camelCase request (status_code_conformance judges it)")
    if exchange.status != 200:
        yield Failure(f"{case.casing} spelling of a valid request was refused", "", 200, exchange.status)


@check("auth_styles", "major", ("auth",))
def auth_styles(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """Reports which of the three ways to pass a key work: ``x-goog-api-key`` header, ``?key=`` query, and
    ``Authorization: Bearer``. The styles listed as required (``--require-auth``, default: the ``--auth``
    style) must be accepted with 200; the others are probed and reported in the notes only."""
    style = exchange.case.auth
    works = exchange.status == 200
    context.note("auth_styles", f"{style}: {'works' if works else f'HTTP {exchange.status}'}")
    if not works and style in context.config.required_auth_styles:
        yield Failure(f"required auth style '{style}' was refused", "", 200, exchange.status)


def _model_failures(model: Any, model_id: str, where: tuple[str | int, ...]) -> Iterator[Failure]:
    if not isinstance(model, dict):
        return
    if model.get("name") != f"models/{model_id}":
        yield Failure("Model.name does not name the model", pointer(*where, "name"), f"models/{model_id}",
                      model.get("name"))
    if "generateContent" not in (model.get("supportedGenerationMethods") or []):
        yield Failure("generateContent is not among supportedGenerationMethods",
                      pointer(*where, "supportedGenerationMethods"), "generateContent",
                      model.get("supportedGenerationMethods"))
    for name in ("inputTokenLimit", "outputTokenLimit"):
        value = model.get(name)
        if not isinstance(value, int) or value <= 0:
            yield Failure(f"{name} is not a positive integer", pointer(*where, name), "> 0", value)


@check("models_endpoint", "minor", ("models",))
def models_endpoint(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``GET models`` lists every model under test and ``GET models/{model}`` returns it, both valid
    against schemas/ (ListModelsResponse, Model), with ``name: models/{id}``, ``generateContent`` among
    ``supportedGenerationMethods`` and positive token limits. Clients discover models and limits here."""
    if exchange.status != 200:
        yield Failure("models endpoint did not answer 200", "", 200, exchange.status)
        return
    document = exchange.json
    model_id = exchange.case.model
    if model_id:
        yield from schema_failures(document, "model")
        yield from _model_failures(document, model_id, ())
        return
    yield from schema_failures(document, "list_models")
    listed = {m.get("name"): i for i, m in enumerate((document or {}).get("models") or []) if isinstance(m, dict)}
    paged = bool((document or {}).get("nextPageToken"))
    for wanted in context.config.models:
        if f"models/{wanted}" in listed:
            index = listed[f"models/{wanted}"]
            yield from _model_failures(document["models"][index], wanted, ("models", index))
        elif not paged:
            yield Failure(f"{wanted} is not listed", "/models", f"models/{wanted}", sorted(map(str, listed)))
        else:
            context.note("models_endpoint", f"{wanted} not on the first page")


@check("streaming", "minor", ("stream",))
def streaming(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``streamGenerateContent?alt=sse`` answers ``text/event-stream`` whose ``data:`` events are each a
    GenerateContentResponse valid against schemas/, all with the same ``responseId``, the last one with a
    ``finishReason``, and at least one final image among them. Skipped when the endpoint answers 404 or
    405 (it does not stream)."""
    if exchange.status in (404, 405, 501):
        raise Skip(f"endpoint does not stream (HTTP {exchange.status})")
    if exchange.status != 200:
        yield Failure("stream request was not answered 200", "", 200, exchange.status)
        return
    if not exchange.content_type.lower().startswith("text/event-stream"):
        yield Failure("stream is not text/event-stream", "", "text/event-stream", exchange.content_type)
    try:
        events = parse_sse(exchange.body)
    except ValueError as error:
        yield Failure(f"an SSE event is not JSON: {error}", "", "JSON events", None)
        return
    if not events:
        yield Failure("no data: events in the stream", "", ">= 1 event", 0)
        return
    for index, event in enumerate(events):
        yield from schema_failures(gemini_view(event, context.config), "generate_content_response", (f"event{index}",))
    views = [camel_view(event) for event in events if isinstance(event, dict)]
    ids = {view.get("responseId") for view in views}
    if len(ids) != 1 or None in ids:
        yield Failure("responseId differs between chunks", "/responseId", "one id", sorted(map(str, ids)))
    last = (views[-1].get("candidates") or [{}])[0] if views else {}
    if not isinstance(last, dict) or not last.get("finishReason"):
        yield Failure("last chunk has no finishReason", f"/event{len(views) - 1}/candidates/0/finishReason",
                      "a finishReason", None)
    if not any(not thought for view in views for _w, _b, thought in final_images(view)):
        yield Failure("no final image in the stream", "", ">= 1 image", 0)
