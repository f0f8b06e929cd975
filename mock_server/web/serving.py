"""How the fake is served: the uvicorn options every entry point uses (the CLI and ``serve_in_thread``)."""

from __future__ import annotations

from typing import Any

__all__ = ["GOOGLE_SERVER_HEADER", "uvicorn_options"]

GOOGLE_SERVER_HEADER = "scaffolding on HTTPServer2"  # what Google's front end says it is (captures, obs. 30)


def uvicorn_options() -> dict[str, Any]:
    """- no access log: uvicorn's prints query strings, which can hold ``?key=``;
    - ``Server`` as Google sends it instead of ``uvicorn`` (added once per second with ``Date``, at no cost);
    - no proxy headers: the fake never uses the client's address, so parsing ``X-Forwarded-*`` on every
      request would be work for nothing."""
    return {"access_log": False, "server_header": False, "headers": [("server", GOOGLE_SERVER_HEADER)],
            "proxy_headers": False}
