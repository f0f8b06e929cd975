"""``serve`` options of the other doors to the models (issue 10): Vertex AI paths and the Batch API."""

from __future__ import annotations

import argparse
from typing import Any

from mock_server.settings import Settings

__all__ = ["add_surface_options", "surface_settings"]


def add_surface_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Vertex AI paths and the Batch API")
    group.add_argument("--vertex-thought-summaries", choices=["always", "on_request"],
                       default=Settings.vertex_thought_summaries,
                       help="Vertex answers of thinking models start with a thought summary always (default, as "
                            "recorded) or only with includeThoughts")
    group.add_argument("--batch-max-jobs", type=int, default=Settings.batch_max_jobs, metavar="N",
                       help="batch jobs kept (the oldest finished are dropped first; default 1000)")
    group.add_argument("--batch-max-concurrent", type=int, default=Settings.batch_max_concurrent, metavar="N",
                       help="batch jobs pending or running at once, more is a 429 (default 100, Google's)")
    group.add_argument("--batch-ttl-hours", type=float, default=Settings.batch_ttl_hours, metavar="H",
                       help="simulated hours before an unfinished job expires (default 48, Google's)")
    group.add_argument("--batch-inline-max-bytes", type=int, default=Settings.batch_inline_max_bytes, metavar="N",
                       help="largest inline batch request (default 20 MiB, Google's)")
    group.add_argument("--gcs-dir", default=Settings.gcs_dir, metavar="DIR",
                       help="emulate Cloud Storage for Vertex batch jobs: gs://bucket/path is DIR/bucket/path "
                            "(default: off, jobs cannot read their input)")


def surface_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "vertex_thought_summaries": args.vertex_thought_summaries, "batch_max_jobs": args.batch_max_jobs,
        "batch_max_concurrent": args.batch_max_concurrent, "batch_ttl_hours": args.batch_ttl_hours,
        "batch_inline_max_bytes": args.batch_inline_max_bytes, "gcs_dir": args.gcs_dir,
    }
