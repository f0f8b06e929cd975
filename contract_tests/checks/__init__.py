"""The catalogue of checks. Importing this package registers every family in ``CHECKS``."""

from __future__ import annotations

from contract_tests.checks import (
    batch,
    batch_file,
    bounds,
    errors,
    identity,
    images,
    interactions,
    protocol,
    relay,
    schema,
    security,
    settings,
    transport,
    usage,
    vertex,
)
from contract_tests.checks.base import CHECKS, Check, CheckContext, Failure, Severity, Skip

__all__ = ["CHECKS", "Check", "CheckContext", "Failure", "Severity", "Skip"]

# Catalogue order: HTTP first, then bounds, schema, images, settings, tokens, identity, errors, protocol,
# Interactions, leakage, the sandwich's relay checks, then the other doors to generateContent (Vertex, Batch).
_FAMILIES = (transport, bounds, schema, images, settings, usage, identity, errors, protocol, interactions, security,
             relay, vertex, batch, batch_file)


def _reorder() -> None:
    modules = [family.__name__ for family in _FAMILIES]
    ordered = sorted(CHECKS.values(), key=lambda c: modules.index(c.function.__module__))
    CHECKS.clear()
    CHECKS.update((c.id, c) for c in ordered)


_reorder()
