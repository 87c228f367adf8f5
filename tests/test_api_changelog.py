"""CHANGELOG.md: API reports recorded under "Unreleased", keyed by baseline, with the implied bump."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from .api_change_sample import small_pair
from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

import api_changelog
from api_diff import Change, Report

A, B, C = "a" * 64, "b" * 64, "c" * 64


def report(old: str, new: str, *changes: Change) -> Report:
    """A report built by hand (no differ needed)."""
    return Report("old.yaml", "new.yaml", old, new, "api-smart-diff@test", tuple(changes))


BREAKING = Change("breaking", "client.teams.get()", "operation removed (GET /id/api/teams/{id})")
ADDED = Change("non-breaking", "client.leads.archive()", "operation added (POST /x)")
DOCS = Change("docs", "client.leads.search()", "documentation changed")


def unreleased(text: str) -> str:
    """The body of the "Unreleased" section."""
    start = text.index("## Unreleased")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


class TestUpdateText:
    def test_first_report_creates_the_file_with_the_block_under_unreleased(self) -> None:
        """An empty changelog gets the template, the bump line and one marked block."""
        text = api_changelog.update_text("", report(A, B, BREAKING, ADDED))
        section = unreleased(text)
        assert text.startswith("# Changelog\n")
        assert "Version bump implied by the API changes below: **major**." in section
        assert f"<!-- api-diff from={A[:12]} bump=major -->" in section
        assert "- `client.teams.get()`: operation removed" in section
        assert section.rstrip().endswith("<!-- /api-diff -->")

    def test_regenerating_replaces_the_block_of_the_same_baseline(self) -> None:
        """Another edit of the spec since the same baseline rewrites that block, not a second one."""
        first = api_changelog.update_text("", report(A, B, BREAKING))
        second = api_changelog.update_text(first, report(A, C, ADDED))
        assert second.count("<!-- api-diff from=") == 1
        assert "operation added" in second and "operation removed" not in second
        assert "**minor**" in second

    def test_same_report_twice_changes_nothing(self) -> None:
        """Recording is idempotent."""
        once = api_changelog.update_text("", report(A, B, BREAKING, DOCS))
        assert api_changelog.update_text(once, report(A, B, BREAKING, DOCS)) == once

    def test_spec_back_at_its_baseline_removes_its_block(self) -> None:
        """No changes since the baseline: its block and the bump line go."""
        text = api_changelog.update_text("", report(A, B, BREAKING))
        back = api_changelog.update_text(text, report(A, A))
        assert "<!-- api-diff" not in back and "<!-- api-bump" not in back
        assert back.rstrip().endswith("## Unreleased")

    def test_earlier_blocks_and_hand_written_entries_stay_and_the_bump_is_their_maximum(
        self,
    ) -> None:
        """A second refresh adds its block; the section's bump covers both; other text is kept."""
        text = api_changelog.update_text("", report(A, B, DOCS))
        text = text.replace("## Unreleased\n", "## Unreleased\n\n- Retry budget is configurable.\n")
        text += "\n## 0.1.0\n\n- First release.\n"
        text = api_changelog.update_text(text, report(B, C, BREAKING))
        section = unreleased(text)
        assert f"from={A[:12]} bump=patch" in section and f"from={B[:12]} bump=major" in section
        assert "- Retry budget is configurable." in section
        assert "Version bump implied by the API changes below: **major**." in section
        assert section.index(f"from={A[:12]}") < section.index(f"from={B[:12]}")
        assert text.endswith("## 0.1.0\n\n- First release.\n")

    def test_missing_unreleased_heading_is_added_above_the_releases(self) -> None:
        """A changelog without the section gets it before its first release."""
        text = "# Changelog\n\n## 1.0.0\n\n- Stable.\n"
        out = api_changelog.update_text(text, report(A, B, ADDED))
        assert out.index("## Unreleased") < out.index("## 1.0.0")
        assert "bump=minor" in unreleased(out)


class TestRecord:
    def test_nothing_to_record_does_not_create_the_file(self, tmp_path: Path) -> None:
        """A report without changes leaves a missing changelog missing."""
        target = tmp_path / "CHANGELOG.md"
        assert api_changelog.record(report(A, A), target) is False
        assert not target.exists()

    def test_spec_change_is_recorded_from_the_spec_files(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two descriptions on disk: the differ's classified report lands in the changelog."""
        if shutil.which("node") is None:
            pytest.skip("the API differ needs Node.js; install it, then run `make node`")
        before, after = tmp_path / "before.json", tmp_path / "after.json"
        for path, doc in zip((before, after), small_pair(), strict=True):
            path.write_text(json.dumps(doc), encoding="utf-8")
        target = tmp_path / "CHANGELOG.md"
        shutil.copy(ROOT / "CHANGELOG.md", target)
        assert api_changelog.record_spec_change(str(before), after, target) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"changelog: CHANGELOG.md records the API changes since {before}")
        assert out.rstrip().endswith(": major (16 breaking, 10 non-breaking)")
        section = unreleased(target.read_text(encoding="utf-8"))
        assert "- `ThingInput.shape`: required request field added" in section
        assert (
            "- `Thing.state`: response enum value `standby` added; response enums are open"
            in section
        )
        assert "Version bump implied by the API changes below: **major**." in section

    def test_unavailable_baseline_leaves_the_changelog_alone(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No baseline (no git, no such revision) is said in one line and is not an error."""
        target = tmp_path / "CHANGELOG.md"
        code = api_changelog.record_spec_change(str(tmp_path / "missing.yaml"), changelog=target)
        assert code == 0
        assert "no baseline to compare with" in capsys.readouterr().out
        assert not target.exists()

    def test_unreadable_new_spec_is_an_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A broken spec cannot be compared: exit 1, the changelog untouched."""
        broken = tmp_path / "broken.yaml"
        broken.write_text("openapi: 3.0.3\n", encoding="utf-8")
        target = tmp_path / "CHANGELOG.md"
        spec = ROOT / "openapi" / "bundled.yaml"
        assert api_changelog.record_spec_change(str(spec), broken, target) == 1
        assert "not an OpenAPI document" in capsys.readouterr().err
        assert not target.exists()

    def test_committed_changelog_has_an_unreleased_section(self) -> None:
        """The repository ships CHANGELOG.md ready for `make generate`."""
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        assert "## Unreleased" in text
