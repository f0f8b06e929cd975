"""The yardstick: the same uvicorn + Starlette serving a precomputed body of a given size.

``BASELINE_BODY_FILE`` names a file whose bytes are answered to every POST, so the fake's rate can
be compared with the rate of doing no work at all for a response of the same size.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["BASELINE_BODY_FILE"]).read_bytes()


async def precomputed(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json; charset=UTF-8")


app = Starlette(routes=[Route("/{path:path}", precomputed, methods=["POST"])])
