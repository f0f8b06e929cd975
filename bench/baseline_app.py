"""The ceiling: the same uvicorn + Starlette serving precomputed bytes.

``BASELINE_DIR`` holds ``<case>.body`` (the bytes the fake answered) and ``<case>.status``; a POST to
``/<case>`` reads the request body and answers those bytes with that status, so the fake's rate can
be compared with the rate of doing no work at all for a response of the same size and status.
``BASELINE_BODY_FILE`` instead names one body answered with 200 to a POST anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_DIR = os.environ.get("BASELINE_DIR")
_FILE = os.environ.get("BASELINE_BODY_FILE")
BODIES = {path.stem: (path.read_bytes(), int(path.with_suffix(".status").read_text()))
          for path in (Path(_DIR).glob("*.body") if _DIR else [])}
ANYWHERE = (Path(_FILE).read_bytes(), 200) if _FILE else (b"", 404)


async def precomputed(request: Request) -> Response:
    await request.body()
    body, status = BODIES.get(request.path_params["case"], ANYWHERE)
    return Response(body, status_code=status, media_type="application/json; charset=UTF-8")


async def up(_request: Request) -> Response:
    return Response(b"up")


app = Starlette(routes=[Route("/{case:path}", precomputed, methods=["POST"]), Route("/", up, methods=["GET"])])
