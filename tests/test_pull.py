"""`make spec`: the download replaces the snapshot only when valid, and reports what changed."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from .api_change_sample import write_pair
from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

import pull


@pytest.fixture
def snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A snapshot and SOURCE.json in a temporary folder, standing in for openapi/."""
    spec = tmp_path / "openapi" / "bundled.yaml"
    spec.parent.mkdir()
    monkeypatch.setattr(pull, "SPEC", spec)
    monkeypatch.setattr(pull, "SOURCE", spec.parent / "SOURCE.json")
    return spec


class TestMakeSpec:
    def test_download_replaces_the_snapshot_and_reports_api_changes(
        self, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The report compares the replaced snapshot with the download, classified for SDK users."""
        if shutil.which("node") is None:
            pytest.skip("the API differ needs Node.js; install it, then run `make node`")
        before, after = write_pair(tmp_path)
        shutil.copy(before, snapshot)
        assert pull.main(["--url", after.as_uri()]) == 0
        out = capsys.readouterr().out
        assert snapshot.read_bytes() == after.read_bytes()
        source = json.loads((snapshot.parent / "SOURCE.json").read_text(encoding="utf-8"))
        assert source["url"] == after.as_uri() and len(source["sha256"]) == 64
        assert "Semver bump implied: **major** (5 breaking, 5 non-breaking" in out
        assert "- `client.teams.get()`: operation removed (GET /id/api/teams/{id})" in out

    def test_failed_download_keeps_the_snapshot(
        self, snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Offline or a bad URL: one line on stderr, exit 1, the snapshot untouched."""
        snapshot.write_text("kept", encoding="utf-8")
        assert pull.main(["--url", (tmp_path / "missing.yaml").as_uri()]) == 1
        err = capsys.readouterr().err
        assert err.startswith("make spec: cannot download") and err.count("\n") == 1
        assert snapshot.read_text(encoding="utf-8") == "kept"

    def test_oversized_download_is_refused(
        self, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A download beyond the size bound is not installed."""
        big = tmp_path / "big.yaml"
        big.write_text("openapi: 3.0.3\npaths: {}\n" + "#" * 2048, encoding="utf-8")
        monkeypatch.setattr(pull, "MAX_BYTES", 1024)
        with pytest.raises(pull.PullError, match="larger than"):
            pull.fetch(big.as_uri())
        assert not snapshot.exists()
