"""The seam between the validating proxy and the contract suite's checks (``contract_tests.checks``).

An observed exchange is described to the checks as a contract ``Case`` (what was asked: model,
ratio, size, modalities, input images, read the way the fake reads requests) plus the response.
Only successful ``generateContent`` and ``GET models`` answers are judged here: which error a request
deserved, or whether a 5xx is acceptable, depends on intent the proxy cannot know, and schema
conformance is already judged by ``proxy.py``. Without ``contract_tests`` installed this returns nothing.
"""

from __future__ import annotations

import json
from typing import Any

from mock_server.answer.normalize import normalize
from mock_server.answer.validation import read_generate_request
from mock_server.instrument.forwarding import Exchange, decoded_body
from mock_server.web.errors import ApiError
from mock_server.web.http import model_and_action
from schemas import load_profile_book

__all__ = ["carries_stream", "contract_failures"]

_NOT_HERE = {"response_schema_conformance", "not_a_server_error", "status_code_conformance"}


def _case(exchange: Exchange) -> Any:
    from contract_tests.generation.cases import Case, Expectation, InputImage

    model, action = model_and_action(exchange.path)
    if exchange.method == "GET" and "/models" in exchange.path and action is None:
        return Case(purpose="models", label="proxied", model=model or "", method="GET", action="")
    if exchange.method != "POST" or action != "generateContent" or model is None:
        return None
    profile = load_profile_book().get(model)
    if profile is None:
        return None
    document, problems = normalize(json.loads(exchange.request_body or b"{}"), "generate_content_request")
    if problems:
        return None
    try:
        request = read_generate_request(document, profile.model_id, unknown_image_size="fallback")
    except ApiError:
        return None
    image_config = (document.get("generationConfig") or {}).get("imageConfig") or {}
    expect = Expectation(
        aspect_ratio=None if request.ratio_inferred else request.aspect_ratio, image_size=request.image_size,
        size_explicit="imageSize" in image_config, modalities=request.modalities,
        input_images=tuple(InputImage(i.width, i.height, i.mime_type) for i in request.images
                           if i.width is not None and i.height is not None and i.role == "user"),
    )
    return Case(purpose="generate", label="proxied", model=profile.model_id, document=document, expect=expect)


def carries_stream(exchange: Exchange) -> bool:
    """Whether the body is a stream of documents (SSE events or a JSON array), not one document.

    ``exchange.streamed`` says how the answer was relayed: anything without Content-Length goes to
    the client as it arrives. A chunked generateContent answer is still one document to judge."""
    _model, action = model_and_action(exchange.path)
    return action == "streamGenerateContent" or "event-stream" in exchange.response_header("content-type")


def contract_failures(exchange: Exchange) -> list[str]:
    """``check_id: message`` for every contract check the exchange fails."""
    if exchange.status != 200 or carries_stream(exchange):
        return []
    try:
        from contract_tests.checks import CHECKS, CheckContext, Skip
        from contract_tests.config import RunConfig
        from contract_tests.generation.cases import Exchange as ContractExchange
    except ImportError:
        return []
    try:
        case = _case(exchange)
    except ValueError:
        return []
    body = decoded_body(exchange)
    if case is None or body is None:
        return []
    observed = ContractExchange(
        index=0, case=case, url=exchange.path, request_headers={}, request_body=exchange.request_body,
        status=exchange.status, headers=dict(exchange.response_headers), body=body,
    )
    context = CheckContext(config=RunConfig(base_url="http://upstream"))
    found: list[str] = []
    for check in CHECKS.values():
        if check.id in _NOT_HERE:
            continue
        try:
            failures = check.run(observed, context)
        except Skip:
            continue
        except Exception as exc:  # a check that cannot judge this traffic must not stop the relay
            found.append(f"{check.id}: could not be evaluated ({type(exc).__name__})")
            continue
        found += [f"{check.id}: {failure.message}" + (f" at {failure.pointer}" if failure.pointer else "")
                  for failure in failures]
    return found
