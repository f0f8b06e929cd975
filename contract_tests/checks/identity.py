"""Which model answered, and the thought signatures thinking models must attach."""

from __future__ import annotations

import binascii
from collections.abc import Iterator

from contract_tests.checks.base import GENERATING, CheckContext, Failure, Skip, check, success_body, walk_parts
from contract_tests.generation.cases import Exchange
from schemas import load_profile_book
from schemas.wire.b64 import decode_base64

__all__ = ["model_identity", "thought_signatures"]


@check("model_identity", "critical", GENERATING)
def model_identity(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """``modelVersion`` names the requested model (or one of its documented aliases, resolved through the
    profiles) and ``responseId`` is a non-empty string. A relay that quietly serves a cheaper model than
    the one paid for is caught here: the real API always reports the model that answered."""
    document = success_body(exchange)
    requested = exchange.case.model
    version = document.get("modelVersion")
    if not isinstance(version, str) or not version:
        yield Failure("modelVersion is missing", "/modelVersion", requested, version)
    else:
        book = load_profile_book()
        answered = version.removeprefix("models/")
        same = answered == requested or (book.get(answered) is not None and book.get(answered) == book.get(requested))
        if not same:
            yield Failure("modelVersion names a different model", "/modelVersion", requested, version)
    response_id = document.get("responseId")
    if not isinstance(response_id, str) or not response_id:
        yield Failure("responseId is missing", "/responseId", "a non-empty string", response_id)


def _valid_signature(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        decode_base64(value)  # a bytes field: standard or URL-safe base64, padded or not (proto3 JSON)
    except (binascii.Error, ValueError):
        return False
    return True


@check("thought_signatures", "major", GENERATING)
def thought_signatures(exchange: Exchange, context: CheckContext) -> Iterator[Failure]:
    """For thinking models (per profile), every final (non-thought) image part carries a non-empty base64
    ``thoughtSignature`` and thought parts carry none, as Google documents; and a multi-turn edit that
    sends the previous answer back with its signatures is accepted (200). Without signatures a client's
    next edit in the conversation fails with "Image part is missing a thought_signature"."""
    profile = load_profile_book().get(exchange.case.model)
    if profile is None or not profile.thinking:
        raise Skip("not a thinking model")
    if exchange.case.purpose == "multi_turn" and exchange.status != 200:
        yield Failure("a multi-turn edit returning the thought signatures was refused", "", 200, exchange.status)
        return
    document = success_body(exchange)
    parts = list(walk_parts(document))
    if not any("inlineData" in part and not part.get("thought") for _w, _c, _p, part in parts):
        raise Skip("not judged: no image part to judge")
    for where, _c, _p, part in parts:
        signature = part.get("thoughtSignature")
        if part.get("thought"):
            if signature is not None:
                yield Failure("thought part carries a signature", where + "/thoughtSignature", None, "present")
        elif "inlineData" in part and not _valid_signature(signature):
            yield Failure("final image part lacks a valid thoughtSignature", where + "/thoughtSignature",
                          "a base64 signature", signature)
