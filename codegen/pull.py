"""Download the upstream GetSales OpenAPI bundle into ``openapi/bundled.yaml`` (``make spec``).

The URL defaults to the official bundle and can be overridden with ``GETSALES_SPEC_URL`` or
``--url``. The download is parsed and checked before it replaces the snapshot; provenance (URL,
sha256, UTC date) is written to ``openapi/SOURCE.json``. Offline, or on any failure, it prints
one line and exits 1, leaving the current snapshot untouched. After a download it prints what
changed for SDK users since the snapshot it replaced (``codegen/api_diff.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "bundled.yaml"
SOURCE = ROOT / "openapi" / "SOURCE.json"
DEFAULT_URL = "https://api.getsales.io/_bundle/bundled.yaml"
TIMEOUT_S = 30.0
MAX_BYTES = 32 * 1024 * 1024  # a larger download is refused (ours: ~0.4 MiB)

__all__ = ["main", "pull"]


class PullError(Exception):
    """The bundle could not be downloaded or is not an OpenAPI document."""


def fetch(url: str, timeout: float = TIMEOUT_S) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data: bytes = resp.read(MAX_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PullError(f"cannot download {url} ({reason}); the current snapshot was kept") from exc
    if len(data) > MAX_BYTES:
        raise PullError(
            f"{url} is larger than {MAX_BYTES >> 20} MiB; the current snapshot was kept"
        )
    return data


def check(data: bytes, url: str) -> None:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise PullError(
            f"{url} is not valid YAML ({exc.__class__.__name__}); the current snapshot was kept"
        ) from exc
    if (
        not isinstance(doc, dict)
        or not str(doc.get("openapi", "")).startswith("3.")
        or not doc.get("paths")
    ):
        raise PullError(
            f"{url} is not an OpenAPI 3 document with paths; the current snapshot was kept"
        )


def pull(url: str, spec: Path = SPEC, source: Path = SOURCE) -> str:
    """Download, check and install the bundle; return its sha256."""
    data = fetch(url)
    check(data, url)
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.NamedTemporaryFile(dir=spec.parent, delete=False, prefix=".bundled-") as tmp:
        tmp.write(data)
    os.replace(tmp.name, spec)
    record = {
        "url": url,
        "sha256": digest,
        "fetched_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    source.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Download the upstream OpenAPI bundle.")
    parser.add_argument("--url", default=os.environ.get("GETSALES_SPEC_URL") or DEFAULT_URL)
    args = parser.parse_args(argv)
    previous = SPEC.read_bytes() if SPEC.exists() else None
    try:
        digest = pull(args.url, SPEC, SOURCE)
    except PullError as exc:
        print(f"make spec: {exc}", file=sys.stderr)
        return 1
    print(
        f"make spec: openapi/bundled.yaml <- {args.url} (sha256 {digest[:12]}…); now run `make generate`"
    )
    if previous is not None:
        report_change(previous)
    return 0


def report_change(previous: bytes) -> None:
    """Print what changed for SDK users between the replaced snapshot and the new one."""
    from api_diff import ApiDiffError, compare_bytes, render_markdown

    try:
        report = compare_bytes("previous snapshot", previous, "download", SPEC.read_bytes())
    except ApiDiffError as exc:
        print(f"make spec: no API change report ({exc})", file=sys.stderr)
        return
    print(render_markdown(report), end="")


if __name__ == "__main__":
    raise SystemExit(main())
