"""Where registered webhooks and the record of deliveries live: documents of the state store.

Both are plain JSON documents in the app's ``StateStore`` collections (kind ``webhook`` and
``webhook_delivery``), so the memory store, ``--workers`` (SQLite) and ``--state redis://`` all keep
them with no code of their own, bounded per kind by ``--state-documents-max`` (oldest dropped first).
A webhook record holds its signing secrets in full (the API shows them truncated); a delivery record
holds what was sent (event, signature headers) and what came back, never a credential of the caller.
"""

from __future__ import annotations

from typing import Any

from mock_server.state.store import StateStore

__all__ = ["WebhookRegistry"]


class WebhookRegistry:
    """Webhooks by id and deliveries by message id, over one state store."""

    HOOKS, DELIVERIES = "webhook", "webhook_delivery"

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def put(self, webhook_id: str, record: dict[str, Any]) -> None:
        self._store.put_document(self.HOOKS, webhook_id, record)

    def get(self, webhook_id: str) -> dict[str, Any] | None:
        return self._store.get_document(self.HOOKS, webhook_id)

    def delete(self, webhook_id: str) -> bool:
        return self._store.delete_document(self.HOOKS, webhook_id)

    def all(self) -> list[dict[str, Any]]:
        """Every webhook, oldest first."""
        return self._store.list_documents(self.HOOKS)

    def record_delivery(self, message_id: str, record: dict[str, Any]) -> None:
        """Insert or replace the record of one delivery (one event to one destination)."""
        self._store.put_document(self.DELIVERIES, message_id, record)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every kept delivery record, oldest first."""
        return self._store.list_documents(self.DELIVERIES)

    def clear_deliveries(self) -> int:
        found = self.deliveries()
        for record in found:
            self._store.delete_document(self.DELIVERIES, str(record["message_id"]))
        return len(found)
