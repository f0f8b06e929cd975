"""The Batch API for image generation (generateContent only, as Google offers it): api-2026.md §3."""
