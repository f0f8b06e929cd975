"""``stream: true``: the interaction as SSE, paced by the simulated latency.

``interaction.created`` and ``interaction.status_update`` go out at once; the steps follow after
the first-chunk delay, spread over the rest of the simulated generation time. A ``stream`` scenario
(``StreamPlan``) cuts the stream after N step events, with an ``error`` event in the Interactions
shape (``{"error": {"message", "code"}, "event_type": "error"}``) or, for ``drop``, nothing at all;
a broken stream ends without ``[DONE]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mock_server.api.generate import rendered_for
from mock_server.api.interactions.events import (
    DONE_FRAME,
    Framer,
    completion_events,
    error_event,
    opening_events,
    step_events,
)
from mock_server.api.interactions.turn import Planned, finished, keep
from mock_server.instrument.latency import plan_delay
from mock_server.instrument.scenarios import stream_plan
from mock_server.runtime import Runtime
from schemas.interactions import error_code
from schemas.wire.sse import SSE_CONTENT_TYPE

__all__ = ["stream_answer"]


def stream_answer(request: Request, runtime: Runtime, planned: Planned) -> Response:
    call = planned.call
    cut = stream_plan(request.scope)
    delay = plan_delay(runtime, call.profile, call.image_request.image_size)
    resource_header = {"id": planned.interaction_id, "object": "interaction", "model": call.model,
                                 "created": planned.created, "service_tier": call.service_tier}

    async def body() -> AsyncIterator[bytes]:
        frame = Framer()
        for event in opening_events(resource_header, planned.interaction_id):
            yield frame(event)
        if delay.first_chunk > 0:
            await asyncio.sleep(delay.first_chunk)
        document = finished(planned, await rendered_for(runtime, planned.reply))
        groups = step_events(document["steps"])
        gap = (delay.total - delay.first_chunk) / max(1, len(groups))
        sent = 0
        for number, group in enumerate(groups):
            if number and gap > 0:
                await asyncio.sleep(gap)
            for event in group:
                if cut is not None and sent >= max(0, cut.after_chunks):
                    if cut.error is not None:
                        yield frame(error_event(error_code(cut.error.code), cut.error.message))
                    return
                yield frame(event)
                sent += 1
        if call.store:
            keep(runtime, planned, document)
        for event in completion_events(document, planned.interaction_id):
            yield frame(event)
        yield DONE_FRAME

    return StreamingResponse(body(), media_type=SSE_CONTENT_TYPE,
                             headers={"cache-control": "no-cache", "vary": "Origin, X-Origin, Referer"})
