"""The ceiling: the same uvicorn + Starlette serving precomputed bytes, one body per case.

``BASELINE_DIR`` holds ``<case>.body`` (the bytes the fake answered) and ``<case>.status``; a POST to
``/<case>`` reads the request body and answers those bytes with that status, so the fake's rate can
be compared with the rate of doing no work at all for a response of the same size and status.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_DIR = Path(os.environ["BASELINE_DIR"])
BODIES = {path.stem: (path.read_bytes(), int(path.with_suffix(".status").read_text()))
          for path in _DIR.glob("*.body")}


async def precomputed(request: Request) -> Response:
    await request.body()
    body, status = BODIES[request.path_params["case"]]
    return Response(body, status_code=status, media_type="application/json; charset=UTF-8")


async def up(_request: Request) -> Response:
    return Response(b"up")


app = Starlette(routes=[Route("/{case}", precomputed, methods=["POST"]), Route("/", up, methods=["GET"])])
