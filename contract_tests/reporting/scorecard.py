"""The relay scorecard of a sandwich run: one line per aspect, the relay's cost in time and bytes,
and how each upstream failure scenario arrived."""

from __future__ import annotations

import html
import statistics
from typing import Any

from contract_tests.generation.cases import Exchange
from contract_tests.reporting.results import CheckResult
from contract_tests.sandwich.session import SandwichRun

__all__ = ["relay_scorecard", "scorecard_html", "scorecard_lines"]

ASPECTS = (
    ("upstream faults arrive faithfully", "relay_fault_fidelity"),
    ("requests forwarded unchanged", "relay_forwarding"),
    ("answers passed on unchanged", "relay_differential"),
    ("settings take effect", "settings_effective"),
    ("no leaks, wrong keys refused", "security_leakage"),
)


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def relay_scorecard(checks: list[CheckResult], sandwich: SandwichRun, exchanges: list[Exchange]) -> dict[str, Any]:
    by_id = {check.id: check for check in checks}
    aspects = []
    for label, check_id in ASPECTS:
        check = by_id.get(check_id)
        aspects.append({"aspect": label, "check": check_id, "status": check.status if check else "not selected",
                        "failures": len(check.failures) if check else 0})
    pairs = []
    scenarios = []
    for exchange in exchanges:
        evidence = sandwich.evidence.get(exchange.index)
        if evidence is None:
            continue
        direct = evidence.direct
        if direct is not None and direct.status is not None and exchange.status is not None:
            pairs.append((exchange, direct))
        if evidence.probe.startswith("scenario:"):
            scenarios.append({
                "scenario": evidence.probe.removeprefix("scenario:"), "upstream_status": direct and direct.status,
                "relay_status": exchange.status, "upstream_retry_after": direct and direct.headers.get("retry-after"),
                "relay_retry_after": exchange.headers.get("retry-after"), "upstream_attempts": len(evidence.forwarded),
                "relay_ms": round(exchange.elapsed_s * 1000),
            })
    return {
        "upstream": sandwich.upstream.root,
        "aspects": aspects,
        "tagged_requests": len(sandwich.evidence),
        "forwarded": sum(bool(e.forwarded) for e in sandwich.evidence.values()),
        "compared": len(pairs),
        "added_latency_ms": _spread([(mine.elapsed_s - theirs.elapsed_s) * 1000 for mine, theirs in pairs]),
        "body_overhead_bytes": _spread([float(len(mine.body) - len(theirs.body)) for mine, theirs in pairs]),
        "scenarios": scenarios,
    }


def scorecard_lines(card: dict[str, Any]) -> list[str]:
    lines = [f"\nRELAY SCORECARD (upstream fake {card['upstream']}; {card['tagged_requests']} tagged requests, "
             f"{card['forwarded']} forwarded, {card['compared']} compared with direct answers)"]
    for aspect in card["aspects"]:
        failures = f" ({aspect['failures']} failures)" if aspect["failures"] else ""
        lines.append(f"  {aspect['aspect']:<36} {aspect['status']}{failures}  [{aspect['check']}]")
    for name, key, unit in (("added latency", "added_latency_ms", "ms"), ("body overhead", "body_overhead_bytes", "B")):
        spread = card.get(key)
        if spread:
            lines.append(f"  {name:<36} median {spread['median']:g} {unit}, max {spread['max']:g} {unit}")
    for row in card["scenarios"]:
        hint = f", Retry-After {row['upstream_retry_after']} -> {row['relay_retry_after']}" \
            if row["upstream_retry_after"] else ""
        lines.append(f"  scenario {row['scenario']:<18} upstream {row['upstream_status']} -> relay "
                     f"{row['relay_status']}{hint}, {row['upstream_attempts']} upstream attempt(s), "
                     f"{row['relay_ms']} ms")
    return lines


def scorecard_html(card: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(a['aspect'])}</td><td class='{e(a['status'])}'>{e(a['status'])}</td>"
                   f"<td>{a['failures']}</td><td><a href='#{e(a['check'])}'>{e(a['check'])}</a></td></tr>"
                   for a in card["aspects"])
    scenario_rows = "".join(
        f"<tr><td>{e(r['scenario'])}</td><td>{r['upstream_status']}</td><td>{r['relay_status']}</td>"
        f"<td>{e(str(r['upstream_retry_after']))} / {e(str(r['relay_retry_after']))}</td>"
        f"<td>{r['upstream_attempts']}</td><td>{r['relay_ms']}</td></tr>" for r in card["scenarios"])
    extra = "".join(f"<p>{e(label)}: median {spread['median']:g} {unit}, max {spread['max']:g} {unit}</p>"
                    for label, key, unit in (("Added latency", "added_latency_ms", "ms"),
                                             ("Body overhead", "body_overhead_bytes", "bytes"))
                    if (spread := card.get(key)))
    return (f"<h2 id='relay-scorecard'>Relay scorecard</h2><p>Upstream fake {e(card['upstream'])}: "
            f"{card['tagged_requests']} tagged requests, {card['forwarded']} forwarded, {card['compared']} compared "
            f"with the fake's direct answers.</p><table><tr><th>aspect</th><th>status</th><th>failures</th>"
            f"<th>check</th></tr>{rows}</table>{extra}<table><tr><th>scenario</th><th>upstream</th><th>relay</th>"
            f"<th>Retry-After upstream / relay</th><th>upstream attempts</th><th>relay ms</th></tr>"
            f"{scenario_rows}</table>")
