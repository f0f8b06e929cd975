"""Cloud Storage, emulated by a local folder: ``gs://bucket/path`` is ``{--gcs-dir}/bucket/path``.

The fake cannot read Google Cloud Storage, so Vertex batch jobs read their JSONL input and write their
predictions under ``Settings.gcs_dir`` (off by default: then no object exists). A URI is checked before
it is mapped: the bucket must follow Google's bucket-naming rules and the object name may not hold
``.`` or ``..`` segments, backslashes or control characters; the mapped path, symlinks resolved, must
still lie inside the folder. Anything else is the caller's 400, never a file outside ``--gcs-dir``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mock_server.settings import Settings
from mock_server.web.errors import ApiError

__all__ = ["GCS_SCHEME", "GcsUnavailable", "check_uri", "read_object", "write_object"]

GCS_SCHEME = "gs://"
# Google's bucket names: 3-63 characters (222 with dots), lower-case letters, digits, '-', '_' and '.',
# starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
_MAX_OBJECT_NAME = 1024  # bytes, Google's limit


class GcsUnavailable(Exception):
    """The object cannot be read or written here (no --gcs-dir, missing, or not a file)."""


def check_uri(uri: str, field: str, prefix: bool = False) -> str:
    """``uri`` when it names a Cloud Storage object (or, with ``prefix``, a folder); else the 400
    Vertex answers for a bad ``field``."""
    bucket, _, name = uri.removeprefix(GCS_SCHEME).partition("/")
    segments = name.rstrip("/").split("/") if prefix else name.split("/")
    valid = (
        uri.startswith(GCS_SCHEME) and _BUCKET.fullmatch(bucket) is not None and ".." not in bucket
        and len(name.encode()) <= _MAX_OBJECT_NAME and not _CONTROL.search(name)
        and ((prefix and not name) or all(segment not in ("", ".", "..") for segment in segments))
    )
    if not valid:
        raise ApiError.named("vertex_gcs_uri_invalid", field=field, uri=uri[:200])
    return uri


def _local(settings: Settings, uri: str) -> Path:
    """The file ``uri`` maps to; GcsUnavailable when there is no folder or the path would leave it."""
    if not settings.gcs_dir:
        raise GcsUnavailable("no --gcs-dir")
    root = Path(os.path.realpath(settings.gcs_dir))
    path = Path(os.path.realpath(root / uri.removeprefix(GCS_SCHEME)))
    if path == root or root not in path.parents:  # a symlink inside the folder pointing out of it
        raise GcsUnavailable("outside --gcs-dir")
    return path


def read_object(settings: Settings, uri: str, max_bytes: int) -> bytes:
    """The object's bytes (at most ``max_bytes``; more is GcsUnavailable, as a file too large to import)."""
    path = _local(settings, uri)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise GcsUnavailable(str(error.strerror)) from error
    if len(data) > max_bytes:
        raise GcsUnavailable("too large")
    return data


def write_object(settings: Settings, uri: str, data: bytes) -> None:
    path = _local(settings, uri)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as error:
        raise GcsUnavailable(str(error.strerror)) from error
