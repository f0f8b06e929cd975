"""The wire codec both halves need: proto-JSON name casing, base64, SSE framing, key redaction."""
