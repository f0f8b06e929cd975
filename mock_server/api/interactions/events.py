"""The SSE events of an interaction, in the documented order, and their framing.

``interaction.created`` → ``interaction.status_update`` → per step ``step.start``, ``step.delta``*,
``step.stop`` → ``interaction.completed`` → ``event: done`` / ``data: [DONE]``. Each ``data`` JSON
carries its own ``event_type`` (what the SDK reads). An image is one ``image`` delta with the whole
base64; a thought step sends its summary items then one ``thought_signature`` delta. Step indices
start at 1: index 0 is the turn's ``user_input`` step, which streams skip (the streaming guide's
sample starts at 1). Events are derived from the finished ``Interaction`` document, so a create
stream and ``GET ...?stream=true`` of a stored interaction send the same events, with the same
``event_id``s (``Framer``).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DONE_FRAME", "Framer", "completion_events", "error_event", "frame", "opening_events", "step_events"]

DONE_FRAME = b"event: done\ndata: [DONE]\n\n"
_HEADER_KEYS = ("id", "status", "object", "model", "created", "updated", "service_tier")


def frame(event: dict[str, Any]) -> bytes:
    """One SSE event: ``event: NAME`` and a single-line ``data:`` JSON, LF line endings."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event['event_type']}\ndata: {data}\n\n".encode()


class Framer:
    """Numbers a stream's events (``event_id`` "1", "2", ... in stream order) and frames them. The
    numbering depends only on the interaction, so ``GET ...?stream=true&last_event_id=N`` of a stored
    interaction resumes after event N of its create stream: earlier events come out empty."""

    def __init__(self, resume_after: int = 0) -> None:
        self.count = 0
        self.resume_after = resume_after

    def __call__(self, event: dict[str, Any]) -> bytes:
        self.count += 1
        if self.count <= self.resume_after:
            return b""
        kind = event["event_type"]
        numbered = {key: value for key, value in event.items() if key != "event_type"}
        return frame(numbered | {"event_id": str(self.count), "event_type": kind})


def opening_events(interaction: dict[str, Any], interaction_id: str) -> list[dict[str, Any]]:
    header = {key: interaction[key] for key in _HEADER_KEYS if key in interaction}
    header |= {"id": interaction_id, "status": "in_progress"}
    return [
        {"interaction": header, "event_type": "interaction.created"},
        {"interaction_id": interaction_id, "status": "in_progress", "event_type": "interaction.status_update"},
    ]


def _deltas(step: dict[str, Any]) -> list[dict[str, Any]]:
    if step["type"] == "thought":
        deltas = [{"type": "thought_summary", "content": item} for item in step.get("summary", [])]
        if "signature" in step:
            deltas.append({"type": "thought_signature", "signature": step["signature"]})
        return deltas
    return [dict(block) for block in step.get("content", [])]


def step_events(steps: list[dict[str, Any]], first_index: int = 1) -> list[list[dict[str, Any]]]:
    """For each step, its start, deltas and stop events."""
    grouped = []
    for index, step in enumerate(steps, start=first_index):
        start_step = {"type": step["type"]} | ({"error": step["error"]} if "error" in step else {})
        events = [{"index": index, "step": start_step, "event_type": "step.start"}]
        events += [{"index": index, "delta": delta, "event_type": "step.delta"} for delta in _deltas(step)]
        events.append({"index": index, "event_type": "step.stop"})
        grouped.append(events)
    return grouped


def completion_events(interaction: dict[str, Any], interaction_id: str) -> list[dict[str, Any]]:
    header = {key: interaction[key] for key in _HEADER_KEYS if key in interaction} | {"id": interaction_id}
    if "usage" in interaction:
        header["usage"] = interaction["usage"]
    return [{"interaction": header, "event_type": "interaction.completed"}]


def error_event(code: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "code": code}, "event_type": "error"}
