"""API keys out of everything the suite writes, while ``$GEMINI_API_KEY`` placeholders stay runnable.

One implementation serves the fake and the suite: ``mock_server.auth``.
"""

from __future__ import annotations

from mock_server.auth import REDACTED, redact_document
from mock_server.auth import redact_text as redact

__all__ = ["KEY_PLACEHOLDER", "REDACTED", "redact", "redact_document"]

KEY_PLACEHOLDER = "$GEMINI_API_KEY"
