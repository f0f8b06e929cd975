"""HTTP plumbing shared by every surface: Google's error envelopes, key checks, request and paging helpers."""
