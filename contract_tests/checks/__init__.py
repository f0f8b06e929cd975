"""The catalogue of checks. Importing this package registers every family in ``CHECKS``."""

from __future__ import annotations

from contract_tests.checks import bounds, errors, identity, images, interactions, protocol, schema, transport, usage
from contract_tests.checks.base import CHECKS, Check, CheckContext, Failure, Severity, Skip

__all__ = ["CHECKS", "Check", "CheckContext", "Failure", "Severity", "Skip"]

# Catalogue order: HTTP first, then bounds, schema, images, tokens, identity, errors, protocol, Interactions.
_FAMILIES = (transport, bounds, schema, images, usage, identity, errors, protocol, interactions)


def _reorder() -> None:
    modules = [family.__name__ for family in _FAMILIES]
    ordered = sorted(CHECKS.values(), key=lambda c: modules.index(c.function.__module__))
    CHECKS.clear()
    CHECKS.update((c.id, c) for c in ordered)


_reorder()
