"""Waiting for a batch job through google-genai, on either API (Gemini's batches or Vertex's jobs)."""

from __future__ import annotations

import time

from google import genai
from google.genai import types

__all__ = ["wait"]


def wait(client: genai.Client, job: types.BatchJob, seconds: float = 20) -> types.BatchJob:
    """``job`` polled until it is done; fails the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not job.done:
        assert time.monotonic() < deadline, f"{job.name} still {job.state}"
        time.sleep(0.05)
        job = client.batches.get(name=job.name or "")
    return job
