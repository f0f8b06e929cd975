"""``gemini-contract run|plan|checks``: exit 0 all passed, 1 a check failed, 2 usage error or unreachable target."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from contract_tests.checks import CHECKS
from contract_tests.config import AUTH_STYLES, LOOPBACK_DEFAULTS, REMOTE_DEFAULTS, RunConfig
from contract_tests.execution.runner import UsageError, plan, run
from contract_tests.execution.target import TargetUnreachable
from contract_tests.reporting.redact import redact
from contract_tests.reporting.report import ProgressBar, summary_table, write_junit, write_reports
from contract_tests.reporting.results import RunResult
from contract_tests.reporting.verdicts import failure_lines

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "catalogue_markdown", "config_from_args", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
UPSTREAM_KEY_ENV_VAR = "GEMINI_UPSTREAM_API_KEY"


def _rate(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(min|m|s|sec))?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected N/min or N/s, got {text!r}")
    value = float(match.group(1))
    return value * 60 if match.group(2) in ("s", "sec") else value


def _price(text: str) -> tuple[tuple[str, str], float]:
    match = re.fullmatch(r"([^:=]+):([^:=]+)=(\d+(?:\.\d+)?)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected MODEL:SIZE=USD, got {text!r}")
    return (match.group(1), match.group(2)), float(match.group(3))


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True, help="endpoint root, e.g. https://relay.example.com")
    parser.add_argument("--api-key", default=None,
                        help=f"API key (prefer the {KEY_ENV_VARS[0]} environment variable: argv is visible to others)")
    parser.add_argument("--model", action="append", default=[], help="model to test (repeatable; default: all)")
    parser.add_argument("--auth", choices=AUTH_STYLES, default="header", help="how to send the key (default header)")
    parser.add_argument("--require-auth", action="append", choices=AUTH_STYLES, default=[],
                        help="auth style that must work (repeatable; default: the --auth style)")
    parser.add_argument("--checks", default="", help="comma-separated check ids (default: all; see 'checks')")
    parser.add_argument("--max-examples", type=int, default=None,
                        help=f"generated requests (default {LOOPBACK_DEFAULTS['max_examples']} on loopback, "
                             f"{REMOTE_DEFAULTS['max_examples']} otherwise)")
    parser.add_argument("--max-requests", type=int, default=None, help="hard stop after N requests")
    parser.add_argument("--budget-usd", type=float, default=None,
                        help=f"hard stop before estimated spend exceeds X (default: none on loopback, "
                             f"{REMOTE_DEFAULTS['budget_usd']} otherwise)")
    parser.add_argument("--rate-limit", type=_rate, default=None, metavar="N/min",
                        help=f"request rate ceiling (default: none on loopback, "
                             f"{REMOTE_DEFAULTS['rate_limit_per_min']:g}/min otherwise)")
    parser.add_argument("--no-wrong-key-probe", action="store_true",
                        help="the endpoint accepts any key by design (e.g. gemini-mock serve without --api-key): "
                             "don't expect a wrong key to be refused")
    parser.add_argument("--price", type=_price, action="append", default=[], metavar="MODEL:SIZE=USD",
                        help="override the profile's price per image (repeatable)")
    parser.add_argument("--image-size", action="append", default=[], help="only request these sizes (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: derandomised)")
    parser.add_argument("--api-version", default="both", choices=("both", "v1beta", "v1", "v1beta1"),
                        help="both (default): everything on v1beta plus list/baseline/stream on v1 "
                             "(google-genai 3.x's default); or one version only (--api-flavour vertex: "
                             "v1beta1, the default there, or v1)")
    parser.add_argument("--upstream-fake", default=None, metavar="FAKE_URL",
                        help="sandwich mode: the endpoint forwards to gemini-mock at FAKE_URL; the suite reads its "
                             "journal, provokes its scenarios through the endpoint and compares direct answers")
    parser.add_argument("--upstream-api-key", default=None,
                        help=f"the key the relay injects upstream (prefer {UPSTREAM_KEY_ENV_VAR})")
    parser.add_argument("--scenario-timeout", type=float, default=12.0, metavar="SECONDS",
                        help="sandwich mode: how long the relay may take to pass on an upstream failure (default 12)")
    parser.add_argument("--api-flavour", default="gemini", choices=("gemini", "vertex"),
                        help="the Gemini API (default) or Vertex AI publisher-model paths with Vertex's answer shape")
    parser.add_argument("--vertex-project", default=None,
                        help="Vertex project mode: projects/P/locations/L/... (default: express mode, API key)")
    parser.add_argument("--vertex-location", default="us-central1", help="Vertex location (default us-central1)")
    parser.add_argument("--batch", action=argparse.BooleanOptionalAction, default=None,
                        help="Batch API checks (default: on for loopback targets, off for remote ones; "
                             "a job costs half price per image and may take hours)")
    parser.add_argument("--batch-timeout", type=float, default=600.0, help="seconds to wait for a batch job")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per request, the whole body included (a deadline, not a per-read timeout)")
    parser.add_argument("--max-response-bytes", type=int, default=RunConfig.max_response_bytes, metavar="N",
                        help="largest response body taken in; a larger one is a finding (default 128 MiB)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gemini-contract", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the contract checks against an endpoint")
    _add_target_options(run_parser)
    run_parser.add_argument("--report-dir", type=Path, default=None,
                            help="write report.json, report.html and junit.xml here")
    run_parser.add_argument("--junit-xml", type=Path, default=None, help="write JUnit XML to this file")
    run_parser.add_argument("--quiet", action="store_true", help="no progress output")
    plan_parser = commands.add_parser("plan", help="print worst-case requests, images and cost; send nothing")
    _add_target_options(plan_parser)
    checks_parser = commands.add_parser("checks", help="list the checks with their severity and meaning")
    checks_parser.add_argument("--markdown", action="store_true", help="as the table in docs/contract-suite.md")
    return parser


def config_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> RunConfig:
    environ = dict(os.environ if environ is None else environ)
    api_key = args.api_key or next((environ[name] for name in KEY_ENV_VARS if environ.get(name)), None)
    checks = tuple(item.strip() for item in args.checks.split(",") if item.strip())
    return RunConfig(
        base_url=args.base_url, api_key=api_key, models=tuple(args.model), auth=args.auth,
        required_auth=tuple(args.require_auth), checks=checks, max_examples=args.max_examples,
        max_requests=args.max_requests, budget_usd=args.budget_usd, rate_limit_per_min=args.rate_limit,
        seed=args.seed, api_version="v1beta" if args.api_version == "both" else args.api_version,
        parity_versions=("v1",) if args.api_version == "both" else (), timeout_s=args.timeout,
        upstream_fake=args.upstream_fake,
        upstream_api_key=args.upstream_api_key or environ.get(UPSTREAM_KEY_ENV_VAR) or None,
        scenario_timeout_s=args.scenario_timeout, max_response_bytes=args.max_response_bytes,
        price_overrides=dict(args.price), image_sizes=tuple(args.image_size),
        probe_wrong_key=not args.no_wrong_key_probe,
        api_flavour=args.api_flavour, vertex_project=args.vertex_project, vertex_location=args.vertex_location,
        batch=args.batch, batch_timeout_s=args.batch_timeout,
    )


def _print_plan(config: RunConfig) -> None:
    the_plan = plan(config)
    resolved = config.resolved()
    print(f"target {resolved.base_url} ({'loopback' if resolved.loopback else 'remote'}); "
          f"models: {', '.join(resolved.models)}")
    for line in the_plan.lines:
        print(f"  {line.scenario:<34} {line.requests:>4} requests {line.images:>4} images  ${line.cost_usd:.3f}")
    print(f"worst case: {the_plan.requests} requests, {the_plan.images} images, ${the_plan.cost_usd:.3f}")
    limits = [f"--max-requests {resolved.max_requests}" if resolved.max_requests is not None else "",
              f"--budget-usd {resolved.budget_usd}" if resolved.budget_usd is not None else "",
              f"--rate-limit {resolved.rate_limit_per_min:g}/min" if resolved.rate_limit_per_min else ""]
    if any(limits):
        print("hard limits: " + ", ".join(limit for limit in limits if limit))


def catalogue_markdown() -> str:
    """The checks catalogue as committed in docs/contract-suite.md (generated from the registry)."""
    rows = ["| id | severity | meaning |", "|---|---|---|"]
    pipe, escaped = "|", "\\|"
    rows += [f"| `{c.id}` | {c.severity} | {c.meaning.replace(pipe, escaped)} |" for c in CHECKS.values()]
    return "\n".join(rows)


def _list_checks(markdown: bool) -> None:
    if markdown:
        print(catalogue_markdown())
        return
    for check in CHECKS.values():
        print(f"{check.id} ({check.severity})\n    {check.meaning}\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "checks":
        _list_checks(args.markdown)
        return EXIT_OK
    config = config_from_args(args)
    try:
        return _main(args, config)
    except Exception as error:  # never a traceback: one redacted line, and "could not test"
        print(f"gemini-contract: internal error: {redact(f'{type(error).__name__}: {error}', config.secrets())}",
              file=sys.stderr)
        return EXIT_USAGE


def _main(args: argparse.Namespace, config: RunConfig) -> int:
    secrets = config.secrets()
    try:
        if args.command == "plan":
            _print_plan(config)
            return EXIT_OK
        if not config.api_key:
            raise UsageError(f"no API key: set {KEY_ENV_VARS[0]} or pass --api-key")
        progress = None if args.quiet else ProgressBar()
        result = run(config, progress=progress)
    except UsageError as error:
        print(f"gemini-contract: {redact(str(error), secrets)}", file=sys.stderr)
        return EXIT_USAGE
    except TargetUnreachable as error:
        print(f"gemini-contract: target unreachable: {redact(str(error), secrets)}", file=sys.stderr)
        # The report says so too: CI keeps an artefact that explains the red build.
        result = RunResult(target=config.base_url, checks=[], exchanges=[], requests=0, estimated_cost_usd=0.0,
                           stopped=f"target unreachable: {error}")
        _write_outputs(args, result, secrets)
        return EXIT_USAGE
    print(redact(summary_table(result), secrets))
    for line in failure_lines(result):
        print(redact(line, secrets))
    _write_outputs(args, result, secrets)
    return EXIT_FAILED if result.failed else EXIT_OK


def _write_outputs(args: argparse.Namespace, result: RunResult, secrets: tuple[str, ...]) -> None:
    if args.report_dir is not None:
        write_reports(result, args.report_dir, secrets)
        print(f"reports in {args.report_dir}/ (report.json, report.html, junit.xml)")
    if args.junit_xml is not None:
        write_junit(result, args.junit_xml, secrets)
