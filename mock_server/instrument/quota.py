"""The 429 RESOURCE_EXHAUSTED a quota scenario answers with, as Google words it in 2026 (obs. 26).

The message is the catalogue's head, then one line per exceeded quota, then when to retry:

    You exceeded your current quota, … head to: https://ai.dev/rate-limit. \\n
    * Quota exceeded for metric: generativelanguage.googleapis.com/…_requests, limit: 0, model: <quota model>\\n
    Please retry in 26s.

and the ``google.rpc.QuotaFailure`` detail lists the same quotas, in the same order. The quota model
is the name Google's quota system uses, which is not always the request's id
(``gemini-2.5-flash-image`` is limited as ``gemini-2.5-flash-preview-image``): the table lives in
``error_catalogue.json`` (``rate_limited.quotaModels``); ids without an entry are named as sent.
"""

from __future__ import annotations

from typing import Any

from mock_server.web.errors import ApiError
from schemas import error_catalogue

__all__ = ["quota_error"]


def quota_model(model_id: str) -> str:
    models: dict[str, str] = error_catalogue()["errors"]["rate_limited"].get("quotaModels", {})
    return models.get(model_id, model_id)


def quota_error(spec: dict[str, Any], model_id: str, details: list[dict[str, Any]]) -> ApiError:
    """The scenario's ``error`` entry with the lines and QuotaFailure of ``spec["quotaViolations"]``
    (each ``{quotaMetric, quotaId, limit}``), followed by the scenario's other ``details``."""
    entry = error_catalogue()["errors"][spec["error"]]
    model = quota_model(model_id)
    violations = []
    message = entry["message"]
    for quota in spec["quotaViolations"]:
        violations.append({"quotaMetric": quota["quotaMetric"], "quotaId": quota["quotaId"],
                           "quotaDimensions": {"location": "global", "model": model},
                           "quotaValue": str(quota["limit"])})
        message += entry["metricLine"].format(metric=quota["quotaMetric"], limit=quota["limit"], quota_model=model)
    retry_after = spec.get("retryAfterSeconds")
    if retry_after is not None:
        message += entry["retryLine"].format(retry=retry_after)
    failure = {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": violations}
    return ApiError(int(entry["code"]), str(entry["status"]), message, [failure, *details])
