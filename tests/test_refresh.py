"""The spec refresh: its dry run on a given file (in a copy of the repo) and the workflow that shares it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .api_change_sample import write_pair
from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

import refresh

WORKFLOW = ROOT / ".github" / "workflows" / "refresh-spec.yml"
SPEC = ROOT / "openapi" / "bundled.yaml"


def run_refresh(*args: str) -> subprocess.CompletedProcess[str]:
    """``codegen/refresh.py`` as the make target and the workflow run it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "codegen" / "refresh.py"), "--quiet", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def outputs(path: Path) -> dict[str, str]:
    """The GitHub Actions outputs the script wrote."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def repo_state() -> tuple[str, str, str]:
    """What a dry run must never change: the spec, the changelog and git's view of the tree."""
    git = shutil.which("git")
    status = ""
    if git and (ROOT / ".git").exists():
        status = subprocess.run(
            [git, "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    digest = hashlib.sha256(SPEC.read_bytes()).hexdigest()
    return digest, (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), status


def require_node() -> None:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "api-smart-diff").is_dir():
        pytest.skip("the API differ needs Node.js and `make node`")


class TestDryRun:
    @pytest.mark.slow
    def test_dry_run_regenerates_and_records_the_changelog_in_a_copy(self, tmp_path: Path) -> None:
        """A changed spec: report, `make generate` in a copy, CHANGELOG entry, PR body, outputs."""
        require_node()
        _, after = write_pair(tmp_path)
        before_state = repo_state()
        copy, body, gh = tmp_path / "copy", tmp_path / "pr.md", tmp_path / "gh.txt"
        proc = run_refresh(
            "--spec-file", str(after), "--workdir", str(copy), "--targets", "generate",
            "--pr-body", str(body), "--github-output", str(gh),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert repo_state() == before_state  # the working tree is untouched
        assert outputs(gh) == {
            "changed": "true",
            "bump": "major",
            "checks": "passed",
            "title": "API refresh: major bump (5 breaking, 5 non-breaking)",
        }
        assert (copy / "openapi" / "bundled.yaml").read_bytes() == after.read_bytes()
        assert "client.leads.archive" in (copy / "docs" / "operations.md").read_text()
        changelog = (copy / "CHANGELOG.md").read_text(encoding="utf-8")
        baseline = hashlib.sha256(SPEC.read_bytes()).hexdigest()[:12]
        assert f"<!-- api-diff from={baseline} bump=major -->" in changelog
        text = body.read_text(encoding="utf-8")
        for line in (
            "- `client.teams.get()`: operation removed (GET /id/api/teams/{id})",
            "- `Lead.about`: response field removed",
            "- `client.leads.upsert(update_if_exists)`: request field is now required",
            "- `Lead.connections_number`: response type changed: `integer` → `string`",
            "- `client.leads.archive()`: operation added (POST /leads/api/leads/{uuid}/archive)",
            "- `WebhookEvent`: request enum value `contact_merged` added",
        ):
            assert line in text and line in changelog
        assert "| `generate` | passed |" in text

    def test_unchanged_spec_stops_before_any_target(self, tmp_path: Path) -> None:
        """The committed spec itself: nothing to do, no make target runs, the copy is removed."""
        gh = tmp_path / "gh.txt"
        proc = run_refresh(
            "--spec-file", str(SPEC), "--targets", "no-such-target", "--github-output", str(gh),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "unchanged; nothing to do" in proc.stdout
        assert outputs(gh) == {"changed": "false"}

    def test_failing_target_is_reported_and_exits_1(self, tmp_path: Path) -> None:
        """Every target runs; a failure marks the PR title and quotes the target's last lines."""
        require_node()
        doc: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        doc["paths"]["/leads/api/leads/search"]["post"]["summary"] = "Search contacts, refreshed"
        spec = tmp_path / "docs-only.yaml"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        spec.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False), encoding="utf-8")
        body, gh = tmp_path / "pr.md", tmp_path / "gh.txt"
        proc = run_refresh(
            "--spec-file", str(spec), "--workdir", str(tmp_path / "copy"),
            "--targets", "no-such-target help", "--pr-body", str(body), "--github-output", str(gh),
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        out = outputs(gh)
        assert (out["bump"], out["checks"]) == ("patch", "failed")
        assert out["title"].startswith("[checks failing] API refresh: patch bump")
        text = body.read_text(encoding="utf-8")
        assert "| `no-such-target` | **failed** |" in text and "| `help` | passed |" in text
        assert "No rule to make target" in text

    @pytest.mark.parametrize(
        ("content", "message"),
        [(None, "no such file"), ("openapi: 3.0.3\ninfo: {}\n", "is not an OpenAPI 3 document")],
    )
    def test_bad_spec_file_is_one_line_and_exit_2(
        self, tmp_path: Path, content: str | None, message: str
    ) -> None:
        """Bad input is refused before anything is copied, with one line that says why."""
        spec = tmp_path / "spec.yaml"
        if content is not None:
            spec.write_text(content, encoding="utf-8")
        copy = tmp_path / "copy"
        proc = run_refresh("--spec-file", str(spec), "--workdir", str(copy))
        assert proc.returncode == 2
        assert message in proc.stderr and proc.stderr.strip().count("\n") == 0
        assert not copy.exists()

    def test_make_target_without_spec_prints_its_usage(self) -> None:
        """`make refresh-dry-run` needs SPEC=path and says so."""
        proc = subprocess.run(
            ["make", "--no-print-directory", "-s", "refresh-dry-run", "SPEC="],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={k: v for k, v in __import__("os").environ.items() if not k.startswith("MAKE")},
        )
        assert proc.returncode == 2
        assert "usage: make refresh-dry-run SPEC=path/to/bundled.yaml" in proc.stdout


class TestCopy:
    def test_copy_shares_the_tools_and_leaves_out_caches(self, tmp_path: Path) -> None:
        """The copy links .venv and node_modules and holds the tracked files, not caches."""
        dest = tmp_path / "repo"
        refresh.copy_repository(ROOT, dest)
        assert (dest / ".venv").is_symlink() and (dest / "node_modules").is_symlink()
        assert (dest / "openapi" / "bundled.yaml").read_bytes() == SPEC.read_bytes()
        assert (dest / "Makefile").stat().st_mtime == (ROOT / "Makefile").stat().st_mtime
        assert not list(dest.rglob("__pycache__"))
        assert not (dest / ".git").exists()

    def test_non_empty_workdir_is_refused(self, tmp_path: Path) -> None:
        """A dry run never writes into a folder that holds something."""
        (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
        with pytest.raises(refresh.RefreshError, match="is not empty"):
            refresh.copy_repository(ROOT, tmp_path)


class TestWorkflow:
    def test_workflow_runs_the_shared_script_on_a_schedule_and_opens_a_pr(self) -> None:
        """The scheduled workflow calls codegen/refresh.py and opens a PR only when it changed."""
        doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
        triggers = doc[True]  # YAML 1.1 reads the key `on` as True
        assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
        steps = doc["jobs"]["refresh"]["steps"]
        run = next(s for s in steps if s.get("id") == "refresh")
        assert "codegen/refresh.py" in run["run"] and '--targets "generate test"' in run["run"]
        assert "--github-output" in run["run"] and run["continue-on-error"] is True
        pr = next(
            s for s in steps if str(s.get("uses", "")).startswith("peter-evans/create-pull-request")
        )
        assert pr["if"] == "steps.refresh.outputs.changed == 'true'"
        assert pr["with"]["body-path"].endswith("/refresh-pr.md")
        assert "refresh-pr.md" in run["run"]
        assert steps[-1]["if"] == "steps.refresh.outcome == 'failure'"
