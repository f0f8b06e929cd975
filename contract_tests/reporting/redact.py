"""API keys out of everything the suite writes, while ``$GEMINI_API_KEY`` placeholders stay runnable.

One implementation serves the fake and the suite: ``mock_server.web.auth``.
"""

from __future__ import annotations

from schemas.wire.redaction import REDACTED, redact_bytes, redact_document
from schemas.wire.redaction import redact_text as redact

__all__ = ["KEY_PLACEHOLDER", "REDACTED", "redact", "redact_bytes", "redact_document"]

KEY_PLACEHOLDER = "$GEMINI_API_KEY"
