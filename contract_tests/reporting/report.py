"""What a run leaves behind: summary table, report.json, report.html with thumbnails, JUnit XML.

Every writer passes its whole text through redaction once more before it touches the disk.
"""

from __future__ import annotations

import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, TextIO

from contract_tests.checks import CHECKS
from contract_tests.checks.base import camel_view
from contract_tests.checks.images import decode_b64, final_images
from contract_tests.generation.cases import Exchange
from contract_tests.generation.images import thumbnail_png
from contract_tests.reporting.redact import redact, redact_document
from contract_tests.reporting.results import RunResult
from contract_tests.reporting.scorecard import scorecard_html, scorecard_lines
from contract_tests.reporting.verdicts import headlines

__all__ = ["ProgressBar", "summary_table", "write_html", "write_json", "write_junit", "write_reports"]

_MAX_THUMBS_PER_CHECK = 24


def _write(path: Path, text: str, secrets: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text, secrets), encoding="utf-8")


def write_json(result: RunResult, path: Path, secrets: tuple[str, ...]) -> None:
    # Redacted value by value: text-level redaction could cut through JSON escapes.
    document = redact_document(json.loads(json.dumps(result.to_dict(), default=str)), secrets)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")


def write_junit(result: RunResult, path: Path, secrets: tuple[str, ...]) -> None:
    """One testcase per check: failures carry every finding, skips their reasons."""
    suite = ET.Element("testsuite", name="gemini-contract", tests=str(len(result.checks)),
                       failures=str(sum(c.status == "failed" for c in result.checks)),
                       skipped=str(sum(c.status == "skipped" for c in result.checks)))
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="target", value=result.target)
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"gemini_contract.{check.severity}", name=check.id)
        if check.status == "failed":
            first = check.failures[0].failure
            failure = ET.SubElement(case, "failure", message=first.message, type=check.severity)
            failure.text = "\n\n".join(
                f"{r.request}\n{r.failure.message} at {r.failure.pointer or '/'}\n"
                f"expected: {r.failure.expected!r}\nactual: {r.failure.actual!r}\n{r.reproducer}"
                for r in check.failures
            )
        elif check.status == "skipped":
            ET.SubElement(case, "skipped", message="; ".join(check.skip_reasons) or "not applicable")
    _write(path, ET.tostring(suite, encoding="unicode", xml_declaration=True), secrets)


def _thumbnails(exchange: Exchange, directory: Path) -> list[str]:
    """Relative paths of PNG thumbnails of the exchange's images (written once per exchange)."""
    if not isinstance(exchange.json, dict):
        return []
    names = []
    for number, (_where, blob, _thought) in enumerate(final_images(camel_view(exchange.json))):
        name = f"thumbs/exchange-{exchange.index:04d}-{number}.png"
        if not (directory / name).exists():
            try:
                thumb = thumbnail_png(decode_b64(blob.get("data")))
            except ValueError:
                thumb = None
            if thumb is None:
                continue
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_bytes(thumb)
        names.append(name)
    return names


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}
.passed{color:#1a7f37}.failed{color:#cf222e}.skipped{color:#9a6700}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}
img{margin:2px;border:1px solid #ddd;vertical-align:top}td,th{padding:2px 8px;text-align:left}"""


def _prose(text: str) -> str:
    """Escaped text with the docstrings' ``literal`` spans shown as code."""
    return re.sub(r"``(.+?)``", r"<code>\1</code>", html.escape(text))


def _check_html(check: Any, result: RunResult, directory: Path) -> str:
    e = html.escape
    rows = [f"<h2 id='{e(check.id)}'>{e(check.id)} <small class='{check.status}'>{check.status}</small>"
            f" <small>({e(check.severity)})</small></h2>", f"<p>{_prose(check.meaning)}</p>"]
    for note in check.notes:
        rows.append(f"<p><em>{e(note)}</em></p>")
    if check.skip_reasons and check.status == "skipped":
        rows.append(f"<p>Skipped: {e('; '.join(check.skip_reasons))}</p>")
    for record in check.failures:
        f = record.failure
        rows.append(
            f"<h3>{e(f.message)}</h3><table><tr><th>request</th><td>{e(record.request)}</td></tr>"
            f"<tr><th>pointer</th><td><code>{e(f.pointer or '/')}</code></td></tr>"
            f"<tr><th>expected</th><td><code>{e(repr(f.expected))}</code></td></tr>"
            f"<tr><th>actual</th><td><code>{e(repr(f.actual))}</code></td></tr>"
            f"<tr><th>endpoint answered</th><td><code>{e(record.excerpt)}</code></td></tr></table>"
            f"<pre>{e(record.reproducer)}</pre>"
        )
    if CHECKS[check.id].shows_images if check.id in CHECKS else False:
        thumbs: list[str] = []
        for index in check.evaluated:
            thumbs += _thumbnails(result.exchanges[index], directory)
            if len(thumbs) >= _MAX_THUMBS_PER_CHECK:
                break
        rows += [f"<img src='{e(name)}' alt='{e(name)}' loading='lazy'>" for name in thumbs[:_MAX_THUMBS_PER_CHECK]]
    return "\n".join(rows)


def write_html(result: RunResult, directory: Path, secrets: tuple[str, ...]) -> None:
    e = html.escape
    summary = "".join(
        f"<tr><td><a href='#{e(c.id)}'>{e(c.id)}</a></td><td>{e(c.severity)}</td>"
        f"<td class='{c.status}'>{c.status}</td><td>{len(c.failures)}</td></tr>" for c in result.checks
    )
    body = "\n".join(_check_html(check, result, directory) for check in result.checks)
    stopped = f"<p class='skipped'>Stopped early: {e(result.stopped)}</p>" if result.stopped else ""
    stopped += "".join(f"<p class='failed'><strong>Root cause:</strong> {e(str(h))}</p>" for h in headlines(result))
    stopped += "".join(f"<p class='skipped'>Planned but not sent: {e(line)}</p>" for line in result.unsent)
    if result.scorecard:
        body = scorecard_html(result.scorecard) + body
    page = (
        f"<!doctype html><meta charset='utf-8'><title>Gemini contract report</title><style>{_STYLE}</style>"
        f"<h1>Gemini image contract: {e(result.target)}</h1>"
        f"<p>{result.requests} requests, estimated cost ${result.estimated_cost_usd:.3f}</p>{stopped}"
        f"<table><tr><th>check</th><th>severity</th><th>status</th><th>failures</th></tr>{summary}</table>{body}"
    )
    _write(directory / "report.html", page, secrets)


def write_reports(result: RunResult, directory: Path, secrets: tuple[str, ...]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(result, directory / "report.json", secrets)
    write_junit(result, directory / "junit.xml", secrets)
    write_html(result, directory, secrets)


def summary_table(result: RunResult) -> str:
    width = max(len(check.id) for check in result.checks) if result.checks else 10
    lines = [f"{'check':<{width}}  {'severity':<8}  {'status':<7}  failures", "-" * (width + 30)]
    for check in result.checks:
        why = f"  ({'; '.join(check.skip_reasons)})" if check.status == "skipped" and check.skip_reasons else ""
        lines.append(f"{check.id:<{width}}  {check.severity:<8}  {check.status:<7}  {len(check.failures)}{why}")
    counts = {status: sum(c.status == status for c in result.checks) for status in ("passed", "failed", "skipped")}
    lines.append("-" * (width + 30))
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped; "
                 f"{result.requests} requests, estimated cost ${result.estimated_cost_usd:.3f}")
    if result.stopped:
        lines.append(f"stopped early: {result.stopped}")
    lines += [f"planned but not sent: {line}" for line in result.unsent]
    if result.scorecard:
        lines += scorecard_lines(result.scorecard)
    return "\n".join(lines)


class ProgressBar:
    """A one-line progress bar on a terminal; one line per request otherwise (CI logs stay readable)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()

    def __call__(self, done: int, total: int, exchange: Exchange) -> None:
        total = max(total, done)
        status = exchange.status if exchange.status is not None else "no answer"
        if self.tty:
            filled = self.width * done // total
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {exchange.case.label[:40]:<40} {status}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{done}/{total}] {exchange.case.label} -> {status}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
